"""Forest plot of relative effects against one comparator.

The plot draws a table of relative effects (columns ``treatment, comparator, median`` or
``mean``, ``ci_lower, ci_upper`` and, for prediction intervals, ``pi_lower, pi_upper``) as
returned by :meth:`NetworkFit.relative_effects <nma_bayes.results.record.NetworkFit.relative_effects>`
and :meth:`NetworkFit.prediction_interval
<nma_bayes.results.record.NetworkFit.prediction_interval>`. matplotlib is imported when a plot is drawn.

Artists are tagged with a ``gid`` so the figure can be inspected programmatically:

- ``"nma-point"``: one ``Line2D`` of markers, one point per treatment, top to bottom;
- ``"nma-ci"``: the ``LineCollection`` of credible intervals, one segment per treatment;
- ``"nma-pi"``: the ``LineCollection`` of prediction intervals (``prediction=True`` only);
- ``"nma-null"``: the vertical line at 0;
- ``"nma-class-label"``: one text per class header (``by_class=True`` only);
- ``"nma-class-separator"``: horizontal lines between classes (``by_class=True`` only).

The y tick labels are the treatments, top to bottom in the drawn order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_forest"]

_INTERVAL_COLUMNS = ("treatment", "comparator", "ci_lower", "ci_upper")
_NO_CLASS = "(no class)"


def plot_forest(
    fit_or_table,
    *,
    reference: str | None = None,
    ci_prob: float = 0.95,
    order: str | Sequence[str] | None = None,
    by_class: bool = False,
    prediction: bool = False,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw a forest plot of every treatment's effect against one comparator.

    Parameters
    ----------
    fit_or_table : NetworkFit or DataFrame
        A fit (effects are computed with ``fit.relative_effects(reference, ci_prob=ci_prob)``,
        or ``fit.prediction_interval(...)`` when ``prediction=True``) or a table with columns
        ``treatment, comparator, median`` (or ``mean``), ``ci_lower, ci_upper`` (and
        ``pi_lower, pi_upper`` for prediction intervals; a ``class`` column for
        ``by_class=True``).
    reference : str, optional
        Comparator (default: the fit's reference); only used with a fit.
    ci_prob : float
        Probability of the credible (and prediction) intervals; only used with a fit.
    order : "effect" or sequence of str, optional
        Row order, top to bottom: the table's order (default), ``"effect"`` (ascending point
        estimate) or a list naming every treatment of the table once.
    by_class : bool
        Group the rows by treatment class (from ``fit.network.classes`` or the table's
        ``class`` column) under bold class headers separated by lines.
    prediction : bool
        Also draw the prediction interval of the effect in a new study, as a thinner, lighter
        bar behind the credible interval.
    xlabel : str, optional
        Label of the x axis; by default it names the comparator and the interval.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        If the table lacks a needed column or is empty, ``order`` does not name every
        treatment exactly once, or ``by_class=True`` without class information.
    """
    table = _effects_table(fit_or_table, reference, ci_prob, prediction, by_class)
    estimate = "median" if "median" in table.columns else "mean"
    table = _ordered(table, order, estimate)
    classes = [str(c) for c in table["class"]] if by_class else []

    # Row positions (0 = top); class headers take a row of their own.
    positions: list[float] = []
    headers: list[tuple[str, float]] = []
    separators: list[float] = []
    if by_class:
        groups = list(dict.fromkeys(classes))
        row = 0.0
        rows_by_group = []
        for g, name in enumerate(groups):
            if g:
                separators.append(row - 0.5)
            headers.append((name, row))
            row += 1
            members = [i for i, c in enumerate(classes) if c == name]
            rows_by_group.extend(members)
            for _ in members:
                positions.append(row)
                row += 1
        table = table.iloc[rows_by_group].reset_index(drop=True)
    else:
        positions = [float(i) for i in range(len(table))]
    y = np.asarray(positions, dtype=float)

    import matplotlib.pyplot as plt

    created = ax is None
    if created:
        height = 1.2 + 0.32 * (len(y) + len(headers))
        fig, ax = plt.subplots(figsize=(6.4, height))
    else:
        fig = _root_figure(ax)

    est = table[estimate].to_numpy(dtype=float)
    lo = table["ci_lower"].to_numpy(dtype=float)
    hi = table["ci_upper"].to_numpy(dtype=float)
    pct = f"{100 * ci_prob:g}%" if not isinstance(fit_or_table, pd.DataFrame) else None
    ci_label = f"{pct} CrI" if pct else "Credible interval"
    if prediction:
        ax.hlines(
            y,
            table["pi_lower"].to_numpy(dtype=float),
            table["pi_upper"].to_numpy(dtype=float),
            color="tab:blue",
            alpha=0.35,
            linewidth=1.0,
            gid="nma-pi",
            label=f"{pct} PrI" if pct else "Prediction interval",
        )
    ax.hlines(y, lo, hi, color="black", linewidth=2.0, gid="nma-ci", label=ci_label)
    ax.plot(est, y, "s", color="black", markersize=5, linestyle="none", gid="nma-point")
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=1.0, gid="nma-null")

    transform = ax.get_yaxis_transform()
    for name, pos in headers:
        ax.text(
            0.01,
            pos,
            str(name),
            transform=transform,
            fontweight="bold",
            ha="left",
            va="center",
            gid="nma-class-label",
        )
    for pos in separators:
        ax.axhline(pos, color="lightgrey", linewidth=0.8, gid="nma-class-separator")

    ax.set_yticks(y)
    ax.set_yticklabels([str(t) for t in table["treatment"]])
    ax.set_ylim(max(positions) + 0.6, -0.6)  # top to bottom
    if xlabel is None:
        comparators = list(dict.fromkeys(table["comparator"]))
        versus = f" vs {comparators[0]}" if len(comparators) == 1 else ""
        xlabel = f"Relative effect{versus} ({estimate}, {ci_label})"
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if prediction:
        ax.legend(fontsize="small", frameon=False, loc="best")
    if created:
        fig.tight_layout()
    return fig


