"""Helpers shared by the plots: where to draw, and what to draw from.

Every plot follows one contract (see :mod:`nma_bayes.plots`): it draws into ``ax`` when given,
else into a new figure, and returns the root ``Figure``; its data come either from a fit (the
plot calls the fit's summary method, in :mod:`nma_bayes.results`) or from the table that method
returns. matplotlib is imported inside the functions only.

A new figure is a ``matplotlib.figure.Figure`` made directly (:func:`new_figure`), never through
pyplot: pyplot keeps every figure it makes and Jupyter's inline backend draws all of them after
a cell, so a figure made by pyplot *and* returned as the cell's value would show twice. (In a
Jupyter kernel pyplot's backend is still loaded once, for IPython to know how to show figures.)
Figures made by pyplot elsewhere (ArviZ) are let go by :func:`release_from_pyplot`. The returned
figure still saves (``fig.savefig``) and shows when it is a cell's value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..base.errors import ModelSpecError
from ..base.html import in_jupyter_kernel

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "root_figure",
    "new_figure",
    "release_from_pyplot",
    "figure_and_axes",
    "panel_grid",
    "table_or_summary",
    "require_columns",
]


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


#: Holds ``True`` once pyplot's backend was loaded for Jupyter (:func:`_load_pyplot_backend`).
_BACKEND_LOADED: list[bool] = []


def new_figure(figsize: tuple[float, float], **kwargs) -> Figure:
    """Return a new figure that pyplot does not hold (so Jupyter shows it once, when returned).

    Parameters
    ----------
    figsize : tuple of float
        Size in inches.
    **kwargs
        Passed on to ``matplotlib.figure.Figure`` (e.g. ``layout="constrained"``).

    Returns
    -------
    matplotlib.figure.Figure
        A figure with a plain canvas: ``savefig`` writes any format matplotlib knows, and
        Jupyter draws it when it is the value of a cell.
    """
    from matplotlib.figure import Figure

    if in_jupyter_kernel():
        _load_pyplot_backend()
    return Figure(figsize=figsize, **kwargs)


def _load_pyplot_backend() -> None:
    """Load pyplot's backend, as pyplot does with its first figure (once per process).

    In Jupyter that backend (``matplotlib_inline``) is what tells IPython how to show a figure
    that is a cell's value; a session that never made a figure with pyplot would otherwise show
    the returned figure as text.
    """
    if _BACKEND_LOADED:
        return
    import matplotlib
    import matplotlib.pyplot as plt

    plt.switch_backend(matplotlib.get_backend())
    _BACKEND_LOADED.append(True)


def release_from_pyplot(fig: Figure, before: Sequence[int]) -> Figure:
    """Let pyplot forget ``fig`` if pyplot made it during the plot (its number not in ``before``).

    For plots drawn by a library that makes its figures with pyplot (ArviZ): the figure stays
    usable (``savefig``, display as a cell's value), but Jupyter's inline backend no longer draws
    it a second time at the end of the cell. A figure the user made before the call is left alone.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure the plot returns.
    before : sequence of int
        ``matplotlib.pyplot.get_fignums()`` before the plot was drawn.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.
    """
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return fig
    number = getattr(fig, "number", None)
    if number is not None and number not in before and pyplot.fignum_exists(number):
        pyplot.close(fig)
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
    fig = new_figure(figsize)
    return fig, fig.add_subplot(), True


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
    last row are removed. ``subplots`` go to ``Figure.subplots`` (e.g. ``sharey=True``), except
    ``layout``, which goes to the new figure (e.g. ``layout="constrained"``).
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
    ncols = min(MAX_COLUMNS, len(order))
    nrows = -(-len(order) // ncols)  # ceiling division
    size = (max(panel_size[0] * ncols, min_size[0]), max(panel_size[1] * nrows, min_size[1]))
    fig = new_figure(size, layout=subplots.pop("layout", None))
    grid = fig.subplots(nrows, ncols, squeeze=False, **subplots)
    axes = list(grid.ravel())
    for extra in axes[len(order) :]:  # unused cells of the last row
        fig.delaxes(extra)
    return fig, axes[: len(order)]
