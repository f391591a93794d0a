"""Helpers shared by the plots: where to draw, and what to draw from.

Every plot follows one contract (see :mod:`nma_bayes.plots`): it draws into ``ax`` when given,
else into a new figure, and returns the root ``Figure``; its data come either from a fit (the
plot calls the fit's summary method, in :mod:`nma_bayes.results`) or from the table that method
returns. matplotlib is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..base.errors import ModelSpecError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["root_figure", "figure_and_axes", "table_or_summary", "require_columns"]


def root_figure(ax: Axes) -> Figure:
    """Return the root figure of an Axes (walking up from a ``SubFigure``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes of a figure or of a subfigure.

    Returns
    -------
    matplotlib.figure.Figure
        The top-level figure holding ``ax``.
    """
    from matplotlib.figure import Figure

    fig = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """Return the figure and Axes to draw into: ``ax``'s, or a new figure of ``figsize``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes given by the user, or ``None`` for a new figure.
    figsize : tuple of float
        Size in inches of a new figure (ignored when ``ax`` is given).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The root figure.
    ax : matplotlib.axes.Axes
        The Axes to draw into.
    created : bool
        Whether the figure is new (the plot then owns its layout, e.g. ``tight_layout``).
    """
    if ax is not None:
        return root_figure(ax), ax, False
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax, True


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise if ``table`` lacks one of ``columns`` or has no rows.

    Parameters
    ----------
    table : DataFrame
        The table given to a plot.
    columns : sequence of str
        Columns the plot draws.
    what : str
        The table in words, with where it comes from, for the message (e.g. ``"The SUCRA table
        (fit.sucra())"``).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) naming the missing columns, or saying the table is empty.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ModelSpecError(
            f"{what} lacks columns {missing}; it needs {list(columns)}.", rule="bad-option"
        )
    if table.empty:
        raise ModelSpecError(f"{what} has no rows.", rule="bad-option")


def table_or_summary(
    source, summary: Callable[[object], pd.DataFrame], method: str, plot: str
) -> tuple[pd.DataFrame, bool]:
    """Return the table a plot draws: ``source`` itself, or a summary computed by the fit.

    Parameters
    ----------
    source : NetworkFit or DataFrame
        What the user gave the plot.
    summary : callable
        ``summary(fit)`` calls the fit's summary method (computation stays in
        :mod:`nma_bayes.results`).
    method : str
        Name of that method; a source without it is refused.
    plot : str
        Name of the plot, for the message.

    Returns
    -------
    table : DataFrame
        The table, with a fresh ``0..n-1`` index.
    from_fit : bool
        Whether it was computed from a fit (the plot then knows e.g. its interval probability).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``source`` is neither a DataFrame nor has ``method``.
    """
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), False
    if not hasattr(source, method):
        raise ModelSpecError(
            f"{plot} needs a NetworkFit or a DataFrame, got {type(source).__name__}.",
            rule="bad-option",
        )
    return summary(source).reset_index(drop=True), True


#: Panels per row of a multi-panel figure.
MAX_COLUMNS = 3


def panel_grid(
    ax,
    order: list,
    what: str,
    *,
    panel_size: tuple[float, float],
    min_size: tuple[float, float] = (0.0, 0.0),
    **subplots,
) -> tuple[Figure, list]:
    """Return the root figure and one Axes per entry of ``order``: the given ones, or a grid.

    ``ax`` (an Axes or a sequence/array of them) must hold exactly one Axes per entry (``what``
    names the entries in the error). A new grid has at most :data:`MAX_COLUMNS` columns of
    ``panel_size`` (inches) each, the whole figure at least ``min_size``; the unused cells of its
    last row are removed. ``subplots`` go to ``plt.subplots`` (e.g. ``sharey=True``).
    """
    import numpy as np

    if ax is not None:
        axes = [ax] if not isinstance(ax, Sequence | np.ndarray) else list(np.ravel(ax))
        if len(axes) != len(order):
            raise ModelSpecError(
                f"ax holds {len(axes)} Axes for {len(order)} {what} ({order}).",
                rule="bad-option",
            )
        return root_figure(axes[0]), axes
    import matplotlib.pyplot as plt

    ncols = min(MAX_COLUMNS, len(order))
    nrows = -(-len(order) // ncols)  # ceiling division
    size = (max(panel_size[0] * ncols, min_size[0]), max(panel_size[1] * nrows, min_size[1]))
    fig, grid = plt.subplots(nrows, ncols, figsize=size, squeeze=False, **subplots)
    axes = list(grid.ravel())
    for extra in axes[len(order) :]:  # unused cells of the last row
        fig.delaxes(extra)
    return fig, axes[: len(order)]
