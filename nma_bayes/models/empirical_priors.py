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

Provenance of the numbers: transcribed from the R package bayesmeta (Röver C, 2020, J Stat Softw
93(6)), file ``R/bayesmeta.R`` (objects ``TurnerEtAlParameters`` and ``RhodesEtAlParameters``;
CRAN mirror ``cran/bayesmeta`` at commit 135804c5bf0dafcf20b4a19528858ed8621320f7), which cites
the tables above; cross-checked against the independent transcription in rnmamod
(``R/table.tau2.empirical.prior_function.R``, Spineli LM). The two agree everywhere except the
sign of one cancer-area value (Rhodes, resource use, pharmacological vs placebo/control:
bayesmeta ``+0.01``, rnmamod ``-0.01``); bayesmeta's value is kept, as it alone fits the additive
pattern of that table. Two values agree in both transcriptions but break the pattern that every
other cell follows (outcome effect + comparison effect + area effect on ``log(tau^2)``); they are
kept as transcribed, and should be checked against the paper: Rhodes et al. Table 3 ("other"),
mental health outcome, non-pharmacological (any): location -3.85 (the pattern, and the
respiratory and cancer tables, imply -2.85); cancer table, internal and external
structure-related outcome, pharmacological vs placebo/control: location -0.13 (pattern: +0.13).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
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

TURNER_CITATION = (
    "Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Stat Med 34(6):984-998, Table IV"
)
RHODES_CITATION = "Rhodes KM, Turner RM, Higgins JPT (2015). J Clin Epidemiol 68(1):52-60"

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

# ----------------------------------------------------------------------------- Turner et al.
#: Outcome types of Turner et al. (2015), Table IV.
TURNER_OUTCOMES = (
    "all-cause mortality",
    "obstetric outcomes",
    "cause-specific mortality / major morbidity event / composite (mortality or morbidity)",
    "resource use / hospital stay / process",
    "surgical / device related success / failure",
    "withdrawals / drop-outs",
    "internal / structure-related outcomes",
    "general physical health indicators",
    "adverse events",
    "infection / onset of new disease",
    "signs / symptoms reflecting continuation / end of condition",
    "pain",
    "quality of life / functioning (dichotomized)",
    "mental health indicators",
    "biological markers (dichotomized)",
    "subjective outcomes (various)",
)
#: Intervention comparison types of Turner et al. (2015), Table IV (columns, in order).
TURNER_COMPARISONS = (
    "pharmacological vs placebo/control",
    "pharmacological vs pharmacological",
    "non-pharmacological vs placebo/control",
    "non-pharmacological vs pharmacological",
    "non-pharmacological vs non-pharmacological",
)
# Table IV, mean of log(tau^2): one row per outcome (order of TURNER_OUTCOMES), one column per
# comparison type (order of TURNER_COMPARISONS).
_TURNER_MU = np.array(
    [
        [-3.95, -4.18, -4.17, -2.92, -3.50],
        [-3.52, -3.75, -3.74, -2.49, -3.08],
        [-3.71, -3.95, -3.93, -2.68, -3.27],
        [-2.34, -2.58, -2.56, -1.31, -1.90],
        [-2.14, -2.37, -2.36, -1.11, -1.69],
        [-2.99, -3.23, -3.21, -1.96, -2.55],
        [-2.71, -2.94, -2.93, -1.67, -2.26],
        [-2.29, -2.53, -2.51, -1.26, -1.85],
        [-1.87, -2.10, -2.10, -0.84, -1.43],
        [-2.49, -2.73, -2.71, -1.46, -2.05],
        [-2.06, -2.29, -2.28, -1.03, -1.61],
        [-1.83, -2.06, -2.05, -0.80, -1.38],
        [-2.54, -2.78, -2.77, -1.51, -2.10],
        [-2.12, -2.35, -2.34, -1.09, -1.67],
        [-1.77, -2.00, -1.99, -0.74, -1.33],
        [-2.70, -2.93, -2.92, -1.67, -2.26],
    ]
)
# Table IV, SD of log(tau^2), same layout.
_TURNER_SIGMA = np.array(
    [
        [1.34, 1.41, 1.55, 1.02, 1.26],
        [1.74, 1.79, 1.91, 1.50, 1.68],
        [1.74, 1.79, 1.91, 1.51, 1.68],
        [1.74, 1.79, 1.91, 1.50, 1.68],
        [1.74, 1.79, 1.91, 1.50, 1.68],
        [1.74, 1.79, 1.91, 1.51, 1.68],
        [1.74, 1.79, 1.92, 1.51, 1.68],
        [1.53, 1.58, 1.72, 1.25, 1.46],
        [1.52, 1.58, 1.71, 1.24, 1.45],
        [1.52, 1.58, 1.71, 1.24, 1.45],
        [1.51, 1.58, 1.71, 1.24, 1.45],
        [1.52, 1.58, 1.71, 1.25, 1.45],
        [1.54, 1.60, 1.73, 1.27, 1.47],
        [1.53, 1.60, 1.72, 1.27, 1.47],
        [1.52, 1.58, 1.71, 1.24, 1.45],
        [1.52, 1.58, 1.71, 1.25, 1.45],
    ]
)
#: General (marginal) setting of Turner et al. (2015), p. 993: log(tau^2) ~ N(-2.56, 1.74^2).
TURNER_GENERAL = (-2.56, 1.74)

