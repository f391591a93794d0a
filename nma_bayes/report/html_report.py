"""A self-describing single-file HTML report of a fit.

Every string that comes from the user's data (study, treatment, class and covariate names, prior
names, table cells) is HTML-escaped; the plots are embedded as base64 PNGs with a caption each,
and the page loads nothing else (no script, font, style sheet or image from anywhere), so the
file is the whole report. The sections are built by :mod:`.effect_sections` (data, model,
treatment-level results), :mod:`.class_sections` (class effects and rankings),
:mod:`.decision_sections` (P(among the best k), cumulative ranks, P(benefit > MCID)) and
:mod:`.checking_sections` (meta-regression, model fit, prior sensitivity),
:mod:`.inconsistency_sections` (node-split, design-by-treatment model, evidence flow) and
:mod:`.cinema_sections` (CINeMA confidence ratings, threshold analysis), from the blocks of
:mod:`.blocks` (readable tables, figures with captions).
"""

from __future__ import annotations

import datetime as _dt
import platform
from html import escape
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..base.validate import check_bool, check_ci_prob, resolve_direction
from .blocks import ReportContext, kv_table, section
from .checking_sections import (
    check_nodesplit,
    check_sensitivity,
    model_fit_section,
    regression_sections,
    sensitivity_section,
)
from .cinema_sections import check_cinema, check_thresholds, cinema_section, thresholds_section
from .class_sections import class_sections
from .decision_sections import decisions_section
from .effect_sections import (
    cutpoints_section,
    data_section,
    diagnostics_section,
    effects_sections,
    heterogeneity_section,
    model_section,
    network_section,
    rankings_section,
)
from .export import check_mcid
from .inconsistency_sections import (
    check_design_by_treatment,
    evidence_structure,
    inconsistency_section,
)

__all__ = ["write_report", "report_html", "package_versions", "render_page"]

