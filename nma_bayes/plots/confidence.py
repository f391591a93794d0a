"""Confidence in the network estimates (CINeMA): a coloured league table or a forest plot.

Draws a :class:`~nma_bayes.results.cinema_result.Confidence` (the result of
:func:`nma_bayes.cinema`); every number and rating comes from it (``league()``, ``to_frame()``,
``zone``), and the colours are its :data:`~nma_bayes.results.cinema_result.RATING_COLOURS`.
matplotlib is imported when a plot is drawn. Artists carry a ``gid``:

- ``"confidence-cell"``: one square per off-diagonal cell of the league table, row by row,
  coloured by the comparison's rating (cell ``(i, j)`` centred at ``x = j, y = i``);
- ``"confidence-text"``: the estimate ``"median (lower, upper)"`` written in each of those
  cells (``conf.league()[0]``, with a line break before the interval), when written;
- ``"confidence-diag"``: one grey square per treatment on the diagonal (its name written in it
  with the estimates);
- ``"confidence-zone"``: the shaded range of equivalence of the forest plot;
- ``"confidence-ci"``, ``"confidence-pi"``: one credible (thick) and one prediction (thin) line
  per row of the forest plot, top row first; ``"confidence-median"``: one marker per row;
- ``"confidence-rating"``: the rating written at the right of each forest row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ModelSpecError
from ..base.validate import check_bool, check_choice
from ..results.cinema_result import RATING_COLOURS, Confidence
from ._figure import figure_and_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_confidence", "KINDS", "MAX_ANNOTATED"]

#: The kinds of plot :func:`plot_confidence` draws.
KINDS = ("league", "forest")
#: Largest number of treatments whose league table has the estimates written in its cells.
MAX_ANNOTATED = 15
_DIAGONAL, _UNRATED, _ZONE = "#e8e8e8", "#f7f7f7", "#d9d9d9"
#: Ratings whose colour is light enough for black text (white text on the others).
_DARK_TEXT = frozenset({"low"})


def plot_confidence(
    confidence: Confidence,
    *,
    kind: str = "league",
    ax: Axes | None = None,
    annotate: bool | None = None,
    vs: str | None = None,
) -> Figure:
    """Draw the confidence ratings of a CINeMA assessment (:func:`nma_bayes.cinema`).

    ``kind="league"`` draws the league table as a grid: cell ``(row, column)`` is the effect of
    the row treatment vs the column treatment, coloured by the confidence rating of that
    comparison (green high, blue moderate, amber low, red very low), with its posterior median
    and credible interval written in it as ``median (lower, upper)`` (``conf.league()``);
    treatments in the network's order, names on both axes, a legend of the four ratings. To
    stay legible in large networks, the estimates are written only up to
    :data:`MAX_ANNOTATED` (15) treatments; above that the cells show the ratings as colours
    only, the figure grows by a fixed size per treatment and the names are written smaller.

    ``kind="forest"`` draws one row per comparison (``conf.to_frame()`` order, ``treatment vs
    comparator``): the credible interval as a thick line, the prediction interval as a thin
    one, the median as a point, all in the colour of the rating, which is also written at the
    right; the range of equivalence (``conf.zone``, ``-mcid`` to ``mcid``) is shaded grey. A
    network of ``T`` treatments has ``T(T-1)/2`` comparisons: for large networks pass ``vs`` to
    draw only the comparisons with one treatment.

    Parameters
    ----------
    confidence : Confidence
        The result of :func:`nma_bayes.cinema`.
    kind : {"league", "forest"}
        The plot drawn.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure sized to the number of treatments (league)
        or comparisons (forest).
    annotate : bool, optional
        League only: write the estimates in the cells (default: when there are at most
        :data:`MAX_ANNOTATED` treatments).
    vs : str, optional
        Forest only: draw only the comparisons with this treatment, each as the other
        treatment vs it (signs and intervals turned where the table has it the other way),
        rows labelled by the other treatment.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``confidence`` is not a :class:`Confidence`, ``kind`` is not
        one of the kinds, ``annotate`` is not a boolean or ``None``, ``vs`` is not a treatment
        of the network, or an option of the other kind is given.
    """
    if not isinstance(confidence, Confidence):
        raise ModelSpecError(
            "plot_confidence needs the Confidence returned by nb.cinema(...), got "
            f"{type(confidence).__name__}.",
            rule="bad-option",
        )
    kind = check_choice(kind, "kind", KINDS)
    annotate = check_bool(annotate, "annotate", allow_none=True)
    if kind == "league":
        if vs is not None:
            raise ModelSpecError("vs= applies to kind='forest' only.", rule="bad-option")
        return _league(confidence, ax, annotate)
    if annotate is not None:
        raise ModelSpecError("annotate= applies to kind='league' only.", rule="bad-option")
    if vs is not None and vs not in confidence.treatments:
        raise ModelSpecError(
            f"vs={vs!r} is not a treatment of the network ({list(confidence.treatments)}).",
            rule="bad-option",
        )
    return _forest(confidence, ax, vs)


# ---------------------------------------------------------------------- league
def _league(conf: Confidence, ax, annotate: bool | None) -> Figure:
    """Draw the league table of ratings (with the estimates when annotated)."""
    from matplotlib.patches import Patch

    names = list(conf.treatments)
    n = len(names)
    annotate = n <= MAX_ANNOTATED if annotate is None else annotate
    font = 7.0 if annotate else (8.0 if n <= 25 else 6.0)
    cell = (1.15, 0.5) if annotate else (0.28, 0.28) if n <= 25 else (0.2, 0.2)  # inches
    label = 0.55 * font / 72 * max(map(len, names))  # inches taken by the longest name
    size = (n * cell[0] + label + 0.8, n * cell[1] + 0.8 * label + 1.4)
    fig, ax, created = figure_and_axes(ax, size)
    _league_cells(ax, conf, annotate, font)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)  # first treatment on top
    ax.xaxis.tick_top()
    if annotate:  # slanted names, anchored at their start above the column
        ax.set_xticks(range(n), names, rotation=45, ha="left", rotation_mode="anchor",
                      fontsize=font)  # fmt: skip
    else:
        ax.set_xticks(range(n), names, rotation=90, fontsize=font)
    ax.set_yticks(range(n), names, fontsize=font)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [Patch(facecolor=c, label=r) for r, c in RATING_COLOURS.items()]
    ax.legend(handles=handles, title="Confidence", loc="upper center", ncols=4,
              bbox_to_anchor=(0.5, -0.01), frameon=False, fontsize=8, title_fontsize=8)  # fmt: skip
    what = "median (credible interval)" if annotate else "colour: confidence rating"
    ax.set_xlabel(f"Row vs column treatment: {what}", fontsize=9)
    ax.xaxis.set_label_position("top")
    if created:
        fig.tight_layout()
    return fig


def _league_cells(ax, conf: Confidence, annotate: bool, font: float) -> None:
    """One square per cell, coloured by the rating; the estimates when ``annotate``."""
    from matplotlib.patches import Rectangle

    estimates, ratings = conf.league()
    names = list(conf.treatments)
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            corner = (j - 0.5, i - 0.5)
            if i == j:
                ax.add_patch(Rectangle(corner, 1, 1, facecolor=_DIAGONAL, edgecolor="white",
                                       gid="confidence-diag"))  # fmt: skip
                if annotate:
                    ax.text(j, i, _wrap(row), ha="center", va="center", fontsize=font,
                            fontweight="bold")  # fmt: skip
                continue
            rating = ratings.loc[row, col]
            colour = RATING_COLOURS.get(rating, _UNRATED)
            ax.add_patch(Rectangle(corner, 1, 1, facecolor=colour, edgecolor="white",
                                   linewidth=1.0 if annotate else 0.5,
                                   gid="confidence-cell"))  # fmt: skip
            if annotate and estimates.loc[row, col]:
                dark = rating in _DARK_TEXT or rating not in RATING_COLOURS
                ax.text(j, i, estimates.loc[row, col].replace(" (", "\n(", 1), ha="center",
                        va="center", fontsize=font, color="black" if dark else "white",
                        gid="confidence-text")  # fmt: skip


def _wrap(name: str, width: int = 16) -> str:
    """Break a long treatment name into lines of about ``width`` characters (diagonal cells)."""
    lines, line = [], ""
    for word in name.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


# ---------------------------------------------------------------------- forest
def _rows(conf: Confidence, vs: str | None):
    """Labels, ratings and the ``median, ci, pi`` arrays of the forest rows (top row first)."""
    table = conf.to_frame()
    cols = ["median", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]
    values = table[cols].to_numpy(float)
    treatment, comparator = table["treatment"].astype(str), table["comparator"].astype(str)
    if vs is not None:
        keep = ((treatment == vs) | (comparator == vs)).to_numpy()
        flip = (treatment == vs).to_numpy()[keep]
        values = values[keep]
        # turned rows: the other treatment vs ``vs``, so each interval's ends swap and turn
        values[flip] = -values[flip][:, [0, 2, 1, 4, 3]]
        others = np.where(flip, comparator[keep], treatment[keep])
        labels = [str(o) for o in others]
        ratings = list(table["rating"][keep])
    else:
        labels = [f"{t} vs {c}" for t, c in zip(treatment, comparator, strict=True)]
        ratings = list(table["rating"])
    return labels, ratings, values


def _forest(conf: Confidence, ax, vs: str | None) -> Figure:
    """Draw one row per comparison: CrI, PrI, median, the range of equivalence, the rating."""
    from matplotlib.lines import Line2D

    labels, ratings, values = _rows(conf, vs)
    n = len(labels)
    font = 8.0 if n <= 40 else 6.0
    longest = max(map(len, labels))
    height = (0.26 if n <= 40 else 0.15) * n + 1.4
    fig, ax, created = figure_and_axes(ax, (5.5 + 0.55 * font / 72 * longest, height))
    lo, hi = conf.zone
    ax.axvspan(lo, hi, color=_ZONE, alpha=0.6, lw=0, zorder=0, gid="confidence-zone")
    ax.axvline(0.0, color="#555555", lw=0.8, zorder=1)
    ys = np.arange(n)[::-1]  # first comparison at the top
    for y, rating, (median, c_lo, c_hi, p_lo, p_hi) in zip(ys, ratings, values, strict=True):
        colour = RATING_COLOURS.get(rating, "#777777")
        if np.isfinite(p_lo) and np.isfinite(p_hi):
            ax.plot([p_lo, p_hi], [y, y], color=colour, lw=1.0, zorder=2, gid="confidence-pi")
        ax.plot([c_lo, c_hi], [y, y], color=colour, lw=3.5, zorder=3, solid_capstyle="butt",
                gid="confidence-ci")  # fmt: skip
        ax.plot([median], [y], "o", color="white", mec=colour, ms=4.5, mew=1.5, zorder=4,
                gid="confidence-median")  # fmt: skip
        ax.annotate(rating, (1.01, y), xycoords=("axes fraction", "data"), va="center",
                    fontsize=font, color=colour, fontweight="bold",
                    gid="confidence-rating")  # fmt: skip
    ax.set_yticks(ys, labels, fontsize=font)
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="x", labelsize=8)
    pct = f"{100 * conf.ci_prob:g}%"
    what = "Effect" if vs is None else f"Effect of each treatment vs {vs}"
    ax.set_xlabel(f"{what}\nmedian, {pct} credible interval (thick), prediction interval (thin)",
                  fontsize=9)  # fmt: skip
    handles = [Line2D([], [], color=c, lw=3.5, label=r) for r, c in RATING_COLOURS.items()]
    handles.append(Line2D([], [], color=_ZONE, lw=6, alpha=0.6,
                          label=f"range of equivalence ({lo:g}, {hi:g})"))  # fmt: skip
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3,
              frameon=False, fontsize=8)  # fmt: skip
    if created:
        fig.tight_layout()
    return fig
