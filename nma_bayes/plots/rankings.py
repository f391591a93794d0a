"""Rankograms, cumulative ranking curves and SUCRA with intervals.

The plots draw :meth:`NetworkFit.rank_probabilities
<nma_bayes.results.record.NetworkFit.rank_probabilities>` (treatment x rank, rank 1 = best) and
:meth:`NetworkFit.sucra <nma_bayes.results.record.NetworkFit.sucra>`: ``plot_ranks`` takes the
fit, ``plot_sucra`` the fit or its SUCRA table. matplotlib is imported when a plot is drawn.

``plot_ranks`` draws one line per treatment (in treatment order, ``gid="nma-rank-line"``),
labelled ``"name (SUCRA 0.92)"``. ``plot_sucra`` draws one point per treatment
(``gid="nma-sucra-point"``) with its interval (``LineCollection``, ``gid="nma-sucra-ci"``),
best treatment at the top; the y tick labels are the treatments, top to bottom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.validate import resolve_direction
from ._figure import figure_and_axes, require_columns, table_or_summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_ranks", "plot_sucra"]

#: Columns of the SUCRA table that ``plot_sucra`` draws.
SUCRA_COLUMNS = ("treatment", "sucra", "ci_lower", "ci_upper")


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
        The fit (the plot draws two of its summaries, ``rank_probabilities`` and ``sucra``, so
        it takes the fit rather than a table).
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

    fig, ax, created = figure_and_axes(ax, (6.4, 4.2))
    for treatment, row in zip(probs.index, values, strict=True):
        ax.plot(
            ranks,
            row,
            marker="o",
            markersize=3,
            label=f"{treatment} (SUCRA {sucra[treatment]:.2f})",
            gid="nma-rank-line",
        )
    # at most 12 ticks: every k-th rank
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
    lower_is_better: bool | None = None,
    ci_prob: float = 0.95,
    ax: Axes | None = None,
) -> Figure:
    """Draw each treatment's SUCRA with its credible interval, best at the top.

    Parameters
    ----------
    fit : NetworkFit or DataFrame
        A fit (the plot draws ``fit.sucra(lower_is_better=..., ci_prob=ci_prob)``) or that
        table: columns ``treatment, sucra, ci_lower, ci_upper``.
    lower_is_better : bool, optional
        Benefit direction, with a fit: by default the one recorded on the fit's network
        (:func:`~nma_bayes.base.validate.resolve_direction`); required when the network
        records none. Ignored with a table (its SUCRA already has a direction).
    ci_prob : float
        Probability of the interval of the per-draw scaled rank; only used with a fit.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        If the direction is unknown with a fit, ``fit`` is neither a fit nor a DataFrame, or
        the table lacks a column or is empty.
    """

    def summary(f) -> pd.DataFrame:
        direction = resolve_direction(lower_is_better, f.network, required=True)
        return f.sucra(lower_is_better=direction, ci_prob=ci_prob)

    table, from_fit = table_or_summary(fit, summary, "sucra", "plot_sucra")
    require_columns(table, SUCRA_COLUMNS, "The SUCRA table (fit.sucra())")
    table = table.sort_values("sucra", ascending=False, kind="stable").reset_index(drop=True)
    y = np.arange(len(table), dtype=float)

    fig, ax, created = figure_and_axes(ax, (6.4, 1.2 + 0.35 * len(table)))
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
    ax.set_xlabel(f"SUCRA ({100 * ci_prob:g}% interval)" if from_fit else "SUCRA (interval)")
    ax.grid(axis="x", alpha=0.3)
    if created:
        fig.tight_layout()
    return fig
