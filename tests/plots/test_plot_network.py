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
