"""A self-describing single-file HTML report of a fit.

Every string that comes from the user's data (study, treatment and covariate names, table cells)
is HTML-escaped; the plots are embedded as base64 PNGs, so the file needs nothing else.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import platform
from html import escape
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..base.validate import resolve_direction
from ..plots.network import plot_network
from ..plots.regression import plot_regression
from .export import TABLE_TITLES, fit_tables, table_html

__all__ = ["write_report", "report_html", "package_versions"]

#: Packages whose versions the report records.
VERSIONED_PACKAGES = ("nma_bayes", "pymc", "arviz", "numpy", "pandas", "nutpie")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{border-bottom:2px solid #345}h2{margin-top:1.6em;color:#345}
table{border-collapse:collapse;margin:0.5em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f4f7}td:first-child,th:first-child{text-align:left}
.kv th{text-align:left}.kv td{text-align:left}
.problem{color:#b00}.ok{color:#060}
nav a{margin-right:1em}
img{max-width:100%}
"""

#: Navigation links of the report: section id and label.
_NAV = (
    ("data", "Data"),
    ("network-plot", "Network"),
    ("model", "Model"),
    ("diagnostics", "Diagnostics"),
    ("meta-regression", "Meta-regression"),
    ("relative-effects", "Relative effects"),
    ("league-table", "League table"),
    ("rankings", "Rankings"),
    ("heterogeneity", "Heterogeneity"),
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


def _kv_table(items: dict) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in items.items()
    )
    return f'<table class="kv">{rows}</table>'


