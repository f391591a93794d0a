"""Report sections of model checking: meta-regression, model fit, prior sensitivity.

The node-split and prior-sensitivity results need several fits, which the analyses layer runs
(:func:`nma_bayes.nodesplit`, :func:`nma_bayes.prior_sensitivity`); the report takes the tables
they return (this layer does not import that one). :func:`check_nodesplit` and
:func:`check_sensitivity` refuse a table that is not one of them before anything is drawn. The
node-split table is shown by :mod:`.inconsistency_sections`.
"""

from __future__ import annotations

import pandas as pd

from ..base.errors import ModelSpecError
from ..plots.regression import plot_regression
from .blocks import (
    DECIMALS,
    ReportContext,
    figure_html,
    format_number,
    frame_html,
    interval_cell,
    is_blank,
    paragraph,
    section,
)

__all__ = [
    "NODESPLIT_COLUMNS",
    "SENSITIVITY_REQUIRED",
    "check_nodesplit",
    "check_sensitivity",
    "model_fit_section",
    "regression_sections",
    "sensitivity_section",
]

#: Columns of ``nb.nodesplit(...)`` that the report shows.
NODESPLIT_COLUMNS = ("treatment", "comparator", "p_value") + tuple(
    f"{s}{end}"
    for s in ("direct", "indirect", "network", "difference")
    for end in ("", "_lower", "_upper")
)

#: Columns of ``nb.prior_sensitivity(...)`` that the report needs.
SENSITIVITY_REQUIRED = ("prior", "quantity", "treatment", "comparator", "estimate")


def check_table(table, columns, name: str, source: str) -> pd.DataFrame | None:
    """Return ``table`` if it is ``None`` or a non-empty DataFrame with ``columns``; else raise.

    ``name`` is the argument (in messages), ``source`` the call that returns such a table.
    """
    if table is None:
        return None
    if not isinstance(table, pd.DataFrame):
        raise ModelSpecError(
            f"{name} must be the DataFrame returned by {source}, got {type(table).__name__}.",
            rule="bad-option",
        )
    missing = [c for c in columns if c not in table.columns]
    if missing or table.empty:
        problem = f"lacks columns {missing}" if missing else "has no rows"
        raise ModelSpecError(
            f"{name} {problem}; pass the DataFrame returned by {source}.", rule="bad-option"
        )
    return table


def check_nodesplit(table) -> pd.DataFrame | None:
    """Validate the ``nodesplit=`` argument of the report (``None`` or ``nb.nodesplit(...)``)."""
    return check_table(table, NODESPLIT_COLUMNS, "nodesplit", "nb.nodesplit(...)")


def check_sensitivity(table) -> pd.DataFrame | None:
    """Validate the ``sensitivity=`` argument (``None`` or ``nb.prior_sensitivity(...)``)."""
    return check_table(table, SENSITIVITY_REQUIRED, "sensitivity", "nb.prior_sensitivity(...)")


def regression_sections(ctx: ReportContext) -> list[str]:
    """Render the meta-regression: model, interactions and plot (none without covariates)."""
    fit, pct = ctx.fit, ctx.pct
    design = fit.posterior.regression
    if design is None:
        return []
    about = fit.describe()
    intro = paragraph(
        f"Network meta-regression on {about['meta-regression']}. Centring of the numeric "
        "covariates and reference level of the categorical ones: "
        f"{about['covariate centring']}. Prior of the interactions: {about['prior beta']}."
    )
    note = paragraph(
        "The relative effects, league table and rankings of this report are evaluated at the "
        "centring values of the numeric covariates and at the first level of categorical ones."
    )
    table_note = paragraph(
        f"Posterior mean, SD, median and {pct} credible interval of each treatment-by-covariate "
        "interaction (change in the relative effect vs the reference per unit of the covariate, "
        "or for a level vs the first level)."
    )
    table = frame_html(fit.regression(ci_prob=ctx.ci_prob), pct=pct)
    covariate = design.covariates[0]
    caption = (
        f"Relative effects vs the reference {ctx.on_scale} along {covariate}: "
        f"median and {pct} credible band or intervals, with the studies' observed contrasts "
        "(marker area proportional to precision)."
    )
    figure = figure_html(
        lambda: plot_regression(fit, covariate, ci_prob=ctx.ci_prob),
        "meta-regression plot",
        caption,
    )
    body = intro + note + ctx.scale_note("interaction") + table_note + table + figure
    return [section("meta-regression", "Meta-regression", body)]


