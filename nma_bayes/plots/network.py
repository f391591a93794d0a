"""Network graph: treatments as nodes, direct comparisons as edges.

The plot only draws what :meth:`Network.comparisons
<nma_bayes.data.network.Network.comparisons>` and :meth:`Network.treatment_table
<nma_bayes.data.network.Network.treatment_table>` compute; networkx is used for the layout only.
matplotlib and networkx are imported when a plot is drawn. ``plot_network`` takes a network, or a
fit (it draws the fit's ``.network``).

A new figure is sized to its content (:mod:`nma_bayes.plots._network_geometry`): the graph gets
as many points per layout unit as it needs for its nodes not to overlap each other and for no
label to overlap another label or a node (labels along the radius, on a circle outside every
node, for circular layouts of more than 12 treatments; horizontal labels beside their node
otherwise), and the figure is then cut to the graph, its labels, the caption under it and the
legend to its right, so that it has no empty margins. Drawn into a given ``ax``, the graph is
scaled to fit that Axes instead.

Artists are tagged with a ``gid`` so the figure can be inspected programmatically:

- ``"nma-nodes"``: the node ``PathCollection`` (one offset per treatment, in treatment order;
  ``get_sizes()`` are the marker areas in points²);
- ``"nma-edges"``: the edge ``LineCollection`` (one segment per row of ``comparisons()``, in its
  order; ``get_linewidths()`` proportional to ``n_studies``);
- ``"nma-label"``: one text per treatment (its name, wrapped at word breaks onto lines of at most
  22 characters), in treatment order;
- ``"nma-edge-label"``: one text per edge (its number of studies), if ``edge_labels=True``;
- ``"nma-caption"``: a caption saying what node areas and edge widths show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..base.errors import ModelSpecError
from ..data.network import Network
from . import _network_geometry as G
from ._figure import new_figure, root_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.record import NetworkFit

__all__ = ["plot_network", "network_of"]

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
    network: Network | NetworkFit,
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
    network : Network or NetworkFit
        The network to draw, or anything with a ``.network`` attribute holding one (a fit).
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
        The figure drawn into (not shown; a new one is not held by pyplot, so Jupyter shows it
        once, and sized to what it shows: it grows with the number and length of the names).
        Edge widths are proportional to the number of studies of the comparison. With treatment
        classes (``network.classes``) nodes are coloured by class and a legend lists the
        classes. A dense spring layout may still have overlapping labels (the graph grows at
        most 2.5-fold to avoid them).

    Raises
    ------
    ModelSpecError
        For an unknown ``node_size`` or ``layout``, or a ``network`` that is neither a Network
        nor holds one.
    """
    network = network_of(network)
    _check_options(node_size, layout)
    comps = network.comparisons()
    names = list(network.treatments)
    pos = _layout(names, comps, layout, seed)
    xy = np.array([pos[t] for t in names], dtype=float).reshape(len(names), 2)
    areas, basis = _node_areas(network.treatment_table(), node_size)
    radii = np.sqrt(areas) / 2  # points
    colors, handles = _class_colors(names, network.classes)
    created = ax is None
    fig, ax = _figure_and_axes(ax)

    index = {t: i for i, t in enumerate(names)}
    ends = [
        (index[a], index[b]) for a, b in zip(comps["treatment1"], comps["treatment2"], strict=True)
    ]
    _draw_edges(ax, xy, ends, comps["n_studies"].to_numpy(dtype=float))
    nodes = ax.scatter(
        xy[:, 0], xy[:, 1], s=areas, c=colors, edgecolors="white", linewidths=1.0, zorder=2
    )
    nodes.set_gid("nma-nodes")
    if edge_labels:
        _draw_edge_labels(ax, xy, ends, comps["n_studies"])
    # many treatments on a circle: labels along the radius, all starting on one circle
    radial = layout == "circular" and len(names) > RADIAL_LABELS_FROM
    ring = float(radii.max()) + G.GAP if radial else None
    labels = _draw_labels(ax, xy, names, radii, ring=ring) if show_labels else []
    if handles:
        _draw_legend(ax, handles)
    _draw_caption(ax, basis, node_size)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if created:
        _size_new_figure(fig, ax, xy, radii, labels, ring)
    else:
        _fit_limits(fig, ax, xy, radii, labels)
    return fig


def network_of(source) -> Network:
    """Return the network of ``source``: a Network, or the ``.network`` of a fit.

    Parameters
    ----------
    source : Network or object with a ``network`` attribute
        What the user gave the plot.

    Returns
    -------
    Network
        The network to draw.

    Raises
    ------
    ModelSpecError
        If ``source`` is neither a Network nor holds one in ``.network``.
    """
    if isinstance(source, Network):
        return source
    held = getattr(source, "network", None)
    if isinstance(held, Network):
        return held
    raise ModelSpecError(
        f"plot_network needs a Network or a fit of one (NetworkFit), got {type(source).__name__}.",
        rule="bad-option",
    )


def _check_options(node_size: str, layout: str) -> None:
    """Refuse an unknown ``node_size`` or ``layout``."""
    if node_size not in NODE_SIZES:
        raise ModelSpecError(
            f"node_size={node_size!r}: use one of {NODE_SIZES}.", rule="bad-option"
        )
    if layout not in LAYOUTS:
        raise ModelSpecError(f"layout={layout!r}: use one of {LAYOUTS}.", rule="bad-option")


