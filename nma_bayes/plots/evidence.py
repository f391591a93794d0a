"""Net heat plot and comparison-adjusted funnel plot (frequentist evidence structure).

Each takes its result (:class:`~nma_bayes.results.netheat_funnel_result.NetHeat`,
:class:`~nma_bayes.results.netheat_funnel_result.Funnel`) or the data, which it passes with its
options to :func:`~nma_bayes.results.netheat.netheat` / :func:`~nma_bayes.results.funnel.funnel`.
matplotlib is imported when a plot is drawn. Artists carry a ``gid``:

- ``"netheat-cell"``: one square per cell of the heat matrix (design rows x design rows),
  coloured by the heat clipped at ``+-clip`` (red: negative, detaching the column's design
  reduces the row's inconsistency; blue: positive);
- ``"netheat-hat"``: one grey square per cell, its area proportional to ``|H|``;
- ``"funnel-points"``: one scatter per comparison (``TE_adj`` against ``seTE``);
- ``"funnel-limits"``: the pseudo confidence limits; ``"funnel-centre"`` the line at 0;
  ``"funnel-egger"``: Egger's regression line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..results.funnel import funnel
from ..results.netheat import netheat
from ..results.netheat_funnel_result import Funnel, NetHeat
from ._figure import figure_and_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_netheat", "plot_funnel"]

_HAT_GREY = "#4d4d4d"


def _result(result, kind: type, compute, options: dict, name: str):
    """Return ``result`` if it is a ``kind``, else compute it from the data with ``options``."""
    if isinstance(result, kind):
        if options:
            raise ModelSpecError(
                f"{name}: the options {sorted(options)} apply to data, not to a computed "
                f"{kind.__name__}; pass them to the function that computed it.",
                rule="bad-option",
            )
        return result
    return compute(result, **options)


def plot_netheat(result, *, clip: float = 8.0, ax=None, **options) -> Figure:
    """Draw the net heat plot (Krahn, Binder & König 2013; netmeta ``netheat``).

    A matrix of the design rows (rows and columns in the clustering order): each cell's colour
    is the change of the row's contribution to the between-designs Q when the column's design
    is detached (red: it falls, the column's design conflicts with the row; blue: it rises),
    clipped at ``+-clip`` like netmeta; the diagonal shows each row's own contribution
    (negated). The grey squares' areas are proportional to ``|H|``, the weight of the column's
    direct estimate in the network estimate of the row's comparison.

    Parameters
    ----------
    result : NetHeat, DataFrame or Network
        A result of :func:`nma_bayes.netheat`, or data to compute it from.
    clip : float
        Colour limit: heats beyond ``+-clip`` get the end colours (netmeta: 8).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure.
    **options
        With data: the options of :func:`nma_bayes.netheat` (``effects``, ``tau``,
        ``reference``, ``duplicate_arms``, column names).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``clip``, options given with a computed result, and any
        error of :func:`nma_bayes.netheat`.
    """
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    clip = VA.check_nonnegative(clip, "clip")
    if clip == 0:
        raise ModelSpecError("clip must be > 0, got 0.", rule="bad-option")
    res = _result(result, NetHeat, netheat, options, "plot_netheat")
    heat, hat = res.matrix().to_numpy(float), np.abs(res.hat.to_numpy(float))
    labels = res.labels()
    n = len(labels)
    font = 8.0 if n <= 25 else 6.0  # points
    matrix = max(3.0, n * (0.32 if n <= 25 else 0.2))  # inches
    label = 0.55 * font / 72 * max(map(len, labels))  # inches taken by the longest label
    fig, ax, created = figure_and_axes(ax, (matrix + label + 2.0, matrix + label + 0.9))
    cmap, norm = _heat_colours(), Normalize(-clip, clip)
    clipped = np.clip(heat, -clip, clip)
    biggest = hat.max() if hat.max() > 0 else 1.0
    for i in range(n):  # row i drawn at y = i (the axis is inverted: first row on top)
        for j in range(n):
            colour = cmap(norm(clipped[i, j]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colour, edgecolor="white",
                                   linewidth=0.5, gid="netheat-cell"))  # fmt: skip
            half = 0.45 * np.sqrt(hat[i, j] / biggest)  # area proportional to |H|
            ax.add_patch(Rectangle((j - half, i - half), 2 * half, 2 * half, facecolor=_HAT_GREY,
                                   alpha=0.55, linewidth=0, gid="netheat-hat"))  # fmt: skip
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(n), labels, rotation=90, fontsize=font)
    ax.set_yticks(range(n), labels, fontsize=font)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    mappable = _scalar_mappable(cmap, norm)
    bar = fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(f"change of the row's Q contribution when the column's design is detached "
                  f"(clipped at ±{clip:g})", fontsize="small")  # fmt: skip
    model = "common effect" if res.effects == "fixed" else f"random effects, tau = {res.tau:.3g}"
    ax.set_xlabel(f"Net heat plot ({model}); grey squares: |hat matrix| (area)\n"
                  "columns: design detached", fontsize="small")  # fmt: skip
    if created:
        fig.tight_layout()
    return fig


def _heat_colours():
    """Red (negative) through white to blue (positive), like netmeta's heat and blue scales."""
    from matplotlib.colors import LinearSegmentedColormap

    stops = [(0.0, "#b2182b"), (0.25, "#f4a582"), (0.5, "#ffffff"), (0.75, "#92c5de"),
             (1.0, "#2166ac")]  # fmt: skip
    return LinearSegmentedColormap.from_list("netheat", stops)


def _scalar_mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array([])
    return mappable


def plot_funnel(
    result,
    *,
    order=None,
    level: float = 0.95,
    egger: bool = True,
    ax=None,
    **options,
) -> Figure:
    """Draw the comparison-adjusted funnel plot (Chaimani et al. 2013; netmeta ``funnel``).

    Each study's effect for each pair of its treatments, less the pooled direct estimate of the
    comparison (``TE_adj``, x), against its standard error (y, 0 at the top), coloured and
    shaped by comparison; the pseudo ``level`` confidence limits ``0 +- z se``; and, with
    ``egger=True``, Egger's regression line ``TE_adj = a + b se`` with the tests' p-values.

    Parameters
    ----------
    result : Funnel, DataFrame or Network
        A result of :func:`nma_bayes.funnel`, or data to compute it from (then ``order`` is
        required).
    order : sequence of str, optional
        Treatment order (with data; see :func:`nma_bayes.funnel`).
    level : float
        Coverage of the pseudo confidence limits.
    egger : bool
        Draw Egger's regression line and the three tests' p-values.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure.
    **options
        With data: the other options of :func:`nma_bayes.funnel` (``pooled``, ``reference``,
        ``duplicate_arms``, column names).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) Data without ``order``, ``order`` or options given with a
        computed result, a bad ``level`` or ``egger``, and any error of :func:`nma_bayes.funnel`.
    """
    level = VA.check_probability(level, "level")
    egger = VA.check_bool(egger, "egger")
    if not isinstance(result, Funnel):
        if order is None:
            raise ModelSpecError(
                "plot_funnel needs order= (every treatment once) to draw data: the comparisons "
                "are oriented by it (Chaimani et al. 2013).",
                rule="bad-option",
            )
        options = {**options, "order": order}
    elif order is not None:
        options = {**options, "order": order}
    res = _result(result, Funnel, funnel, options, "plot_funnel")
    table = res.to_frame()
    comparisons = list(dict.fromkeys(table["comparison"]))
    fig, ax, created = figure_and_axes(ax, (8.5, 6.0))
    se_max = float(table["seTE"].max()) * 1.05
    z = float(ndtri(0.5 + level / 2))
    ax.plot([-z * se_max, 0, z * se_max], [se_max, 0, se_max], color="0.4", linestyle="--",
            linewidth=0.9, gid="funnel-limits", label=f"pseudo {level:.0%} limits")  # fmt: skip
    ax.axvline(0.0, color="0.2", linewidth=0.8, gid="funnel-centre")
    markers = "osD^v<>phX*"
    colours = _comparison_colours(len(comparisons))
    for k, comp in enumerate(comparisons):
        rows = table[table["comparison"] == comp]
        ax.scatter(rows["TE_adj"], rows["seTE"], s=28, marker=markers[k % len(markers)],
                   color=colours[k], edgecolors="black", linewidths=0.4, zorder=3,
                   label=comp, gid="funnel-points")  # fmt: skip
    if egger:
        _egger_line(ax, res, se_max)
    ax.set_ylim(se_max, 0.0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel("Effect centred at the comparison-specific pooled direct estimate "
                  f"({'common' if res.pooled == 'fixed' else 'random'} effects)")  # fmt: skip
    ax.set_title("Comparison-adjusted funnel plot\norder: " + " > ".join(res.order),
                 fontsize="medium")  # fmt: skip
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    if created:
        fig.tight_layout()
    return fig


def _comparison_colours(n: int) -> list:
    """One colour per comparison (tab10, then tab20 for more)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(k % cmap.N) for k in range(n)]


def _egger_line(ax, res: Funnel, se_max: float) -> None:
    """Egger's fitted line ``TE_adj = intercept + bias * se`` and the tests' p-values."""
    tests = res.tests().set_index("method")
    row = tests.loc["Egger"]
    se = np.array([0.0, se_max])
    ax.plot(row["intercept"] + row["estimate"] * se, se, color="#c0392b", linewidth=1.1,
            gid="funnel-egger", label="Egger regression")  # fmt: skip
    text = "\n".join(f"{name}: p = {tests.loc[m, 'p_value']:.3g}" for m, name in
                     (("Egger", "Egger"), ("Begg", "Begg-Mazumdar"),
                      ("Thompson", "Thompson-Sharp")))  # fmt: skip
    ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", ha="left", fontsize="small",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"}, gid="funnel-tests")