def model_fit_section(ctx: ReportContext) -> str:
    """Posterior mean residual deviance, pD and DIC (TSD2)."""
    table = ctx.fit.model_fit()
    note = paragraph(
        "Posterior mean residual deviance (close to the number of data points when the model "
        "fits well), effective number of parameters pD, and DIC = residual deviance + pD (lower "
        "is better when comparing models of the same data; Dias et al. 2011, TSD2)."
    )
    return section("model-fit", "Model fit", note + frame_html(table, pct=ctx.pct))


def _cell(row) -> str:
    """Estimate with its interval when the table has one, else the estimate alone."""
    lower, upper = row.get("ci_lower"), row.get("ci_upper")
    if is_blank(lower) or is_blank(upper):
        return format_number(row["estimate"])
    return interval_cell(row["estimate"], lower, upper)


def _pivot(rows: pd.DataFrame, keys: dict[str, str], priors: list[str], cell) -> pd.DataFrame:
    """One row per ``keys`` (in order of appearance), one column per prior, ``cell(row)``.

    ``keys`` maps the key columns to their labels; the columns are the labels, then the priors.
    """
    out: dict[tuple, dict[str, str]] = {}
    for _, row in rows.iterrows():
        key = tuple(str(row[k]) for k in keys)
        out.setdefault(key, dict.fromkeys(priors, ""))[str(row["prior"])] = cell(row)
    header = [*keys.values(), *priors]
    return pd.DataFrame([[*key, *values.values()] for key, values in out.items()], columns=header)


def _sucra_cell(row) -> str:
    rank = row.get("rank")
    text = format_number(row["estimate"])
    return text if is_blank(rank) else f"{text} (rank {round(float(rank)):d})"


def sensitivity_section(ctx: ReportContext, table: pd.DataFrame) -> str:
    """Prior sensitivity: tau, the relative effects and SUCRA under each tau prior."""
    priors = list(dict.fromkeys(str(p) for p in table["prior"]))
    parts = [
        paragraph(
            "Results under each prior of the between-study SD tau (one column per prior): "
            "posterior median (credible interval, at the probability given to "
            f"nb.prior_sensitivity), {DECIMALS} decimals."
        )
    ]
    tau = table[table["quantity"] == "tau"]
    if not tau.empty:
        words = "prior_description" in tau.columns
        rows = tau[["prior", "prior_description"]] if words else tau[["prior"]]
        rows = rows.rename(columns={"prior": "Prior", "prior_description": "Prior in words"})
        rows = rows.assign(**{"tau (between-study SD)": [_cell(r) for _, r in tau.iterrows()]})
        parts.append("<h3>Between-study SD tau</h3>" + frame_html(rows, relabel=False))
    effects = table[table["quantity"] == "relative_effect"]
    if not effects.empty:
        keys = {"treatment": "Treatment", "comparator": "Comparator"}
        shown = _pivot(effects, keys, priors, _cell)
        parts.append(
            "<h3>Relative effects</h3>" + ctx.scale_note() + frame_html(shown, relabel=False)
        )
    sucra = table[table["quantity"] == "sucra"]
    if not sucra.empty:
        shown = _pivot(sucra, {"treatment": "Treatment"}, priors, _sucra_cell)
        parts.append(
            "<h3>SUCRA</h3>"
            + paragraph(f"SUCRA (rank by SUCRA in brackets; rank 1 = best; {ctx.better}).")
            + frame_html(shown, relabel=False)
        )
    return section("prior-sensitivity", "Sensitivity to the prior of tau", "".join(parts))
