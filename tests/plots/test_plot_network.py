"""Tests for nma_bayes.plots.plot_network (Agg backend; artists inspected, nothing shown)."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from nma_bayes.base.errors import ModelSpecError
from nma_bayes.data.network import Network
from nma_bayes.datasets import load_dataset
from nma_bayes.plots import plot_network

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="module")
def parkinsons():
    return Network.from_contrasts(load_dataset("parkinsons"))


@pytest.fixture(scope="module")
def anxiety():
    return Network.from_contrasts(load_dataset("social_anxiety"), classes="class")


@pytest.fixture(scope="module")
def arms():
    rows = [
        ("s1", "A", 1.0, 1.0, 10),
        ("s1", "B", 1.5, 1.0, 20),
        ("s2", "A", 1.0, 1.0, 15),
        ("s2", "C", 2.0, 1.0, 25),
        ("s2", "B", 1.2, 1.0, 30),
        ("s3", "B", 1.0, 1.0, 12),
        ("s3", "C", 1.0, 1.0, 13),
        ("s3", "C", 1.1, 1.0, 14),
        ("s4", "C", 0.0, 1.0, 200),
        ("s4", "D", 0.5, 1.0, 300),
    ]
    df = pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])
    return Network.from_arms(df, measure="MD")


def artist(fig: Figure, gid: str):
    found = [a for a in fig.axes[0].get_children() if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def texts(fig: Figure, gid: str) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]


def test_returns_figure_with_nodes_edges_labels(parkinsons):
    fig = plot_network(parkinsons)
    assert isinstance(fig, Figure)
    nodes = artist(fig, "nma-nodes")
    edges = artist(fig, "nma-edges")
    assert isinstance(nodes, PathCollection) and isinstance(edges, LineCollection)
    assert len(nodes.get_offsets()) == parkinsons.n_treatments == 5
    assert len(edges.get_segments()) == len(parkinsons.comparisons()) == 6
    assert texts(fig, "nma-label") == list(parkinsons.treatments)
    assert texts(fig, "nma-edge-label") == []


def test_edges_join_their_treatments_and_widths_follow_studies(parkinsons):
    fig = plot_network(parkinsons, edge_labels=True)
    comps = parkinsons.comparisons()
    offsets = np.asarray(artist(fig, "nma-nodes").get_offsets())
    edges = artist(fig, "nma-edges")
    for seg, a, b in zip(
        edges.get_segments(), comps["treatment1"], comps["treatment2"], strict=True
    ):
        ia, ib = parkinsons.treatment_index(a), parkinsons.treatment_index(b)
        np.testing.assert_allclose(seg, offsets[[ia, ib]])
    widths = np.asarray(edges.get_linewidths(), dtype=float)
    n = comps["n_studies"].to_numpy(dtype=float)
    assert len(widths) == len(n)
    np.testing.assert_allclose(widths / n, widths[0] / n[0])  # proportional
    assert widths[n == 2].min() > widths[n == 1].max()
    assert texts(fig, "nma-edge-label") == [str(k) for k in comps["n_studies"]]


def test_no_self_loops_for_repeated_treatments(anxiety):
    fig = plot_network(anxiety)
    segs = artist(fig, "nma-edges").get_segments()
    assert len(segs) == len(anxiety.comparisons()) < len(anxiety.comparisons(within=True))
    lengths = [np.hypot(*(s[1] - s[0])) for s in segs]
    assert min(lengths) > 1e-6
    assert len(artist(fig, "nma-nodes").get_offsets()) == 41


def test_class_colours_and_legend(anxiety):
    fig = plot_network(anxiety)
    legend = fig.axes[0].get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) == 17
    assert set(labels) == set(anxiety.classes.values())
    colours = [to_hex(c) for c in artist(fig, "nma-nodes").get_facecolors()]
    by_class: dict[str, set[str]] = {}
    for t, c in zip(anxiety.treatments, colours, strict=True):
        by_class.setdefault(anxiety.classes[t], set()).add(c)
    assert all(len(c) == 1 for c in by_class.values())  # one colour per class
    assert len(set().union(*by_class.values())) == 17  # and distinct across classes


def test_no_legend_without_classes(parkinsons):
    fig = plot_network(parkinsons)
    assert fig.axes[0].get_legend() is None
    assert len({to_hex(c) for c in artist(fig, "nma-nodes").get_facecolors()}) == 1


def test_node_size_patients_vs_studies(arms):
    table = arms.treatment_table()
    by_patients = artist(plot_network(arms, node_size="patients"), "nma-nodes").get_sizes()
    by_studies = artist(plot_network(arms, node_size="studies"), "nma-nodes").get_sizes()
    assert table["n_patients"].tolist() == [25.0, 62.0, 252.0, 300.0]
    assert table["n_studies"].tolist() == [2, 3, 3, 1]
    np.testing.assert_allclose(by_patients / by_patients.max(), table["n_patients"] / 300.0)
    np.testing.assert_allclose(by_studies / by_studies.max(), table["n_studies"] / 3.0)
    # D: 300 patients in one study -> largest by patients, smallest by studies
    d = arms.treatment_index("D")
    assert by_patients.argmax() == d
    assert by_studies[d] == by_studies.min()


def test_node_size_falls_back_to_studies_for_contrast_data(parkinsons):
    fig_p = plot_network(parkinsons, node_size="patients")
    fig_s = plot_network(parkinsons, node_size="studies")
    np.testing.assert_allclose(
        artist(fig_p, "nma-nodes").get_sizes(), artist(fig_s, "nma-nodes").get_sizes()
    )
    assert "studies (sample sizes unknown)" in texts(fig_p, "nma-caption")[0]
    assert "unknown" not in texts(fig_s, "nma-caption")[0]


def test_layouts_deterministic(anxiety):
    def offsets(**kw):
        return np.asarray(artist(plot_network(anxiety, **kw), "nma-nodes").get_offsets())

    circ = offsets()
    np.testing.assert_allclose(np.hypot(circ[:, 0], circ[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(circ, offsets(layout="circular", seed=5))
    spring = offsets(layout="spring", seed=1)
    np.testing.assert_allclose(spring, offsets(layout="spring", seed=1))
    assert not np.allclose(spring, offsets(layout="spring", seed=2))


def test_draws_into_given_axes_and_hides_labels(parkinsons):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2)
    out = plot_network(parkinsons, ax=ax2, show_labels=False)
    assert out is fig
    assert not ax1.collections
    assert [t for t in ax2.texts if t.get_gid() == "nma-label"] == []
    assert any(c.get_gid() == "nma-nodes" for c in ax2.collections)


@pytest.mark.parametrize("kw", [{"node_size": "arms"}, {"layout": "kamada"}])
def test_bad_options(parkinsons, kw):
    with pytest.raises(ModelSpecError):
        plot_network(parkinsons, **kw)


def test_import_does_not_load_networkx():
    code = "import sys, nma_bayes, nma_bayes.plots; assert 'networkx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_draws_the_network_of_a_fit():
    import nma_bayes as nb

    df = load_dataset("parkinsons")
    fit = nb.fit_network(df, reference="Placebo", engine="exact", random_seed=1)
    fig = nb.plot_network(fit)
    nodes = artist(fig, "nma-nodes")
    assert len(nodes.get_offsets()) == fit.network.n_treatments
    assert texts(fig, "nma-label") == list(fit.network.treatments)
    np.testing.assert_allclose(
        nodes.get_offsets(), artist(plot_network(fit.network), "nma-nodes").get_offsets()
    )


def test_refuses_what_is_not_a_network():
    with pytest.raises(ModelSpecError, match="Network"):
        plot_network(pd.DataFrame({"a": [1]}))


# ------------------------------------------------------------------ layout of a new figure
def long_names() -> Network:
    """parkinsons with every treatment but Placebo renamed to a very long name."""
    df = load_dataset("parkinsons").copy()
    names = {
        t: f"{t} extended-release formulation with a very long descriptive name number {i}"
        for i, t in enumerate(sorted(set(df["treat1"]) | set(df["treat2"])))
        if t != "Placebo"
    }
    return Network.from_contrasts(df.replace({"treat1": names, "treat2": names}))


NETWORKS = {
    "parkinsons": lambda: Network.from_contrasts(load_dataset("parkinsons")),
    "social_anxiety": lambda: Network.from_contrasts(
        load_dataset("social_anxiety"), classes="class"
    ),
    "long_names": long_names,
}


def rendered(fig: Figure, dpi: int = 50) -> np.ndarray:
    """The figure as an RGB array in [0, 1], drawn as ``savefig`` draws it."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return plt.imread(io.BytesIO(buf.getvalue()), format="png")[..., :3]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_new_figure_has_no_empty_margins(name):
    image = rendered(plot_network(NETWORKS[name]()))
    ink = (image < 0.9).any(axis=2)  # anything not (nearly) white
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    height, width = ink.shape
    margins = {
        "top": rows[0] / height, "bottom": 1 - (rows[-1] + 1) / height,
        "left": cols[0] / width, "right": 1 - (cols[-1] + 1) / width,
    }  # fmt: skip
    assert max(margins.values()) < 0.05, margins