#: Packages whose versions the report records.
VERSIONED_PACKAGES = ("nma_bayes", "pymc", "arviz", "numpy", "pandas", "nutpie")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{border-bottom:2px solid #345}h2{margin-top:1.6em;color:#345}h3{color:#345}
table{border-collapse:collapse;margin:0.5em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f4f7}td:first-child,th:first-child{text-align:left}
.kv th{text-align:left}.kv td{text-align:left}
.problem{color:#b00}.ok{color:#060}.scale{font-style:italic;color:#345}
nav a{margin-right:1em}
figure{margin:1em 0}figcaption{font-size:0.9em;color:#333;max-width:800px}
img{max-width:100%}
.nma-cinema-summary td,.nma-cinema-league td{text-align:center;white-space:nowrap}
"""

#: Navigation links of the report: section id and label (sections absent from a report are
#: left out of its navigation).
_NAV = (
    ("data", "Data"),
    ("network-plot", "Network"),
    ("model", "Model"),
    ("diagnostics", "Diagnostics"),
    ("meta-regression", "Meta-regression"),
    ("relative-effects", "Relative effects"),
    ("league-table", "League table"),
    ("rankings", "Rankings"),
    ("class-effects", "Class effects"),
    ("class-rankings", "Class rankings"),
    ("decisions", "Decisions"),
    ("heterogeneity", "Heterogeneity"),
    ("cutpoints", "Cutpoints"),
    ("model-fit", "Model fit"),
    ("inconsistency", "Inconsistency and evidence"),
    ("nodesplit", "Node-split"),
    ("cinema", "Confidence (CINeMA)"),
    ("thresholds", "Threshold analysis"),
    ("prior-sensitivity", "Prior sensitivity"),
    ("software", "Software"),
)


def package_versions() -> dict[str, str]:
    """Versions of the packages behind a fit (``"not installed"`` where absent), and Python."""
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def report_html(
    fit,
    *,
    lower_is_better: bool | None = None,
    title: str | None = None,
    ci_prob: float = 0.95,
    model_fit: bool = True,
    nodesplit: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
    mcid: float | None = None,
    design_by_treatment=None,
    cinema=None,
    thresholds=None,
) -> str:
    """Render the report of a fit as one HTML document (see :func:`write_report`).

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.
    lower_is_better : bool, optional
        Benefit direction for the rankings (default: the one recorded on the network, else no
        rankings; :func:`~nma_bayes.base.validate.resolve_direction`).
    title : str, optional
        Report title (default: a description of the network).
    ci_prob : float
        Interval probability.
    model_fit : bool
        Include the model fit table (residual deviance, pD, DIC).
    nodesplit : DataFrame, optional
        The table returned by :func:`nma_bayes.nodesplit` for this network: adds the section
        "Inconsistency and evidence" with the node-split table and plot.
    sensitivity : DataFrame, optional
        The table returned by :func:`nma_bayes.prior_sensitivity` for this network: adds the
        prior-sensitivity tables.
    mcid : float, optional
        Minimal clinically important difference on the effect scale of the fit (``>= 0``; log
        scale for log-ratio measures): adds to the decision section the probability that each
        treatment beats the reference by more than it, and the MCID forest plot. Needs the
        benefit direction.
    design_by_treatment : DesignByTreatment, optional
        The result of :func:`nma_bayes.design_by_treatment` for this network (taken
        duck-typed: its ``model_fit`` and ``inconsistency`` tables): adds the section
        "Inconsistency and evidence" with the fit of the consistency and design-by-treatment
        models and the inconsistency parameters. With ``nodesplit`` or ``design_by_treatment``
        the section also holds the sampling-free evidence structure of the fit: the
        decomposition of Q, the proportion of direct evidence and the contribution matrix heat
        map (arm-level outcomes by their normal approximation, which a note says).
    cinema : Confidence, optional
        The result of :func:`nma_bayes.cinema` for this fit: adds the section "Confidence in
        the results (CINeMA)" with the six domains and the rating of every comparison, the
        league table coloured by the ratings, the range of equivalence, the study-judgement
        rule and the global test of incoherence.
    thresholds : Thresholds, optional
        The result of :func:`nma_bayes.threshold_analysis` (or ``threshold_table``): adds the
        section "Threshold analysis" with the threshold forest plot and table.

    Returns
    -------
    str
        The HTML text.

    Raises
    ------
    ModelSpecError
        If ``model_fit`` is not a boolean, ``ci_prob`` is not in (0, 1), ``nodesplit``,
        ``sensitivity``, ``design_by_treatment``, ``cinema`` (or it assesses other treatments)
        or ``thresholds`` is not what its analysis returns, or
        ``mcid`` is not a number ``>= 0`` or is given without a benefit direction (checked
        before anything is computed).
    """
    net = fit.network
    ctx = ReportContext(
        fit=fit,
        direction=resolve_direction(lower_is_better, net, required=False),
        ci_prob=check_ci_prob(ci_prob),
    )
    model_fit = check_bool(model_fit, "model_fit")
    nodesplit, sensitivity = check_nodesplit(nodesplit), check_sensitivity(sensitivity)
    mcid = check_mcid(mcid, fit, ctx.direction)
    dbt = check_design_by_treatment(design_by_treatment)
    cinema, thresholds = check_cinema(cinema, fit), check_thresholds(thresholds)
    checks = nodesplit is not None or dbt is not None
    if title is None:
        title = f"Network meta-analysis: {net.n_treatments} treatments, {net.n_studies} studies"
    sections = [
        data_section(ctx),
        network_section(ctx),
        model_section(ctx),
        diagnostics_section(ctx),
        *regression_sections(ctx),
        *effects_sections(ctx),
        rankings_section(ctx),
        *class_sections(ctx),
        decisions_section(ctx, mcid),
        heterogeneity_section(ctx),
        cutpoints_section(ctx),
        model_fit_section(ctx) if model_fit else "",
        inconsistency_section(ctx, nodesplit, dbt, evidence_structure(fit) if checks else None),
        cinema_section(ctx, cinema) if cinema is not None else "",
        thresholds_section(ctx, thresholds) if thresholds is not None else "",
        sensitivity_section(ctx, sensitivity) if sensitivity is not None else "",
        _software_section(fit),
    ]
    present = "".join(sections)
    links = [(s, t) for s, t in _NAV if f'<section id="{s}">' in present]
    return render_page(title, sections, links)


def _software_section(fit) -> str:
    """Render the engine, seed, package versions and the time the report was made."""
    run = {
        "engine": fit.engine,
        "seed": fit.seed,
        **package_versions(),
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    # package names stay as they are; the other items are words
    labels = {name: name for name in package_versions()}
    return section("software", "Software, seed and engine", kv_table(run, labels=labels))


def render_page(title: str, sections: list[str], links: list[tuple[str, str]]) -> str:
    """Assemble the HTML document: head, title, navigation links and the sections.

    The empty ``data:`` icon keeps a browser from asking for ``favicon.ico``: the report loads
    nothing besides itself.
    """
    nav = "".join(f'<a href="#{sid}">{escape(label)}</a>' for sid, label in links)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f'<header id="title"><h1>{escape(title)}</h1>'
        f"<p>Bayesian network meta-analysis with nma_bayes.</p><nav>{nav}</nav></header>\n"
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(
    fit,
    path,
    *,
    lower_is_better: bool | None = None,
    title: str | None = None,
    ci_prob: float = 0.95,
    model_fit: bool = True,
    nodesplit: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
    mcid: float | None = None,
    design_by_treatment=None,
    cinema=None,
    thresholds=None,
) -> Path:
    """Write a self-describing single-file HTML report of a fit.

    Sections (each ``<section id=...>``): ``data`` (network summary), ``network-plot``,
    ``model`` (model, priors and sampler in words), ``diagnostics`` (R-hat, ESS, MCSE and
    convergence problems), ``meta-regression`` (a meta-regression fit only: the model, the
    interaction table and the regression plot of the first covariate), ``relative-effects``
    (with the forest plot; prediction intervals under random effects),
    ``relative-effects-all-pairs``, ``league-table``, ``rankings`` (SUCRA, rankogram and SUCRA
    plot, when the direction is known), for a network with classes ``class-effects``,
    ``class-effects-all-pairs`` and ``class-rankings`` (with the class rank plot, when the
    direction is known), ``decisions`` (when the direction is known: P(best) and P(among the
    best 3) with Monte Carlo standard errors, cumulative rank probabilities beside SUCRA, with
    ``mcid`` the probability of beating the reference by more than it and the MCID forest plot,
    and for classes P(class holds a top treatment)), ``heterogeneity``, ``model-fit`` (unless
    ``model_fit=False``), ``inconsistency`` (with ``nodesplit`` or ``design_by_treatment``: its
    sub-sections ``nodesplit``, ``design-by-treatment``, ``q-decomposition``,
    ``direct-evidence`` and ``contribution``), ``cinema`` (with ``cinema``: CINeMA's domains
    and ratings, the league table coloured by them), ``thresholds`` (with ``thresholds``: the
    threshold forest plot and table), ``prior-sensitivity`` (when its table is given) and
    ``software`` (package versions, seed and engine).

    Tables use words for labels, leave out empty rows, write counts as integers and other
    numbers with 3 decimals, and say above them the effect measure and the benefit direction;
    every figure has a caption. All text from the data is HTML-escaped, and the file loads
    nothing else (plots are inline PNGs).

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.
    path : str or Path
        The HTML file to write (parent directories are created).
    lower_is_better : bool, optional
        Benefit direction for the rankings (default: the one recorded on the network, else no
        rankings).
    title : str, optional
        Report title (default: a description of the network).
    ci_prob : float
        Interval probability.
    model_fit : bool
        Include the model fit table (residual deviance, pD, DIC).
    nodesplit : DataFrame, optional
        The table returned by :func:`nma_bayes.nodesplit` for this network.
    sensitivity : DataFrame, optional
        The table returned by :func:`nma_bayes.prior_sensitivity` for this network.
    mcid : float, optional
        Minimal clinically important difference on the effect scale of the fit (see
        :func:`report_html`).
    design_by_treatment : DesignByTreatment, optional
        The result of :func:`nma_bayes.design_by_treatment` for this network (see
        :func:`report_html`).
    cinema : Confidence, optional
        The result of :func:`nma_bayes.cinema` for this fit (see :func:`report_html`).
    thresholds : Thresholds, optional
        The result of :func:`nma_bayes.threshold_analysis` (see :func:`report_html`).

    Returns
    -------
    Path
        The file written.
    """
    text = report_html(
        fit,
        lower_is_better=lower_is_better,
        title=title,
        ci_prob=ci_prob,
        model_fit=model_fit,
        nodesplit=nodesplit,
        sensitivity=sensitivity,
        mcid=mcid,
        design_by_treatment=design_by_treatment,
        cinema=cinema,
        thresholds=thresholds,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
