"""The leverage plot of TSD2 (Dias et al. 2011; Spiegelhalter et al. 2002).

Draws the per-data-point table of :func:`nma_bayes.results.leverage.leverage_table`: each data
point's leverage (its ``pD`` contribution) against its signed deviance residual ``w``, with the
parabolas ``w^2 + leverage = c``. matplotlib is imported when the plot is drawn. Artists carry a
``gid``:

- ``"leverage-point"``: the markers, one per data point (one collection per kind of data point,
  arms and contrasts; multi-arm contrast studies, whose residual has no sign, drawn open);
- ``"leverage-contour"``: one line per contour ``c`` (``"leverage-contour-label"``: its value);
- ``"leverage-label"``: the study labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..results.leverage import OUTSIDE_C, Leverage, leverage_table
from ._figure import figure_and_axes, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_leverage", "LEVERAGE_LABELS"]

#: Which points :func:`plot_leverage` labels.
LEVERAGE_LABELS = ("outside", "all", "none")
_STYLE = {"arms": ("o", "#1f77b4"), "contrasts": ("s", "#d62728")}


def _points(source) -> pd.DataFrame:
    """Return the per-point table of a ``Leverage``, of its ``to_frame()``, or of a fit."""
    if isinstance(source, Leverage):
        return source.to_frame()
    if isinstance(source, pd.DataFrame):
        require_columns(source, ["study", "data", "leverage", "residual"],
                        "The leverage table (nma_bayes.leverage(fit).to_frame())")  # fmt: skip
        return source.reset_index(drop=True)
    if hasattr(source, "model_fit"):
        return leverage_table(source).to_frame()
    raise ModelSpecError(
        f"plot_leverage needs a NetworkFit, a Leverage or its table, got {type(source).__name__}.",
        rule="bad-option",
    )


def _check_contours(contours) -> list[float]:
    """Return the contours as floats, each finite and > 0."""
    try:
        values = [float(c) for c in contours]
    except (TypeError, ValueError):
        values = None
    if (
        values is None
        or any(isinstance(c, bool) for c in contours)
        or not all(np.isfinite(v) and v > 0 for v in values)
    ):
        raise ModelSpecError(
            f"contours must be a sequence of positive numbers, got {contours!r}.",
            rule="bad-option",
        )
    return sorted(values)


def _label_text(row) -> str:
    """Return a point's label: the study, with the treatment for an arm."""
    treatment = getattr(row, "treatment", None)
    if isinstance(treatment, str):
        return f"{row.study} ({treatment})"
    return str(row.study)


def plot_leverage(source, *, contours=(1, 2, 3, 4), label: str = "outside", ax=None) -> Figure:
    """Leverage plot: each data point's leverage against its deviance residual (TSD2).

    Parameters
    ----------
    source : NetworkFit, Leverage or DataFrame
        A fit (the table is computed by :func:`nma_bayes.results.leverage.leverage_table`), its
        :class:`~nma_bayes.results.leverage.Leverage`, or ``Leverage.to_frame()``.
    contours : sequence of float
        Values ``c`` of the parabolas ``w^2 + leverage = c`` drawn (TSD2 draws 1 to 4). A point
        outside the parabola ``c`` has a DIC contribution ``resdev + leverage`` above ``c``.
    label : {"outside", "all", "none"}
        Label the points outside ``c = 3`` (TSD2's poorly fitting or influential points), every
        point, or none. A label is the study, with the treatment for an arm.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) For a bad ``source``, ``contours`` or ``label``.

    Notes
    -----
    Dias et al. (2011), NICE DSU TSD2, section 3.3; Spiegelhalter et al. (2002): for every data
    point, ``leverage = resdev - dev(at the posterior mean)`` on the y axis and
    ``w = sign(y - yhat) * sqrt(resdev)`` on the x axis. Multi-arm contrast studies (one
    multivariate point, no sign) are drawn at ``+sqrt(resdev)`` with an open marker.
    """
    if label not in LEVERAGE_LABELS:
        raise ModelSpecError(f"label={label!r}: use one of {LEVERAGE_LABELS}.",
                             rule="bad-option")  # fmt: skip
    levels = _check_contours(contours)
    points = _points(source)
    fig, ax, created = figure_and_axes(ax, (6.5, 5.0))
    _draw_points(ax, points)
    reach = _draw_contours(ax, levels, points)
    if label != "none":
        dic = points["residual"] ** 2 + points["leverage"]  # the DIC contribution
        shown = points if label == "all" else points[dic > OUTSIDE_C]
        for row in shown.itertuples(index=False):
            ax.annotate(_label_text(row), (row.residual, row.leverage), xytext=(4, 3),
                        textcoords="offset points", fontsize="x-small",
                        gid="leverage-label")  # fmt: skip
    ax.set_xlim(-reach, reach)
    ax.set_ylim(bottom=min(0.0, float(points["leverage"].min()) * 1.1))
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xlabel("deviance residual  w = sign(y - ŷ) √resdev")
    ax.set_ylabel("leverage  (resdev − deviance at the posterior mean)")
    ax.set_title(f"Leverage plot (TSD2): contours w² + leverage = "
                 f"{', '.join(f'{c:g}' for c in levels)}", fontsize="medium")  # fmt: skip
    if created:
        fig.tight_layout()
    return fig


def _draw_points(ax, points: pd.DataFrame) -> None:
    """One collection per kind of data point; open markers where the sign is not defined."""
    signed = points["sign_defined"] if "sign_defined" in points else pd.Series(True, points.index)
    kinds = list(dict.fromkeys(points["data"]))
    for kind in kinds:
        rows = points[points["data"] == kind]
        marker, colour = _STYLE.get(kind, ("o", "k"))
        filled = signed[rows.index].to_numpy(dtype=bool)
        face = np.where(filled, colour, "none")
        ax.scatter(rows["residual"], rows["leverage"], marker=marker, s=24, facecolors=face,
                   edgecolors=colour, label=kind if len(kinds) > 1 else None,
                   gid="leverage-point", zorder=3)  # fmt: skip
    if len(kinds) > 1:
        ax.legend(loc="upper right", frameon=False, fontsize="small")


def _draw_contours(ax, levels: list[float], points: pd.DataFrame) -> float:
    """Draw ``leverage = c - w^2`` for each ``c`` (above 0); return the half-width of the x axis."""
    reach = max([np.sqrt(max(levels, default=1.0)), *np.abs(points["residual"])]) * 1.1
    for c in levels:
        w = np.linspace(-np.sqrt(c), np.sqrt(c), 201)
        ax.plot(w, c - w**2, color="grey", lw=0.8, ls="--", gid="leverage-contour")
        ax.annotate(f"{c:g}", (0, c), xytext=(2, 2), textcoords="offset points",
                    fontsize="x-small", color="grey", gid="leverage-contour-label")  # fmt: skip
    return float(reach)
