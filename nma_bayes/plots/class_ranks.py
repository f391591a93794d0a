"""Rankograms and cumulative ranking curves, one panel per treatment class.

The plot draws a tidy table of rank probabilities with columns ``treatment, class, rank,
probability, cumulative`` (rank 1 = best; one row per treatment and rank), as returned by
``NetworkFit.rank_probabilities_by_class`` (given the fit, the plot calls that method).
matplotlib is imported when a plot is drawn.

Every panel is one ``Axes`` titled with its class; it holds one line per treatment of the class
(labelled with the treatment's name, in the order of first appearance in the table), with
``x`` = rank and ``y`` = probability of that rank (or of that rank or better, ``cumulative=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..base.validate import resolve_direction
from ._figure import panel_grid, table_or_summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.record import NetworkFit

__all__ = ["plot_class_ranks"]

RANK_COLUMNS = ("treatment", "class", "rank", "probability", "cumulative")


def plot_class_ranks(
    table: pd.DataFrame | NetworkFit,
    *,
    cumulative: bool = False,
    classes: Sequence[str] | None = None,
    lower_is_better: bool | None = None,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Draw rankograms (or cumulative ranking curves) per treatment class.

    Parameters
    ----------
    table : DataFrame or NetworkFit
        Columns ``treatment, class, rank, probability, cumulative``, one row per treatment and
        rank (rank 1 = best), as from ``fit.rank_probabilities_by_class(lower_is_better=...)``;
        or the fit itself (the plot then calls that method).
    cumulative : bool
        Plot the cumulative ranking curve (probability of that rank or better; the area under it
        gives SUCRA) instead of the rankogram (probability of each rank).
    classes : sequence of str, optional
        Classes to draw, in this order; by default every class, in order of first appearance in
        ``table``.
    lower_is_better : bool, optional
        Benefit direction, with a fit: by default the one recorded on the fit's network
        (:func:`~nma_bayes.base.validate.resolve_direction`); required when the network
        records none. Ignored with a table (its ranks already have a direction).
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        Axes to draw into, one per class (a single ``Axes`` when one class is drawn); by default a
        new figure with a grid of panels is created.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown): one panel per class, titled with the class name, with
        one line per treatment of the class and a legend of the treatment names.

    Raises
    ------
    ModelSpecError
        If ``table`` is neither a DataFrame nor a fit, lacks a column, is empty, holds missing
        or non-numeric ranks or probabilities or a treatment in several classes; if ``classes``
        names a class not in the table, repeats one or is empty; if ``ax`` does not hold one
        Axes per class; or, with a fit, if the direction is unknown.
    """

    def summary(fit) -> pd.DataFrame:
        direction = resolve_direction(lower_is_better, fit.network, required=True)
        return fit.rank_probabilities_by_class(lower_is_better=direction)

    table, _ = table_or_summary(table, summary, "rank_probabilities_by_class", "plot_class_ranks")
    order, groups = _check_table(table)
    if classes is not None:
        order = _chosen_classes(classes, order, groups)
    fig, axes = panel_grid(ax, order, "classes", panel_size=(4.2, 3.3), sharey=True)
    for panel, name in zip(axes, order, strict=True):
        _draw_panel(panel, name, groups[name], cumulative)
    if ax is None:
        fig.suptitle("Cumulative ranking curves" if cumulative else "Rankograms", y=1.0)
        fig.tight_layout()
    return fig


def _chosen_classes(classes, order: list[str], groups: dict) -> list[str]:
    """Validate the ``classes`` option against the classes of the table; return them."""
    classes = [classes] if isinstance(classes, str) else list(classes)
    unknown = [c for c in classes if c not in groups]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ModelSpecError(
            f"classes={classes!r}: give distinct classes of the table, which has "
            f"{order}" + (f"; unknown: {unknown}" if unknown else "") + ".",
            rule="bad-option",
        )
    return classes


def _draw_panel(panel, name: str, rows: pd.DataFrame, cumulative: bool) -> None:
    """One class: a line per treatment (in order of appearance), x = rank."""
    value = "cumulative" if cumulative else "probability"
    for treatment, lines in rows.groupby("treatment", sort=False):
        lines = lines.sort_values("rank", kind="stable")
        panel.plot(
            lines["rank"].to_numpy(dtype=float),
            lines[value].to_numpy(dtype=float),
            marker="o",
            markersize=3,
            label=str(treatment),
        )
    ranks = np.sort(rows["rank"].unique())
    # at most 12 ticks: every k-th rank
    panel.set_xticks(ranks if len(ranks) <= 12 else ranks[:: -(-len(ranks) // 12)])
    panel.set_ylim(-0.02, 1.02)
    panel.set_title(str(name))
    panel.set_xlabel("Rank (1 = best)")
    panel.set_ylabel("P(rank or better)" if cumulative else "P(rank)")
    panel.legend(fontsize="small", frameon=False)
    panel.grid(alpha=0.3)


def _check_table(table: pd.DataFrame) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """Validate the table; return the classes in order of appearance and their rows."""
    missing = [c for c in RANK_COLUMNS if c not in table.columns]
    if missing:
        raise ModelSpecError(
            f"The rank table lacks columns {missing}; it needs {list(RANK_COLUMNS)} (as from "
            "fit.rank_probabilities_by_class()).",
            rule="bad-option",
        )
    if table.empty:
        raise ModelSpecError("The rank table has no rows.", rule="bad-option")
    for col in ("rank", "probability", "cumulative"):
        values = pd.to_numeric(table[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values.to_numpy(dtype=float)).all():
            raise ModelSpecError(
                f"Column {col!r} of the rank table holds missing or non-numeric values.",
                rule="bad-option",
            )
    if table[["treatment", "class"]].isna().any().any():
        raise ModelSpecError(
            "Columns 'treatment' and 'class' of the rank table hold missing values.",
            rule="bad-option",
        )
    n_classes = table.groupby("treatment", sort=False)["class"].nunique()
    if (n_classes > 1).any():
        raise ModelSpecError(
            f"Treatments in several classes: {list(n_classes.index[n_classes > 1])}.",
            rule="bad-option",
        )
    order = list(dict.fromkeys(table["class"]))
    groups = {name: rows for name, rows in table.groupby("class", sort=False)}
    return order, groups
