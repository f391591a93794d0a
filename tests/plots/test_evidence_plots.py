"""plot_netheat and plot_funnel draw NetHeat / Funnel results (Agg backend; artists inspected).

PNGs of the issue's examples are written to /tmp/issue23_png/ for a look.
"""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError

matplotlib.use("Agg")
PNG = Path("/tmp/issue23_png")
THERAPY_ORDER = ["wlc", "cau", "ind", "grp", "tel", "ush", "gsh"]


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


@pytest.fixture(scope="module")
def therapy():
    return nb.datasets.load_dataset("therapy_formats", "contrasts_netmeta_allpairs")


def test_netheat_squares_colours_and_labels(therapy):
    import matplotlib.pyplot as plt

    res = nb.netheat(therapy, reference="cau")
    fig = nb.plot_netheat(res)
    assert isinstance(fig, Figure) and not plt.get_fignums()  # not held by pyplot
    ax = fig.axes[0]
    heat = res.matrix().to_numpy()
    n = len(heat)
    cells, squares = by_gid(ax, "netheat-cell"), by_gid(ax, "netheat-hat")
    assert len(cells) == len(squares) == n * n == 18 * 18
    colours = np.array([c.get_facecolor() for c in cells]).reshape(n, n, 4)
    assert heat.min() < -8 and heat.max() > 8  # therapy_formats has cells beyond the clip
    # clipped at +-8: every cell beyond has the end colour; red for negative, blue positive
    low, high = colours[heat <= -8], colours[heat >= 8]
    assert len(low) > 1 and np.allclose(low, low[0]) and np.allclose(high, high[0])
    assert (colours[heat < -1][:, 0] > colours[heat < -1][:, 2]).all()
    assert (colours[heat > 1][:, 2] > colours[heat > 1][:, 0]).all()
    assert not np.allclose(colours[heat > -8][0], low[0])
    # grey squares: area proportional to |H| (the largest fills 0.9 x 0.9 of its cell)
    hat = np.abs(res.hat.to_numpy())
    areas = np.array([s.get_width() * s.get_height() for s in squares]).reshape(n, n)
    np.testing.assert_allclose(areas, 0.81 * hat / hat.max(), rtol=1e-9, atol=1e-15)
    assert [t.get_text() for t in ax.get_yticklabels()] == res.labels()
    assert [t.get_text() for t in ax.get_xticklabels()] == res.labels()
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first row on top


def test_netheat_of_social_anxiety_is_drawable():
    data = nb.datasets.load_dataset("social_anxiety")
    with pytest.raises(ModelSpecError, match="duplicate_arms='first'"):
        nb.plot_netheat(data, reference="Waitlist")
    fig = nb.plot_netheat(data, reference="Waitlist", duplicate_arms="first")
    assert len(by_gid(fig.axes[0], "netheat-cell")) == 73 * 73
    PNG.mkdir(exist_ok=True)
    fig.savefig(PNG / "netheat_social_anxiety.png", dpi=80)


def test_netheat_options(therapy):
    res = nb.netheat(therapy, reference="cau")
    with pytest.raises(ModelSpecError, match="apply to data"):
        nb.plot_netheat(res, effects="random")
    with pytest.raises(ModelSpecError, match="clip"):
        nb.plot_netheat(res, clip=0)
    heat = res.matrix().to_numpy().ravel()
    deep = np.flatnonzero(heat < -12)  # beyond the default clip: one colour at clip=8 only
    assert len(deep) > 1 and len(np.unique(heat[deep])) > 1
    for clip, n_colours in ((8.0, {1}), (40.0, set(range(3, len(deep) + 1)))):
        cells = by_gid(nb.plot_netheat(res, clip=clip).axes[0], "netheat-cell")
        assert len({to_rgba(cells[i].get_facecolor()) for i in deep}) in n_colours
    fig, ax = matplotlib.pyplot.subplots()
    assert nb.plot_netheat(therapy, effects="random", reference="cau", ax=ax) is fig


def test_funnel_points_limits_and_egger_line(therapy):
    res = nb.funnel(therapy, order=THERAPY_ORDER, reference="cau")
    fig = nb.plot_funnel(res)
    ax = fig.axes[0]
    table = res.to_frame()
    points = by_gid(ax, "funnel-points")
    assert len(points) == table["comparison"].nunique() == 16
    xy = np.concatenate([p.get_offsets() for p in points])
    assert len(xy) == len(table) == 184
    ordered = table.assign(c=table["comparison"].map({c: i for i, c in
                           enumerate(dict.fromkeys(table["comparison"]))}))  # fmt: skip
    ordered = ordered.sort_values("c", kind="stable")
    np.testing.assert_allclose(xy, ordered[["TE_adj", "seTE"]].to_numpy())
    assert ax.get_ylim()[0] > ax.get_ylim()[1] == 0  # standard error 0 at the top
    (limits,) = by_gid(ax, "funnel-limits")
    x, y = limits.get_data()
    np.testing.assert_allclose(np.asarray(x)[[0, 2]] / np.asarray(y)[[0, 2]], [-1.959964, 1.959964],
                               rtol=1e-6)  # fmt: skip
    (line,) = by_gid(ax, "funnel-egger")
    egger = res.tests().set_index("method").loc["Egger"]
    x, y = line.get_data()
    np.testing.assert_allclose(x, egger["intercept"] + egger["estimate"] * np.asarray(y))
    (text,) = by_gid(ax, "funnel-tests")
    assert f"Egger: p = {egger['p_value']:.3g}" in text.get_text()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1:17] == list(dict.fromkeys(table["comparison"]))
    PNG.mkdir(exist_ok=True)
    fig.savefig(PNG / "funnel_therapy_formats.png", dpi=90)


def test_funnel_from_data_and_options(therapy):
    fig = nb.plot_funnel(therapy, order=THERAPY_ORDER, reference="cau", pooled="random",
                         egger=False, level=0.9)  # fmt: skip
    ax = fig.axes[0]
    assert not by_gid(ax, "funnel-egger") and not by_gid(ax, "funnel-tests")
    assert "random effects" in ax.get_xlabel()
    with pytest.raises(ModelSpecError, match="needs order="):
        nb.plot_funnel(therapy, reference="cau")
    res = nb.funnel(therapy, order=THERAPY_ORDER, reference="cau")
    with pytest.raises(ModelSpecError, match="apply to data"):
        nb.plot_funnel(res, order=THERAPY_ORDER)
    with pytest.raises(ModelSpecError, match="level"):
        nb.plot_funnel(res, level=95)
    with pytest.raises(ModelSpecError, match="egger"):
        nb.plot_funnel(res, egger="yes")
