"""Leave-one-study-out influence plots (case-deletion diagnostics, Viechtbauer & Cheung 2010).

The plot draws the tables of a :class:`~nma_bayes.analyses.influence.LeaveOneOut` result, taken
duck-typed (its ``summary``, ``effects`` and ``heterogeneity`` methods), since it needs several
fits to compute. matplotlib is imported when a plot is drawn. Artists carry a ``gid``:

- ``"influence-bar"``: one bar per study (``kind="effects"``), top to bottom;
- ``"influence-threshold"``: the two vertical lines at ``-threshold_sd`` and ``+threshold_sd``;
- ``"influence-top-change"``: one text per study whose removal changes the top treatment;
- ``"influence-heatmap"``: the image of shifts, study x treatment (``kind="heatmap"``);
- ``"influence-cell"``: one text per cell shifted by more than the threshold;
- ``"influence-tau"``: the points of ``tau`` without each study and ``"influence-tau-full"``
  the line at the full fit's ``tau`` (``kind="tau"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ._figure import figure_and_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_influence", "INFLUENCE_KINDS"]

#: What :func:`plot_influence` draws.
INFLUENCE_KINDS = ("effects", "heatmap", "tau")
_FLAGGED, _CALM = "#c0392b", "#8c8c8c"


def plot_influence(
    result,
    *,
    kind: str = "effects",
    threshold_sd: float | None = None,
    max_studies: int | None = 30,
    ax=None,
) -> Figure:
    """Draw how much leaving each study out moves the network meta-analysis.

    Parameters
    ----------
    result : LeaveOneOut
        The result of :func:`nma_bayes.analyses.influence.leave_one_out` (anything with its
        ``summary(threshold_sd)``, ``effects()`` and ``heterogeneity()`` methods).
    kind : {"effects", "heatmap", "tau"}
        ``"effects"``: per study, the largest shift of a relative effect (signed, in posterior
        SDs of the full fit, the treatment named), flagged studies in red, the
        ``+-threshold_sd`` lines and the new top treatment where it changes. ``"heatmap"``:
        the shift of every relative effect, study x treatment, cells beyond the threshold
        labelled. ``"tau"``: ``tau`` (median and interval) without each study against the
        full fit's (random effects).
    threshold_sd : float, optional
        Flag threshold; default the result's.
    max_studies : int or None
        Draw the studies with the largest shifts (``|change|`` of ``tau`` for ``"tau"``), at
        most this many; ``None`` draws every study. Studies that are not refittable are
        counted in the title, not drawn.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) For an unknown ``kind``, a bad ``max_studies``, a ``result``
        without the methods, or no refittable study.
    """
    if kind not in INFLUENCE_KINDS:
        raise ModelSpecError(f"kind={kind!r}: use one of {INFLUENCE_KINDS}.", rule="bad-option")
    if max_studies is not None and (not isinstance(max_studies, int) or max_studies < 1):
        raise ModelSpecError(
            f"max_studies must be a positive integer or None, got {max_studies!r}.",
            rule="bad-option",
        )
    if not all(hasattr(result, m) for m in ("summary", "effects", "heterogeneity")):
        raise ModelSpecError(
            f"plot_influence needs the result of leave_one_out, got {type(result).__name__}.",
            rule="bad-option",
        )
    summary = result.summary(threshold_sd)
    estimable = summary[summary["method"] != "not refittable"]
    if estimable.empty:
        raise ModelSpecError(
            "No study could be left out (every removal disconnects the network): nothing to "
            "draw.",
            rule="bad-option",
        )
    if kind == "tau":
        return _plot_tau(result.heterogeneity(), summary, max_studies, ax)
    effects = result.effects()
    if kind == "heatmap":
        return _plot_heatmap(effects, summary, max_studies, ax)
    return _plot_effects(effects, summary, max_studies, ax)


def _largest(effects: pd.DataFrame) -> pd.DataFrame:
    """Per study, the row of its largest ``|shift_sd|`` (signed shift and treatment)."""
    idx = effects["shift_sd"].abs().groupby(effects["study"], sort=False).idxmax()
    return effects.loc[idx].set_index("study")


def _labels(ax, xlabel: str, what: str, shown: int, summary: pd.DataFrame) -> None:
    """Title (how many studies are flagged) and x label with a note on what is drawn."""
    import textwrap

    estimable = summary[summary["method"] != "not refittable"]
    n_est, lost = len(estimable), len(summary) - len(estimable)
    n_flag = int(estimable["flag"].fillna(False).astype(bool).sum())
    threshold = summary.attrs["threshold_sd"]
    ax.set_title(f"Leave-one-study-out influence\n{n_flag} of {n_est} studies flagged "
                 f"(> {threshold:g} SD or a new top treatment)", fontsize="medium")  # fmt: skip
    notes = [f"Showing the {shown} studies {what}."] if shown < n_est else []
    if lost:
        which = "1 study is" if lost == 1 else f"{lost} studies are"
        notes.append(f"{which} not refittable (removal disconnects the network).")
    ax.set_xlabel("\n".join([xlabel, *(textwrap.fill(n, width=56) for n in notes)]))


def _size(labels, n: int, base: float) -> tuple[float, float]:
    """Figure size: wider for long labels, taller for more rows."""
    longest = max((len(str(s)) for s in labels), default=10)
    return min(max(base + 0.06 * longest, 6.5), 12.0), 2.0 + 0.26 * n


def _plot_effects(effects, summary, max_studies, ax) -> Figure:
    """Bars of the largest signed shift per study, flagged studies in red."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    threshold = summary.attrs["threshold_sd"]
    rows = summary.dropna(subset=["max_shift_sd"]).sort_values("max_shift_sd", ascending=False)
    rows = rows.head(max_studies) if max_studies else rows
    big = _largest(effects).loc[rows["study"]]
    n = len(rows)
    labels = [f"{s} ({t})" for s, t in zip(rows["study"], big["treatment"], strict=True)]
    fig, ax, created = figure_and_axes(ax, _size(labels, n, 5.0))
    y = np.arange(n)
    shift = big["shift_sd"].to_numpy(dtype=float)
    flag = rows["flag"].to_numpy(dtype=bool)
    bars = ax.barh(y, shift, color=np.where(flag, _FLAGGED, _CALM), height=0.7)
    for bar in bars:
        bar.set_gid("influence-bar")
    for x in (-threshold, threshold):
        ax.axvline(x, color="black", linestyle="--", linewidth=0.9, gid="influence-threshold")
    ax.axvline(0.0, color="black", linewidth=0.6)
    reach = max(np.abs(shift).max(), threshold) * 1.15
    for yi, (s, top, best) in enumerate(zip(shift, rows["top_changes"], rows["best"],
                                            strict=True)):  # fmt: skip
        if bool(top):
            ax.text(s + (0.02 if s >= 0 else -0.02) * reach, yi, f"top: {best}", va="center",
                    ha="left" if s >= 0 else "right", fontsize="x-small", color=_FLAGGED,
                    gid="influence-top-change")  # fmt: skip
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(-reach * 1.35, reach * 1.35)
    ref = effects["comparator"].iloc[0]
    xlabel = (f"Largest shift of an effect vs {ref} without the study\n"
              "(posterior mean change / full-fit posterior SD)")  # fmt: skip
    _labels(ax, xlabel, "with the largest shifts", n, summary)
    handles = [
        Patch(color=_FLAGGED, label="flagged"),
        Patch(color=_CALM, label="not flagged"),
        Line2D([], [], color="black", linestyle="--", label=f"±{threshold:g} SD"),
    ]
    # the rows are sorted by |shift|: the smallest bars, at the bottom, leave that corner free
    ax.legend(handles=handles, fontsize="small", loc="lower right", framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    if created:
        fig.tight_layout()
    return fig


def _plot_heatmap(effects, summary, max_studies, ax) -> Figure:
    """Heat map of every shift, study x treatment, diverging around 0."""
    threshold = summary.attrs["threshold_sd"]
    rows = summary.dropna(subset=["max_shift_sd"]).sort_values("max_shift_sd", ascending=False)
    rows = rows.head(max_studies) if max_studies else rows
    treatments = list(dict.fromkeys(effects["treatment"]))
    mat = effects.pivot(index="study", columns="treatment", values="shift_sd")
    mat = mat.loc[rows["study"], treatments].to_numpy(dtype=float)
    n, m = mat.shape
    width, height = _size(rows["study"], n, 3.2 + 0.3 * m)
    fig, ax, created = figure_and_axes(ax, (width, height + 0.07 * max(map(len, treatments))))
    vmax = max(float(np.nanmax(np.abs(mat))), 1.5 * threshold)
    image = ax.imshow(mat, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    image.set_gid("influence-heatmap")
    for i, j in zip(*np.nonzero(np.abs(mat) > threshold), strict=True):
        ax.text(j, i, f"{mat[i, j]:.1f}", ha="center", va="center", fontsize="x-small",
                color="white" if abs(mat[i, j]) > 0.6 * vmax else "black",
                gid="influence-cell")  # fmt: skip
    ax.set_xticks(range(m), treatments, rotation=90, fontsize="small")
    ax.set_yticks(range(n), list(rows["study"]), fontsize="small")
    for label, flagged in zip(ax.get_yticklabels(), rows["flag"], strict=True):
        if bool(flagged):
            label.set_color(_FLAGGED)
            label.set_fontweight("bold")
    ref = effects["comparator"].iloc[0]
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    bar.set_label(f"shift of the effect vs {ref} (full-fit posterior SDs)")
    _labels(ax, "treatment", "with the largest shifts (flagged in red)", n, summary)
    if created:
        fig.tight_layout()
    return fig


def _plot_tau(tau: pd.DataFrame, summary, max_studies, ax) -> Figure:
    """Posterior median and interval of ``tau`` without each study, against the full fit's."""
    tau = tau.assign(size=tau["change"].abs()).sort_values("size", ascending=False)
    tau = tau.head(max_studies) if max_studies else tau
    n = len(tau)
    fig, ax, created = figure_and_axes(ax, _size(tau["study"], n, 4.5))
    y = np.arange(n)
    flag = tau["study"].map(summary.set_index("study")["flag"]).fillna(False).to_numpy(bool)
    med = tau["tau"].to_numpy(dtype=float)
    ax.hlines(y, tau["tau_lower"], tau["tau_upper"], color=np.where(flag, _FLAGGED, _CALM))
    ax.scatter(med, y, color=np.where(flag, _FLAGGED, "black"), s=18, zorder=3,
               gid="influence-tau")  # fmt: skip
    full = float(tau["tau_full"].iloc[0])
    ax.axvline(full, color="black", linestyle="--", linewidth=0.9, gid="influence-tau-full")
    ax.set_yticks(y, list(tau["study"]), fontsize="small")
    ax.set_ylim(n - 0.5, -0.5)
    xlabel = (f"Between-study SD tau without the study (median, credible interval)\n"
              f"dashed: the full fit's median {full:.3g}; red: flagged studies")  # fmt: skip
    _labels(ax, xlabel, "with the largest changes of tau", n, summary)
    if created:
        fig.tight_layout()
    return fig
