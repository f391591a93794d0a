"""Network graph: treatments as nodes, direct comparisons as edges.

The plot only draws what :meth:`Network.comparisons <nma_bayes.data.network.Network.comparisons>` and
:meth:`Network.treatment_table <nma_bayes.data.network.Network.treatment_table>` compute; networkx is
used for the layout only. matplotlib and networkx are imported when a plot is drawn.

Artists are tagged with a ``gid`` so the figure can be inspected programmatically:

- ``"nma-nodes"``: the node ``PathCollection`` (one offset per treatment, in treatment order;
  ``get_sizes()`` are the marker areas in points²);
- ``"nma-edges"``: the edge ``LineCollection`` (one segment per row of ``comparisons()``, in its
  order; ``get_linewidths()`` proportional to ``n_studies``);
- ``"nma-label"``: one text per treatment (its name), in treatment order;
- ``"nma-edge-label"``: one text per edge (its number of studies), if ``edge_labels=True``;
- ``"nma-caption"``: a caption saying what node areas and edge widths show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ModelSpecError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..data.network import Network

__all__ = ["plot_network"]

NODE_SIZES = ("patients", "studies")
LAYOUTS = ("circular", "spring")
#: Area (points²) of the largest node and width (points) of the widest edge.
MAX_NODE_AREA = 1500.0
MAX_EDGE_WIDTH = 8.0
#: Edge width (points) per study when the busiest comparison has few studies.
EDGE_WIDTH_PER_STUDY = 1.5
#: Circular layouts with more treatments than this get labels rotated along the radius.
RADIAL_LABELS_FROM = 12
_NO_CLASS = "(no class)"


def plot_network(
    network: Network,
    *,
    node_size: str = "patients",
    ax: Axes | None = None,
    layout: str = "circular",
    seed: int = 0,
    show_labels: bool = True,
    edge_labels: bool = False,
) -> Figure:
    """Draw the network graph of treatments and direct comparisons.

    Parameters
    ----------
    network : Network
        The network to draw.
    node_size : {"patients", "studies"}
        What node *areas* are proportional to: patients randomised to the treatment, or studies
        that include it. ``"patients"`` falls back to studies when any arm's sample size is
        unknown (always for contrast data, which carry no sample sizes); the caption under the
        graph says which was used.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; by default a new figure is created.
    layout : {"circular", "spring"}
        Node positions: treatments on a circle in treatment order (deterministic), or a
        force-directed layout (``networkx.spring_layout`` weighted by number of studies, seeded
        with ``seed``).
    seed : int
        Random seed of the spring layout (ignored for ``"circular"``).
    show_labels : bool
        Write each treatment's name next to its node.
    edge_labels : bool
        Write each comparison's number of studies at the middle of its edge.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (not shown). Edge widths are proportional to the number of
        studies of the comparison. With treatment classes (``network.classes``) nodes are
        coloured by class and a legend lists the classes.

    Raises
    ------
    ModelSpecError
        For an unknown ``node_size`` or ``layout``.
    """
    if node_size not in NODE_SIZES:
        raise ModelSpecError(
            f"node_size={node_size!r}: use one of {NODE_SIZES}.", rule="bad-option"
        )
    if layout not in LAYOUTS:
        raise ModelSpecError(f"layout={layout!r}: use one of {LAYOUTS}.", rule="bad-option")

    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    table = network.treatment_table()
    comps = network.comparisons()
    names = list(network.treatments)
    pos = _layout(names, comps, layout, seed)
    xy = np.array([pos[t] for t in names], dtype=float).reshape(len(names), 2)

    basis = node_size
    if basis == "patients" and table["n_patients"].isna().any():
        basis = "studies"
    value = table["n_patients" if basis == "patients" else "n_studies"].to_numpy(dtype=float)
    areas = MAX_NODE_AREA * value / value.max()

    colors, handles = _class_colors(names, network.classes)

    if ax is None:
        width = 11.0 if handles else 8.0
        fig = plt.figure(figsize=(width, 8.0))
        ax = fig.add_axes((0.02, 0.05, 0.96 * 8.0 / width, 0.92))
    fig = ax.figure
    while not isinstance(fig, Figure):  # a SubFigure: walk up to the root figure
        fig = fig.figure

    index = {t: i for i, t in enumerate(names)}
    ends = [
        (index[a], index[b]) for a, b in zip(comps["treatment1"], comps["treatment2"], strict=True)
    ]
    segments = [xy[[a, b]] for a, b in ends]
    n_studies = comps["n_studies"].to_numpy(dtype=float)
    per_study = (
        min(EDGE_WIDTH_PER_STUDY, MAX_EDGE_WIDTH / n_studies.max()) if len(n_studies) else 1.0
    )
    edges = LineCollection(
        segments,
        linewidths=n_studies * per_study,
        colors="0.45",
        alpha=0.8,
        zorder=1,
        capstyle="round",
    )
    edges.set_gid("nma-edges")
    ax.add_collection(edges)

    nodes = ax.scatter(
        xy[:, 0], xy[:, 1], s=areas, c=colors, edgecolors="white", linewidths=1.0, zorder=2
    )
    nodes.set_gid("nma-nodes")

    if edge_labels:
        for (a, b), n in zip(ends, comps["n_studies"], strict=True):
            mid = xy[[a, b]].mean(axis=0)
            txt = ax.text(
                mid[0], mid[1], str(int(n)), ha="center", va="center", fontsize="small",
                zorder=3, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            )  # fmt: skip
            txt.set_gid("nma-edge-label")

    if show_labels:
        center = xy.mean(axis=0)
        radial = layout == "circular" and len(names) > RADIAL_LABELS_FROM
        for i, name in enumerate(names):
            direction = xy[i] - center
            norm = np.hypot(*direction)
            direction = direction / norm if norm > 1e-9 else np.array([0.0, 1.0])
            offset = np.sqrt(areas[i]) / 2 + 4  # marker radius + a gap, in points
            if radial:  # many treatments on a circle: labels along the radius
                angle = np.degrees(np.arctan2(direction[1], direction[0]))
                flip = direction[0] < 0
                align = {
                    "ha": "right" if flip else "left", "va": "center",
                    "rotation": angle + 180 if flip else angle, "rotation_mode": "anchor",
                }  # fmt: skip
            else:
                align = {
                    "ha": _align(direction[0], "left", "right"),
                    "va": _align(direction[1], "bottom", "top"),
                }
            ann = ax.annotate(
                name, xy=xy[i], xytext=tuple(direction * offset), textcoords="offset points",
                fontsize="small", zorder=4, annotation_clip=False, **align,
            )  # fmt: skip
            ann.set_gid("nma-label")

    if handles:
        proxies = [
            Line2D([], [], ls="", marker="o", markersize=8, color=c, label=k) for k, c in handles
        ]
        ax.legend(
            handles=proxies, title="Class", loc="center left", bbox_to_anchor=(1.02, 0.5),
            fontsize="small", frameon=False,
        )  # fmt: skip

    note = "" if basis == node_size else " (sample sizes unknown)"
    caption = ax.text(
        0.5, -0.02, f"Node area ∝ {basis}{note}; edge width ∝ studies",
        transform=ax.transAxes, ha="center", va="top", fontsize="small", color="0.35",
    )  # fmt: skip
    caption.set_gid("nma-caption")

    ax.set_aspect("equal")
    ax.set_axis_off()
    labels = [t for t in ax.texts if t.get_gid() == "nma-label"]
    _fit_limits(fig, ax, xy, np.sqrt(areas) / 2, labels)
    return fig


def _fit_limits(fig, ax, xy: np.ndarray, radii: np.ndarray, labels: list) -> None:
    """Set equal square limits that hold every node (radius in points) and label.

    Labels have a fixed size in points, so the limits are found by a few fixed-point steps.
    """
    half = float(np.abs(xy).max()) if xy.size else 1.0
    half = max(half, 1e-3) * 1.15
    for _ in range(4):
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.apply_aspect()
        width_pt = ax.get_window_extent().width * 72.0 / fig.dpi
        per_point = 2 * half / width_pt  # data units per point
        need = float((np.abs(xy) + (radii + 6.0)[:, None] * per_point).max())
        to_data = ax.transData.inverted()
        for text in labels:
            box = to_data.transform(text.get_window_extent().get_points())
            need = max(need, float(np.abs(box).max()))
        need *= 1.02
        if abs(need - half) < 0.01 * half:
            half = max(half, need)
            break
        half = need
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)


def _layout(names: list[str], comps, layout: str, seed: int) -> dict:
    """Node positions in [-1, 1]² from networkx (nodes added in treatment order)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_weighted_edges_from(
        zip(
            comps["treatment1"], comps["treatment2"], comps["n_studies"].astype(float), strict=True
        ),
    )
    if len(names) == 1:
        return {names[0]: np.zeros(2)}
    if layout == "circular":
        return nx.circular_layout(graph)
    return nx.spring_layout(graph, seed=seed, weight="weight")


def _class_colors(names: list[str], classes: dict | None):
    """Node colours and legend entries ``[(class, colour)]`` (empty without classes)."""
    if not classes:
        return ["C0"] * len(names), []
    from matplotlib import colormaps

    labels = [classes.get(t) or _NO_CLASS for t in names]
    order = list(dict.fromkeys(k for k in labels if k != _NO_CLASS))
    cmap = colormaps["tab20"] if len(order) <= 20 else colormaps["turbo"]
    ticks = np.arange(len(order)) if len(order) <= 20 else np.linspace(0, 1, len(order))
    palette = {k: cmap(x) for k, x in zip(order, ticks, strict=True)}
    palette[_NO_CLASS] = (0.6, 0.6, 0.6, 1.0)
    handles = [(k, palette[k]) for k in order]
    if _NO_CLASS in labels:
        handles.append((_NO_CLASS, palette[_NO_CLASS]))
    return [palette[k] for k in labels], handles


def _align(component: float, positive: str, negative: str) -> str:
    """Text alignment pushing a label away from its node along one axis."""
    if component > 0.2:
        return positive
    if component < -0.2:
        return negative
    return "center"
