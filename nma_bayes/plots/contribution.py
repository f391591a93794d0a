"""Heat map of a contribution matrix (Papakonstantinou et al. 2018; Davies et al. 2022).

Draws :meth:`ContributionMatrix.matrix() <nma_bayes.results.evidence_result.ContributionMatrix>`:
one row per network comparison, one column per direct comparison (or study), each cell coloured
by the percentage of the row's network estimate that the column contributes (white 0% to dark
blue 100%; every row sums to 100%). matplotlib is imported when the plot is drawn. Artists carry
a ``gid``:

- ``"contribution-cells"``: the image of the matrix (one ``AxesImage``);
- ``"contribution-value"``: the percentage written in each cell that holds at least 0.5%
  (when ``annotate=True`` and the matrix is small enough to read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..results.contribution import contribution_matrix
from ..results.evidence_result import ContributionMatrix
from ._figure import figure_and_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_contribution"]

#: Largest number of cells whose percentages are written in them.
MAX_ANNOTATED_CELLS = 400


def _result(result, options: dict) -> ContributionMatrix:
    """Return ``result`` if it is a ``ContributionMatrix``, else compute it from the data."""
    if isinstance(result, ContributionMatrix):
        if options:
            raise ModelSpecError(
                f"plot_contribution: the options {sorted(options)} apply to data, not to a "
                "computed ContributionMatrix; pass them to nb.contribution_matrix.",
                rule="bad-option",
            )
        return result
    return contribution_matrix(result, **options)


def plot_contribution(result, *, annotate: bool = True, ax=None, **options) -> Figure:
    """Draw a contribution matrix as a heat map (percent contribution of each direct comparison).

    Rows are the network comparisons (all pairs of treatments, ``"A:B"`` = A minus B), columns
    the direct comparisons (or the studies, ``by="study"``); a cell's colour is the percentage
    of the row's network estimate that comes from the column, following the shortest-path
    decomposition of the evidence flow (Papakonstantinou et al. 2018; netmeta ``netcontrib``)
    or the random walk (Davies et al. 2022). Every row sums to 100%.

    Parameters
    ----------
    result : ContributionMatrix, NetworkFit, DataFrame or Network
        A result of :func:`nma_bayes.contribution_matrix`; or data, a network or a fit, from
        which it is computed with ``options``.
    annotate : bool
        Write the percentage in each cell of at least 0.5% (matrices of at most 400 cells).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure.
    **options
        With data: the options of :func:`nma_bayes.contribution_matrix` (``method``,
        ``effects``, ``by``, ``tau``, ``reference``, column names).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``annotate``, options given with a computed result, and any
        error of :func:`nma_bayes.contribution_matrix`.
    """
    annotate = VA.check_bool(annotate, "annotate")
    res = _result(result, options)
    wide = res.matrix()
    percent = 100.0 * wide.to_numpy(float)
    rows, cols = [str(r) for r in wide.index], [str(c) for c in wide.columns]
    n_rows, n_cols = percent.shape
    font = 8.0 if max(n_rows, n_cols) <= 25 else 6.0
    cell = 0.42 if max(n_rows, n_cols) <= 25 else 0.24  # inches
    label_w = 0.55 * font / 72 * max(map(len, rows))
    label_h = 0.55 * font / 72 * max(map(len, cols))
    size = (max(4.0, n_cols * cell) + label_w + 1.8, max(3.0, n_rows * cell) + label_h + 1.0)
    fig, ax, created = figure_and_axes(ax, size)
    image = ax.imshow(np.nan_to_num(percent), cmap="Blues", vmin=0.0, vmax=100.0,
                      aspect="auto", interpolation="nearest")  # fmt: skip
    image.set_gid("contribution-cells")
    if annotate and percent.size <= MAX_ANNOTATED_CELLS:
        for i, j in zip(*np.nonzero(percent >= 0.5), strict=True):
            ax.text(j, i, f"{percent[i, j]:.0f}", ha="center", va="center", fontsize=font - 1,
                    color="white" if percent[i, j] > 60 else "black",
                    gid="contribution-value")  # fmt: skip
    ax.set_xticks(range(n_cols), cols, rotation=90, fontsize=font)
    ax.set_yticks(range(n_rows), rows, fontsize=font)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    unit = "direct comparison" if res.by == "comparison" else "study"
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(f"contribution of the column's {unit} (%)", fontsize="small")
    method = "shortest path" if res.method == "shortestpath" else "random walk"
    model = "common effect" if res.effects == "fixed" else f"random effects, tau = {res.tau:.3g}"
    ax.set_xlabel(f"Contribution matrix ({method}, {model})", fontsize="small")
    ax.set_ylabel("network estimate", fontsize="small")
    if created:
        fig.tight_layout()
    return fig
