"""The published tables of predictive distributions for ``tau^2`` (data only).

Read by :mod:`nma_bayes.models.empirical_priors`, which selects a setting by name.

* Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive distributions for
  between-study heterogeneity and simple methods for their application in Bayesian
  meta-analysis. *Stat Med* 34(6):984-998, doi:10.1002/sim.6381. Table IV: log-normal
  distributions ``log(tau^2) ~ N(mu, sigma^2)`` for **log odds ratios**, by outcome type (16) and
  intervention comparison type (5); general setting ``N(-2.56, 1.74^2)``.
* Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were developed for the
  extent of heterogeneity in meta-analyses of continuous outcome data. *J Clin Epidemiol*
  68(1):52-60, doi:10.1016/j.jclinepi.2014.08.012. Table 3 (and its appendix tables for
  respiratory diseases and cancer): log-t distributions ``log(tau^2) ~ t_5(mu, sigma)`` for
  **standardised mean differences**, by outcome type (8), comparison type (3) and medical area;
  general setting ``t_5(-3.44, 2.59)``.

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

import numpy as np

__all__ = [
    "TURNER_CITATION",
    "TURNER_OUTCOMES",
    "TURNER_COMPARISONS",
    "TURNER_MU",
    "TURNER_SIGMA",
    "TURNER_GENERAL",
    "RHODES_CITATION",
    "RHODES_OUTCOMES",
    "RHODES_COMPARISONS",
    "RHODES_AREAS",
    "RHODES_MU",
    "RHODES_SIGMA",
    "RHODES_GENERAL",
    "RHODES_DF",
]


def _table(rows: list[list[float]]) -> np.ndarray:
    """Return a table of the paper as a read-only float array (published numbers are fixed)."""
    out = np.array(rows, dtype=float)
    out.setflags(write=False)
    return out


#: Citation of Turner et al. (2015), Table IV.
TURNER_CITATION = (
    "Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Stat Med 34(6):984-998, Table IV"
)
#: Citation of Rhodes et al. (2015).
RHODES_CITATION = "Rhodes KM, Turner RM, Higgins JPT (2015). J Clin Epidemiol 68(1):52-60"

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
#: Table IV, mean of log(tau^2): one row per outcome (order of TURNER_OUTCOMES), one column per
#: comparison type (order of TURNER_COMPARISONS).
TURNER_MU = _table(
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
#: Table IV, SD of log(tau^2), same layout.
TURNER_SIGMA = _table(
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
#: Location of log(tau^2) (t, 5 df): rows = RHODES_OUTCOMES, columns = RHODES_COMPARISONS.
RHODES_MU = {
    "other": _table(
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
    "respiratory": _table(
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
    "cancer": _table(
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
#: Scale of log(tau^2), same layout (per area).
RHODES_SIGMA = {
    "other": _table(
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
    "respiratory": _table(
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
    "cancer": _table(
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
#: Degrees of freedom of Rhodes et al.'s log-t distributions.
RHODES_DF = 5.0
