"""Network meta-regression plot: relative effects along a study covariate, with the studies.

The plot draws two summaries of a meta-regression fit (so it takes the fit, not a table):
:meth:`~nma_bayes.results.regression.RegressionMethods.regression_curve` (the relative effect of
each treatment vs a comparator over a grid of covariate values) and
:meth:`~nma_bayes.results.regression.RegressionMethods.study_points` (each study's observed
contrast, with its precision). matplotlib is imported when a plot is drawn.

One panel per treatment, titled with the treatment. Artists are tagged with a ``gid``:

- ``"nma-curve"``: the posterior median along a numeric covariate (one ``Line2D``);
- ``"nma-band"``: its credible band (``fill_between``);
- ``"nma-level-point"``: for a categorical covariate, the median at each level (one ``Line2D``
  of markers, x = 0, 1, ... in the order of the levels, which label the ticks);
- ``"nma-level-ci"``: the credible interval at each level (a ``LineCollection``);
- ``"nma-null"``: the horizontal line at 0 (no effect);
- ``"nma-study-points"``: the observed contrasts of the studies that compare exactly this
  treatment and comparator (one ``PathCollection``, absent when no study does), in the order
  of ``study_points``; contrasts recorded the other way round are drawn with their sign flipped.
  Marker *area* is proportional to the precision ``weight = 1 / se^2``, scaled so that the most
  precise study of the figure gets :data:`MAX_MARKER_AREA` (with a floor of
  :data:`MIN_MARKER_AREA` so that imprecise studies stay visible).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..models.regression import BASELINE_RISK
from ._figure import panel_grid

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.record import NetworkFit

__all__ = ["plot_regression", "marker_areas", "MAX_MARKER_AREA", "MIN_MARKER_AREA"]

#: Marker area (points^2) of the most precise study of the figure.
MAX_MARKER_AREA = 240.0
#: Smallest marker area (points^2), so that imprecise studies stay visible.
MIN_MARKER_AREA = 6.0
_LINE_COLOR = "tab:blue"
_POINT_COLOR = "tab:orange"


def plot_regression(
    fit: NetworkFit,
    covariate: str,
    *,
    treatments: str | Sequence[str] | None = None,
    comparator: str | None = None,
    ci_prob: float = 0.95,
    points: bool = True,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Draw each treatment's relative effect along a covariate, with the observed studies.

    Parameters
    ----------
    fit : NetworkFit
        A meta-regression fit (``covariates=``). The plot draws
        ``fit.regression_curve(covariate, treatments=..., comparator=..., ci_prob=ci_prob)`` and
        ``fit.study_points(covariate)``.
    covariate : str
        The covariate along which to draw (one of the fit's covariates, or ``"baseline_risk"``).
        Other covariates stay at their centring value (numeric) or first level (categorical).
    treatments : str or sequence of str, optional
        Treatments to draw, one panel each, in this order (default: every treatment but the
        comparator, in network order).
    comparator : str, optional
        Comparator of the effects (default: the network's reference).
    ci_prob : float
        Probability of the credible band (or intervals).
    points : bool
        Also draw the observed contrasts of the studies that compare exactly the panel's
        treatment and the comparator (marker area proportional to precision). Only direct
        contrasts are drawn: a multi-arm study comparing both with a third base arm is not.
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        Axes to draw into, one per treatment (a single ``Axes`` when one treatment is drawn); by
        default a new figure with a grid of panels is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown): one panel per treatment, titled with it, x = the
        covariate (its raw values; the levels of a categorical covariate), y = the effect vs the
        comparator on the network's scale. A numeric covariate gets the posterior median as a
        line within its credible band; a categorical one a point and interval per level.

    Raises
    ------
    ModelSpecError
        If the fit has no meta-regression, ``covariate`` is not one of its covariates, a
        treatment or the comparator is not in the network, no treatment is left to draw, or
        ``ax`` does not hold one Axes per treatment.
    """
    if isinstance(treatments, str):
        treatments = [treatments]
    curve = fit.regression_curve(
        covariate, treatments=treatments, comparator=comparator, ci_prob=ci_prob
    )
    studies = fit.study_points(covariate) if points else None
    if curve.empty:
        raise ModelSpecError("plot_regression: no treatments to draw.", rule="bad-option")
    comparator = curve["comparator"].iloc[0]
    order = list(dict.fromkeys(curve["treatment"]))
    categorical = fit.posterior.regression.kinds.get(covariate) == "categorical"
    levels = list(dict.fromkeys(curve["value"])) if categorical else None
    matched = {t: _matching_points(studies, t, comparator) for t in order} if points else {}
    largest = max((float(m["weight"].max()) for m in matched.values() if len(m)), default=1.0)

    fig, axes = _panels(ax, order)
    pct = f"{100 * ci_prob:g}%"
    measure = fit.network.measure
    ylabel = f"effect vs {comparator}" + (f" ({measure})" if measure else "")
    for panel, treatment in zip(axes, order, strict=True):
        rows = curve[curve["treatment"] == treatment]
        if categorical:
            _draw_levels(panel, rows, levels, pct)
        else:
            _draw_curve(panel, rows, pct)
        panel.axhline(0.0, color="grey", linestyle="--", linewidth=1.0, gid="nma-null")
        if points:
            _draw_points(panel, matched[treatment], levels, largest)
        panel.set_title(str(treatment))
        panel.set_xlabel(_xlabel(covariate))
        panel.set_ylabel(ylabel)
        panel.grid(alpha=0.3)
    _legend(fig, axes, below=ax is None)
    return fig


