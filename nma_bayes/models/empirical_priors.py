"""Published predictive distributions for the between-study heterogeneity, selectable by name.

Two sets of empirically based ("informative") priors for ``tau^2``, derived from thousands of
meta-analyses in the Cochrane Database of Systematic Reviews:

* Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
  between-study heterogeneity and simple methods for their application in Bayesian
  meta-analysis. *Stat Med* 34(6):984-998, doi:10.1002/sim.6381. Table IV: log-normal
  distributions ``log(tau^2) ~ N(mu, sigma^2)`` for **log odds ratios**, by outcome type (16) and
  intervention comparison type (5); general setting ``N(-2.56, 1.74^2)``.
  :func:`turner2015` returns them as :class:`~nma_bayes.models.priors.LogNormalTau2`.
* Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were developed for the
  extent of heterogeneity in meta-analyses of continuous outcome data. *J Clin Epidemiol*
  68(1):52-60, doi:10.1016/j.jclinepi.2014.08.012. Table 3 (and its appendix tables for
  respiratory diseases and cancer): log-t distributions ``log(tau^2) ~ t_5(mu, sigma)`` for
  **standardised mean differences**, by outcome type (8), comparison type (3) and medical area;
  general setting ``t_5(-3.44, 2.59)``. :func:`rhodes2015` returns them as
  :class:`~nma_bayes.models.priors.LogStudentTTau2`.

The priors are on the scale of the analysis: use Turner et al.'s for log odds ratios and Rhodes
et al.'s for SMDs, not for mean differences in natural units.

The tables themselves, and the provenance of their numbers, are in
:mod:`nma_bayes.models.empirical_prior_tables`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from .empirical_prior_tables import (
    RHODES_AREAS,
    RHODES_CITATION,
    RHODES_COMPARISONS,
    RHODES_DF,
    RHODES_GENERAL,
    RHODES_MU,
    RHODES_OUTCOMES,
    RHODES_SIGMA,
    TURNER_CITATION,
    TURNER_COMPARISONS,
    TURNER_GENERAL,
    TURNER_MU,
    TURNER_OUTCOMES,
    TURNER_SIGMA,
)
from .priors import LogNormalTau2, LogStudentTTau2

__all__ = [
    "turner2015",
    "rhodes2015",
    "list_empirical_priors",
    "TURNER_OUTCOMES",
    "TURNER_COMPARISONS",
    "RHODES_OUTCOMES",
    "RHODES_COMPARISONS",
    "RHODES_AREAS",
]

#: Comparator types; a comparison is two of them, e.g. "pharmacological vs placebo/control".
COMPARATORS = ("pharmacological", "non-pharmacological", "placebo/control")
_COMPARATOR_ALIASES = {
    "pharmacological": "pharmacological",
    "pharma": "pharmacological",
    "drug": "pharmacological",
    "non-pharmacological": "non-pharmacological",
    "non-pharma": "non-pharmacological",
    "nonpharmacological": "non-pharmacological",
    "placebo/control": "placebo/control",
    "placebo": "placebo/control",
    "control": "placebo/control",
}


# ------------------------------------------------------------------------------- matching
def _norm(label: str) -> str:
    text = re.sub(r"\s+", " ", str(label).strip().lower())
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"\bvs\.?(?=\s|$)", "vs", text)


def _match(label, choices: tuple[str, ...], what: str) -> int:
    """Index of ``label`` in ``choices``: exact (case, spacing) or unique-prefix match."""
    if not isinstance(label, str):
        raise ModelSpecError(f"{what} must be a string, got {label!r}.", rule="bad-option")
    key = _norm(label)
    normed = [_norm(c) for c in choices]
    if key in normed:
        return normed.index(key)
    hits = [i for i, c in enumerate(normed) if key and c.startswith(key)]
    if len(hits) == 1:
        return hits[0]
    listing = "; ".join(repr(c) for c in choices)
    if hits:
        raise ModelSpecError(
            f"{what} {label!r} is ambiguous: it starts {len(hits)} of the valid values. "
            f"Valid values: {listing}.",
            rule="bad-option",
        )
    raise ModelSpecError(f"Unknown {what} {label!r}. Valid values: {listing}.", rule="bad-option")


def _comparator_pair(comparison: str, valid: tuple[str, ...], what: str) -> tuple | None:
    """Parse ``"A vs B"`` into its two comparator types, sorted (order-free); None if not."""
    parts = _norm(comparison).split(" vs ")
    if len(parts) != 2 or any(part not in _COMPARATOR_ALIASES for part in parts):
        return None
    pair = tuple(sorted(_COMPARATOR_ALIASES[part] for part in parts))
    if pair == ("placebo/control", "placebo/control"):
        listing = "; ".join(repr(c) for c in valid)
        raise ModelSpecError(
            f"{what} {comparison!r}: placebo/control vs placebo/control is not a comparison "
            f"type. Valid values: {listing}.",
            rule="bad-option",
        )
    return pair


def _pair(a: str, b: str) -> tuple:
    return tuple(sorted((a, b)))


_TURNER_PAIRS = {
    _pair("pharmacological", "placebo/control"): 0,
    _pair("pharmacological", "pharmacological"): 1,
    _pair("non-pharmacological", "placebo/control"): 2,
    _pair("non-pharmacological", "pharmacological"): 3,
    _pair("non-pharmacological", "non-pharmacological"): 4,
}


def _turner_comparison(comparison: str) -> int:
    what = "Turner et al. comparison type"
    pair = _comparator_pair(comparison, TURNER_COMPARISONS, what)
    if pair is not None:
        return _TURNER_PAIRS[pair]
    return _match(comparison, TURNER_COMPARISONS, what)


def _rhodes_comparison(comparison: str) -> int:
    what = "Rhodes et al. comparison type"
    pair = _comparator_pair(comparison, RHODES_COMPARISONS, what)
    if pair is not None:
        if "non-pharmacological" in pair:
            return 2
        return 1 if pair == _pair("pharmacological", "pharmacological") else 0
    return _match(comparison, RHODES_COMPARISONS, what)


def _both_or_neither(outcome, comparison, name: str) -> bool:
    if outcome is None and comparison is None:
        return True
    if outcome is None or comparison is None:
        raise ModelSpecError(
            f"{name}: give both outcome and comparison, or neither (the general setting).",
            rule="bad-option",
        )
    return False


# ---------------------------------------------------------------------------------- public
def turner2015(outcome: str | None = None, comparison: str | None = None) -> LogNormalTau2:
    """Turner et al. (2015) predictive distribution of ``tau^2`` for log odds ratios.

    Parameters
    ----------
    outcome : str, optional
        Outcome type, one of :data:`TURNER_OUTCOMES` (case-insensitive; a unique prefix such as
        ``"subjective"`` or ``"all-cause"`` is enough). Omit together with ``comparison`` for
        the general setting ``log(tau^2) ~ N(-2.56, 1.74^2)``.
    comparison : str, optional
        Intervention comparison type, one of :data:`TURNER_COMPARISONS`, in either order
        (``"placebo vs pharmacological"``; ``pharma``, ``non-pharma``, ``placebo`` and
        ``control`` are accepted abbreviations).

    Returns
    -------
    LogNormalTau2
        ``log(tau^2) ~ N(mu, sigma^2)`` with the table's values and a label naming the setting.

    Raises
    ------
    ModelSpecError
        For an unknown or ambiguous label; the message lists the valid ones.

    Notes
    -----
    Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
    between-study heterogeneity and simple methods for their application in Bayesian
    meta-analysis. Stat Med 34(6):984-998, Table IV. For log odds ratios only.
    """
    if _both_or_neither(outcome, comparison, "turner2015"):
        mu, sigma = TURNER_GENERAL
        return LogNormalTau2(mu, sigma, label="Turner 2015: general setting")
    i = _match(outcome, TURNER_OUTCOMES, "Turner et al. outcome type")
    j = _turner_comparison(comparison)
    return LogNormalTau2(
        float(TURNER_MU[i, j]),
        float(TURNER_SIGMA[i, j]),
        label=f"Turner 2015: {TURNER_OUTCOMES[i]}, {TURNER_COMPARISONS[j]}",
    )


def rhodes2015(
    outcome: str | None = None, comparison: str | None = None, *, area: str = "other"
) -> LogStudentTTau2:
    """Rhodes et al. (2015) predictive distribution of ``tau^2`` for standardised mean differences.

    Parameters
    ----------
    outcome : str, optional
        Outcome type, one of :data:`RHODES_OUTCOMES` (case-insensitive; a unique prefix such as
        ``"mental health"`` is enough). Omit together with ``comparison`` for the general
        setting ``log(tau^2) ~ t_5(-3.44, 2.59)``.
    comparison : str, optional
        Comparison type, one of :data:`RHODES_COMPARISONS`, or two comparator types ``"A vs B"``
        (any comparison involving a non-pharmacological intervention maps to
        ``"non-pharmacological (any)"``).
    area : {"other", "respiratory", "cancer"}
        Medical area: ``"other"`` (Table 3, default) or the appendix tables for respiratory
        diseases and cancer.

    Returns
    -------
    LogStudentTTau2
        ``log(tau^2) ~ t_5(mu, sigma)`` with the table's values and a label naming the setting.

    Raises
    ------
    ModelSpecError
        For an unknown or ambiguous label; the message lists the valid ones.

    Notes
    -----
    Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were developed for the
    extent of heterogeneity in meta-analyses of continuous outcome data. J Clin Epidemiol
    68(1):52-60, Table 3. For SMDs only.
    """
    if _both_or_neither(outcome, comparison, "rhodes2015"):
        if area != "other":
            raise ModelSpecError(
                "rhodes2015: the general setting has no medical area; give outcome and "
                "comparison to use the respiratory or cancer tables.",
                rule="bad-option",
            )
        mu, sigma = RHODES_GENERAL
        return LogStudentTTau2(mu, sigma, RHODES_DF, label="Rhodes 2015: general setting")
    k = RHODES_AREAS[_match(area, RHODES_AREAS, "Rhodes et al. medical area")]
    i = _match(outcome, RHODES_OUTCOMES, "Rhodes et al. outcome type")
    j = _rhodes_comparison(comparison)
    where = "" if k == "other" else f", {k}"
    return LogStudentTTau2(
        float(RHODES_MU[k][i, j]),
        float(RHODES_SIGMA[k][i, j]),
        RHODES_DF,
        label=f"Rhodes 2015: {RHODES_OUTCOMES[i]}, {RHODES_COMPARISONS[j]}{where}",
    )


#: Columns of :func:`list_empirical_priors` (``tau_median`` is inserted before ``reference``).
_LIST_COLUMNS = (
    "source",
    "effect_measure",
    "outcome",
    "comparison",
    "area",
    "distribution",
    "mu",
    "sigma",
    "nu",
    "reference",
)
#: Where each Rhodes et al. area's table is in the paper.
_RHODES_TABLES = {
    "other": "Table 3",
    "respiratory": "appendix table, respiratory",
    "cancer": "appendix table, cancer",
}


def _turner_rows() -> list[tuple]:
    """Rows of :func:`list_empirical_priors` for Turner et al.: general setting, then Table IV."""
    head = ("turner2015", "log OR")
    general = (*head, "general", "general", None, "normal", *TURNER_GENERAL, np.nan)
    rows = [(*general, f"{TURNER_CITATION} (general setting, p. 993)")]
    for i, outcome in enumerate(TURNER_OUTCOMES):
        for j, comparison in enumerate(TURNER_COMPARISONS):
            cell = (TURNER_MU[i, j], TURNER_SIGMA[i, j], np.nan)
            rows.append((*head, outcome, comparison, None, "normal", *cell, TURNER_CITATION))
    return rows


def _rhodes_rows() -> list[tuple]:
    """Rows for Rhodes et al.: general setting, then each area's table (rows by outcome)."""
    head = ("rhodes2015", "SMD")
    general = (*head, "general", "general", None, "t_5", *RHODES_GENERAL, RHODES_DF)
    rows = [(*general, f"{RHODES_CITATION} (general setting, Sec. 3.3)")]
    for area in RHODES_AREAS:
        source = f"{RHODES_CITATION}, {_RHODES_TABLES[area]}"
        for i, outcome in enumerate(RHODES_OUTCOMES):
            for j, comparison in enumerate(RHODES_COMPARISONS):
                cell = (RHODES_MU[area][i, j], RHODES_SIGMA[area][i, j], RHODES_DF)
                rows.append((*head, outcome, comparison, area, "t_5", *cell, source))
    return rows


def list_empirical_priors() -> pd.DataFrame:
    """Every published setting, one row each, with its distribution and source.

    Returns
    -------
    DataFrame
        ``source`` (``"turner2015"`` or ``"rhodes2015"``: the function that returns it),
        ``effect_measure`` (``"log OR"`` or ``"SMD"``), ``outcome``, ``comparison``, ``area``
        (Rhodes et al. only), ``distribution`` (of ``log(tau^2)``: ``"normal"`` or ``"t_5"``),
        ``mu``, ``sigma``, ``nu``, ``tau_median`` (prior median of ``tau``, ``exp(mu / 2)``) and
        ``reference`` (citation and table). General settings have ``outcome`` and
        ``comparison`` ``"general"``.
    """
    out = pd.DataFrame(_turner_rows() + _rhodes_rows(), columns=list(_LIST_COLUMNS))
    out["mu"] = out["mu"].astype(float)
    out["sigma"] = out["sigma"].astype(float)
    # the median of tau is exp(median of log(tau^2) / 2), for both distributions
    out.insert(out.columns.get_loc("reference"), "tau_median", np.exp(out["mu"] / 2))
    return out
