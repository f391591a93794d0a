"""League heatmap: pairwise relative effects, row treatment vs column treatment.

Cell ``(i, j)`` shows the effect of the row treatment vs the column treatment (its median and
equal-tailed credible interval, from :meth:`NetworkFit.relative_effects
<nma_bayes.results.record.NetworkFit.relative_effects>` with ``all_pairs=True``), coloured on a
diverging map centred at 0; the diagonal holds the treatment names. matplotlib is imported when a
plot is drawn.

Artists are tagged with a ``gid`` so the figure can be inspected programmatically:

- ``"nma-league"``: the ``AxesImage`` of medians (``get_array()`` is the masked T x T matrix,
  diagonal masked), rows and columns in treatment order;
- ``"nma-league-cell"``: one text per off-diagonal cell, the median over ``"(lower, upper)"``
  on two lines, row by row;
- ``"nma-league-diag"``: one text per treatment (its name), on the diagonal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.validate import resolve_direction
from ..results.summaries import league_matrices as _matrices
from ._figure import figure_and_axes, require_columns, table_or_summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

__all__ = ["plot_league", "league_matrices"]

#: Columns of the all-pairs relative-effects table the plot draws (``league_matrices`` reads all).
PAIR_COLUMNS = ("treatment", "comparator", "mean", "median", "ci_lower", "ci_upper")


def league_matrices(fit, *, ci_prob: float = 0.95) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pairwise medians and intervals, row treatment vs column treatment.

    Kept for compatibility: the computation is
    :func:`nma_bayes.results.summaries.league_matrices` of ``fit.relative_effects(all_pairs=True)``.

    Parameters
    ----------
    fit : NetworkFit
        The fit.
    ci_prob : float
        Probability of the equal-tailed credible interval.

    Returns
    -------
    treatments : list of str
        Row and column order (the fit's treatment order).
    median : ndarray (T, T)
        ``median[i, j]`` is the median effect of treatment ``i`` vs ``j`` (NaN on the diagonal).
    interval : ndarray (T, T, 2)
        Lower and upper interval bounds of the same effects.
    """
    treatments = [str(t) for t in fit.treatments]
    return (treatments, *_medians_and_intervals(_all_pairs(fit, ci_prob), treatments))


def plot_league(
    fit,
    *,
    ci_prob: float = 0.95,
    digits: int = 2,
    lower_is_better: bool | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the league table of all pairwise effects as an annotated heatmap.

    Parameters
    ----------
    fit : NetworkFit or DataFrame
        A fit (the effects are ``fit.relative_effects(all_pairs=True, ci_prob=ci_prob)``) or
        that table: columns ``treatment, comparator, mean, median, ci_lower, ci_upper``. Rows
        and columns of a table are drawn in order of first appearance, comparators first
        (the fit's treatment order for the fit's table).
    ci_prob : float
        Probability of the credible intervals written in the cells; only used with a fit.
    digits : int
        Decimals written.
    lower_is_better : bool, optional
        Benefit direction, for the colours only: green marks a row treatment better than the
        column treatment and red worse. By default the direction recorded on the fit's network
        (:func:`~nma_bayes.base.validate.resolve_direction`); when it is unknown, a neutral
        blue-red map is used.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown), with a colour bar of the medians.

    Raises
    ------
    ModelSpecError
        If ``fit`` is neither a fit nor a DataFrame, or the table lacks a column or is empty.
    """
    pairs, from_fit = table_or_summary(
        fit, lambda f: _all_pairs(f, ci_prob), "relative_effects", "plot_league"
    )
    if from_fit:
        treatments = [str(t) for t in fit.treatments]
    else:
        require_columns(pairs, PAIR_COLUMNS, "The all-pairs table (fit.relative_effects())")
        treatments = [str(t) for t in dict.fromkeys([*pairs["comparator"], *pairs["treatment"]])]
    median, interval = _medians_and_intervals(pairs, treatments)
    network = fit.network if from_fit else None
    direction = resolve_direction(lower_is_better, network, required=False)
    n = len(treatments)
    side = max(4.0, 0.95 * n + 1.5)
    fig, ax, created = figure_and_axes(ax, (side + 1.0, side))

    cmap, norm = _colours(median, direction)
    image = ax.imshow(
        np.ma.masked_invalid(median), cmap=cmap, norm=norm, aspect="auto", gid="nma-league"
    )
    _draw_cells(ax, treatments, median, interval, norm, digits)
    interval_name = f"{100 * ci_prob:g}% CrI" if from_fit else "credible interval"
    _label_axes(ax, treatments, f"Row vs column: median ({interval_name})")
    fig.colorbar(image, ax=ax, label="Median effect (row vs column)")
    if created:
        fig.tight_layout()
    return fig


def _all_pairs(fit, ci_prob: float) -> pd.DataFrame:
    """Return the fit's all-pairs relative-effects table (computed in the results layer)."""
    return fit.relative_effects(all_pairs=True, ci_prob=ci_prob)


def _medians_and_intervals(pairs: pd.DataFrame, treatments: list[str]):
    """``(median, interval)`` matrices, row vs column, from an all-pairs table."""
    m = _matrices(pairs, treatments)
    return m["median"], np.stack([m["ci_lower"], m["ci_upper"]], axis=-1)


def _colours(median: np.ndarray, lower_is_better: bool | None):
    """Colour map (green = better when the direction is known) and a norm centred at 0."""
    import matplotlib
    from matplotlib.colors import Normalize

    if lower_is_better is None:
        name = "RdBu_r"
    else:
        name = "RdYlGn_r" if lower_is_better else "RdYlGn"
    cmap = matplotlib.colormaps[name].with_extremes(bad="whitesmoke")
    finite = np.abs(median[np.isfinite(median)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return cmap, Normalize(vmin=-limit, vmax=limit)


def _draw_cells(ax, treatments, median, interval, norm: Normalize, digits: int) -> None:
    """Write the treatment names on the diagonal and ``median (lower, upper)`` elsewhere."""
    n = len(treatments)
    size = "small" if n <= 8 else "x-small" if n <= 14 else "xx-small"
    for i in range(n):
        for j in range(n):
            if i == j:
                ax.text(
                    j,
                    i,
                    treatments[i],
                    ha="center",
                    va="center",
                    fontweight="bold",
                    fontsize=size,
                    gid="nma-league-diag",
                )
                continue
            lo, hi = interval[i, j]
            text = f"{median[i, j]:.{digits}f}\n({lo:.{digits}f}, {hi:.{digits}f})"
            dark = abs(norm(median[i, j]) - 0.5) > 0.35  # white text on saturated colours
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
                gid="nma-league-cell",
            )


def _label_axes(ax, treatments: list[str], title: str) -> None:
    """Treatment names on both axes, axis labels and title."""
    n = len(treatments)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(treatments, rotation=45, ha="right")
    ax.set_yticklabels(treatments)
    ax.set_xlabel("Comparator (column)")
    ax.set_ylabel("Treatment (row)")
    ax.set_title(title)
