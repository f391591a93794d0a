"""The TSD2 leverage plot, inspected by its artists' gids."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import nma_bayes as nb
from nma_bayes.results.leverage import Leverage

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def parkinsons_fit():
    return nb.fit_network(nb.datasets.load_dataset("parkinsons"), engine="exact", random_seed=1)


def _mixed() -> Leverage:
    """Arms and contrasts, two points outside c = 3 (dic = 4.5 and 3.5), one without a sign."""
    points = pd.DataFrame(
        {
            "study": ["s1", "s1", "s2", "s3", "s4"],
            "treatment": ["A", "B", "A", None, None],
            "data": ["arms", "arms", "arms", "contrasts", "contrasts"],
            "resdev": [1.0, 4.0, 0.25, 2.25, 1.0],
            "leverage": [0.9, 0.5, 0.2, 1.25, 0.6],
            "residual": [1.0, -2.0, -0.5, 1.5, -1.0],
            "sign_defined": [True, True, True, False, True],
        }
    )
    points["dic"] = points["resdev"] + points["leverage"]
    sums = points[["resdev", "leverage", "dic"]].sum()
    return Leverage(points=points, resdev=sums["resdev"], pD=sums["leverage"], DIC=sums["dic"],
                    n_data=len(points))  # fmt: skip


def _with_gid(ax, gid: str, kind: str):
    artists = {"collections": ax.collections, "lines": ax.lines, "texts": ax.texts}[kind]
    return [a for a in artists if a.get_gid() == gid]


def test_one_marker_per_point_and_four_contours(parkinsons_fit):
    import matplotlib.pyplot as plt

    lev = nb.leverage(parkinsons_fit)
    fig = nb.plot_leverage(parkinsons_fit)
    assert isinstance(fig, Figure) and plt.get_fignums() == []
    ax = fig.axes[0]
    markers = _with_gid(ax, "leverage-point", "collections")
    assert sum(len(c.get_offsets()) for c in markers) == lev.n_data == 7
    offsets = np.concatenate([c.get_offsets() for c in markers])
    points = lev.to_frame()
    np.testing.assert_allclose(offsets, points[["residual", "leverage"]].to_numpy())
    contours = _with_gid(ax, "leverage-contour", "lines")
    assert len(contours) == 4
    for c, line in zip((1, 2, 3, 4), contours, strict=True):
        w, y = line.get_data()
        np.testing.assert_allclose(w**2 + y, c)  # the parabola w^2 + leverage = c
        assert max(y) == pytest.approx(c) and min(y) == pytest.approx(0, abs=1e-12)
    assert _with_gid(ax, "leverage-label", "texts") == []  # every point inside c = 3


def test_labels_outside_all_and_none():
    lev = _mixed()
    ax = nb.plot_leverage(lev).axes[0]
    labels = [t.get_text() for t in _with_gid(ax, "leverage-label", "texts")]
    assert labels == ["s1 (B)", "s3"]  # dic 4.5 and 3.5: outside c = 3
    assert len(lev.outside()) == 2
    ax = nb.plot_leverage(lev, label="all").axes[0]
    labels = [t.get_text() for t in _with_gid(ax, "leverage-label", "texts")]
    assert labels == ["s1 (A)", "s1 (B)", "s2 (A)", "s3", "s4"]
    ax = nb.plot_leverage(lev, label="none").axes[0]
    assert _with_gid(ax, "leverage-label", "texts") == []


def test_arms_and_contrasts_drawn_apart_unsigned_points_open():
    lev = _mixed()
    ax = nb.plot_leverage(lev.to_frame(), contours=(3,)).axes[0]
    arms, contrasts = _with_gid(ax, "leverage-point", "collections")
    assert len(arms.get_offsets()) == 3 and len(contrasts.get_offsets()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["arms", "contrasts"]
    face = contrasts.get_facecolors()
    assert face[0][3] == 0 and face[1][3] > 0  # s3 has no sign: an open marker
    assert len(_with_gid(ax, "leverage-contour", "lines")) == 1
    assert ax.get_xlim()[1] >= 2.0  # the largest |residual| is inside the axes


def test_draws_into_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert nb.plot_leverage(_mixed(), ax=ax) is fig
    assert _with_gid(ax, "leverage-point", "collections")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"contours": (1, -2)}, "contours"),
        ({"contours": 3}, "contours"),
        ({"contours": ("a",)}, "contours"),
        ({"contours": (True,)}, "contours"),
        ({"label": "some"}, "label"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(nb.ModelSpecError, match=match):
        nb.plot_leverage(_mixed(), **kwargs)


def test_bad_sources():
    with pytest.raises(nb.ModelSpecError, match="NetworkFit"):
        nb.plot_leverage("fit")
    with pytest.raises(nb.ModelSpecError, match="lacks columns"):
        nb.plot_leverage(pd.DataFrame({"study": ["a"]}))
