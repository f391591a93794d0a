"""Rankograms, cumulative ranking curves and SUCRA with intervals.

The plots draw :meth:`NetworkFit.rank_probabilities
<nma_bayes.results.record.NetworkFit.rank_probabilities>` (treatment x rank, rank 1 = best) and
:meth:`NetworkFit.sucra <nma_bayes.results.record.NetworkFit.sucra>`. matplotlib is imported when a
plot is drawn.

``plot_ranks`` draws one line per treatment (in treatment order, ``gid="nma-rank-line"``),
labelled ``"name (SUCRA 0.92)"``. ``plot_sucra`` draws one point per treatment
(``gid="nma-sucra-point"``) with its interval (``LineCollection``, ``gid="nma-sucra-ci"``),
best treatment at the top; the y tick labels are the treatments, top to bottom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .forest import _root_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_ranks", "plot_sucra"]


def plot_ranks(
    fit,
    *,
    lower_is_better: bool,
    cumulative: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Draw the rankogram (or cumulative ranking curves) of every treatment.

    Parameters
    ----------
    fit : NetworkFit
        The fit.
    lower_is_better : bool
        Benefit direction; required (no default).
    cumulative : bool
        Plot the probability of each rank or better (the area under which gives SUCRA) instead
        of the probability of each rank.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown): one line per treatment, in treatment order, with a
        legend ``"name (SUCRA 0.92)"``.
    """
    probs = fit.rank_probabilities(lower_is_better=lower_is_better)
    sucra = fit.sucra(lower_is_better=lower_is_better).set_index("treatment")["sucra"]
    ranks = probs.columns.to_numpy(dtype=float)
    values = probs.to_numpy(dtype=float)
    if cumulative:
        values = np.cumsum(values, axis=1)

    import matplotlib.pyplot as plt

    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = _root_figure(ax)
    for treatment, row in zip(probs.index, values, strict=True):
        ax.plot(
            ranks,
            row,
            marker="o",
            markersize=3,
            label=f"{treatment} (SUCRA {sucra[treatment]:.2f})",
            gid="nma-rank-line",
        )
    ax.set_xticks(ranks if len(ranks) <= 12 else ranks[:: -(-len(ranks) // 12)])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Rank (1 = best)")
    ax.set_ylabel("P(rank or better)" if cumulative else "P(rank)")
    ax.set_title("Cumulative ranking curves" if cumulative else "Rankogram")
    ax.legend(fontsize="small", frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    if created:
        fig.tight_layout()
    return fig


def plot_sucra(
    fit,
    *,
    lower_is_better: bool,
    ci_prob: float = 0.95,
    ax: Axes | None = None,
) -> Figure:
    """Draw each treatment's SUCRA with its credible interval, best at the top.

    Parameters
    ----------
    fit : NetworkFit
        The fit.
    lower_is_better : bool
        Benefit direction; required (no default).
    ci_prob : float
        Probability of the interval of the per-draw scaled rank.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).
    """
    table = fit.sucra(lower_is_better=lower_is_better, ci_prob=ci_prob)
    table = table.sort_values("sucra", ascending=False, kind="stable").reset_index(drop=True)
    y = np.arange(len(table), dtype=float)

    import matplotlib.pyplot as plt

    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.35 * len(table)))
    else:
        fig = _root_figure(ax)
    ax.hlines(
        y,
        table["ci_lower"].to_numpy(dtype=float),
        table["ci_upper"].to_numpy(dtype=float),
        color="black",
        linewidth=2.0,
        gid="nma-sucra-ci",
    )
    ax.plot(
        table["sucra"].to_numpy(dtype=float),
        y,
        "o",
        color="tab:blue",
        linestyle="none",
        gid="nma-sucra-point",
    )
    ax.set_yticks(y)
    ax.set_yticklabels([str(t) for t in table["treatment"]])
    ax.set_ylim(len(table) - 0.4, -0.6)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"SUCRA ({100 * ci_prob:g}% interval)")
    ax.grid(axis="x", alpha=0.3)
    if created:
        fig.tight_layout()
    return fig
