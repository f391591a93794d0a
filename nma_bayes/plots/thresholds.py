"""The threshold forest plot (Phillippo et al. 2018; nmathresh's ``thresh_forest``).

Draws a :class:`~nma_bayes.results.threshold_result.Thresholds` table, one row per data point:
the decision-invariant interval ``y + [lower, upper]`` as a bar, the estimate ``y`` with its
interval from the likelihood SE, and the treatment that becomes optimal at each finite end. As in
nmathresh, an estimate's interval that reaches beyond the invariant interval is drawn red: a bias
within the data's own uncertainty could change the recommendation. An infinite end (no threshold)
runs to the axis edge. Artists carry a ``gid``:

- ``"threshold-invariant"``: the invariant-interval bars (one collection);
- ``"threshold-estimate"``: the estimates (one collection of markers);
- ``"threshold-ci"``: one line per data point (red where it leaves the invariant interval);
- ``"threshold-label"``: the new optimal treatment (or set) at each finite end;
- ``"threshold-set"``: the origins of the common-bias rows (one collection, when there are sets).

A set of data points adjusted by a common bias (Phillippo et al. 2018) has no estimate: its row
is the range of common adjustments around 0, labelled by the set's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from ..base.errors import ModelSpecError
from ..base.validate import check_ci_prob
from ..results.threshold_fit import threshold_analysis
from ..results.threshold_result import Thresholds
from ._figure import figure_and_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_thresholds"]

_BAR, _INSIDE, _OUTSIDE = "#b8ddb8", "black", "#d62728"


def plot_thresholds(source, *, ci_prob: float = 0.95, ax=None, **options) -> Figure:
    """Draw the threshold forest plot of a threshold analysis (or of a fit).

    Parameters
    ----------
    source : Thresholds or NetworkFit
        :func:`nma_bayes.threshold_table` or :func:`nma_bayes.threshold_analysis`'s result, or a
        fit (analysed with ``options``, e.g. ``lower_is_better=``, ``sets=``, ``mcid=``).
    ci_prob : float
        Probability of each estimate's interval (from its likelihood SE).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure otherwise.
    **options
        Passed to :func:`nma_bayes.threshold_analysis` when ``source`` is a fit.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Notes
    -----
    A set of data points adjusted by a common bias has no estimate of its own: its row shows the
    range of common adjustments that leave the decision unchanged, ``[lower, upper]`` around an
    open diamond at 0 (gid ``"threshold-set"``), labelled by the set's name. With the MCID
    decision rule the end labels and the title name optimal sets (``"A, B"``; ``"none"``).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A source that is neither, options with a computed result, a bad
        ``ci_prob``, or a table without the estimates ``y``.
    """
    z = float(ndtri(0.5 + check_ci_prob(ci_prob) / 2))
    result = _result(source, options)
    table = result.to_frame()
    is_set = table["data_point"].isna().to_numpy()  # common-bias rows: no estimate of their own
    if table.loc[~is_set, "y"].isna().any():
        raise ModelSpecError(
            "plot_thresholds needs the data points' estimates: give y= to threshold_table.",
            rule="bad-option",
        )
    n = len(table)
    labels = [f"{s}: {c}" if s is not None else str(c)
              for s, c in zip(table["study"], table["contrast"], strict=True)]  # fmt: skip
    # the figure is the labels' width (about 0.065 in per character at 8 pt) plus 6.5 in of plot
    label_in = 0.3 + 0.065 * max(len(label) for label in labels)
    width = label_in + 6.8
    fig, ax, created = figure_and_axes(ax, (width, 1.2 + 0.35 * n))
    # a set's interval is the range of common adjustments, drawn around 0
    y = np.where(is_set, 0.0, table["y"].to_numpy(float))
    lo = y + table["threshold_lower"].to_numpy(float)
    hi = y + table["threshold_upper"].to_numpy(float)
    se = np.where(is_set, 0.0, table["se"].to_numpy(float))
    ci_lo, ci_hi = y - z * se, y + z * se
    left, right = _limits(ci_lo, ci_hi, y)
    rows = np.arange(n)[::-1]  # first data point at the top
    bars = ax.barh(rows, np.clip(hi, left, right) - np.clip(lo, left, right), 0.6,
                   left=np.clip(lo, left, right), color=_BAR, edgecolor="none")  # fmt: skip
    for bar in bars:
        bar.set_gid("threshold-invariant")
    points = ~is_set
    for r, a, b, out in zip(rows[points], ci_lo[points], ci_hi[points],
                            ((ci_lo < lo) | (ci_hi > hi))[points], strict=True):  # fmt: skip
        (line,) = ax.plot([max(a, left), min(b, right)], [r, r],
                          color=_OUTSIDE if out else _INSIDE, lw=1.2)  # fmt: skip
        line.set_gid("threshold-ci")
    ax.scatter(y[points], rows[points], color="black", s=14, zorder=3, gid="threshold-estimate")
    if is_set.any():
        ax.scatter(y[is_set], rows[is_set], marker="D", facecolors="white", edgecolors="black",
                   s=18, zorder=3, gid="threshold-set")  # fmt: skip
    _end_labels(ax, table, rows, (lo, hi), (left, right))
    ax.set_yticks(rows, labels, fontsize=8)
    ax.set_xlim(left, right)
    ax.set_ylim(-0.7, n - 0.3)
    xlabel = "estimate (likelihood interval) and decision-invariant interval"
    ax.set_xlabel(xlabel + ("; common bias: adjustment" if is_set.any() else ""))
    ax.set_title(f"Threshold analysis: {_decision(result)}", fontsize=10)
    if created:  # room for the data-point labels
        height = fig.get_size_inches()[1]  # 0.55 in below for the axis label, 0.45 above
        fig.subplots_adjust(left=label_in / width, right=1 - 0.3 / width, bottom=0.55 / height,
                            top=1 - 0.45 / height)  # fmt: skip
    return fig


def _decision(result: Thresholds) -> str:
    """Name the base-case decision: one optimal treatment, or the MCID rule's optimal set."""
    if result.is_set_rule:
        return f"optimal set {', '.join(map(str, result.kstar)) or 'none'}"
    return f"optimal treatment {result.kstar}"


