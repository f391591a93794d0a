"""Report sections "Confidence in the results (CINeMA)" and "Threshold analysis".

Both show results computed elsewhere and passed to the report: the
:class:`~nma_bayes.results.cinema_result.Confidence` of :func:`nma_bayes.cinema` (its summary
table, its league table with the cells coloured by the rating, the range of equivalence, the
study-judgement rule and the global test of incoherence) and the
:class:`~nma_bayes.results.threshold_result.Thresholds` of :func:`nma_bayes.threshold_analysis`
(the threshold forest plot and table). :func:`check_cinema` and :func:`check_thresholds` refuse
anything else before the report or an export is written. Every text is HTML-escaped; the colours
are inline styles (they load nothing).
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..plots.thresholds import plot_thresholds
from ..results.cinema_result import DOMAINS, RATING_COLOURS, Confidence
from ..results.threshold_result import Thresholds
from .blocks import (
    ReportContext,
    figure_html,
    format_number,
    frame_html,
    kv_table,
    paragraph,
    section,
)

__all__ = [
    "DOMAIN_LABELS",
    "THRESHOLD_LABELS",
    "check_cinema",
    "check_thresholds",
    "cinema_section",
    "rating_style",
    "thresholds_section",
]

#: Column labels of CINeMA's six domains, in its order.
DOMAIN_LABELS = {
    "within_study_bias": "Within-study bias",
    "reporting_bias": "Reporting bias",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "heterogeneity": "Heterogeneity",
    "incoherence": "Incoherence",
}

#: Column labels of the threshold table (``Thresholds.to_frame()``).
THRESHOLD_LABELS = {
    "data_point": "Data point",
    "study": "Study",
    "contrast": "Contrast",
    "y": "Estimate",
    "se": "Likelihood SE",
    "threshold_lower": "Threshold lower",
    "threshold_upper": "Threshold upper",
    "invariant_lower": "Invariant interval lower",
    "invariant_upper": "Invariant interval upper",
    "new_optimal_lower": "New optimal treatment (lower)",
    "new_optimal_upper": "New optimal treatment (upper)",
}

#: Ratings written in black (their colour is light); the others in white.
_DARK_TEXT = frozenset({"low"})
_DIAGONAL = "#e8e8e8"


def _check(value: object, kind: type, name: str, source: str):
    """Return ``value`` if it is ``None`` or a ``kind``; else raise (rule ``bad-option``)."""
    if value is None or isinstance(value, kind):
        return value
    raise ModelSpecError(
        f"{name} must be the {kind.__name__} returned by {source}, got {type(value).__name__}.",
        rule="bad-option",
    )


def check_cinema(value: object, fit=None) -> Confidence | None:
    """Validate the report's ``cinema=``: ``None`` or the result of :func:`nma_bayes.cinema`.

    With ``fit``, its treatments must be the assessment's (a result of another network is
    refused).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``value`` is neither, or is the assessment of other treatments.
    """
    conf = _check(value, Confidence, "cinema", "nb.cinema(...)")
    if conf is not None and fit is not None:
        ours = sorted(map(str, fit.network.treatments))
        if sorted(map(str, conf.treatments)) != ours:
            raise ModelSpecError(
                f"cinema assesses the treatments {list(conf.treatments)}, not this fit's "
                f"{ours}: pass nb.cinema(fit, ...) of this fit.",
                rule="bad-option",
            )
    return conf


def check_thresholds(value: object) -> Thresholds | None:
    """Validate ``thresholds=``: ``None`` or a :func:`nma_bayes.threshold_analysis` result.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``value`` is not a :class:`Thresholds`.
    """
    return _check(value, Thresholds, "thresholds",
                  "nb.threshold_analysis(...) or nb.threshold_table(...)")  # fmt: skip


def rating_style(rating: str) -> str:
    """Return the inline style of a cell of ``rating``: its colour, and readable text on it."""
    colour = RATING_COLOURS[rating]
    text = "#000" if rating in _DARK_TEXT else "#fff"
    return f"background:{colour};color:{text}"


def _td(text: object, rating: str | None = None, *, tag: str = "td") -> str:
    """One escaped cell, coloured by ``rating`` (a rating name) when given."""
    if rating in RATING_COLOURS:
        attrs = f' class="rating" style="{escape(rating_style(rating))}" title="{escape(rating)}"'
    else:
        attrs = ""
    return f"<{tag}{attrs}>{escape(format_number(text))}</{tag}>"


def _table(header: list[str], rows: list[str], cls: str) -> str:
    """Return a ``<table>`` of escaped header labels and ready rows (``<tr>...</tr>``)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return (f'<table class="nma-table {escape(cls)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")  # fmt: skip


def _summary_table(conf: Confidence) -> str:
    """CINeMA's report: per comparison the six domains and the rating (rating cells coloured)."""
    summary = conf.summary()
    header = ["Treatment", "Comparator", *DOMAIN_LABELS.values(), "Confidence"]
    rows = [
        "<tr>" + "".join(_td(row[c]) for c in ("treatment", "comparator", *DOMAINS))
        + _td(row["rating"], row["rating"]) + "</tr>"
        for _, row in summary.iterrows()
    ]  # fmt: skip
    return f'<div style="overflow-x:auto">{_table(header, rows, "nma-cinema-summary")}</div>'


def _league_table(conf: Confidence) -> str:
    """Render the league table (row vs column treatment), each cell coloured by its rating."""
    estimates, ratings = conf.league()
    names = list(conf.treatments)
    rows = []
    for row in names:
        cells = []
        for col in names:
            if row == col:
                cells.append(f'<td class="diagonal" style="background:{_DIAGONAL}">'
                             f"<b>{escape(str(row))}</b></td>")  # fmt: skip
            else:
                cells.append(_td(estimates.loc[row, col], ratings.loc[row, col]))
        rows.append(f"<tr>{_td(row, tag='th')}{''.join(cells)}</tr>")
    table = _table(["", *map(str, names)], rows, "nma-cinema-league")
    return f'<div style="overflow-x:auto">{table}</div>'


def _legend() -> str:
    """Render the four ratings in their colours."""
    spans = " ".join(
        f'<span style="{escape(rating_style(r))};padding:1px 6px">{escape(r)}</span>'
        for r in RATING_COLOURS
    )
    return f"<p>Confidence: {spans}</p>"


def _facts(conf: Confidence) -> str:
    """Range of equivalence, rule, intervals, model and the global test of incoherence."""
    test = conf.global_test
    if test:
        words = (f"Q = {format_number(float(test['Q']))}, df = {int(test['df'])}, "
                 f"p = {format_number(float(test['p_value']))}")  # fmt: skip
    else:
        words = "not needed (no comparison rests on indirect evidence only) or not possible"
    facts = {
        "Range of equivalence": f"{format_number(conf.zone[0])} to {format_number(conf.zone[1])}",
        "Study-judgement rule": conf.rule,
        "Intervals": f"{100 * conf.ci_prob:g}% credible and prediction intervals",
        "Model": f"{conf.effects} effects",
        "Global test of incoherence": words,
    }
    return kv_table(facts, labels={k: k for k in facts})


def cinema_section(ctx: ReportContext, conf: Confidence) -> str:
    """Render the section "Confidence in the results (CINeMA)" (id ``cinema``).

    The facts of the assessment, the summary table (the six domains and the rating of every
    comparison) and, last, the sub-section ``cinema-league``: the league table with each cell
    coloured by its rating.
    """
    counts = ", ".join(f"{n} {r}" for r, n in conf.counts().itertuples(index=False))
    intro = paragraph(
        "Confidence in each network estimate, judged in CINeMA's six domains with the rules its "
        "web application pre-populates (Nikolakopoulou et al. 2020): within-study bias and "
        "indirectness from the study judgements weighted by their contributions, reporting "
        "bias as judged, imprecision and heterogeneity from the intervals against the range of "
        "equivalence, incoherence from the node-split or the global test. Each concern "
        f"downgrades the confidence from high. Comparisons rated: {counts}."
    )
    bayes = paragraph(
        "Where CINeMA reads a frequentist quantity, its Bayesian counterpart is used: the "
        "credible interval for the confidence interval, the posterior predictive interval of "
        "a new study for the prediction interval, the contribution matrix of the fit (at its "
        "posterior median tau) for the percentage contributions, the node-split direct and "
        "indirect credible intervals for SIDE, and a Wald test of the design-by-treatment "
        "model's inconsistency parameters for the design-by-treatment chi-square test."
    )
    league_note = paragraph(
        "League table: each cell is the effect of the row treatment vs the column treatment, "
        f"posterior median ({100 * conf.ci_prob:g}% credible interval), coloured by the "
        "confidence in it."
    )
    league = (
        '<section id="cinema-league"><h3>League table with confidence ratings</h3>'
        + ctx.scale_note("row treatment minus column treatment") + league_note
        + _league_table(conf) + "</section>\n"
    )  # fmt: skip
    body = intro + bayes + _facts(conf) + _legend() + _summary_table(conf) + league
    return section("cinema", "Confidence in the results (CINeMA)", body)


def _threshold_rows(th: Thresholds) -> pd.DataFrame:
    """Return the threshold table as shown: infinite ends as "none", empty columns left out."""
    table = th.to_frame().dropna(axis=1, how="all")
    for col in ("threshold_lower", "threshold_upper", "invariant_lower", "invariant_upper"):
        if col in table.columns:
            values = table[col].to_numpy(float)
            table[col] = pd.Series([("none" if np.isinf(v) else v) for v in values],
                                   index=table.index, dtype=object)  # fmt: skip
    return table


def thresholds_section(ctx: ReportContext, th: Thresholds) -> str:
    """Render the section "Threshold analysis" (id ``thresholds``): forest plot and table."""
    better = "lower" if th.lower_is_better else "higher"
    intro = paragraph(
        "Threshold analysis (Phillippo et al. 2018; nmathresh): how far the estimate of each "
        "data point could be adjusted, for example for a bias, before the recommended treatment "
        f"changes. Recommended treatment at the posterior means: {th.kstar} ({better} values "
        f"are better; {th.nmatype} effects). The decision-invariant interval is the estimate "
        "plus the thresholds; 'none': no adjustment in that direction changes the "
        "recommendation."
    )
    caption = (
        f"One row per data point: its estimate and {ctx.pct} interval from the likelihood "
        "standard error (red where it leaves the decision-invariant interval: a bias within "
        "the data's own uncertainty could change the recommendation), the decision-invariant "
        "interval (green bar, clipped at the axis with an arrow) and the treatment that "
        "becomes optimal at each end."
    )
    figure = figure_html(lambda: plot_thresholds(th, ci_prob=ctx.ci_prob),
                         "threshold forest plot", caption)  # fmt: skip
    table = frame_html(_threshold_rows(th), labels=THRESHOLD_LABELS, integers=("data_point",))
    body = intro + figure + table
    return section("thresholds", "Threshold analysis", body)
