"""Plots of survival fits: survival curves (Kaplan-Meier steps overlaid) and hazard ratios.

Both take the table their summary returns (:func:`nma_bayes.results.survival.survival_summary`'s
``"survival"`` table; :func:`nma_bayes.hazard_ratios`), draw into ``ax=`` or a new figure, and
return the root ``Figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ._figure import figure_and_axes, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_hazard_ratios", "plot_survival"]


def plot_survival(curves: pd.DataFrame, *, km: pd.DataFrame | None = None,
                  ax: Axes | None = None) -> Figure:  # fmt: skip
    """Draw each treatment's posterior survival curve with its credible band.

    Parameters
    ----------
    curves : DataFrame
        ``survival_summary(...)["survival"]``: ``treatment, time, median, ci_lower, ci_upper``.
    km : DataFrame, optional
        Observed Kaplan-Meier steps to overlay (:func:`nma_bayes.kaplan_meier` of the baseline
        study: ``treatment, time, survival``), drawn as steps in each treatment's colour.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(curves, ["treatment", "time", "median", "ci_lower", "ci_upper"],
                    "The survival table (survival_summary(...)['survival'])")  # fmt: skip
    if km is not None:
        require_columns(km, ["treatment", "time", "survival"],
                        "The Kaplan-Meier table (nb.kaplan_meier(data, study=...))")  # fmt: skip
    fig, ax, created = figure_and_axes(ax, (7.0, 4.5))
    for treatment, rows in curves.groupby("treatment", sort=False):
        rows = rows.sort_values("time")
        (line,) = ax.plot(rows["time"], rows["median"], label=str(treatment))
        ax.fill_between(rows["time"], rows["ci_lower"], rows["ci_upper"], alpha=0.15,
                        color=line.get_color(), linewidth=0)  # fmt: skip
        if km is not None and (km["treatment"] == treatment).any():
            steps = km[km["treatment"] == treatment].sort_values("time")
            ax.step(steps["time"], steps["survival"], where="post", color=line.get_color(),
                    linewidth=0.9, linestyle="--", label=f"{treatment} (Kaplan-Meier)")  # fmt: skip
    ax.set_xlabel("time")
    ax.set_ylabel("survival (posterior median, credible band)")
    ax.set_ylim(0.0, 1.02)
    ax.legend(frameon=False, fontsize="small")
    if created:
        fig.tight_layout()
    return fig


def plot_hazard_ratios(table: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Draw each treatment's hazard ratio against time with its interval (steps for PWE fits).

    Parameters
    ----------
    table : DataFrame
        :func:`nma_bayes.hazard_ratios` (``scale="HR"``): ``time, treatment, comparator,
        median, ci_lower, ci_upper``; times at a fine grid draw the steps.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(table, ["time", "treatment", "comparator", "median", "ci_lower", "ci_upper"],
                    "The hazard-ratio table (nb.hazard_ratios(fit, times))")  # fmt: skip
    fig, ax, created = figure_and_axes(ax, (7.0, 4.5))
    comparator = str(table["comparator"].iloc[0])
    steps = "segment" in table  # piecewise-constant (PWE) ratios as steps, others as lines
    for treatment, rows in table.groupby("treatment", sort=False):
        rows = rows.sort_values("time")
        how = {"drawstyle": "steps-post"} if steps else {}
        (line,) = ax.plot(rows["time"], rows["median"], label=str(treatment), **how)
        ax.fill_between(rows["time"], rows["ci_lower"], rows["ci_upper"],
                        step="post" if steps else None, alpha=0.12, color=line.get_color(),
                        linewidth=0)  # fmt: skip
    ax.axhline(1.0, color="0.4", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("time")
    ax.set_ylabel(f"hazard ratio vs {comparator}")
    ax.legend(frameon=False, fontsize="small")
    if created:
        fig.tight_layout()
    return fig
