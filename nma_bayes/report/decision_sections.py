"""The report's decision section: P(among the best k), cumulative ranks, P(benefit > MCID).

Built from the fit's decision summaries (:mod:`nma_bayes.results.decisions`):
:meth:`top_k <nma_bayes.results.decisions.DecisionMethods.top_k>` (best and best three, with
Monte Carlo standard errors), the cumulative rank probabilities
(``rank_probabilities(cumulative=True)``) beside SUCRA, and, when an MCID is given,
:meth:`prob_difference <nma_bayes.results.decisions.DecisionMethods.prob_difference>` vs the
reference with the MCID forest plot (:func:`~nma_bayes.plots.decisions.plot_prob_difference`);
for a network with classes, :meth:`class_top_k
<nma_bayes.results.decisions.DecisionMethods.class_top_k>`. Without a benefit direction the
section says why it is empty.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from ..plots.decisions import plot_prob_difference
from .blocks import ReportContext, figure_html, frame_html, paragraph, section
from .export import top_k_places

__all__ = ["decisions_section"]

#: Column labels of the decision tables.
DECISION_LABELS = {
    "probability": "P(better by more than the MCID)",
    "mcse": "MCSE",
    "sucra": "SUCRA",
}


def _wide(table: pd.DataFrame, key: str, ks: tuple[int, ...]) -> pd.DataFrame:
    """One row per ``key`` (treatment or class): probability and MCSE side by side per ``k``."""
    first = table[table["k"] == ks[0]]
    out = pd.DataFrame({key: first[key].to_numpy()})
    for k in ks:
        rows = table[table["k"] == k]
        out[f"p_top_{k}"] = rows["probability"].to_numpy()
        out[f"mcse_top_{k}"] = rows["mcse"].to_numpy()
    return out


def _top_k_labels(ks: tuple[int, ...], classes: bool) -> dict[str, str]:
    labels = {}
    for k in ks:
        if classes:
            what = "the best treatment" if k == 1 else f"one of the best {k}"
            labels[f"p_top_{k}"] = f"P(class holds {what})"
        else:
            labels[f"p_top_{k}"] = "P(best)" if k == 1 else f"P(among the best {k})"
        labels[f"mcse_top_{k}"] = "MCSE"
    return labels


def decisions_section(ctx: ReportContext, mcid: float | None) -> str:
    """Render the decision section (a note when the benefit direction is unknown)."""
    if ctx.direction is None:
        return section(
            "decisions",
            "Decisions",
            "<p>Not computed: the benefit direction was not given (pass "
            "<code>lower_is_better</code>).</p>",
        )
    fit = ctx.fit
    ks = top_k_places(fit.network.n_treatments)
    parts = [_top_k_part(ctx, ks), _cumulative_part(ctx)]
    if mcid is not None:
        parts.append(_mcid_part(ctx, mcid))
    if fit.network.classes:
        parts.append(_class_part(ctx, top_k_places(fit.network.n_treatments)))
    about = paragraph(
        "Every probability is the share of posterior draws in which the event holds; MCSE is "
        "its Monte Carlo standard error ("
        + (
            "independent draws of the exact engine: sqrt(p(1 - p)/n)"
            if fit.engine == "exact"
            else "of the mean of the 0/1 draws, accounting for autocorrelation (ArviZ)"
        )
        + ")."
    )
    return section("decisions", "Decisions", about + "".join(parts))


def _top_k_part(ctx: ReportContext, ks: tuple[int, ...]) -> str:
    table = ctx.fit.top_k(k=list(ks), lower_is_better=ctx.direction)
    shown = " and ".join("best" if k == 1 else f"among the best {k}" for k in ks)
    about = paragraph(
        f"Probability of each treatment being {shown} of the "
        f"{ctx.fit.network.n_treatments} treatments (rank 1 = best), with its MCSE."
    )
    body = frame_html(_wide(table, "treatment", ks), labels=_top_k_labels(ks, classes=False))
    return "<h3>Probability of being among the best</h3>" + ctx.rank_note() + about + body


def _cumulative_part(ctx: ReportContext) -> str:
    fit = ctx.fit
    n = fit.network.n_treatments
    cumulative = fit.rank_probabilities(lower_is_better=ctx.direction, cumulative=True)
    sucra = fit.sucra(lower_is_better=ctx.direction, ci_prob=ctx.ci_prob)
    table = pd.DataFrame({"treatment": [str(t) for t in cumulative.index]})
    labels = {}
    for k in range(1, n):  # P(rank <= n) = 1 is left out
        table[f"rank_{k}"] = cumulative[k].to_numpy()
        labels[f"rank_{k}"] = f"P(rank \u2264 {k})"
    table["sucra"] = sucra.set_index("treatment").loc[table["treatment"], "sucra"].to_numpy()
    worst = fit.top_k(k=list(range(1, n)), lower_is_better=ctx.direction)["mcse"].max()
    about = paragraph(
        f"Probability of each rank or better (the cumulative ranking curve): P(rank \u2264 {n}) "
        f"= 1 is left out, and SUCRA is the mean of the {n - 1} probabilities shown. The largest "
        f"MCSE of these probabilities is {worst:.3f}."
    )
    body = frame_html(table, labels={**DECISION_LABELS, **labels})
    return "<h3>Cumulative rank probabilities</h3>" + ctx.rank_note() + about + body


def _mcid_part(ctx: ReportContext, mcid: float) -> str:
    fit = ctx.fit
    reference = fit.network.reference
    table = fit.prob_difference(threshold=mcid, lower_is_better=ctx.direction)
    event = "lower" if ctx.direction else "higher"
    about = paragraph(
        f"Probability that each treatment is better than the reference, {reference}, by more "
        f"than the minimal clinically important difference (MCID) {mcid:g} {ctx.on_scale}: "
        f"its effect minus the reference's is {event} than "
        f"{(-mcid if ctx.direction else mcid) + 0.0:g}."  # + 0.0: no "-0"
    )
    plot = figure_html(
        lambda: plot_prob_difference(
            fit, threshold=mcid, lower_is_better=ctx.direction, ci_prob=ctx.ci_prob
        ),
        "MCID forest plot",
        f"Median and {ctx.pct} credible interval of each treatment minus the reference, "
        f"{reference}, {ctx.on_scale} ({ctx.better}); the dashed line is no difference and the "
        f"dotted lines are \u00b1 the MCID ({mcid:g}), with the region of a clinically "
        "important benefit shaded. Each interval is coloured by the probability of being "
        "better than the reference by more than the MCID, written at the right; rows from the "
        "highest probability down.",
    )
    body = frame_html(
        table[["treatment", "comparator", "probability", "mcse"]], labels=DECISION_LABELS
    )
    heading = f"<h3>Probability of a benefit larger than the MCID ({escape(f'{mcid:g}')})</h3>"
    return heading + ctx.scale_note() + about + body + plot


def _class_part(ctx: ReportContext, ks: tuple[int, ...]) -> str:
    table = ctx.fit.class_top_k(k=list(ks), lower_is_better=ctx.direction)
    about = paragraph(
        "Probability that a class holds the best treatment"
        + ("" if ks == (1,) else f" and one of the best {ks[-1]}")
        + " of all treatments (from the treatment ranks), with its MCSE."
    )
    body = frame_html(_wide(table, "class", ks), labels=_top_k_labels(ks, classes=True))
    return "<h3>Classes among the best</h3>" + ctx.rank_note() + about + body
