"""Plots for model checking: node-splits and dev-dev comparisons.

Both take a computed table (from :func:`nma_bayes.nodesplit` and
:func:`nma_bayes.results.goodness_of_fit.dev_dev`), which need more than one fit to compute.
matplotlib is imported when a plot is drawn.
"""

from __future__ import annotations

import pandas as pd

from ..base.errors import ModelSpecError
from ._figure import figure_and_axes

__all__ = ["plot_nodesplit", "plot_dev_dev"]


def _require(table: pd.DataFrame, columns, what: str) -> None:
    """Raise if ``table`` lacks one of ``columns``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ModelSpecError(f"{what} needs columns {missing}.", rule="bad-option")


def plot_nodesplit(table: pd.DataFrame, *, ax=None):
    """Direct, indirect and network estimates of each split comparison (Dias et al. 2010).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`nma_bayes.nodesplit`.
    ax : matplotlib Axes, optional
        Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure
        One row per comparison, three estimates (median and interval) each, with the Bayesian
        p-value in the row label.
    """
    cols = ["treatment", "comparator", "p_value"]
    for s in ("direct", "indirect", "network"):
        cols += [s, f"{s}_lower", f"{s}_upper"]
    _require(table, cols, "plot_nodesplit")
    fig, ax, _ = figure_and_axes(ax, (7, 0.9 + 0.8 * len(table)))
    styles = {"direct": ("o", "#1f77b4"), "indirect": ("s", "#ff7f0e"), "network": ("D", "k")}
    labels = []
    for i, row in enumerate(table.itertuples(index=False)):
        for j, (source, (marker, colour)) in enumerate(styles.items()):
            y = -(i + 0.25 * (j - 1))
            med = getattr(row, source)
            lo, hi = getattr(row, f"{source}_lower"), getattr(row, f"{source}_upper")
            ax.errorbar(
                med, y, xerr=[[med - lo], [hi - med]], fmt=marker, color=colour,
                label=source if i == 0 else None,
            )  # fmt: skip
        labels.append(f"{row.treatment} vs {row.comparator} (p = {row.p_value:.2f})")
    ax.set_yticks([-i for i in range(len(table))], labels)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("relative effect (median, credible interval)")
    ax.legend(loc="best", frameon=False)
    fig.tight_layout()
    return fig


def plot_dev_dev(table: pd.DataFrame, *, labels=("model 1", "model 2"), ax=None):
    """Dev-dev plot: per-study posterior mean residual deviance of two models (TSD4).

    Parameters
    ----------
    table : DataFrame
        ``study, resdev_1, resdev_2`` (from :func:`nma_bayes.results.goodness_of_fit.dev_dev`).
    labels : tuple of str
        Axis labels.
    ax : matplotlib Axes, optional
        Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure
        Points above the line of equality fit worse under the second model.
    """
    _require(table, ["study", "resdev_1", "resdev_2"], "plot_dev_dev")
    fig, ax, _ = figure_and_axes(ax, (5, 5))
    ax.scatter(table["resdev_1"], table["resdev_2"], s=18)
    top = float(max(table["resdev_1"].max(), table["resdev_2"].max())) * 1.05
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.set_xlabel(f"residual deviance, {labels[0]}")
    ax.set_ylabel(f"residual deviance, {labels[1]}")
    fig.tight_layout()
    return fig