def test_caption_sits_just_under_the_graph(parkinsons):
    fig = plot_network(parkinsons)
    rendered(fig)
    ax = fig.axes[0]
    (caption,) = [t for t in ax.texts if t.get_gid() == "nma-caption"]
    labels = [t for t in ax.texts if t.get_gid() == "nma-label"]
    graph_bottom = min(
        [t.get_window_extent().y0 for t in labels]
        + [ax.transData.transform(xy)[1] for xy in artist(fig, "nma-nodes").get_offsets()]
    )
    top = caption.get_window_extent().y1
    assert 0 <= graph_bottom - top < 0.3 * fig.dpi  # under the graph, within 0.3 inch


def outline(text) -> np.ndarray:
    """Corners (display units) of a label's box as drawn: its unrotated box turned about its
    anchor (``rotation_mode="anchor"``), measured with ``get_window_extent``."""
    angle = text.get_rotation()
    text.set_rotation(0)
    box = text.get_window_extent()
    text.set_rotation(angle)
    ax_ = {"left": box.x0, "right": box.x1, "center": (box.x0 + box.x1) / 2}[text.get_ha()]
    ay_ = {"bottom": box.y0, "top": box.y1, "center": (box.y0 + box.y1) / 2}[text.get_va()]
    corners = np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    if angle == 0:
        return corners
    assert text.get_rotation_mode() == "anchor"
    turn = np.radians(angle)
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return (corners - [ax_, ay_]) @ rot.T + [ax_, ay_]


