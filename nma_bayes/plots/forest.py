"""Forest plot of relative effects against one comparator.

The plot draws a table of relative effects (columns ``treatment, comparator, median`` or
``mean``, ``ci_lower, ci_upper`` and, for prediction intervals, ``pi_lower, pi_upper``) as
returned by :meth:`NetworkFit.relative_effects
<nma_bayes.results.record.NetworkFit.relative_effects>` and :meth:`NetworkFit.prediction_interval
<nma_bayes.results.record.NetworkFit.prediction_interval>`; given a fit, the plot calls them.
matplotlib is imported when a plot is drawn.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ._figure import figure_and_axes, table_or_summary

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
    rows = _Rows.by_class(table) if by_class else _Rows.plain(table)
    fig, ax, created = figure_and_axes(ax, (6.4, 1.2 + 0.32 * (len(rows.y) + len(rows.headers))))
    # the interval probability is known only when the plot computed the table from a fit
    pct = f"{100 * ci_prob:g}%" if not isinstance(fit_or_table, pd.DataFrame) else None
    ci_label = f"{pct} CrI" if pct else "Credible interval"
    pi_label = (f"{pct} PrI" if pct else "Prediction interval") if prediction else None
    _draw_intervals(ax, rows, estimate, ci_label, pi_label)
    _draw_classes(ax, rows)

    ax.set_yticks(rows.y)
    ax.set_yticklabels([str(t) for t in rows.table["treatment"]])
    ax.set_ylim(max(rows.y) + 0.6, -0.6)  # top to bottom
    if xlabel is None:
        comparators = list(dict.fromkeys(rows.table["comparator"]))
        versus = f" vs {comparators[0]}" if len(comparators) == 1 else ""
        xlabel = f"Relative effect{versus} ({estimate}, {ci_label})"
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if prediction:
        ax.legend(fontsize="small", frameon=False, loc="best")
    if created:
        fig.tight_layout()
    return fig


@dataclass
class _Rows:
    """Layout of the forest plot: the table in drawn order and its rows' y positions (0 = top).

    With classes, each class gets a header row of its own (``headers``: name and y) and a
    separator line between it and the previous class (``separators``: y).
    """

    table: pd.DataFrame
    y: np.ndarray
    headers: list[tuple[str, float]] = field(default_factory=list)
    separators: list[float] = field(default_factory=list)

    @classmethod
    def plain(cls, table: pd.DataFrame) -> _Rows:
        """One row per treatment, in the table's order."""
        return cls(table, np.arange(len(table), dtype=float))

    @classmethod
    def by_class(cls, table: pd.DataFrame) -> _Rows:
        """Rows grouped by class (classes in order of first appearance) under class headers."""
        classes = [str(c) for c in table["class"]]
        positions, headers, separators, members_in_order = [], [], [], []
        row = 0.0
        for g, name in enumerate(dict.fromkeys(classes)):
            if g:
                separators.append(row - 0.5)
            headers.append((name, row))
            row += 1
            members = [i for i, c in enumerate(classes) if c == name]
            members_in_order.extend(members)
            positions.extend(row + k for k in range(len(members)))
            row += len(members)
        grouped = table.iloc[members_in_order].reset_index(drop=True)
        return cls(grouped, np.asarray(positions, dtype=float), headers, separators)


def _draw_intervals(ax, rows: _Rows, estimate: str, ci_label: str, pi_label: str | None) -> None:
    """Draw the point estimates, credible intervals, the null line and prediction intervals.

    Prediction intervals (thin, light, behind the credible intervals) are drawn when
    ``pi_label`` names them in the legend.
    """
    table, y = rows.table, rows.y
    if pi_label is not None:
        ax.hlines(
            y,
            table["pi_lower"].to_numpy(dtype=float),
            table["pi_upper"].to_numpy(dtype=float),
            color="tab:blue",
            alpha=0.35,
            linewidth=1.0,
            gid="nma-pi",
            label=pi_label,
        )
    lo = table["ci_lower"].to_numpy(dtype=float)
    hi = table["ci_upper"].to_numpy(dtype=float)
    ax.hlines(y, lo, hi, color="black", linewidth=2.0, gid="nma-ci", label=ci_label)
    est = table[estimate].to_numpy(dtype=float)
    ax.plot(est, y, "s", color="black", markersize=5, linestyle="none", gid="nma-point")
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=1.0, gid="nma-null")


def _draw_classes(ax, rows: _Rows) -> None:
    """Draw the bold class headers and the lines between classes (none without classes)."""
    transform = ax.get_yaxis_transform()  # x in axes units, y in data units
    for name, pos in rows.headers:
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
    for pos in rows.separators:
        ax.axhline(pos, color="lightgrey", linewidth=0.8, gid="nma-class-separator")


def _effects_table(source, reference, ci_prob, prediction, by_class) -> pd.DataFrame:
    """Return the effects table (with a ``class`` column when grouping)."""

    def summary(fit) -> pd.DataFrame:
        if prediction:
            return fit.prediction_interval(reference, ci_prob=ci_prob)
        return fit.relative_effects(reference, ci_prob=ci_prob)

    table, from_fit = table_or_summary(source, summary, "relative_effects", "plot_forest")
    if not from_fit:
        _check_columns(table, prediction, by_class)
    elif by_class:
        mapping = source.network.classes
        if not mapping:
            raise ModelSpecError(
                "by_class=True needs treatment classes; the network has none.",
                rule="bad-option",
            )
        classes = [str(mapping.get(t, _NO_CLASS)) for t in table["treatment"]]
        table = table.assign(**{"class": classes})
    return table


def _check_columns(table: pd.DataFrame, prediction: bool, by_class: bool) -> None:
    """Refuse a given effects table that lacks a column the plot draws, or has no rows."""
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
