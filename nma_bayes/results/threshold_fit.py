"""Threshold analysis of a fitted network (Phillippo et al. 2018), per study or per comparison.

:func:`threshold_analysis` feeds :func:`~nma_bayes.results.threshold.threshold_table` with a fit's
own posterior and likelihood. The data points are

* ``level="study"``: the study contrasts (each study against its base arm), their likelihood
  covariance the exact within-study covariance of the contrasts;
* ``level="contrast"``: the direct comparisons of the network, each the pooled direct estimate
  of its studies' pairwise contrasts with Rücker's reduced weights, with variance ``1 / W_e``
  (:func:`contrast_level_data`; Rücker & Schwarzer 2014);

and the posterior mean and covariance of ``d`` come from

* the exact engine: the moments of its mixture over ``tau`` nodes, without Monte Carlo error;
* NUTS: the draws (posterior mean and sample covariance of ``d``).

For a fixed-effect model with a normal prior the posterior mean of ``d`` is linear in the data,
``E(d | y) = H y + const`` with ``H = Cov(d | y) X' V^{-1}``, so the thresholds are exact: moving a
data point's estimate by its threshold changes the optimal treatment there and not before
(tested by refitting), at both levels. With random effects the same ``H`` is taken at the
posterior median of ``tau`` (the contrasts' covariance ``V + tau^2 (I + J)/2``): ``E(d | y)`` is
then only approximately linear, because ``tau``'s posterior moves with the data. Arm-level
outcome studies enter with the normal approximation of their contrasts
(:mod:`nma_bayes.data.approximate`).

Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
recommendations to bias in network meta-analysis. J R Stat Soc A 181:843-867.
Rücker G, Schwarzer G (2014). Reduce dimension or reduce weights? Comparing two approaches to
multi-arm studies in network meta-analysis. Stat Med 33:4353-4369.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy.linalg import block_diag

from ..base.errors import ModelSpecError, format_items
from ..base.validate import check_choice, check_lower_is_better
from ..data.approximate import outcome_contrasts
from ..engines.gls import study_covariances
from .contribution import pool_edges
from .evidence_graph import EvidenceGraph
from .summaries import flat_draws
from .threshold import threshold_table
from .threshold_result import Thresholds

__all__ = ["threshold_analysis", "posterior_moments", "contrast_level_data", "ContrastLevelData"]

#: Data points of a fit's threshold analysis: study contrasts, or direct comparisons.
LEVELS = ("study", "contrast")
_UNIT = {"study": ("study", "studies"), "contrast": ("comparison", "comparisons")}


def _bad(message: str) -> ModelSpecError:
    return ModelSpecError(message, rule="bad-option")


def posterior_moments(fit) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of ``d`` (non-reference treatments, network order).

    The exact engine's: the moments of its mixture ``sum_g w_g N(m_g, S_g)`` over ``tau``
    nodes, ``E = sum w_g m_g`` and ``Cov = sum w_g (S_g + m_g m_g') - E E'``. Otherwise those of
    the posterior draws.
    """
    n = len(fit.network.non_reference)
    if fit.engine == "exact":  # fit.exact of a NUTS fit would compute the exact posterior
        exact = fit.exact
        w, m, s = exact.weights, exact.means[:, :n], exact.covs[:, :n, :n]
        mean = w @ m
        second = np.einsum("g,gij->ij", w, s + m[:, :, None] * m[:, None, :])
        return mean, second - np.outer(mean, mean)
    draws = flat_draws(fit.idata["posterior"]["d"].sel(treatment=list(fit.network.non_reference)))
    return draws.mean(axis=0), np.cov(draws, rowvar=False).reshape(n, n)