def overlapping(a: np.ndarray, b: np.ndarray) -> bool:
    from matplotlib.path import Path

    return Path(a, closed=False).intersects_path(Path(b, closed=False), filled=True)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_labels_overlap_neither_each_other_nor_nodes(name):
    from matplotlib.path import Path

    network = NETWORKS[name]()
    fig = plot_network(network)
    rendered(fig)
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_gid() == "nma-label"]
    assert len(labels) == network.n_treatments
    shapes = [outline(t) for t in labels]
    if name == "social_anxiety":  # radial labels: turned, so their extents differ from boxes
        assert {t.get_rotation() for t in labels} != {0.0}
    clashes = [
        (labels[i].get_text(), labels[j].get_text())
        for i in range(len(shapes))
        for j in range(i + 1, len(shapes))
        if overlapping(shapes[i], shapes[j])
    ]
    assert not clashes
    nodes = artist(fig, "nma-nodes")
    centres = ax.transData.transform(nodes.get_offsets())
    radii = np.sqrt(nodes.get_sizes()) / 2 * fig.dpi / 72  # display units
    discs = [Path.circle(c, r).vertices for c, r in zip(centres, radii, strict=True)]
    hits = [(i, j) for i, s in enumerate(shapes) for j, d in enumerate(discs)
            if overlapping(s, d)]  # fmt: skip
    assert not [(i, j) for i, j in hits if i != j]
    gaps = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
    touching = gaps < radii[:, None] + radii[None, :]
    assert not (touching & ~np.eye(len(centres), dtype=bool)).any()  # nodes apart


def test_long_names_are_wrapped_and_the_figure_grows():
    network = long_names()
    fig = plot_network(network)
    wrapped = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "nma-label"]
    assert ["".join(w.split()) for w in wrapped] == ["".join(t.split()) for t in network.treatments]
    assert all(len(line) <= 22 for w in wrapped for line in w.split("\n"))
    assert sum("\n" in w for w in wrapped) == 4  # every long name, not Placebo
    short = plot_network(Network.from_contrasts(load_dataset("parkinsons")))
    assert fig.get_size_inches()[0] > short.get_size_inches()[0]


def test_a_given_axes_keeps_its_figure_size(parkinsons):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.0, 2.0))
    plot_network(parkinsons, ax=ax)
    np.testing.assert_allclose(fig.get_size_inches(), (3.0, 2.0))
