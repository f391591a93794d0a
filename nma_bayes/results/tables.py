"""Tidy posterior summaries of a fit, from its :class:`~.posterior.Posterior` accessor.

Each function validates its arguments (:mod:`nma_bayes.base.validate`), asks the accessor for
what it needs and returns a small DataFrame; :class:`~.record.FitRecord` exposes them as methods.
No summary is ever NaN silently: :func:`finite` raises :class:`NumericalError` instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError, NumericalError, UnknownTreatmentError
from . import summaries
from .posterior import Posterior

__all__ = [
    "check_treatment",
    "finite",
    "heterogeneity",
    "league_table",
    "rank_probabilities",
    "relative_effects",
    "sucra",
]


def check_treatment(posterior: Posterior, name: str) -> str:
    """Return ``name`` if it is a treatment of the fit, else raise UnknownTreatmentError."""
    treatments = posterior.network.treatments
    if name not in treatments:
        raise UnknownTreatmentError(
            f"Treatment {name!r} is not in the network. Treatments: {', '.join(treatments)}."
        )
    return name


def relative_effects(
    posterior: Posterior,
    reference: str | None = None,
    *,
    all_pairs: bool,
    ci_prob: float,
    scale: str | None = None,
) -> pd.DataFrame:
    """Relative effects vs ``reference`` (default the model's), or every pair once.

    ``scale`` (:func:`nma_bayes.base.validate.check_scale`): ``None`` for the linear-predictor
    scale, or the ratio scale of a log-ratio measure (``"OR"``, ``"HR"``, ``"RR"``,
    ``"rate ratio"``), whose median and interval ends are the exponentiated log-scale ones and
    whose mean and SD are those of the exponentiated posterior.

    Returns
    -------
    DataFrame
        ``treatment, comparator, mean, sd, median, ci_lower, ci_upper``; with ``all_pairs`` the
        comparator comes earlier in the treatment order. ``attrs["scale"]`` names the scale.
    """
    all_pairs, ci_prob = VA.check_bool(all_pairs, "all_pairs"), VA.check_ci_prob(ci_prob)
    ratio = VA.check_scale(scale, posterior.network.measure)
    names = [str(t) for t in posterior.network.treatments]
    ref = posterior.network.reference if reference is None else reference
    ref = check_treatment(posterior, ref)
    idx_t, idx_c = summaries.comparison_pairs(len(names), names.index(ref), all_pairs=all_pairs)
    table = _contrast_table(posterior, names, idx_t, idx_c, ci_prob, ratio)
    return finite(table, "relative_effects")


def _contrast_table(posterior, names, idx_t, idx_c, ci_prob, ratio) -> pd.DataFrame:
    stats = posterior.contrasts(idx_t, idx_c, ci_prob, ratio=ratio is not None)
    table = pd.DataFrame(
        {"treatment": [names[i] for i in idx_t], "comparator": [names[j] for j in idx_c], **stats}
    )
    table.attrs["scale"] = ratio if ratio is not None else posterior.network.measure or "linear"
    return table


def league_table(
    posterior: Posterior, *, ci_prob: float, digits: int, stat: str, scale: str | None = None
) -> pd.DataFrame:
    """League table of all pairs (row vs column), from the all-pairs relative effects.

    On a ratio ``scale`` the medians and interval ends are the exponentiated log-scale ones (the
    reverse comparison is their reciprocal), so ``stat="median"`` needs no moments of the ratio;
    with ``stat="mean"`` each reverse comparison's mean is computed in its own right (the mean of
    ``1/R`` is not the reciprocal of the mean of ``R``).
    """
    digits = VA.check_int(digits, "digits", minimum=0)
    ratio = VA.check_scale(scale, posterior.network.measure)
    names = [str(t) for t in posterior.network.treatments]
    reverse = None
    if ratio is None:
        pairs = relative_effects(posterior, all_pairs=True, ci_prob=ci_prob)
    elif stat == "mean":
        pairs = relative_effects(posterior, all_pairs=True, ci_prob=ci_prob, scale=ratio)
        idx_t, idx_c = summaries.comparison_pairs(len(names), 0, all_pairs=True)
        reverse = finite(_contrast_table(posterior, names, idx_c, idx_t, ci_prob, ratio), "league")
    else:  # the median (an unknown stat is refused below)
        pairs, reverse = _exp_pairs(relative_effects(posterior, all_pairs=True, ci_prob=ci_prob))
    table = summaries.league_table_from_pairs(
        pairs, names, digits=digits, stat=stat, reverse=reverse
    )
    table.attrs["scale"] = ratio if ratio is not None else pairs.attrs["scale"]
    return table


def _exp_pairs(pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratio-scale quantiles of log-scale pairs and of their reverses (means left out: NaN)."""
    out = pairs.assign(mean=np.nan, sd=np.nan)
    back = out.rename(columns={"treatment": "comparator", "comparator": "treatment"})
    for key, source in (("median", "median"), ("ci_lower", "ci_upper"), ("ci_upper", "ci_lower")):
        out[key] = np.exp(pairs[key])
        back[key] = np.exp(-pairs[source])
    return out, back


def rank_probabilities(
    posterior: Posterior, *, lower_is_better: bool, cumulative: bool = False
) -> pd.DataFrame:
    """Probability of each rank (treatment x rank), or of each rank or better, from the draws."""
    direction = VA.resolve_direction(lower_is_better, posterior.network, required=True)
    cumulative = VA.check_bool(cumulative, "cumulative")
    return summaries.rank_probabilities_table(
        posterior.d_full(), lower_is_better=direction, cumulative=cumulative
    )


def sucra(posterior: Posterior, *, lower_is_better: bool, ci_prob: float) -> pd.DataFrame:
    """SUCRA with its interval, mean rank and P(best), from the draws."""
    direction = VA.resolve_direction(lower_is_better, posterior.network, required=True)
    table = summaries.sucra_table(posterior.d_full(), lower_is_better=direction, ci_prob=ci_prob)
    return finite(table, "sucra")


def heterogeneity(posterior: Posterior, *, ci_prob: float) -> pd.DataFrame:
    """Summaries of ``tau`` and ``tau^2`` (rows ``tau, tau2``)."""
    ci_prob = VA.check_ci_prob(ci_prob)
    if not posterior.spec.random:
        raise ModelSpecError(
            "A fixed-effect model has no heterogeneity parameter (tau = 0 by assumption). "
            "Fit effects='random' to estimate tau."
        )
    tau, tau2 = posterior.heterogeneity(ci_prob)
    table = pd.DataFrame([tau, tau2], index=pd.Index(["tau", "tau2"], name="parameter"))
    return finite(table, "heterogeneity")


def finite(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """Return ``table``, or raise NumericalError if a numeric entry is NaN or infinite."""
    numbers = table.select_dtypes("number")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    if bad.any():
        rows, cols = np.nonzero(bad)
        label = table["treatment"].to_numpy() if "treatment" in table else table.index.to_numpy()
        cells = [f"{label[r]}: {numbers.columns[c]}" for r, c in zip(rows, cols, strict=True)]
        raise NumericalError(
            f"{what}() would return NaN or infinite values ({', '.join(cells[:5])}"
            f"{', ...' if len(cells) > 5 else ''}): the posterior was not computable in floating "
            "point. Check the scale and units of the data (see the range rules in "
            "nma_bayes.data.validation and docs/data.md) and that the priors suit that scale."
        )
    return table