def _result(source, options: dict) -> Thresholds:
    """Return the threshold analysis given, or that of a fit."""
    if isinstance(source, Thresholds):
        if options:
            raise ModelSpecError(
                f"plot_thresholds got a computed result and the options {sorted(options)}: "
                "compute a new one instead.",
                rule="bad-option",
            )
        return source
    if hasattr(source, "network") and hasattr(source, "spec"):
        return threshold_analysis(source, **options)
    raise ModelSpecError(
        f"plot_thresholds needs a Thresholds result or a fit, got {type(source).__name__}.",
        rule="bad-option",
    )


def _limits(lows: np.ndarray, highs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """X limits: the estimates' finite interval ends, with half their span as margin.

    Invariant intervals often reach tens of SDs; they are clipped at these limits (their end
    labels then sit at the edge, marked with an arrow), as nmathresh's forest plot does.
    """
    finite = np.r_[lows[np.isfinite(lows)], highs[np.isfinite(highs)], y]
    a, b = float(finite.min()), float(finite.max())
    pad = (b - a) / 2 if b > a else 1.0
    return a - pad, b + pad


def _end_labels(ax, table, rows, ends, limits) -> None:
    """Write the new optimal treatment (or set) at each finite end of the invariant intervals.

    ``ends`` holds the intervals' lower and upper ends; an end beyond the axis is written at the
    edge, with an arrow pointing outwards. A label near an edge is turned to run inwards, so that
    it stays inside the axes.
    """
    span = limits[1] - limits[0]
    for r, lo, hi, row in zip(rows, *ends, table.itertuples(), strict=True):
        for end, x, side in (("lower", lo, "right"), ("upper", hi, "left")):
            if not np.isfinite(x):
                continue
            text = str(getattr(row, f"new_optimal_{end}"))
            if x < limits[0]:
                x, text, side = limits[0], f"\u2190 {text}", "left"
            elif x > limits[1]:
                x, text, side = limits[1], f"{text} \u2192", "right"
            elif side == "left" and x > limits[1] - 0.3 * span:
                side = "right"
            elif side == "right" and x < limits[0] + 0.3 * span:
                side = "left"
            ax.annotate(text, (x, r), xytext=(0, 6), textcoords="offset points", ha=side,
                        fontsize=7, color="#2f6f2f", gid="threshold-label")  # fmt: skip