def _node_areas(table, node_size: str) -> tuple[np.ndarray, str]:
    """Marker areas (points²) and what they show (``node_size``, or studies as a fallback)."""
    basis = node_size
    if basis == "patients" and table["n_patients"].isna().any():
        basis = "studies"  # some sample sizes unknown (contrast data)
    value = table["n_patients" if basis == "patients" else "n_studies"].to_numpy(dtype=float)
    return MAX_NODE_AREA * value / value.max(), basis


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return the root figure and Axes to draw into (a new figure is sized once drawn)."""
    if ax is not None:
        return root_figure(ax), ax
    fig = new_figure((8.0, 8.0))
    return fig, fig.add_axes((0.1, 0.1, 0.8, 0.8))


def _size_new_figure(fig, ax, xy: np.ndarray, radii: np.ndarray, labels: list, ring) -> None:
    """Scale the graph so that nothing overlaps, then cut the figure to what is drawn.

    The graph gets :func:`~nma_bayes.plots._network_geometry.choose_scale` points per layout
    unit; the Axes just hold the nodes and labels at that scale (same scale on both axes), and
    the figure just holds the Axes, the caption under them and the legend to their right.
    """
    boxes = G.label_boxes(fig, ax, xy, labels)
    thickness = G.label_thickness(fig, labels) if ring is not None else 0.0
    scale = G.choose_scale(xy, radii, boxes, ring=ring, thickness=thickness)
    xlim, ylim = G.content_limits(xy, radii, boxes, scale)
    width = (xlim[1] - xlim[0]) * scale / 72.0  # inches
    height = (ylim[1] - ylim[0]) * scale / 72.0
    fig.set_size_inches(width + 4.0, height + 2.0)  # room to spare; cut below
    ax.set_position((1.0 / (width + 4.0), 1.0 / (height + 2.0), width / (width + 4.0),
                     height / (height + 2.0)))  # fmt: skip
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    G.shrink_to_content(fig, ax)


def _draw_edges(ax: Axes, xy: np.ndarray, ends: list, n_studies: np.ndarray) -> None:
    """One segment per comparison, its width proportional to its number of studies."""
    from matplotlib.collections import LineCollection

    per_study = (
        min(EDGE_WIDTH_PER_STUDY, MAX_EDGE_WIDTH / n_studies.max()) if len(n_studies) else 1.0
    )
    edges = LineCollection(
        [xy[[a, b]] for a, b in ends],
        linewidths=n_studies * per_study,
        colors="0.45",
        alpha=0.8,
        zorder=1,
        capstyle="round",
    )
    edges.set_gid("nma-edges")
    ax.add_collection(edges)


def _draw_edge_labels(ax: Axes, xy: np.ndarray, ends: list, n_studies) -> None:
    """Write each comparison's number of studies at the middle of its edge."""
    for (a, b), n in zip(ends, n_studies, strict=True):
        mid = xy[[a, b]].mean(axis=0)
        txt = ax.text(
            mid[0], mid[1], str(int(n)), ha="center", va="center", fontsize="small",
            zorder=3, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
        )  # fmt: skip
        txt.set_gid("nma-edge-label")


def _draw_labels(
    ax: Axes, xy: np.ndarray, names: list[str], radii: np.ndarray, *, ring: float | None
) -> list:
    """Write each treatment's name (wrapped) next to its node, pushed away from the centre.

    ``ring``: radial labels, all offset by ``ring`` points from their node (so that they start
    on one circle outside every node); otherwise each label sits just outside its own node.
    """
    center = xy.mean(axis=0)
    labels = []
    for i, name in enumerate(names):
        direction = xy[i] - center
        norm = np.hypot(*direction)
        direction = direction / norm if norm > 1e-9 else np.array([0.0, 1.0])
        offset = ring if ring is not None else radii[i] + G.GAP  # points
        ann = ax.annotate(
            G.label_text(name), xy=xy[i], xytext=tuple(direction * offset),
            textcoords="offset points", fontsize="small", zorder=4, annotation_clip=False,
            **_label_alignment(direction, ring is not None),
        )  # fmt: skip
        ann.set_gid("nma-label")
        labels.append(ann)
    return labels


def _label_alignment(direction: np.ndarray, radial: bool) -> dict:
    """Text alignment of a label whose node lies in ``direction`` (unit vector) from the centre."""
    if not radial:
        ha = _align(direction[0], "left", "right")
        return {"ha": ha, "va": _align(direction[1], "bottom", "top"), "multialignment": ha}
    # many treatments on a circle: labels along the radius, never upside down
    angle = np.degrees(np.arctan2(direction[1], direction[0]))
    flip = direction[0] < 0
    return {
        "ha": "right" if flip else "left", "va": "center",
        "rotation": angle + 180 if flip else angle, "rotation_mode": "anchor",
    }  # fmt: skip


def _draw_legend(ax: Axes, handles: list) -> None:
    """Legend of the treatment classes, right of the graph."""
    from matplotlib.lines import Line2D

    proxies = [
        Line2D([], [], ls="", marker="o", markersize=8, color=c, label=k) for k, c in handles
    ]
    ax.legend(
        handles=proxies, title="Class", loc="center left", bbox_to_anchor=(1.02, 0.5),
        fontsize="small", frameon=False,
    )  # fmt: skip


def _draw_caption(ax: Axes, basis: str, node_size: str) -> None:
    """Caption under the graph saying what node areas and edge widths show."""
    note = "" if basis == node_size else " (sample sizes unknown)"
    caption = ax.annotate(
        f"Node area ∝ {basis}{note}; edge width ∝ studies", xy=(0.5, 0.0),
        xycoords="axes fraction", xytext=(0.0, -G.GAP), textcoords="offset points",
        ha="center", va="top", fontsize="small", color="0.35", annotation_clip=False,
    )  # fmt: skip
    caption.set_gid("nma-caption")


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
