"""Report sections of the data, the model and the treatment-level results.

Data, network plot, model, diagnostics, relative effects (with the forest plot), all pairs, the
league table, rankings (with the rankogram and the SUCRA plot) and heterogeneity. Each function
takes the :class:`~.blocks.ReportContext` and returns the HTML of its section(s).
"""

from __future__ import annotations

import pandas as pd

from ..plots.forest import plot_forest
from ..plots.network import plot_network
from ..plots.rankings import plot_ranks, plot_sucra
from .blocks import (
    ReportContext,
    figure_html,
    frame_html,
    kv_table,
    on_new_axes,
    paragraph,
    section,
)
from .export import TABLE_TITLES

__all__ = [
    "data_section",
    "network_section",
    "model_section",
    "diagnostics_section",
    "effects_sections",
    "rankings_section",
    "heterogeneity_section",
]

#: Labels of the items of ``Network.summary()`` (others are humanized).
DATA_LABELS = {
    "multi_arm_studies": "Multi-arm studies",
    "contrasts": "Contrasts (non-base arms)",
    "comparisons": "Pairs of treatments compared directly",
    "within_treatment_studies": "Studies with one treatment in several arms",
    "classes": "Treatment classes",
    "measure": "Effect measure",
    "reference": "Reference treatment",
    "excluded_studies": "Studies excluded (outside the analysed component)",
}


def data_section(ctx: ReportContext) -> str:
    """Render the network's size and make-up (items without a value left out)."""
    summary = ctx.fit.network.summary()
    items = dict(zip(summary["item"], summary["value"], strict=True))
    if items.get("measure") is not None:
        items["measure"] = ctx.measure
    return section("data", "Data", kv_table(items, labels=DATA_LABELS))


def network_section(ctx: ReportContext) -> str:
    """Render the network plot, with what node areas, edge widths and colours show."""
    net = ctx.fit.network
    patients = net.summary().set_index("item")["value"].get("patients")
    nodes = "patients randomised to it" if patients is not None else "studies that include it"
    colours = " Node colours show the treatment classes." if net.classes else ""
    caption = (
        f"Nodes are the {net.n_treatments} treatments, each with an area proportional to the "
        f"number of {nodes}; edges join treatments compared directly in a study, with a width "
        f"proportional to the number of such studies.{colours}"
    )
    return section(
        "network-plot", "Network", figure_html(lambda: plot_network(ctx.fit), "network", caption)
    )


def model_section(ctx: ReportContext) -> str:
    """Render the model, priors and sampler in words."""
    return section("model", "Model and priors", kv_table(ctx.fit.describe()))


def diagnostics_section(ctx: ReportContext) -> str:
    """Convergence: the engine's note, problems, divergences and R-hat, ESS, MCSE per parameter."""
    fit = ctx.fit
    diag = fit.diagnostics()
    parts = []
    if fit.engine == "exact":
        parts.append(
            paragraph(
                "Exact engine: summaries are computed by quadrature and carry no Monte Carlo "
                "error; the draws are independent (diagnostics shown for completeness).",
                "ok",
            )
        )
    if fit.problems:
        parts.append(paragraph("Convergence problems: " + "; ".join(fit.problems) + ".", "problem"))
    else:
        parts.append(
            '<p class="ok">No convergence problems: R-hat &le; 1.01, bulk ESS &ge; 400, '
            "no divergences.</p>"
        )
    div = diag.attrs.get("divergences")
    if div is not None:
        parts.append(paragraph(f"Divergent transitions: {int(div)}."))
    parts.append(
        paragraph(
            "R-hat (3 decimals), effective sample sizes (ESS, whole draws) and the Monte Carlo "
            "standard error of the posterior mean of each parameter, on the scale of the "
            "parameter."
        )
    )
    parts.append(frame_html(diag, pct=ctx.pct))
    return section("diagnostics", "Diagnostics", "".join(parts))


def _forest(ctx: ReportContext, reference: str) -> str:
    """Render the forest plot vs the reference: prediction intervals under random effects."""
    fit = ctx.fit
    random = bool(fit.spec.random)
    by_class = bool(fit.network.classes)
    pi = (
        f", and the thin, lighter bar the {ctx.pct} prediction interval of the effect in a new "
        "study (which adds the between-study heterogeneity)"
        if random
        else " (a fixed-effect model: no prediction interval beyond the credible interval)"
    )
    grouped = " Treatments are grouped by class under bold headers." if by_class else ""
    caption = (
        f"Relative effect of each treatment vs {reference} (treatment minus {reference}) "
        f"{ctx.on_scale}; {ctx.better}. The point is the posterior median, the "
        f"thick bar the {ctx.pct} credible interval{pi}; the vertical line marks no "
        f"difference.{grouped}"
    )
    code = fit.network.measure or "Relative effect"
    intervals = f"{ctx.pct} CrI" + (" and PrI" if random else "")
    xlabel = f"{code} vs {reference} (median, {intervals})"
    return figure_html(
        lambda: plot_forest(
            fit, ci_prob=ctx.ci_prob, prediction=random, by_class=by_class, xlabel=xlabel
        ),
        "forest plot",
        caption,
    )