def _section(sid: str, heading: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{escape(heading)}</h2>{body}</section>\n'


def _figure_png(draw) -> str | None:
    """Draw ``draw()``'s figure as a base64 PNG (``None`` if it cannot be drawn)."""
    import matplotlib.pyplot as plt

    try:
        fig = draw()
    except Exception:  # a report without a plot beats no report
        return None
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _data_summary(fit) -> str:
    summary = fit.network.summary()
    if isinstance(summary, pd.DataFrame) and {"item", "value"} <= set(summary.columns):
        items = {
            str(k): ("" if v is None else v)
            for k, v in zip(summary["item"], summary["value"], strict=True)
        }
        return _kv_table(items)
    return (
        summary.to_html(escape=True) if isinstance(summary, pd.DataFrame) else escape(str(summary))
    )


def _diagnostics(fit) -> str:
    diag = fit.diagnostics()
    if fit.engine == "exact":
        note = (
            '<p class="ok">Exact engine: summaries are computed by quadrature and carry no Monte '
            "Carlo error; the draws are independent (diagnostics shown for completeness).</p>"
        )
    else:
        note = ""
    if fit.problems:
        status = (
            '<p class="problem">Convergence problems: ' + escape("; ".join(fit.problems)) + "</p>"
        )
    else:
        status = (
            '<p class="ok">No convergence problems: R-hat &le; 1.01, bulk ESS &ge; 400, '
            "no divergences.</p>"
        )
    div = diag.attrs.get("divergences")
    div_text = f"<p>Divergences: {escape(str(div))}</p>" if div is not None else ""
    table = diag.to_html(
        escape=True, index=False, float_format="{:.3f}".format, border=0, na_rep=""
    )
    return note + status + div_text + table


def report_html(
    fit,
    *,
    lower_is_better: bool | None = None,
    title: str | None = None,
    ci_prob: float = 0.95,
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

    Returns
    -------
    str
        The HTML text.
    """
    net = fit.network
    direction = resolve_direction(lower_is_better, net, required=False)
    if title is None:
        title = f"Network meta-analysis: {net.n_treatments} treatments, {net.n_studies} studies"
    tables = fit_tables(fit, lower_is_better=direction, ci_prob=ci_prob)
    pct = f"{100 * ci_prob:g}%"
    sections = [
        _section("data", "Data", _data_summary(fit)),
        _network_section(fit),
        _section("model", "Model and priors", _kv_table(fit.describe())),
        _section("diagnostics", "Diagnostics", _diagnostics(fit)),
        *_regression_sections(fit, ci_prob, pct),
        *_effects_sections(tables, str(net.reference), pct),
        _rankings_section(tables, direction, pct),
        _heterogeneity_section(fit, ci_prob),
        _software_section(fit),
    ]
    present = "".join(sections)
    return _page(title, sections, [(s, t) for s, t in _NAV if f'<section id="{s}">' in present])


def _image(png: str | None, what: str) -> str:
    """Return an embedded PNG (or a note that the plot could not be drawn)."""
    if png is None:
        return f"<p>The {escape(what)} could not be drawn.</p>"
    return f'<img alt="{escape(what)}" src="data:image/png;base64,{png}">'


def _network_section(fit) -> str:
    """Render the network plot as an embedded PNG (or a note that it could not be drawn)."""
    return _section(
        "network-plot", "Network", _image(_figure_png(lambda: plot_network(fit)), "network plot")
    )


def _regression_sections(fit, ci_prob: float, pct: str) -> list[str]:
    """Render the meta-regression: model, interactions and plot (none without covariates)."""
    design = fit.posterior.regression
    if design is None:
        return []
    about = fit.describe()
    table = fit.regression(ci_prob=ci_prob)
    intro = (
        f"<p>Network meta-regression on {escape(about['meta-regression'])}. Centring of the "
        "numeric covariates and reference level of the categorical ones: "
        f"{escape(about['covariate centring'])}. Prior of the interactions: "
        f"{escape(about['prior beta'])}.</p>"
    )
    note = (
        "<p>The relative effects, league table and rankings of this report are evaluated at the "
        "centring values of the numeric covariates and at the first level of categorical "
        "ones.</p>"
    )
    table_note = (
        f"<p>Posterior mean, SD, median and {escape(pct)} credible interval of each "
        "treatment-by-covariate interaction (change in the relative effect vs the reference "
        "per unit of the covariate, or for a level vs the first level).</p>"
    )
    body = table.to_html(
        escape=True, index=False, float_format="{:.3f}".format, na_rep="", border=0
    )
    covariate = design.covariates[0]
    png = _figure_png(lambda: plot_regression(fit, covariate, ci_prob=ci_prob))
    figure = (
        f"<p>Relative effects vs the reference along {escape(str(covariate))} (median and "
        f"{escape(pct)} credible band or intervals), with the studies' observed contrasts "
        "(marker area proportional to precision).</p>" + _image(png, "meta-regression plot")
    )
    return [
        _section("meta-regression", "Meta-regression", intro + note + table_note + body + figure)
    ]


def _effects_sections(tables: dict, reference: str, pct: str) -> list[str]:
    """Render the relative effects vs the reference and for all pairs, and the league table."""
    effects_note = (
        f"<p>Posterior mean, SD, median and {escape(pct)} credible interval of each treatment "
        f"minus its comparator (reference: {escape(reference)}).</p>"
    )
    league_note = (
        f"<p>Median ({escape(pct)} credible interval) of the row treatment minus the column "
        "treatment.</p>"
    )
    return [
        _section(
            "relative-effects",
            TABLE_TITLES["relative_effects"],
            effects_note + table_html("relative_effects", tables["relative_effects"]),
        ),
        _section(
            "relative-effects-all-pairs",
            TABLE_TITLES["relative_effects_all_pairs"],
            table_html("relative_effects_all_pairs", tables["relative_effects_all_pairs"]),
        ),
        _section(
            "league-table",
            TABLE_TITLES["league_table"],
            league_note + table_html("league_table", tables["league_table"]),
        ),
    ]


def _rankings_section(tables: dict, direction: bool | None, pct: str) -> str:
    """Render the SUCRA table when the direction is known (then in ``tables``), else a note."""
    if "sucra" not in tables:
        return _section(
            "rankings",
            "Rankings",
            "<p>Not computed: the benefit direction was not given (pass "
            "<code>lower_is_better</code>).</p>",
        )
    better = "lower" if direction else "higher"
    return _section(
        "rankings",
        "Rankings",
        f"<p>SUCRA, mean rank ({escape(pct)} interval of the scaled rank) and P(best); "
        f"{better} effects are better.</p>" + table_html("sucra", tables["sucra"]),
    )


def _heterogeneity_section(fit, ci_prob: float) -> str:
    """Render the between-study heterogeneity (a note for a fixed-effect model)."""
    if fit.spec.random:
        het = fit.heterogeneity(ci_prob=ci_prob).reset_index()
        body = het.to_html(escape=True, index=False, float_format="{:.3f}".format, border=0)
    else:
        body = "<p>Fixed-effect model: no between-study heterogeneity (tau = 0 by assumption).</p>"
    return _section("heterogeneity", "Heterogeneity", body)


def _software_section(fit) -> str:
    """Render the engine, seed, package versions and the time the report was made."""
    run = {
        "engine": fit.engine,
        "seed": fit.seed,
        **package_versions(),
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return _section("software", "Software, seed and engine", _kv_table(run))


def _page(title: str, sections: list[str], links: list[tuple[str, str]]) -> str:
    """Assemble the HTML document: head, title, navigation links and the sections."""
    nav = "".join(f'<a href="#{sid}">{escape(label)}</a>' for sid, label in links)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
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
) -> Path:
    """Write a self-describing single-file HTML report of a fit.

    Sections (each ``<section id=...>``): ``data`` (network summary), ``network-plot`` (embedded
    PNG), ``model`` (model, priors and sampler in words), ``diagnostics`` (R-hat, ESS, MCSE and
    convergence problems), ``meta-regression`` (a meta-regression fit only: the model, the
    interaction table and the regression plot of the first covariate), ``relative-effects``,
    ``relative-effects-all-pairs``, ``league-table``, ``rankings`` (SUCRA, when the direction is
    known), ``heterogeneity`` and ``software`` (package versions, seed and engine). All text
    from the data is HTML-escaped.

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

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = report_html(fit, lower_is_better=lower_is_better, title=title, ci_prob=ci_prob)
    path.write_text(text, encoding="utf-8")
    return path
