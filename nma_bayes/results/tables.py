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
    posterior: Posterior, reference: str | None = None, *, all_pairs: bool, ci_prob: float
) -> pd.DataFrame:
    """Relative effects vs ``reference`` (default the model's), or every pair once.

    Returns
    -------
    DataFrame
        ``treatment, comparator, mean, sd, median, ci_lower, ci_upper``; with ``all_pairs`` the
        comparator comes earlier in the treatment order.
    """
    all_pairs, ci_prob = VA.check_bool(all_pairs, "all_pairs"), VA.check_ci_prob(ci_prob)
    names = [str(t) for t in posterior.network.treatments]
    ref = posterior.network.reference if reference is None else reference
    ref = check_treatment(posterior, ref)
    idx_t, idx_c = summaries.comparison_pairs(len(names), names.index(ref), all_pairs=all_pairs)
    stats = posterior.contrasts(idx_t, idx_c, ci_prob)
    table = pd.DataFrame(
        {"treatment": [names[i] for i in idx_t], "comparator": [names[j] for j in idx_c], **stats}
    )
    return finite(table, "relative_effects")


def league_table(
    posterior: Posterior, *, ci_prob: float, digits: int, stat: str
) -> pd.DataFrame:
    """League table of all pairs (row vs column), from the all-pairs relative effects."""
    digits = VA.check_int(digits, "digits", minimum=0)
    pairs = relative_effects(posterior, all_pairs=True, ci_prob=ci_prob)
    names = [str(t) for t in posterior.network.treatments]
    return summaries.league_table_from_pairs(pairs, names, digits=digits, stat=stat)


def rank_probabilities(posterior: Posterior, *, lower_is_better: bool) -> pd.DataFrame:
    """Probability of each rank (treatment x rank), from the draws."""
    direction = VA.resolve_direction(lower_is_better, posterior.network, required=True)
    return summaries.rank_probabilities_table(posterior.d_full(), lower_is_better=direction)


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