def effects_sections(ctx: ReportContext) -> list[str]:
    """Relative effects vs the reference (with the forest plot), all pairs, the league table."""
    fit, pct = ctx.fit, ctx.pct
    reference = str(fit.network.reference)
    effects = fit.relative_effects(ci_prob=ctx.ci_prob)
    pairs = fit.relative_effects(all_pairs=True, ci_prob=ctx.ci_prob)
    league = fit.league_table(ci_prob=ctx.ci_prob, digits=3)
    about = paragraph(
        f"Posterior mean, SD, median and {pct} credible interval (CrI) of each treatment minus "
        f"its comparator (reference: {reference})."
    )
    league_note = paragraph(
        f"Median ({pct} credible interval) of the row treatment minus the column treatment."
    )
    return [
        section(
            "relative-effects",
            TABLE_TITLES["relative_effects"],
            ctx.scale_note() + about + frame_html(effects, pct=pct) + _forest(ctx, reference),
        ),
        section(
            "relative-effects-all-pairs",
            TABLE_TITLES["relative_effects_all_pairs"],
            ctx.scale_note() + frame_html(pairs, pct=pct),
        ),
        section(
            "league-table",
            TABLE_TITLES["league_table"],
            ctx.scale_note("row treatment minus column treatment")
            + league_note
            + frame_html(_unnamed_axes(league), index=True),
        ),
    ]


def _unnamed_axes(table: pd.DataFrame) -> pd.DataFrame:
    """Return the league table without axis names (they would add a blank header row)."""
    out = table.copy()
    out.index.name = None
    out.columns.name = None
    return out


#: Column labels of the SUCRA table (its interval is that of the per-draw scaled rank).
SUCRA_LABELS = {
    "ci_lower": "SUCRA {pct} interval lower",
    "ci_upper": "SUCRA {pct} interval upper",
}


def rankings_section(ctx: ReportContext) -> str:
    """SUCRA table, rankogram and SUCRA plot when the direction is known, else a note."""
    if ctx.direction is None:
        return section(
            "rankings",
            "Rankings",
            "<p>Not computed: the benefit direction was not given (pass "
            "<code>lower_is_better</code>).</p>",
        )
    fit, pct = ctx.fit, ctx.pct
    sucra = fit.sucra(lower_is_better=ctx.direction, ci_prob=ctx.ci_prob)
    about = paragraph(
        f"SUCRA (surface under the cumulative ranking curve: 1 = always best, 0 = always last) "
        f"with the {pct} interval of the per-draw scaled rank, mean rank and P(best), the "
        "probability of being the best treatment."
    )
    n_treatments = fit.network.n_treatments
    rankogram = figure_html(
        lambda: on_new_axes(
            (9.5, max(4.5, 1.0 + 0.19 * n_treatments)),  # tall enough for the legend
            lambda ax: plot_ranks(fit, lower_is_better=ctx.direction, ax=ax),
        ),
        "rankogram",
        f"Probability (0 to 1) that each treatment takes each rank among the "
        f"{n_treatments} treatments (rank 1 = best; {ctx.better}); the legend gives "
        "each treatment's SUCRA.",
    )
    sucra_plot = figure_html(
        lambda: plot_sucra(fit, lower_is_better=ctx.direction, ci_prob=ctx.ci_prob),
        "SUCRA plot",
        f"SUCRA of each treatment (0 = always last, 1 = always best; {ctx.better}) with the "
        f"{pct} interval of its per-draw scaled rank; the best treatment is at the top.",
    )
    body = ctx.rank_note() + about + frame_html(sucra, pct=pct, labels=SUCRA_LABELS)
    return section("rankings", "Rankings", body + rankogram + sucra_plot)


#: Row labels of the heterogeneity table.
HETEROGENEITY_ROWS = {
    "tau": "tau (between-study SD)",
    "tau2": "tau\u00b2 (between-study variance)",
}


def heterogeneity_section(ctx: ReportContext) -> str:
    """Render the between-study heterogeneity (a note for a fixed-effect model)."""
    fit = ctx.fit
    if not fit.spec.random:
        body = paragraph(
            "Fixed-effect model: no between-study heterogeneity (tau = 0 by assumption)."
        )
        return section("heterogeneity", "Heterogeneity", body)
    het = fit.heterogeneity(ci_prob=ctx.ci_prob)
    het = het.rename(index=HETEROGENEITY_ROWS).rename_axis("parameter").reset_index()
    note = paragraph(
        f"Posterior of the between-study SD tau {ctx.on_scale} and of its "
        f"square, with {ctx.pct} credible intervals."
    )
    return section("heterogeneity", "Heterogeneity", note + frame_html(het, pct=ctx.pct))


def cutpoints_section(ctx: ReportContext) -> str:
    """Render the cutpoints of an ordered categorical fit (nothing for other fits)."""
    fit = ctx.fit
    if fit.network.likelihood != "ordered" or len(fit.network.categories) < 2:
        return ""
    table = fit.cutpoints(ci_prob=ctx.ci_prob)
    note = paragraph(
        f"Cutpoints of the ordered {fit.network.link} model, {ctx.on_scale}: P(at least cutpoint "
        f"j) = F(mu + delta - c_j), with {fit.network.categories[0]} fixed at 0 (TSD2; "
        f"multinma's convention), and {ctx.pct} credible intervals."
    )
    return section("cutpoints", "Cutpoints", note + frame_html(table, pct=ctx.pct))
