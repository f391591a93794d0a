"""The threshold forest plot (``nb.plot_thresholds``): its artists against the table it draws."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_hex

import nma_bayes as nb


@pytest.fixture(scope="module")
def result():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", effects="fixed", random_seed=1)  # fmt: skip
    return nb.threshold_analysis(fit, lower_is_better=True)


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_one_bar_estimate_and_interval_per_data_point(result):
    table = result.to_frame()
    fig = nb.plot_thresholds(result)
    ax = fig.axes[0]
    assert len(_by_gid(ax, "threshold-invariant")) == len(table)
    (points,) = _by_gid(ax, "threshold-estimate")
    np.testing.assert_allclose(points.get_offsets()[:, 0], table["y"])
    lines = _by_gid(ax, "threshold-ci")
    assert len(lines) == len(table)
    # red exactly where the 95% likelihood interval leaves the invariant interval
    z = 1.959963984540054
    out = (table["y"] - z * table["se"] < table["invariant_lower"]) | (
        table["y"] + z * table["se"] > table["invariant_upper"])  # fmt: skip
    red = [to_hex(line.get_color()) == "#d62728" for line in lines]
    assert red == out.tolist()
    # one label per finite end, naming the new optimal treatment (an arrow: beyond the axis)
    labels = [t.get_text().strip("\u2190\u2192 ") for t in _by_gid(ax, "threshold-label")]
    shown = [row[f"new_optimal_{e}"] for _, row in table.iterrows() for e in ("lower", "upper")
             if np.isfinite(row[f"invariant_{e}"])]  # fmt: skip
    assert sorted(labels) == sorted(map(str, shown))
    assert "Pramipexole" in ax.get_title()


def test_bad_sources_are_refused(result):
    with pytest.raises(nb.ModelSpecError, match="Thresholds result or a fit"):
        nb.plot_thresholds(result.to_frame())
    with pytest.raises(nb.ModelSpecError, match="computed result"):
        nb.plot_thresholds(result, lower_is_better=False)


def test_common_bias_rows_and_optimal_sets_are_drawn():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", effects="fixed", random_seed=1)  # fmt: skip
    brunt = ["Brunt 2002, Group A", "Brunt 2002, Group B"]
    result = nb.threshold_analysis(fit, lower_is_better=True, mcid=0.5, sets={"Brunt": brunt})
    table = result.to_frame()
    fig = nb.plot_thresholds(result)
    ax = fig.axes[0]
    assert len(_by_gid(ax, "threshold-invariant")) == len(table) == 9
    assert len(_by_gid(ax, "threshold-ci")) == 8  # data points only
    (origin,) = _by_gid(ax, "threshold-set")
    np.testing.assert_allclose(origin.get_offsets(), [[0.0, 0.0]])  # the last row, at 0
    bar = _by_gid(ax, "threshold-invariant")[-1]  # the set's row, at the bottom
    assert bar.get_y() == pytest.approx(-0.3)
    set_row = table.iloc[-1]
    np.testing.assert_allclose(bar.get_x(), max(set_row["threshold_lower"], ax.get_xlim()[0]))
    assert ax.get_yticklabels()[-1].get_text() == "Brunt: common bias (2 data points)"
    labels = {t.get_text().strip("\u2190\u2192 ") for t in _by_gid(ax, "threshold-label")}
    assert str(set_row["new_optimal_upper"]) in labels and "," in " ".join(labels)
    assert "optimal set Pramipexole" in ax.get_title()