def threshold_analysis(
    fit,
    *,
    lower_is_better: bool | None = None,
    level: str = "study",
    mcid: float = 0.0,
    mcid_type: str = "decision",
    sets: Mapping[str, Sequence[str]] | None = None,
) -> Thresholds:
    """Bias-adjustment thresholds of a fit (Phillippo et al. 2018), per study or per comparison.

    Parameters
    ----------
    fit : NetworkFit
        A fit without meta-regression or treatment classes (their effects are not the basic
        parameters ``d``).
    lower_is_better : bool, optional
        Direction of benefit; default the network's.
    level : {"study", "contrast"}
        ``"study"``: the data points are the study contrasts (each study against its base arm),
        with their exact within-study covariance. ``"contrast"``: the data points are the direct
        comparisons of the network, each the pooled direct estimate of its studies' pairwise
        contrasts with Rücker's reduced weights (:func:`contrast_level_data`). For fixed effects
        this aggregated likelihood gives the same posterior as the full one (Rücker & Schwarzer
        2014), so the thresholds are exact; with random effects the weights are taken at the
        posterior median of ``tau`` (an approximation, as at the study level).
    mcid, mcid_type : float, str
        The decision rule with a minimal clinically important difference (Phillippo et al. 2019;
        :func:`~nma_bayes.results.threshold.threshold_table`).
    sets : dict of str to sequence of str, optional
        Sets of data points adjusted by one common bias, each a last row of the table: at the
        study level a set names studies (all their data points), at the contrast level direct
        comparisons (``"B vs A"`` as in the table's ``contrast`` column, either orientation).

    Returns
    -------
    Thresholds
        One row per data point (``study``: the study, or the studies of a comparison joined by
        ``"; "``; ``contrast`` "arm vs base"; its estimate ``y``; thresholds; the new optimal
        treatment at each end; the invariant interval), then one per set; ``kstar`` the optimal
        treatment (largest or smallest posterior mean effect) or the optimal set.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A fit with covariates or classes, no direction of benefit, a bad
        ``level``, ``mcid`` or ``mcid_type``, or a set naming unknown studies or comparisons.
    """
    net = fit.network
    if getattr(fit.spec, "class_model", None) is not None or net.covariates is not None:
        raise _bad(
            "threshold_analysis covers fits without treatment classes or meta-regression (their "
            "decision depends on more than the basic effects d)."
        )
    if lower_is_better is None:
        lower_is_better = net.lower_is_better
    if lower_is_better is None:
        raise _bad(
            "Give lower_is_better=True or False: the network does not say which direction of "
            "the effect is better, and the optimal treatment depends on it."
        )
    lower_is_better = check_lower_is_better(lower_is_better)
    level = check_choice(level, "level", LEVELS)
    mean, cov = posterior_moments(fit)
    tau = 0.0
    if fit.spec.effects == "random":  # H at the posterior median of tau (module docstring)
        tau = float(fit.heterogeneity().loc["tau", "median"])
    data = outcome_contrasts(net, "threshold_analysis")
    treatments = [net.reference, *net.non_reference]
    if level == "study":
        x, y, studies, labels = _study_rows(data)
        lik = block_diag(*study_covariances(data, tau=tau))
    else:
        x, y, variances, labels, studies = contrast_level_data(data, tau=tau)
        lik = np.diag(variances)
    units = _units(level, x, studies, labels, treatments)
    return threshold_table(mean, cov, lik, design=x, lower_is_better=lower_is_better,
                           treatments=treatments, y=y, studies=studies, contrasts=labels,
                           mcid=mcid, mcid_type=mcid_type,
                           sets=_point_sets(sets, units, level))  # fmt: skip


def _units(level: str, design, studies, labels, treatments) -> dict[str, list[int]]:
    """Return the names a set may list, each with its data points (1-based, network order).

    A study (study level), or a direct comparison in either orientation, ``"B vs A"`` or
    ``"A vs B"`` (contrast level; its design row is ``+1`` at ``B``, ``-1`` at ``A`` unless ``A``
    is the reference).
    """
    units: dict[str, list[int]] = {}
    if level == "study":
        for m, study in enumerate(studies):
            units.setdefault(study, []).append(m + 1)
        return units
    for m, (label, row) in enumerate(zip(labels, design, strict=True)):
        minus = np.flatnonzero(row == -1)
        a = treatments[minus[0] + 1] if len(minus) else treatments[0]
        b = treatments[int(np.flatnonzero(row == 1)[0]) + 1]
        units[label] = units[f"{a} vs {b}"] = [m + 1]
    return units


