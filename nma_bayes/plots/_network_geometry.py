"""Geometry of the network plot: label text, the graph's scale, and a figure fitted to its content.

Everything here is measured in points (1/72 inch), where text and markers have fixed sizes. The
layout's node positions (in ``[-1, 1]²``) are scaled by ``scale`` points per data unit, chosen
so that nodes do not overlap each other, labels do not overlap nodes or each other, and a
circle of radial labels gives each label its own slice. A new figure is then cut to the graph,
its labels, caption and legend, so that it has no empty margins. matplotlib is imported by the
caller (this module only measures the artists it is given).
"""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = [
    "label_text",
    "label_boxes",
    "label_thickness",
    "choose_scale",
    "content_limits",
    "shrink_to_content",
]

#: Characters per line of a wrapped treatment name (longer names are wrapped at word breaks).
LABEL_WRAP = 22
#: Radius (points) of the smallest drawn graph, before growing it with the number of treatments.
MIN_SCALE = 100.0
#: Extra radius (points) per treatment.
SCALE_PER_TREATMENT = 1.5
#: Gap (points) between a node and its label, between labels, and around the graph.
GAP = 4.0
#: The scale grows by this factor until no label overlaps (horizontal labels) ...
GROWTH = 1.08
#: ... up to this multiple of its smallest value, as it does to keep nodes apart (a dense spring
#: layout may never be clear: it is then drawn at this size, with some overlaps).
MAX_GROWTH = 2.5
#: White space (inches) around a new figure's content.
PAD_INCHES = 0.08


def label_text(name: str) -> str:
    """Return a treatment name wrapped onto lines of at most :data:`LABEL_WRAP` characters.

    Parameters
    ----------
    name : str
        The treatment's name.

    Returns
    -------
    str
        ``name`` itself if short, else its words on several lines (words are never split).
    """
    if len(name) <= LABEL_WRAP:
        return name
    return textwrap.fill(name, LABEL_WRAP, break_long_words=False, break_on_hyphens=True)


def label_boxes(fig, ax, xy: np.ndarray, labels: list) -> np.ndarray:
    """Return each label's box relative to its node, in points: rows ``x0, y0, x1, y1``.

    Labels are offset from their node by a fixed number of points, so these boxes do not
    depend on the axes' limits or size.
    """
    if not labels:
        return np.zeros((0, 4))
    to_points = 72.0 / fig.dpi
    anchors = ax.transData.transform(xy)
    boxes = []
    for text, anchor in zip(labels, anchors, strict=True):
        ext = text.get_window_extent()
        boxes.append([ext.x0 - anchor[0], ext.y0 - anchor[1], ext.x1 - anchor[0],
                      ext.y1 - anchor[1]])  # fmt: skip
    return np.asarray(boxes) * to_points


def label_thickness(fig, labels: list) -> float:
    """Return the height (points) of the tallest label written horizontally (its line count)."""
    tallest = 0.0
    for text in labels:
        angle = text.get_rotation()
        text.set_rotation(0)
        tallest = max(tallest, text.get_window_extent().height)
        text.set_rotation(angle)
    return tallest * 72.0 / fig.dpi


def choose_scale(
    xy: np.ndarray,
    radii: np.ndarray,
    boxes: np.ndarray,
    *,
    ring: float | None = None,
    thickness: float = 0.0,
) -> float:
    """Return the scale (points per layout unit) at which the graph and its labels are clear.

    Parameters
    ----------
    xy : ndarray
        Node positions (layout units, ``[-1, 1]²``).
    radii : ndarray
        Node radii in points.
    boxes : ndarray
        Label boxes relative to their node (:func:`label_boxes`); empty without labels.
    ring : float or None
        Radial labels on a circle: the offset (points) of every label from its node. Each label
        then needs an arc of its own thickness at the label circle, found in closed form;
        otherwise (horizontal labels) the scale grows until no label box overlaps another label
        or a node.
    thickness : float
        Radial labels: the height (points) of the tallest label across its radius
        (:func:`label_thickness`).

    Returns
    -------
    float
        The scale, in points per layout unit (the radius of a circular layout, in points).
    """
    n = len(xy)
    smallest = MIN_SCALE + SCALE_PER_TREATMENT * n
    largest = MAX_GROWTH * smallest
    scale = smallest
    if n > 1:  # nodes apart: |xy_i - xy_j| * scale >= r_i + r_j + gap
        dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        need = (radii[:, None] + radii[None, :] + GAP) / np.where(dist > 1e-9, dist, np.inf)
        scale = min(max(scale, float(need.max())), largest)
    if not len(boxes):
        return scale
    if ring is not None:  # radial labels: chord between neighbours >= their thickness
        chord = 2.0 * np.sin(np.pi / n)
        return max(scale, (thickness + GAP / 2) / chord - ring)
    while scale * GROWTH <= largest and _overlaps(xy * scale, radii, boxes):
        scale *= GROWTH
    return scale


def _overlaps(centers: np.ndarray, radii: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether a label box overlaps another label's box or another node (all in points)."""
    labels = np.hstack([centers, centers]) + boxes
    nodes = np.hstack([centers - radii[:, None], centers + radii[:, None]])

    def crossing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (
            (a[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < a[:, None, 2])
            & (a[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < a[:, None, 3])
        )  # fmt: skip

    others = ~np.eye(len(centers), dtype=bool)
    return bool(((crossing(labels, labels) | crossing(labels, nodes)) & others).any())


def content_limits(
    xy: np.ndarray, radii: np.ndarray, boxes: np.ndarray, scale: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return the x and y limits (layout units) that just hold every node and label.

    Both axes have the same scale, so an Axes of ``(x1 - x0) * scale`` by ``(y1 - y0) * scale``
    points shows the graph with an equal aspect ratio.
    """
    centers = xy * scale
    lows = [centers - radii[:, None]]
    highs = [centers + radii[:, None]]
    if len(boxes):
        lows.append(centers + boxes[:, :2])
        highs.append(centers + boxes[:, 2:])
    low = np.min(np.vstack(lows), axis=0) - GAP / 2
    high = np.max(np.vstack(highs), axis=0) + GAP / 2
    return (low[0] / scale, high[0] / scale), (low[1] / scale, high[1] / scale)


def shrink_to_content(fig, ax) -> None:
    """Cut a figure to its drawn content plus :data:`PAD_INCHES`, keeping the Axes' size.

    Texts and markers keep their size in points and the Axes its size in inches, so the drawing
    is unchanged: only the empty margins go.
    """
    box = fig.get_tightbbox()  # inches, everything drawn (labels, caption, legend)
    width, height = fig.get_size_inches()
    pos = ax.get_position()
    left = pos.x0 * width - box.x0 + PAD_INCHES
    bottom = pos.y0 * height - box.y0 + PAD_INCHES
    new_w, new_h = box.width + 2 * PAD_INCHES, box.height + 2 * PAD_INCHES
    fig.set_size_inches(new_w, new_h)
    ax.set_position((left / new_w, bottom / new_h, pos.width * width / new_w,
                     pos.height * height / new_h))  # fmt: skip
