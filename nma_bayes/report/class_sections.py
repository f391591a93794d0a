"""Report sections of a network with treatment classes: class effects and class rankings.

The tables are :meth:`NetworkFit.class_effects
<nma_bayes.results.class_summaries.ClassSummaryMethods.class_effects>` (vs the reference
treatment's class, and all pairs) and :meth:`NetworkFit.class_rankings
<nma_bayes.results.class_summaries.ClassSummaryMethods.class_rankings>`; the figure is
:func:`~nma_bayes.plots.class_ranks.plot_class_ranks`. Networks without classes get none of these
sections.
"""

from __future__ import annotations

from ..plots.class_ranks import plot_class_ranks
from .blocks import ReportContext, figure_html, frame_html, paragraph, section

__all__ = ["class_sections", "CLASS_RANKING_LABELS"]

#: Column labels of the class rankings table.
CLASS_RANKING_LABELS = {
    "p_best": "P(class contains the best treatment)",
    "sucra": "Class SUCRA",
    "mean_rank": "Mean rank of the class effect",
    "ci_lower": "Class SUCRA {pct} interval lower",
    "ci_upper": "Class SUCRA {pct} interval upper",
}


def class_sections(ctx: ReportContext) -> list[str]:
    """Class effects vs the reference class, all pairs, and the class rankings (with the plot).

    Returns an empty list when the network has no classes.
    """
    fit = ctx.fit
    if not fit.network.classes:
        return []
    return [*_effects_sections(ctx), _rankings_section(ctx)]


def _what_a_class_effect_is(fit) -> str:
    """Return the definition of the class effect of this fit, in words."""
    if fit.spec.class_model is not None:
        return (
            f"Class effects are differences between the class means of the "
            f"{fit.spec.class_model} class model."
        )
    return (
        "No class model was fitted: the effect of a class is the equal-weight mean of its "
        "treatments' effects."
    )


def _effects_sections(ctx: ReportContext) -> list[str]:
    fit, pct = ctx.fit, ctx.pct
    reference_class = str(fit.network.classes[fit.network.reference])
    effects = fit.class_effects(ci_prob=ctx.ci_prob)
    pairs = fit.class_effects(all_pairs=True, ci_prob=ctx.ci_prob)
    about = paragraph(
        f"{_what_a_class_effect_is(fit)} Posterior mean, SD, median and {pct} credible "
        f"interval (CrI) of each class minus the reference class, {reference_class} (the class "
        f"of the reference treatment, {fit.network.reference})."
    )
    what = "class minus comparator class"
    return [
        section(
            "class-effects",
            "Class effects vs the reference class",
            ctx.scale_note(what) + about + frame_html(effects, pct=pct),
        ),
        section(
            "class-effects-all-pairs",
            "Class effects, all pairs",
            ctx.scale_note(what) + frame_html(pairs, pct=pct),
        ),
    ]


def _rankings_section(ctx: ReportContext) -> str:
    fit, pct = ctx.fit, ctx.pct
    if ctx.direction is None:
        return section(
            "class-rankings",
            "Class rankings",
            "<p>Not computed: the benefit direction was not given (pass "
            "<code>lower_is_better</code>).</p>",
        )
    table = fit.class_rankings(lower_is_better=ctx.direction, ci_prob=ctx.ci_prob)
    about = paragraph(
        "P(class contains the best treatment): the probability that the best of all treatments "
        "belongs to the class. Class SUCRA, its "
        f"{pct} interval (of the per-draw scaled rank) and the mean rank rank the class "
        "effects among the classes."
    )
    n_treatments = fit.network.n_treatments
    plot = figure_html(
        lambda: plot_class_ranks(fit, lower_is_better=ctx.direction),
        "class rank plot",
        "Rankograms by class, one panel per class: the probability (0 to 1) that each "
        f"treatment of the class takes each rank among all {n_treatments} treatments "
        f"(rank 1 = best; {ctx.better}).",
    )
    body = ctx.rank_note() + about + frame_html(table, pct=pct, labels=CLASS_RANKING_LABELS)
    return section("class-rankings", "Class rankings", body + plot)
