"""Meta-regression summaries: the interaction table, effects along a covariate, study points.

``regression_table`` summarises the interactions ``beta`` (TSD3) in the structure fitted;
``regression_curve`` gives the relative effects over a grid of covariate values (what
:func:`nma_bayes.plots.plot_regression` draws) and ``study_points`` the observed study contrasts
against the covariate, weighted by precision. With the exact engine every summary is exact (a
linear combination of the Gaussian block ``(d, beta)`` given ``tau``); with NUTS it comes from the
draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError, format_items
from ..models.regression import BASELINE_RISK, empirical_linear_predictor
from . import summaries
from .posterior import STATS, Posterior

__all__ = ["RegressionMethods", "regression_table", "regression_curve", "study_points"]

#: Points of the default grid of a numeric covariate (its observed range).
GRID_POINTS = 41


def _design(posterior: Posterior):
    if posterior.regression is None:
        raise ModelSpecError(
            "This fit has no meta-regression: fit with covariates= (and interaction=) to "
            "estimate treatment-by-covariate interactions.",
            rule="bad-option",
        )
    return posterior.regression


def regression_table(posterior: Posterior, *, ci_prob: float) -> pd.DataFrame:
    """Posterior summaries of the interaction coefficients, in the structure fitted.

    Rows: ``beta`` per term for each interaction group (``"shared"``: one per term, the
    interaction of every treatment vs the reference; ``"class"``: one per class;
    ``"independent"``/``"exchangeable"``: one per non-reference treatment), plus ``beta_mean`` and
    ``beta_sd`` per term for exchangeable interactions.

    Returns
    -------
    DataFrame
        ``parameter, term, covariate, group, mean, sd, median, ci_lower, ci_upper``;
        ``attrs``: ``center`` (centring values), ``interaction``, ``reference``, ``levels``.
    """
    ci_prob = VA.check_ci_prob(ci_prob)
    reg = _design(posterior)
    labels = [(g, t, c) for g in reg.groups
              for t, c in zip(reg.terms, reg.term_covariate, strict=True)]  # fmt: skip
    if posterior.engine == "exact":
        n_d = len(posterior.exact.treatments)
        combos = np.zeros((len(labels), n_d + reg.n_free))
        combos[np.arange(len(labels)), n_d + np.arange(len(labels))] = 1.0  # group-major
        stats = posterior.exact.linear_summary(combos, ci_prob)
    else:
        beta = posterior.idata["posterior"]["beta"]  # (chain, draw, treatment, term)
        others = list(posterior.network.non_reference)
        rep = [others[int(np.flatnonzero(reg.group_pos[1:] == g + 1)[0])]
               for g in range(len(reg.groups))]  # one treatment per group  # fmt: skip
        flat = beta.sel(treatment=rep).transpose("chain", "draw", "treatment", "term").values
        stats = summaries.describe_draws(flat.reshape(-1, len(labels)), ci_prob)
    table = pd.DataFrame(
        {
            "parameter": "beta",
            "term": [t for _, t, _ in labels],
            "covariate": [c for _, _, c in labels],
            "group": [g for g, _, _ in labels],
            **{k: stats[k] for k in STATS},
        }
    )
    if reg.interaction == "exchangeable":
        table = pd.concat([table, _hyper_rows(posterior, reg, ci_prob)], ignore_index=True)
    table.attrs.update(center=dict(reg.center), interaction=reg.interaction,
                       reference=posterior.network.reference, levels=dict(reg.levels))  # fmt: skip
    return table


def _hyper_rows(posterior: Posterior, reg, ci_prob: float) -> pd.DataFrame:
    """``beta_mean`` and ``beta_sd`` rows of exchangeable interactions (from the draws)."""
    post = posterior.idata["posterior"]
    rows = []
    for name in ("beta_mean", "beta_sd"):
        draws = post[name].transpose("chain", "draw", "term").values.reshape(-1, reg.n_terms)
        stats = summaries.describe_draws(draws, ci_prob)
        for p, (term, cov) in enumerate(zip(reg.terms, reg.term_covariate, strict=True)):
            rows.append({"parameter": name, "term": term, "covariate": cov, "group": "all",
                         **{k: float(stats[k][p]) for k in STATS}})  # fmt: skip
    return pd.DataFrame(rows)


def covariate_grid(posterior: Posterior, covariate: str) -> list:
    """Default values of ``covariate`` for a curve: its observed range, or its levels."""
    reg = _design(posterior)
    reg.check_covariate(covariate)
    if reg.kinds[covariate] == "categorical":
        return list(reg.levels[covariate])
    observed = _study_values(posterior, covariate).astype(float)
    return list(np.linspace(observed.min(), observed.max(), GRID_POINTS))


def _study_values(posterior: Posterior, covariate: str) -> np.ndarray:
    """Each study's value of ``covariate`` (network order); the observed baseline for risk."""
    net = posterior.network
    if covariate == BASELINE_RISK:
        return empirical_linear_predictor(net)[0][:, 0]
    return net.covariates.values[covariate].to_numpy()


