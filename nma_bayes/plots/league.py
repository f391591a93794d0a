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

from .forest import _root_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_league", "league_matrices"]


def league_matrices(fit, *, ci_prob: float = 0.95) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pairwise medians and intervals, row treatment vs column treatment.

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
    from ..results.summaries import league_matrices as matrices

    treatments = [str(t) for t in fit.treatments]
    m = matrices(fit.relative_effects(all_pairs=True, ci_prob=ci_prob), treatments)
    return treatments, m["median"], np.stack([m["ci_lower"], m["ci_upper"]], axis=-1)


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
    fit : NetworkFit
        The fit.
    ci_prob : float
        Probability of the credible intervals written in the cells.
    digits : int
        Decimals written.
    lower_is_better : bool, optional
        Benefit direction, for the colours only: green marks a row treatment better than the
        column treatment and red worse. By default (``None``) a neutral blue-red map is used.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown), with a colour bar of the medians.
    """
    treatments, median, interval = league_matrices(fit, ci_prob=ci_prob)
    n = len(treatments)

    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    created = ax is None
    if created:
        side = max(4.0, 0.95 * n + 1.5)
        fig, ax = plt.subplots(figsize=(side + 1.0, side))
    else:
        fig = _root_figure(ax)

    if lower_is_better is None:
        cmap = "RdBu_r"
    else:
        cmap = "RdYlGn_r" if lower_is_better else "RdYlGn"
    cmap = matplotlib.colormaps[cmap].with_extremes(bad="whitesmoke")
    finite = np.abs(median[np.isfinite(median)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    norm = Normalize(vmin=-limit, vmax=limit)
    masked = np.ma.masked_invalid(median)
    image = ax.imshow(masked, cmap=cmap, norm=norm, aspect="auto", gid="nma-league")

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
            dark = abs(norm(median[i, j]) - 0.5) > 0.35
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
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(treatments, rotation=45, ha="right")
    ax.set_yticklabels(treatments)
    ax.set_xlabel("Comparator (column)")
    ax.set_ylabel("Treatment (row)")
    ax.set_title(f"Row vs column: median ({100 * ci_prob:g}% CrI)")
    fig.colorbar(image, ax=ax, label="Median effect (row vs column)")
    if created:
        fig.tight_layout()
    return fig
