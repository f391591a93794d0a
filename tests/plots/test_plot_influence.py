"""plot_influence draws the tables of a leave-one-out result (Agg backend; artists inspected)."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from nma_bayes.analyses.influence import leave_one_out
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.plots.influence import plot_influence

matplotlib.use("Agg")
RED = matplotlib.colors.to_rgba("#c0392b")


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def contrasts(rows):
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])


@pytest.fixture(scope="module")
def result():
    rows = [(f"ab{i}", "B", "A", -0.5 + 0.05 * i, 0.2) for i in range(4)]
    rows += [(f"ac{i}", "C", "A", -0.3 - 0.03 * i, 0.2) for i in range(8)]
    rows += [("outlier", "C", "A", -4.0, 0.2), ("leaf", "D", "C", 0.1, 0.3)]
    return leave_one_out(contrasts(rows), reference="A", lower_is_better=True, random_seed=5)


def test_effects_bars_are_the_signed_largest_shifts(result):
    import matplotlib.pyplot as plt

    fig = plot_influence(result)
    assert isinstance(fig, Figure) and not plt.get_fignums()  # not held by pyplot
    ax = fig.axes[0]
    bars = by_gid(ax, "influence-bar")
    summary = result.summary()
    estimable = summary[summary["method"] == "refit"]
    assert len(bars) == len(estimable) == 13  # the leaf study is not drawn
    eff = result.effects()
    largest = eff.loc[eff["shift_sd"].abs().groupby(eff["study"]).idxmax()].set_index("study")
    order = estimable.sort_values("max_shift_sd", ascending=False)["study"]
    np.testing.assert_allclose([b.get_width() for b in bars], largest.loc[order, "shift_sd"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "outlier (C)" and len(labels) == 13
    flagged = [b.get_facecolor() == RED for b in bars]
    assert flagged == list(estimable.set_index("study").loc[order, "flag"].astype(bool))
    assert flagged[0] and sum(flagged) == 1
    lines = by_gid(ax, "influence-threshold")
    assert sorted(line.get_xdata()[0] for line in lines) == [-1.0, 1.0]
    (top,) = by_gid(ax, "influence-top-change")
    assert top.get_text() == "top: B"
    assert "1 of 13 studies flagged" in ax.get_title()
    assert "1 study is not refittable" in ax.get_xlabel()


def test_threshold_and_max_studies(result):
    ax = plot_influence(result, threshold_sd=0.05, max_studies=3).axes[0]
    bars = by_gid(ax, "influence-bar")
    assert len(bars) == 3
    lines = by_gid(ax, "influence-threshold")
    assert sorted(line.get_xdata()[0] for line in lines) == [-0.05, 0.05]
    expected = result.summary(threshold_sd=0.05)["flag"].fillna(False).astype(bool).sum()
    assert f"{expected} of 13 studies flagged" in ax.get_title() and expected > 1
    assert "Showing the 3 studies" in ax.get_xlabel()


def test_heatmap_holds_every_shift(result):
    ax = plot_influence(result, kind="heatmap", max_studies=None).axes[0]
    (image,) = by_gid(ax, "influence-heatmap")
    eff = result.effects()
    order = result.summary().dropna(subset=["max_shift_sd"])
    order = order.sort_values("max_shift_sd", ascending=False)["study"]
    expected = eff.pivot(index="study", columns="treatment", values="shift_sd").loc[order]
    np.testing.assert_allclose(image.get_array(), expected[["B", "C", "D"]].to_numpy())
    cells = by_gid(ax, "influence-cell")
    assert len(cells) == int((expected.abs() > 1.0).to_numpy().sum()) >= 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["B", "C", "D"]
    (clim_lo, clim_hi) = image.get_clim()
    assert clim_lo == -clim_hi  # diverging around no change


def test_tau_points_and_full_line(result):
    ax = plot_influence(result, kind="tau").axes[0]
    (points,) = by_gid(ax, "influence-tau")
    tau = result.heterogeneity()
    tau = tau.assign(a=tau["change"].abs()).sort_values("a", ascending=False)
    np.testing.assert_allclose(points.get_offsets()[:, 0], tau["tau"])
    (full,) = by_gid(ax, "influence-tau-full")
    assert full.get_xdata()[0] == pytest.approx(tau["tau_full"].iloc[0])
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "outlier"


def test_draws_into_given_axes(result):
    from matplotlib.figure import Figure as F

    fig = F()
    ax = fig.add_subplot()
    assert plot_influence(result, ax=ax) is fig and by_gid(ax, "influence-bar")


def test_errors(result):
    with pytest.raises(ModelSpecError, match="kind"):
        plot_influence(result, kind="forest")
    with pytest.raises(ModelSpecError, match="max_studies"):
        plot_influence(result, max_studies=0)
    with pytest.raises(ModelSpecError, match="leave_one_out"):
        plot_influence(result.summary())
    lonely = leave_one_out(contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.2, 0.2)]),
                           reference="A", lower_is_better=True, random_seed=1)  # fmt: skip
    with pytest.raises(ModelSpecError, match="disconnects"):
        plot_influence(lonely)
    two = contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "B", "A", 0.2, 0.2)])
    fixed = leave_one_out(two, reference="A", lower_is_better=True, effects="fixed",
                          random_seed=1)  # fmt: skip
    assert by_gid(plot_influence(fixed).axes[0], "influence-bar")
    with pytest.raises(ModelSpecError, match="fixed-effect"):
        plot_influence(fixed, kind="tau")