def _root_figure(ax) -> Figure:
    """Return the root figure of an Axes (walking up from a SubFigure)."""
    from matplotlib.figure import Figure

    fig = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def _effects_table(source, reference, ci_prob, prediction, by_class) -> pd.DataFrame:
    """Return the effects table (with a ``class`` column when grouping)."""
    if isinstance(source, pd.DataFrame):
        table = source.reset_index(drop=True)
        needed = list(_INTERVAL_COLUMNS)
        if "median" not in table.columns and "mean" not in table.columns:
            needed.append("median")
        if prediction:
            needed += ["pi_lower", "pi_upper"]
        if by_class:
            needed.append("class")
        missing = [c for c in needed if c not in table.columns]
        if missing:
            raise ModelSpecError(
                f"The effects table lacks columns {missing}; it needs treatment, comparator, "
                "median (or mean), ci_lower, ci_upper"
                + (", pi_lower, pi_upper" if prediction else "")
                + (", class" if by_class else "")
                + ".",
                rule="bad-option",
            )
        if table.empty:
            raise ModelSpecError("The effects table has no rows.", rule="bad-option")
        return table
    if not hasattr(source, "relative_effects"):
        raise ModelSpecError(
            f"plot_forest needs a NetworkFit or a DataFrame, got {type(source).__name__}.",
            rule="bad-option",
        )
    if prediction:
        table = source.prediction_interval(reference, ci_prob=ci_prob)
    else:
        table = source.relative_effects(reference, ci_prob=ci_prob)
    table = table.reset_index(drop=True)
    if by_class:
        mapping = source.network.classes
        if not mapping:
            raise ModelSpecError(
                "by_class=True needs treatment classes; the network has none.",
                rule="bad-option",
            )
        classes = [str(mapping.get(t, _NO_CLASS)) for t in table["treatment"]]
        table = table.assign(**{"class": classes})
    return table


def _ordered(table: pd.DataFrame, order, estimate: str) -> pd.DataFrame:
    """Reorder the rows of the table (top to bottom)."""
    if order is None:
        return table
    if isinstance(order, str):
        if order != "effect":
            raise ModelSpecError(
                f"order={order!r}: give 'effect' or a list of treatments.", rule="bad-option"
            )
        return table.sort_values(estimate, kind="stable").reset_index(drop=True)
    order = [str(t) for t in order]
    names = [str(t) for t in table["treatment"]]
    if sorted(order) != sorted(names) or len(set(order)) != len(order):
        raise ModelSpecError(
            f"order={order!r} must name every treatment of the table once: {names}.",
            rule="bad-option",
        )
    index = {name: i for i, name in enumerate(names)}
    return table.iloc[[index[t] for t in order]].reset_index(drop=True)