# ----------------------------------------------------------------------------- Rhodes et al.
#: Outcome types of Rhodes et al. (2015), Table 3.
RHODES_OUTCOMES = (
    "obstetric outcome",
    "resource use and hospital stay / process",
    "internal and external structure-related outcome",
    "general physical health and adverse event and pain and quality of life / functioning",
    "signs / symptoms reflecting continuation / end of condition and infection / onset of new "
    "acute / chronic disease",
    "mental health outcome",
    "biological marker",
    "various subjectively measured outcomes",
)
#: Comparison types of Rhodes et al. (2015), Table 3 (columns, in order). Any comparison with a
#: non-pharmacological intervention on either side is "non-pharmacological (any)".
RHODES_COMPARISONS = (
    "pharmacological vs placebo/control",
    "pharmacological vs pharmacological",
    "non-pharmacological (any)",
)
#: Medical areas: "other" is Table 3; "respiratory" and "cancer" are the paper's appendix tables
#: (bayesmeta's "Tab.A.3.1" and "Tab.A.3.2").
RHODES_AREAS = ("other", "respiratory", "cancer")
# Location of log(tau^2) (t, 5 df): rows = RHODES_OUTCOMES, columns = RHODES_COMPARISONS.
_RHODES_MU = {
    "other": np.array(
        [
            [-4.13, -4.40, -3.99],
            [-2.55, -2.83, -2.41],
            [-2.43, -2.70, -2.29],
            [-3.16, -3.44, -3.02],
            [-3.00, -3.27, -2.86],
            [-2.99, -3.27, -3.85],
            [-3.41, -3.68, -3.27],
            [-2.76, -3.03, -2.62],
        ]
    ),
    "respiratory": np.array(
        [
            [-6.03, -6.31, -5.89],
            [-4.46, -4.73, -4.32],
            [-4.33, -4.61, -4.19],
            [-5.07, -5.34, -4.93],
            [-4.90, -5.18, -4.76],
            [-4.90, -5.17, -4.76],
            [-5.31, -5.59, -5.17],
            [-4.66, -4.94, -4.52],
        ]
    ),
    "cancer": np.array(
        [
            [-1.57, -1.85, -1.43],
            [0.01, -0.27, 0.15],
            [-0.13, -0.14, 0.27],
            [-0.60, -0.88, -0.46],
            [-0.44, -0.71, -0.30],
            [-0.43, -0.71, -0.29],
            [-0.85, -1.13, -0.71],
            [-0.20, -0.48, -0.06],
        ]
    ),
}
# Scale of log(tau^2), same layout.
_RHODES_SIGMA = {
    "other": np.array(
        [
            [2.34, 2.31, 2.11],
            [2.73, 2.70, 2.57],
            [2.50, 2.46, 2.32],
            [2.50, 2.44, 2.27],
            [2.50, 2.47, 2.33],
            [2.16, 2.14, 1.93],
            [2.83, 2.78, 2.66],
            [2.58, 2.59, 2.41],
        ]
    ),
    "respiratory": np.array(
        [
            [2.36, 2.31, 2.21],
            [2.74, 2.70, 2.57],
            [2.51, 2.46, 2.33],
            [2.51, 2.45, 2.28],
            [2.50, 2.47, 2.33],
            [2.17, 2.14, 1.94],
            [2.83, 2.78, 2.66],
            [2.59, 2.59, 2.41],
        ]
    ),
    "cancer": np.array(
        [
            [2.45, 2.41, 2.24],
            [2.83, 2.79, 2.68],
            [2.61, 2.56, 2.45],
            [2.61, 2.55, 2.40],
            [2.60, 2.57, 2.46],
            [2.28, 2.25, 2.08],
            [2.93, 2.87, 2.78],
            [2.68, 2.68, 2.53],
        ]
    ),
}
#: General (marginal) setting of Rhodes et al. (2015), Sec. 3.3: log(tau^2) ~ t_5(-3.44, 2.59).
RHODES_GENERAL = (-3.44, 2.59)
RHODES_DF = 5.0


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
        float(_TURNER_MU[i, j]),
        float(_TURNER_SIGMA[i, j]),
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
        float(_RHODES_MU[k][i, j]),
        float(_RHODES_SIGMA[k][i, j]),
        RHODES_DF,
        label=f"Rhodes 2015: {RHODES_OUTCOMES[i]}, {RHODES_COMPARISONS[j]}{where}",
    )


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
    rows = [
        (
            "turner2015",
            "log OR",
            "general",
            "general",
            None,
            "normal",
            *TURNER_GENERAL,
            np.nan,
            f"{TURNER_CITATION} (general setting, p. 993)",
        ),
    ]
    for i, outcome in enumerate(TURNER_OUTCOMES):
        for j, comparison in enumerate(TURNER_COMPARISONS):
            rows.append(
                (
                    "turner2015",
                    "log OR",
                    outcome,
                    comparison,
                    None,
                    "normal",
                    _TURNER_MU[i, j],
                    _TURNER_SIGMA[i, j],
                    np.nan,
                    TURNER_CITATION,
                )
            )
    rows.append(
        (
            "rhodes2015",
            "SMD",
            "general",
            "general",
            None,
            "t_5",
            *RHODES_GENERAL,
            RHODES_DF,
            f"{RHODES_CITATION} (general setting, Sec. 3.3)",
        )
    )
    tables = {
        "other": "Table 3",
        "respiratory": "appendix table, respiratory",
        "cancer": "appendix table, cancer",
    }
    for area in RHODES_AREAS:
        for i, outcome in enumerate(RHODES_OUTCOMES):
            for j, comparison in enumerate(RHODES_COMPARISONS):
                rows.append(
                    (
                        "rhodes2015",
                        "SMD",
                        outcome,
                        comparison,
                        area,
                        "t_5",
                        _RHODES_MU[area][i, j],
                        _RHODES_SIGMA[area][i, j],
                        RHODES_DF,
                        f"{RHODES_CITATION}, {tables[area]}",
                    )
                )
    cols = [
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
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["mu"] = out["mu"].astype(float)
    out["sigma"] = out["sigma"].astype(float)
    out.insert(out.columns.get_loc("reference"), "tau_median", np.exp(out["mu"] / 2))
    return out