def _point_sets(sets, members: dict[str, list[int]], level: str):
    """Translate sets of study (or comparison) names into sets of data point numbers."""
    if sets is None:
        return None
    if not isinstance(sets, Mapping):
        raise _bad(f"sets must be a dict of name to {_UNIT[level][0]} names, got "
                   f"{type(sets).__name__}.")  # fmt: skip
    out = {}
    for name, units in sets.items():
        if isinstance(units, str) or not isinstance(units, Sequence | set | frozenset):
            raise _bad(f"set {name!r} must be a list of {_UNIT[level][0]} names, got {units!r}.")
        unknown = [u for u in units if not isinstance(u, Hashable) or u not in members]
        if unknown:
            raise _bad(f"set {name!r} names unknown {_UNIT[level][1]} {format_items(unknown)}; "
                       f"the {_UNIT[level][1]} are {format_items(members, limit=10)}.")  # fmt: skip
        out[name] = sorted({m for u in units for m in members[u]})
    return out


class ContrastLevelData(NamedTuple):
    """The data points of a contrast-level threshold analysis (one per direct comparison)."""

    design: np.ndarray
    y: np.ndarray
    variances: np.ndarray
    labels: list[str]
    studies: list[str]


def contrast_level_data(net, *, tau: float = 0.0) -> ContrastLevelData:
    """Pooled direct estimates of every direct comparison, with their likelihood variances.

    The studies' pairwise contrasts with Rücker's reduced weights ``w`` at ``tau`` (Rücker 2012;
    :meth:`EvidenceGraph.pair_rows`) are pooled per comparison ``e`` (netmeta's aggregated
    network, :func:`~nma_bayes.results.contribution.pool_edges`): ``W_e = sum w``,
    ``y_e = sum w y / W_e`` with variance ``1 / W_e``. The reduced weights make the comparisons
    independent: ``sum_e W_e x_e x_e'`` and ``sum_e W_e x_e y_e`` equal ``X' V^{-1} X`` and
    ``X' V^{-1} y`` of the full multivariate likelihood, so for fixed effects (and any fixed
    ``tau``) the GLS estimate and a normal-prior posterior of ``d`` from the aggregated
    likelihood equal the full likelihood's (Rücker & Schwarzer 2014, Stat Med 33:4353-4369).

    Parameters
    ----------
    net : Network
        A network of contrasts (arm-level outcomes after :func:`outcome_contrasts`).
    tau : float
        Between-study SD added to every study's covariance.

    Returns
    -------
    ContrastLevelData
        ``design`` (one row per comparison ``b vs a``, over ``d`` in network order), ``y`` (the
        pooled estimate of ``b`` minus ``a``), ``variances`` (``1 / W_e``), ``labels``
        (``"b vs a"``, ``a`` before ``b`` in the order reference then non-reference
        treatments) and ``studies`` (the comparison's studies, joined by ``"; "``).
    """
    graph = EvidenceGraph.from_network(net, (net.reference, *net.non_reference))
    edges, weights, estimates = pool_edges(graph, tau)
    # the pooled rows estimate a minus b (a < b); the table's orientation is b vs a
    design = graph.contrast_vectors([(b, a) for a, b in edges])
    studies = {e: [] for e in edges}
    for s, a, b, _, _ in graph.pair_rows(0.0):
        studies[a, b].append(graph.studies[s])
    return ContrastLevelData(
        design=design,
        y=-estimates,
        variances=1.0 / weights,
        labels=[f"{graph.names[b]} vs {graph.names[a]}" for a, b in edges],
        studies=["; ".join(studies[e]) for e in edges],
    )


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
