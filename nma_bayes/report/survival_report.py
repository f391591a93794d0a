"""The single-file HTML report of a survival NMA (piecewise-exponential, FP or parametric).

Sections (each ``<section id=...>``): ``model`` (the model, its terms and priors in words),
``diagnostics`` (R-hat, ESS, MCSE and convergence problems), ``hazard-ratios`` (the table at
the requested times and the plot of hazard ratios over time), ``survival`` (the survival curves
in the baseline study's population, median survival, RMST and the ranking by RMST),
``model-fit`` (mean deviance,
pD, DIC) and ``software``. Every table and figure is built from the fit's summaries
(:func:`~nma_bayes.results.survival.hazard_ratios`,
:func:`~nma_bayes.results.survival.survival_summary`), so the report shows what they return.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..base.errors import ModelSpecError
from ..plots.survival import plot_hazard_ratios, plot_survival
from ..results.convergence import convergence_problems
from ..results.survival import hazard_ratios, kaplan_meier, survival_summary
from ..results.survival_curves import population_treatments
from ..results.survival_fit import SurvivalFit, structure_facts
from .blocks import figure_html, frame_html, kv_table, paragraph, section
from .html_report import package_versions, render_page

__all__ = ["survival_report_html", "write_survival_report"]

_NAV = (("model", "Model"), ("diagnostics", "Diagnostics"), ("hazard-ratios", "Hazard ratios"),
        ("survival", "Survival"), ("model-fit", "Model fit"), ("software", "Software"))  # fmt: skip

_MODEL_WORDS = {
    "pwe": "piecewise exponential (gemtcPlus; Jansen 2011)",
    "fp": "fractional polynomial (Jansen 2011)",
    "exponential": "exponential (proportional hazards)",
    "weibull": "Weibull (proportional hazards)",
    "gompertz": "Gompertz (proportional hazards)",
    "mspline": "cubic M-spline baseline hazard (proportional hazards; multinma)",
    "lognormal": "log-normal (accelerated failure time)",
    "loglogistic": "log-logistic (accelerated failure time)",
}


def _model_section(fit) -> str:
    if isinstance(fit, SurvivalFit):
        spec = fit.spec
        items = {"model": _MODEL_WORDS[spec.model],
                 "effects": "random (on the intercept)" if spec.random else "fixed",
                 "reference treatment": fit.reference,
                 "treatments": len(fit.treatments), "studies": len(fit.design.studies),
                 "data rows": fit.design.n_rows,
                 "fractional polynomial terms": ", ".join(fit.design.coefficients)
                 if spec.model == "fp" else "",
                 "non-proportional": _non_ph(spec),
                 **structure_facts(fit),
                 "prior of d": spec.prior_d.describe(),
                 "prior of the study baselines": spec.prior_baseline.describe(),
                 "prior of tau": spec.prior_tau.describe() if spec.random else "",
                 "prior of the auxiliary parameter":
                     spec.aux_prior.describe() if spec.aux_prior is not None else ""}  # fmt: skip
    else:
        items = {"model": _MODEL_WORDS["pwe"], "effects": fit.spec.effects,
                 "reference treatment": fit.network.reference,
                 "segments": ", ".join(fit.network.covariates.levels.get("segment", []))
                 if fit.network.covariates is not None
                 else "one (proportional hazards)"}  # fmt: skip
    return section("model", "Model", kv_table(items))


def _non_ph(spec) -> str:
    if not spec.shape_by_treatment:
        return ""
    return "spline coefficients per arm" if spec.model == "mspline" else "shape by treatment"


def _diagnostics_section(fit) -> str:
    table = fit.diagnostics()
    problems = convergence_problems(table)
    note = paragraph("; ".join(problems), "problem") if problems else paragraph(
        "No convergence problem found (R-hat <= 1.01, bulk ESS >= 400, no divergence).", "ok")
    return section("diagnostics", "Diagnostics", note + frame_html(table))


def _hazard_section(fit, times, baseline_study, ci_prob: float) -> str:
    pct = f"{ci_prob:.0%}"
    table = hazard_ratios(fit, times, ci_prob=ci_prob, **_baseline(fit, baseline_study))
    grid = np.linspace(max(min(times), 0.0), max(times), 60)
    grid = grid[grid > 0] if isinstance(fit, SurvivalFit) else grid
    over_time = hazard_ratios(fit, grid, ci_prob=ci_prob, **_baseline(fit, baseline_study))
    figure = figure_html(lambda: plot_hazard_ratios(over_time), "Hazard ratios",
                         f"Posterior median hazard ratio of each treatment against the "
                         f"reference over time, with {pct} credible bands "
                         "(log scale).")  # fmt: skip
    body = paragraph(f"Hazard ratios against {table['comparator'].iloc[0]}.", "scale")
    return section("hazard-ratios", "Hazard ratios over time",
                   body + frame_html(table.drop(columns="comparator"), pct=pct) + figure)


def _baseline(fit, baseline_study):
    """Return the population keywords of ``hazard_ratios``.

    The comparator is the first treatment with a hazard there (the reference, except under a
    non-proportional M-spline model).
    """
    if not isinstance(fit, SurvivalFit):
        return {}
    first = population_treatments(fit, baseline_study)[0]
    return {"baseline_study": baseline_study, "comparator": fit.treatments[first]}


def _survival_section(fit, times, baseline_study, horizon, ci_prob: float, km) -> str:
    pct = f"{ci_prob:.0%}"
    grid = np.unique(np.concatenate([np.linspace(0.0, max(times), 60), times]))
    out = survival_summary(fit, grid, baseline_study=baseline_study, horizon=horizon,
                           ci_prob=ci_prob, rankings=True)  # fmt: skip
    curves = out["survival"]
    overlay = " Dashed steps: the study's Kaplan-Meier curves." if km is not None else ""
    figure = figure_html(lambda: plot_survival(curves, km=km), "Survival curves",
                         f"Posterior median survival of each treatment in the population of "
                         f"{baseline_study} (its baseline hazard), with {pct} credible "
                         f"bands.{overlay}")  # fmt: skip
    shown = curves[np.isin(curves["time"], times)]
    ranks = out["sucra"]
    return section("survival", f"Survival in the population of {baseline_study}",
                   figure + "<h3>Survival at the chosen times</h3>" + frame_html(shown, pct=pct)
                   + "<h3>Median survival</h3>" + frame_html(out["median"], pct=pct)
                   + f"<h3>Restricted mean survival time to {out['rmst']['horizon'].iloc[0]:g}"
                   "</h3>" + frame_html(out["rmst"].drop(columns="horizon"), pct=pct)
                   + "<h3>Ranking by restricted mean survival time (longer is better)</h3>"
                   + frame_html(ranks, pct=pct))  # fmt: skip


def survival_report_html(fit, *, times, baseline_study: str, horizon: float | None = None,
                         data=None, title: str | None = None,
                         ci_prob: float = 0.95) -> str:  # fmt: skip
    """Return the survival report of ``fit`` as one HTML document (module docstring).

    Parameters
    ----------
    fit : SurvivalFit or NetworkFit
        A survival fit (:func:`~nma_bayes.fitting.survival.fit_survival`).
    times : sequence of float
        Times of the hazard-ratio and survival tables (> 0).
    baseline_study : str
        The study whose baseline defines the survival curves (and the hazard ratios of
        non-proportional parametric models).
    horizon : float, optional
        RMST horizon (default: the largest of ``times``).
    data : DataFrame, optional
        The fitted data: the baseline study's Kaplan-Meier steps are drawn over the curves
        (:func:`~nma_bayes.results.survival.kaplan_meier`).
    title : str, optional
        The report's title.
    ci_prob : float
        Interval probability.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.size == 0 or not (times > 0).all():
        raise ModelSpecError("times= must be times > 0, e.g. [3, 6, 12, 24].", rule="bad-option")
    sections = [
        _model_section(fit),
        _diagnostics_section(fit),
        _hazard_section(fit, times, baseline_study, ci_prob),
        _survival_section(fit, times, baseline_study, horizon, ci_prob,
                          None if data is None else kaplan_meier(data, study=baseline_study)),
        section("model-fit", "Model fit", frame_html(fit.model_fit())),
        _software(fit),
    ]
    present = "".join(sections)
    links = [(s, t) for s, t in _NAV if f'<section id="{s}">' in present]
    return render_page(title or "Survival network meta-analysis", sections, links)


def _software(fit) -> str:
    run = {"engine": "pymc (nutpie)", "seed": fit.seed, **package_versions(),
           "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}  # fmt: skip
    labels = {name: name for name in package_versions()}
    return section("software", "Software, seed and engine", kv_table(run, labels=labels))


def write_survival_report(fit, path, **options) -> Path:
    """Write :func:`survival_report_html` to ``path`` (UTF-8); return the path."""
    path = Path(path)
    path.write_text(survival_report_html(fit, **options), encoding="utf-8")
    return path