def marker_areas(weights, largest: float) -> np.ndarray:
    """Marker areas (points^2) proportional to ``weights``, ``largest`` getting the maximum.

    Parameters
    ----------
    weights : array-like of float
        Precisions ``1 / se^2`` of the studies drawn.
    largest : float
        The largest precision of the figure (it gets :data:`MAX_MARKER_AREA`).

    Returns
    -------
    ndarray
        ``MAX_MARKER_AREA * weights / largest``, at least :data:`MIN_MARKER_AREA`.
    """
    w = np.asarray(weights, dtype=float)
    return np.maximum(MAX_MARKER_AREA * w / largest, MIN_MARKER_AREA)


def _xlabel(covariate: str) -> str:
    if covariate == BASELINE_RISK:
        return "baseline risk (base-arm linear predictor)"
    return str(covariate)


def _matching_points(studies: pd.DataFrame, treatment, comparator) -> pd.DataFrame:
    """Study contrasts of ``treatment`` vs ``comparator`` (reversed ones with the sign flipped)."""
    same = (studies["treatment"] == treatment) & (studies["comparator"] == comparator)
    reverse = (studies["treatment"] == comparator) & (studies["comparator"] == treatment)
    rows = studies[same | reverse].copy()
    rows.loc[reverse[same | reverse].to_numpy(), "effect"] *= -1.0
    finite = np.isfinite(rows["effect"].to_numpy(dtype=float)) & np.isfinite(
        rows["weight"].to_numpy(dtype=float)
    )
    return rows[finite].reset_index(drop=True)


def _draw_curve(panel, rows: pd.DataFrame, pct: str) -> None:
    """Median line and credible band along a numeric covariate."""
    x = rows["value"].to_numpy(dtype=float)
    panel.fill_between(
        x,
        rows["ci_lower"].to_numpy(dtype=float),
        rows["ci_upper"].to_numpy(dtype=float),
        color=_LINE_COLOR,
        alpha=0.2,
        linewidth=0,
        gid="nma-band",
        label=f"{pct} CrI",
    )
    panel.plot(
        x,
        rows["median"].to_numpy(dtype=float),
        color=_LINE_COLOR,
        linewidth=2.0,
        gid="nma-curve",
        label="median",
    )


def _draw_levels(panel, rows: pd.DataFrame, levels: list, pct: str) -> None:
    """Median and credible interval at each level of a categorical covariate."""
    position = {level: i for i, level in enumerate(levels)}
    x = np.array([position[v] for v in rows["value"]], dtype=float)
    panel.vlines(
        x,
        rows["ci_lower"].to_numpy(dtype=float),
        rows["ci_upper"].to_numpy(dtype=float),
        color=_LINE_COLOR,
        linewidth=2.0,
        gid="nma-level-ci",
        label=f"{pct} CrI",
    )
    panel.plot(
        x,
        rows["median"].to_numpy(dtype=float),
        "s",
        color=_LINE_COLOR,
        markersize=7,
        linestyle="none",
        gid="nma-level-point",
        label="median",
    )
    panel.set_xticks(np.arange(len(levels)), [str(v) for v in levels])
    panel.set_xlim(-0.6, len(levels) - 0.4)


def _draw_points(panel, rows: pd.DataFrame, levels: list | None, largest: float) -> None:
    """Draw the matching study contrasts, marker area proportional to precision."""
    if rows.empty:
        return
    if levels is None:
        x = rows["value"].to_numpy(dtype=float)
    else:  # beside the level's interval, spread so that studies do not hide each other
        position = {level: i for i, level in enumerate(levels)}
        x = np.array([position.get(v, np.nan) for v in rows["value"]], dtype=float)
        rank = rows.groupby("value", sort=False).cumcount().to_numpy()
        count = rows.groupby("value", sort=False)["value"].transform("size").to_numpy()
        x = x + 0.15 + 0.2 * (rank + 0.5) / count
    panel.scatter(
        x,
        rows["effect"].to_numpy(dtype=float),
        s=marker_areas(rows["weight"], largest),
        color=_POINT_COLOR,
        alpha=0.6,
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
        gid="nma-study-points",
        label="studies (area \u221d precision)",
    )


def _legend(fig, axes: list, *, below: bool) -> None:
    """Draw one legend of what any panel draws (each label once).

    It goes below the panels of a new figure, else on the first panel.
    """
    entries = {}
    for panel in axes:
        for handle, label in zip(*panel.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    handles, labels = list(entries.values()), list(entries)
    if below:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=len(labels),
            fontsize="small",
            frameon=False,
        )
    else:
        axes[0].legend(handles, labels, fontsize="small", frameon=False)


def _panels(ax, order: list) -> tuple[Figure, list]:
    """Return the root figure and one Axes per treatment: the given ones, or a new grid."""
    fig, axes = panel_grid(ax, order, "treatments", panel_size=(4.2, 3.4),
                           min_size=(5.4, 3.8), sharex=True, sharey=True,
                           layout="constrained")  # fmt: skip
    if ax is None:
        for panel in axes:
            panel.xaxis.set_tick_params(labelbottom=True)  # shared x: label every panel
    return fig, axes
