"""Threshold analysis of a fitted network (Phillippo et al. 2018) at the study level.

:func:`threshold_analysis` feeds :func:`~nma_bayes.results.threshold.threshold_table` with a fit's
own posterior and likelihood: the data points are the study contrasts (each study against its
base arm), their likelihood covariance is the exact within-study covariance of the contrasts,
and the posterior mean and covariance of ``d`` come from

* the exact engine: the moments of its mixture over ``tau`` nodes, without Monte Carlo error;
* NUTS: the draws (posterior mean and sample covariance of ``d``).

For a fixed-effect model with a normal prior the posterior mean of ``d`` is linear in the data,
``E(d | y) = H y + const`` with ``H = Cov(d | y) X' V^{-1}``, so the thresholds are exact: moving a
data point's estimate by its threshold changes the optimal treatment there and not before
(tested by refitting). With random effects the same ``H`` is taken at the posterior median of
``tau`` (the contrasts' covariance ``V + tau^2 (I + J)/2``): ``E(d | y)`` is then only
approximately linear, because ``tau``'s posterior moves with the data. Arm-level outcome studies
enter with the normal approximation of their contrasts (:mod:`nma_bayes.data.approximate`).

Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
recommendations to bias in network meta-analysis. J R Stat Soc A 181:843-867.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from ..base.errors import ModelSpecError
from ..base.validate import check_lower_is_better
from ..data.approximate import outcome_contrasts
from ..engines.gls import study_covariances
from .summaries import flat_draws
from .threshold import threshold_table
from .threshold_result import Thresholds

__all__ = ["threshold_analysis", "posterior_moments"]


def posterior_moments(fit) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of ``d`` (non-reference treatments, network order).

    The exact engine's: the moments of its mixture ``sum_g w_g N(m_g, S_g)`` over ``tau``
    nodes, ``E = sum w_g m_g`` and ``Cov = sum w_g (S_g + m_g m_g') - E E'``. Otherwise those of
    the posterior draws.
    """
    exact = getattr(fit, "exact", None)
    n = len(fit.network.non_reference)
    if exact is not None:
        w, m, s = exact.weights, exact.means[:, :n], exact.covs[:, :n, :n]
        mean = w @ m
        second = np.einsum("g,gij->ij", w, s + m[:, :, None] * m[:, None, :])
        return mean, second - np.outer(mean, mean)
    draws = flat_draws(fit.idata["posterior"]["d"].sel(treatment=list(fit.network.non_reference)))
    return draws.mean(axis=0), np.cov(draws, rowvar=False).reshape(n, n)


def threshold_analysis(fit, *, lower_is_better: bool | None = None) -> Thresholds:
    """Study-level bias-adjustment thresholds of a fit (Phillippo et al. 2018).

    Parameters
    ----------
    fit : NetworkFit
        A fit without meta-regression or treatment classes (their effects are not the basic
        parameters ``d``).
    lower_is_better : bool, optional
        Direction of benefit; default the network's.

    Returns
    -------
    Thresholds
        One row per study contrast (``study``, ``contrast`` "arm vs base", its estimate ``y``,
        thresholds, the new optimal treatment at each end, the invariant interval); ``kstar``
        the optimal treatment (largest or smallest posterior mean effect).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A fit with covariates or classes, or no direction of benefit.
    """
    net = fit.network
    if getattr(fit.spec, "class_model", None) is not None or net.covariates is not None:
        raise ModelSpecError(
            "threshold_analysis covers fits without treatment classes or meta-regression (their "
            "decision depends on more than the basic effects d).",
            rule="bad-option",
        )
    if lower_is_better is None:
        lower_is_better = net.lower_is_better
    if lower_is_better is None:
        raise ModelSpecError(
            "Give lower_is_better=True or False: the network does not say which direction of "
            "the effect is better, and the optimal treatment depends on it.",
            rule="bad-option",
        )
    lower_is_better = check_lower_is_better(lower_is_better)
    mean, cov = posterior_moments(fit)
    tau = 0.0
    if fit.spec.effects == "random":  # H at the posterior median of tau (module docstring)
        tau = float(fit.heterogeneity().loc["tau", "median"])
    data = outcome_contrasts(net, "threshold_analysis")
    x, y, studies, labels = _study_rows(data)
    lik = block_diag(*study_covariances(data, tau=tau))
    treatments = [net.reference, *net.non_reference]
    return threshold_table(mean, cov, lik, design=x, lower_is_better=lower_is_better,
                           treatments=treatments, y=y, studies=studies,
                           contrasts=labels)  # fmt: skip


def _study_rows(net):
    """Design, estimates, study and contrast label of every study contrast (network order)."""
    column = {t: j for j, t in enumerate(net.non_reference)}
    rows, y, studies, labels = [], [], [], []
    for i, study in enumerate(net.studies):
        base = net.treatments[net.base[i]]
        for j in np.flatnonzero(np.asarray(net.mask[i])):
            arm = net.treatments[net.arm[i, j]]
            row = np.zeros(len(column))
            for t, sign in ((arm, 1.0), (base, -1.0)):
                if t in column:
                    row[column[t]] += sign
            rows.append(row)
            y.append(float(net.y[i, j]))
            studies.append(study)
            labels.append(f"{arm} vs {base}")
    return np.array(rows), np.array(y), studies, labels
