"""MCID forest plot: relative effects vs a comparator, coloured by P(better by more than the MCID).

The plot draws two summaries of a fit, :meth:`relative_effects
<nma_bayes.results.record.FitRecord.relative_effects>` (median and credible interval vs the
comparator) and :meth:`prob_difference
<nma_bayes.results.decisions.DecisionMethods.prob_difference>` (the probability of beating the
comparator by more than the threshold), so it takes the fit.
matplotlib is imported when the plot is drawn.

Artists carry a ``gid`` so the figure can be inspected programmatically:

- ``"nma-decision-ci"``: the ``LineCollection`` of credible intervals, one segment per row (top to
  bottom), coloured by the probability;
- ``"nma-decision-point"``: the medians (a ``PathCollection``, one point per row);
- ``"nma-null"``: the line of no difference; ``"nma-threshold"``: the two threshold lines;
- ``"nma-benefit-region"``: the shaded region of a clinically important benefit;
- ``"nma-decision-prob"``: one text per row, the probability written out;
- the colour bar's Axes has the label ``"nma-decision-colorbar"``.

The y tick labels are the treatments, top to bottom in the drawn order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ModelSpecError
from ..base.validate import check_ci_prob, resolve_direction
from ._figure import new_figure, root_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_prob_difference"]

#: Row orders of the plot.
ORDERS = ("probability", "treatment")


def plot_prob_difference(
    fit,
    *,
    threshold: float,
    lower_is_better: bool,
    comparator: str | None = None,
    scale: str | None = None,
    ci_prob: float = 0.95,
    order: str = "probability",
    threshold_name: str = "MCID",
    cmap: str = "viridis_r",
    at: dict | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw an MCID forest plot: effects vs a comparator, coloured by P(better by > threshold).

    Each treatment's median and credible interval against the comparator are drawn in the
    colour of its probability of being better than the comparator by more than ``threshold``
    (:meth:`~nma_bayes.results.decisions.DecisionMethods.prob_difference`), written out at the
    right; the lines of no difference and of +/- ``threshold``, and the shaded region of a
    clinically important benefit, show where the effects fall (GRADE-style minimally important
    difference reading of a network meta-analysis).

    Parameters
    ----------
    fit : NetworkFit
        The fit (the plot draws ``relative_effects`` and ``prob_difference``).
    threshold : float
        Minimal clinically important difference on the effect scale (``>= 0``); with
        ``scale="ratio"`` a ratio (e.g. 0.8).
    lower_is_better : bool
        Benefit direction; required (no default).
    comparator : str, optional
        Comparator of every treatment (default: the model reference).
    scale : {None, "ratio"}
        ``"ratio"``: effects and threshold on the ratio scale of a log-ratio measure (log axis).
    ci_prob : float
        Probability of the credible intervals.
    order : {"probability", "treatment"}
        Rows top to bottom by decreasing probability (default) or in treatment order.
    threshold_name : str
        What the threshold is called in the labels (default ``"MCID"``).
    cmap : str
        Matplotlib colour map of the probability (0 to 1).
    at : dict, optional
        Covariate values of a meta-regression.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (the colour bar takes room from it); by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) For a bad ``order``, ``ci_prob``, ``threshold``, ``scale``,
        comparator or direction (checked before anything is drawn).
    """
    if order not in ORDERS:
        raise ModelSpecError(
            f"order={order!r}: use 'probability' or 'treatment'.", rule="bad-option"
        )
    ci_prob = check_ci_prob(ci_prob)
    direction = resolve_direction(lower_is_better, fit.network, required=True)
    probs = fit.prob_difference(threshold=threshold, lower_is_better=direction,
                                comparator=comparator, scale=scale, at=at)  # fmt: skip
    ratio = probs.attrs["ratio_scale"]  # None: the effect scale of the fit
    effects = fit.relative_effects(probs["comparator"].iloc[0], ci_prob=ci_prob, at=at)
    table = effects.merge(probs[["treatment", "probability", "mcse"]], on="treatment")
    if ratio is not None:  # quantiles map exactly (no moments of the ratio needed)
        shown = ["median", "ci_lower", "ci_upper"]
        table[shown] = np.exp(table[shown].to_numpy(dtype=float))
    if order == "probability":
        table = table.sort_values("probability", ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    fig, ax = _figure(ax, len(table))
    if ratio is not None:
        _log_axis(ax)
    colors = _draw_rows(ax, table, cmap)
    _draw_regions(ax, probs.attrs["effect_threshold"], direction, ratio is not None,
                  threshold_name, threshold)  # fmt: skip
    _label(ax, table, probs, direction, ratio, ci_prob, threshold_name)
    bar = fig.colorbar(colors, ax=ax, orientation="horizontal", fraction=0.05, pad=0.02,
                       aspect=40, location="bottom")  # fmt: skip
    bar.ax.set_label("nma-decision-colorbar")
    bar.set_label(f"P(better than {table['comparator'].iloc[0]} by more than the "
                  f"{threshold_name})")  # fmt: skip
    return fig


def _figure(ax, n_rows: int):
    """Return the figure and Axes: ``ax``'s, or a new constrained-layout figure for the rows."""
    if ax is not None:
        return root_figure(ax), ax
    fig = new_figure((7.6, 2.2 + 0.34 * n_rows), layout="constrained")
    return fig, fig.add_subplot()


def _log_axis(ax) -> None:
    """Make the x axis logarithmic for ratios: ticks at 1, 2, 5 x 10^k, written as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _draw_regions(ax, margin: float, lower: bool, ratio: bool, name: str, threshold) -> None:
    """Draw the lines of no difference and of +/- the threshold; shade the benefit side.

    Drawn after the rows, so that the x range (widened to show both threshold lines) is known.
    """
    null = 1.0 if ratio else 0.0
    lines = (np.exp(-margin), np.exp(margin)) if ratio else (-margin, margin)
    ax.axvline(null, color="grey", linestyle="--", linewidth=1.0, gid="nma-null", zorder=1)
    shown = f"\u00b1{name} ({threshold:g})"
    if ratio:
        shown = f"{name} ({lines[0]:.3g} and {lines[1]:.3g})"
    for i, x in enumerate(lines):
        ax.axvline(x, color="firebrick", linestyle=":", linewidth=1.4, gid="nma-threshold",
                   zorder=1, label=shown if i == 0 else None)  # fmt: skip
    left, right = ax.get_xlim()
    pad = (lines[1] / lines[0]) ** 0.3 if ratio else 0.3 * (lines[1] - lines[0]) or 0.1
    left = min(left, lines[0] / pad if ratio else lines[0] - pad)
    right = max(right, lines[1] * pad if ratio else lines[1] + pad)
    ax.set_xlim(left, right)
    span = (left, lines[0]) if lower else (lines[1], right)
    ax.axvspan(*span, color="tab:green", alpha=0.08, linewidth=0, zorder=0,
               gid="nma-benefit-region",
               label=f"Better by more than the {name}")  # fmt: skip


def _draw_rows(ax, table, cmap: str):
    """Draw the coloured intervals and medians, and write the probabilities at the right."""
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    y = np.arange(len(table), dtype=float)
    p = table["probability"].to_numpy(dtype=float)
    norm, colours = Normalize(0.0, 1.0), colormaps[cmap]
    lo, hi = table["ci_lower"].to_numpy(dtype=float), table["ci_upper"].to_numpy(dtype=float)
    segments = np.stack([np.stack([lo, y], 1), np.stack([hi, y], 1)], axis=1)
    lines = LineCollection(segments, cmap=colours, norm=norm, linewidths=3.2, capstyle="round",
                           gid="nma-decision-ci", zorder=2)  # fmt: skip
    lines.set_array(p)
    ax.add_collection(lines)
    ax.scatter(table["median"].to_numpy(dtype=float), y, c=p, cmap=colours, norm=norm, s=46,
               marker="o", edgecolors="black", linewidths=0.8, zorder=3,
               gid="nma-decision-point")  # fmt: skip
    transform = ax.get_yaxis_transform()  # x in axes units, y in data units
    for row, prob in zip(y, p, strict=True):
        ax.text(1.02, row, f"{prob:.2f}", transform=transform, ha="left", va="center",
                fontsize="small", gid="nma-decision-prob")  # fmt: skip
    ax.autoscale_view()
    return lines


def _label(ax, table, probs, lower: bool, ratio, ci_prob: float, name: str) -> None:
    """Tick labels, axis labels, the probability column's header and the legend."""
    y = np.arange(len(table), dtype=float)
    ax.set_yticks(y)
    ax.set_yticklabels([str(t) for t in table["treatment"]])
    ax.set_ylim(len(table) - 0.4, -0.9)  # top to bottom, room for the header
    ax.text(1.02, -0.75, f"P(> {name})", transform=ax.get_yaxis_transform(), ha="left",
            va="center", fontsize="small", fontweight="bold")  # fmt: skip
    comparator = str(table["comparator"].iloc[0])
    measure = ratio or probs.attrs["scale"]
    measure = "Effect" if measure == "linear" else measure
    better = "lower is better" if lower else "higher is better"
    ax.set_xlabel(f"{measure} vs {comparator} (median, {100 * ci_prob:g}% CrI; {better})")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small", frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncols=2)  # fmt: skip