def regression_curve(
    posterior: Posterior,
    covariate: str,
    *,
    values=None,
    treatments=None,
    comparator: str | None = None,
    ci_prob: float,
) -> pd.DataFrame:
    """Relative effects of ``treatments`` vs ``comparator`` along ``covariate`` (TSD3).

    Other covariates stay at their centre (numeric) or reference level (categorical).

    Returns
    -------
    DataFrame
        ``treatment, comparator, covariate, value, mean, sd, median, ci_lower, ci_upper``.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``covariate`` is not one covariate's name, ``values`` is not a
        non-empty flat sequence of its values, or ``treatments`` is not a list of treatments.
    """
    ci_prob = VA.check_ci_prob(ci_prob)
    grid = covariate_grid(posterior, covariate)  # validates the name
    grid = grid if values is None else _check_values(posterior.regression, covariate, values)
    names = list(posterior.network.treatments)
    comparator = posterior.network.reference if comparator is None else comparator
    _check_names(names, [comparator])
    if treatments is not None and not _flat(treatments):
        raise ModelSpecError(
            f"treatments= must be a list of treatment names, got {treatments!r}.",
            rule="bad-option",
        )
    chosen = [t for t in names if t != comparator] if treatments is None else list(treatments)
    _check_names(names, chosen)
    plus = np.array([names.index(t) for t in chosen])
    minus = np.full(len(chosen), names.index(comparator))
    parts = []
    for value in grid:
        stats = posterior.at({covariate: value}).contrasts(plus, minus, ci_prob)
        parts.append(pd.DataFrame({"treatment": chosen, "comparator": comparator,
                                   "covariate": covariate, "value": value,
                                   **{k: stats[k] for k in STATS}}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _flat(values) -> bool:
    """Whether ``values`` is a one-dimensional sequence (not a string, a scalar or a set)."""
    if isinstance(values, np.ndarray):
        return values.ndim == 1
    return isinstance(values, list | tuple | range | pd.Series | pd.Index)


def _check_values(reg, covariate: str, values) -> list:
    """Return ``values`` as a list: a non-empty, flat sequence of values of ``covariate``."""
    if not _flat(values) or len(values) == 0:
        raise ModelSpecError(
            f"values= must be a non-empty list of values of {covariate!r} (numbers for a numeric "
            f"covariate, levels for a categorical one), got {values!r}. E.g. values=[40, 50, 60]; "
            "omit it for the observed range (or every level).",
            rule="bad-option",
        )
    out = list(values)
    for value in out:
        reg.check_value(covariate, value, f"values= holds {value!r}")
    return out


def _check_names(names, chosen) -> None:
    unknown = [t for t in chosen if t not in names]
    if unknown:
        raise ModelSpecError(
            f"Not treatments of the network: {format_items(unknown)}; treatments: "
            f"{format_items(names, limit=20)}.",
            rule="bad-option",
        )


def study_points(posterior: Posterior, covariate: str) -> pd.DataFrame:
    """Observed contrast of every non-base arm vs its study's base arm, against ``covariate``.

    Contrast studies: the data ``y`` with SE ``sqrt(var + cov)``. Arm-level outcome studies:
    the empirical linear predictors' difference (counts of 0 or n corrected by 0.5) with a
    delta-method SE. For plotting: ``weight`` is the precision ``1 / se^2``.

    Returns
    -------
    DataFrame
        ``study, treatment, comparator, value, effect, se, weight``.
    """
    covariate_grid(posterior, covariate)  # validates the name
    net = posterior.network
    theta, theta_var = empirical_linear_predictor(net)
    values = _study_values(posterior, covariate)
    rows = []
    for i, study in enumerate(net.studies):
        for k in range(int(net.n_arms[i]) - 1):
            if net.outcome[i]:
                effect = theta[i, k + 1] - theta[i, 0]
                var = theta_var[i, k + 1] + theta_var[i, 0]
            else:
                effect, var = net.y[i, k], net.var[i, k] + net.cov[i]
            rows.append({"study": study, "treatment": net.treatments[net.arm[i, k]],
                         "comparator": net.treatments[net.base[i]], "value": values[i],
                         "effect": float(effect), "se": float(np.sqrt(var))})  # fmt: skip
    table = pd.DataFrame(rows)
    return table.assign(weight=1.0 / table["se"] ** 2)


class RegressionMethods:
    """Meta-regression summaries as methods of a fit (mixed into :class:`~.record.FitRecord`)."""

    def regression(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Posterior summaries of the treatment-by-covariate interactions (TSD3).

        Returns
        -------
        DataFrame
            ``parameter, term, covariate, group, mean, sd, median, ci_lower, ci_upper``; the
            centring values are in ``attrs["center"]`` (relative effects without ``at=`` are at
            those values, and at the first level of categorical covariates).
        """
        return regression_table(self.posterior, ci_prob=ci_prob)

    def regression_curve(
        self,
        covariate: str,
        *,
        values=None,
        treatments=None,
        comparator: str | None = None,
        ci_prob: float = 0.95,
    ) -> pd.DataFrame:
        """Relative effects along ``covariate`` (default: 41 points over its observed range).

        Returns
        -------
        DataFrame
            ``treatment, comparator, covariate, value, mean, sd, median, ci_lower, ci_upper``.
        """
        return regression_curve(self.posterior, covariate, values=values, treatments=treatments,
                                comparator=comparator, ci_prob=ci_prob)  # fmt: skip

    def study_points(self, covariate: str) -> pd.DataFrame:
        """Observed study contrasts against ``covariate``.

        Returns
        -------
        DataFrame
            ``study, treatment, comparator, value, effect, se, weight``: each non-base arm vs its
            study's base arm (arm-level outcome data: empirical linear predictors with 0.5
            corrections and delta-method SEs), ``weight = 1 / se^2``.
        """
        return study_points(self.posterior, covariate)
