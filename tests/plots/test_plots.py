"""Tests for the forest, league, ranking and diagnostic plots (Agg backend; content inspected)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.plots.diagnostics import plot_rank_diagnostics, plot_trace
from nma_bayes.plots.forest import plot_forest
from nma_bayes.plots.league import plot_league
from nma_bayes.plots.rankings import plot_ranks, plot_sucra

matplotlib.use("Agg")


def by_gid(ax, gid):
    """Artists of an Axes with the given gid."""
    return [a for a in ax.get_children() if a.get_gid() == gid]


def yticklabels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


# ------------------------------------------------------------------ forest
def test_forest_one_point_and_interval_per_treatment(fit):
    fig = plot_forest(fit)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    table = fit.relative_effects()
    (points,) = by_gid(ax, "nma-point")
    (ci,) = by_gid(ax, "nma-ci")
    np.testing.assert_allclose(points.get_xdata(), table["median"])
    assert len(ci.get_segments()) == len(table) == len(fit.treatments) - 1
    assert yticklabels(ax) == list(table["treatment"])
    assert "cau" in ax.get_xlabel() and "95% CrI" in ax.get_xlabel()
    assert len(by_gid(ax, "nma-null")) == 1
    assert not by_gid(ax, "nma-pi")


def test_forest_other_reference_and_ci_prob(fit):
    ax = plot_forest(fit, reference="wlc", ci_prob=0.8).axes[0]
    table = fit.relative_effects("wlc", ci_prob=0.8)
    (ci,) = by_gid(ax, "nma-ci")
    lows = [seg[0][0] for seg in ci.get_segments()]
    np.testing.assert_allclose(lows, table["ci_lower"])
    assert "wlc" not in yticklabels(ax) and "cau" in yticklabels(ax)
    assert "80% CrI" in ax.get_xlabel()


def test_forest_order_by_effect_and_given(fit):
    ax = plot_forest(fit, order="effect").axes[0]
    table = fit.relative_effects().sort_values("median")
    assert yticklabels(ax) == list(table["treatment"])
    (points,) = by_gid(ax, "nma-point")
    assert np.all(np.diff(points.get_xdata()) >= 0)
    given = ["wlc", "ush", "tel", "ind", "gsh", "grp"]
    assert yticklabels(plot_forest(fit, order=given).axes[0]) == given
    with pytest.raises(ModelSpecError):
        plot_forest(fit, order=["wlc", "ush"])
    with pytest.raises(ModelSpecError):
        plot_forest(fit, order="alphabet")


def test_forest_prediction_bars(fit):
    ax = plot_forest(fit, prediction=True).axes[0]
    (pi,) = by_gid(ax, "nma-pi")
    (ci,) = by_gid(ax, "nma-ci")
    table = fit.prediction_interval()
    segments = pi.get_segments()
    assert len(segments) == len(table)
    np.testing.assert_allclose([s[0][0] for s in segments], table["pi_lower"])
    np.testing.assert_allclose([s[1][0] for s in segments], table["pi_upper"])
    assert pi.get_linewidth()[0] < ci.get_linewidth()[0]
    assert ax.get_legend() is not None


def test_forest_from_table_with_mean(fit):
    table = fit.relative_effects().drop(columns="median")
    ax = plot_forest(table, xlabel="SMD").axes[0]
    (points,) = by_gid(ax, "nma-point")
    np.testing.assert_allclose(points.get_xdata(), table["mean"])
    assert ax.get_xlabel() == "SMD"
    with pytest.raises(ModelSpecError, match="pi_lower"):
        plot_forest(table, prediction=True)
    with pytest.raises(ModelSpecError, match="ci_upper"):
        plot_forest(table.drop(columns="ci_upper"))


def test_forest_by_class(class_fit):
    ax = plot_forest(class_fit, by_class=True).axes[0]
    classes = class_fit.network.classes
    table = class_fit.relative_effects()
    labels = [t.get_text() for t in by_gid(ax, "nma-class-label")]
    expected = list(dict.fromkeys(classes[t] for t in table["treatment"]))
    assert labels == expected
    assert len(by_gid(ax, "nma-class-separator")) == len(expected) - 1
    ticks = yticklabels(ax)
    assert sorted(ticks) == sorted(table["treatment"])
    # rows of one class are contiguous, in header order
    assert list(dict.fromkeys(classes[t] for t in ticks)) == expected
    (points,) = by_gid(ax, "nma-point")
    assert len(points.get_xdata()) == len(table)


def test_forest_by_class_needs_classes(fit):
    with pytest.raises(ModelSpecError, match="classes"):
        plot_forest(fit, by_class=True)


def test_forest_into_given_axes(fit):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plot_forest(fit, ax=ax) is fig


# ------------------------------------------------------------------ league
def test_league_cells(fit):
    fig = plot_league(fit, digits=2)
    ax = fig.axes[0]
    treatments = list(fit.treatments)
    n = len(treatments)
    (image,) = by_gid(ax, "nma-league")
    assert image.get_array().shape == (n, n)
    assert image.get_array().mask.diagonal().all()
    diag = [t.get_text() for t in by_gid(ax, "nma-league-diag")]
    assert diag == treatments
    cells = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
        for t in by_gid(ax, "nma-league-cell")
    }
    assert len(cells) == n * (n - 1)
    table = fit.relative_effects(all_pairs=True).set_index(["treatment", "comparator"])
    row = table.loc[("ind", "cau")]
    i, j = treatments.index("ind"), treatments.index("cau")
    expected = f"{row['median']:.2f}\n({row['ci_lower']:.2f}, {row['ci_upper']:.2f})"
    assert cells[(i, j)] == expected
    mirrored = f"{-row['median']:.2f}\n({-row['ci_upper']:.2f}, {-row['ci_lower']:.2f})"
    assert cells[(j, i)] == mirrored
    row = table.loc[("wlc", "grp")]
    i, j = treatments.index("wlc"), treatments.index("grp")
    assert cells[(i, j)].split("\n")[0] == f"{row['median']:.2f}"
    assert float(image.get_array()[i, j]) == pytest.approx(row["median"])
    # diverging colour scale centred at 0
    assert image.norm.vmin == pytest.approx(-image.norm.vmax)
    assert [t.get_text() for t in ax.get_yticklabels()] == treatments


def test_league_digits_and_direction(fit):
    ax = plot_league(fit, digits=1, lower_is_better=True).axes[0]
    text = by_gid(ax, "nma-league-cell")[0].get_text()
    assert all(len(part.split(".")[-1].rstrip(",)")) == 1 for part in text.split()[:1])
    (image,) = by_gid(ax, "nma-league")
    assert image.get_cmap().name.startswith("RdYlGn_r")


# ------------------------------------------------------------------ ranks and SUCRA
@pytest.mark.parametrize("cumulative", [False, True])
def test_ranks_lines_and_sucra_labels(fit, cumulative):
    ax = plot_ranks(fit, lower_is_better=True, cumulative=cumulative).axes[0]
    lines = by_gid(ax, "nma-rank-line")
    probs = fit.rank_probabilities(lower_is_better=True)
    sucra = fit.sucra(lower_is_better=True).set_index("treatment")["sucra"]
    assert len(lines) == len(fit.treatments)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"{t} (SUCRA {sucra[t]:.2f})" for t in probs.index]
    assert "ind (SUCRA 0.92)" in labels
    ind = lines[list(probs.index).index("ind")]
    expected = probs.loc["ind"].to_numpy()
    if cumulative:
        expected = np.cumsum(expected)
        assert ind.get_ydata()[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(ind.get_ydata(), expected)
    assert ax.get_xlabel() == "Rank (1 = best)"
    assert ax.get_ylabel() == ("P(rank or better)" if cumulative else "P(rank)")


def test_ranks_direction_required(fit):
    with pytest.raises(TypeError):
        plot_ranks(fit)  # type: ignore[call-arg]


def test_sucra_sorted_with_intervals(fit):
    ax = plot_sucra(fit, lower_is_better=True, ci_prob=0.9).axes[0]
    table = fit.sucra(lower_is_better=True, ci_prob=0.9).sort_values("sucra", ascending=False)
    assert yticklabels(ax) == list(table["treatment"])
    assert yticklabels(ax)[0] == "ind"
    (points,) = by_gid(ax, "nma-sucra-point")
    (ci,) = by_gid(ax, "nma-sucra-ci")
    np.testing.assert_allclose(points.get_xdata(), table["sucra"])
    segments = ci.get_segments()
    assert len(segments) == len(table)
    np.testing.assert_allclose([s[0][0] for s in segments], table["ci_lower"])
    np.testing.assert_allclose([s[1][0] for s in segments], table["ci_upper"])
    assert ax.get_xlabel().startswith("SUCRA")


# ------------------------------------------------------------------ diagnostics
def axis_titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_trace_has_d_and_tau(fit):
    fig = plot_trace(fit)
    assert isinstance(fig, Figure)
    titles = axis_titles(fig)
    assert "tau" in titles
    for treatment in fit.treatments[1:]:
        assert f"d\n{treatment}" in titles
    # T - 1 effects and tau (the wrapped grid may hold empty panels)
    assert len([t for t in titles if t]) == len(fit.treatments)


def test_trace_selected_variable(fit):
    titles = axis_titles(plot_trace(fit, var_names="tau"))
    assert titles == ["tau"]
    with pytest.raises(ModelSpecError):
        plot_trace(fit, var_names=["sigma"])


def test_rank_diagnostics(fit):
    fig = plot_rank_diagnostics(fit)
    assert isinstance(fig, Figure)
    titles = axis_titles(fig)
    assert "tau" in titles and any(t.startswith("d") for t in titles)


# ------------------------------------------------------------------ one contract: fit or table
def test_league_from_the_all_pairs_table(fit):
    from_fit = by_gid(plot_league(fit).axes[0], "nma-league-cell")
    table = fit.relative_effects(all_pairs=True)
    ax = plot_league(table).axes[0]
    assert [t.get_text() for t in by_gid(ax, "nma-league-cell")] == [t.get_text() for t in from_fit]
    assert [t.get_text() for t in by_gid(ax, "nma-league-diag")] == list(fit.treatments)
    assert "credible interval" in ax.get_title()
    with pytest.raises(ModelSpecError, match="median"):
        plot_league(table.drop(columns="median"))
    with pytest.raises(ModelSpecError, match="DataFrame"):
        plot_league({"treatment": []})


def test_league_colours_follow_the_network_direction():
    data = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(
        data, reference="cau", engine="exact", random_seed=1, lower_is_better=False
    )
    (image,) = by_gid(plot_league(fit).axes[0], "nma-league")
    assert image.get_cmap().name.startswith("RdYlGn")
    assert not image.get_cmap().name.startswith("RdYlGn_r")
    (image,) = by_gid(plot_league(fit, lower_is_better=True).axes[0], "nma-league")
    assert image.get_cmap().name.startswith("RdYlGn_r")


def test_sucra_from_its_table(fit):
    table = fit.sucra(lower_is_better=True)
    ax = plot_sucra(table).axes[0]
    expected = table.sort_values("sucra", ascending=False, kind="stable")
    assert yticklabels(ax) == list(expected["treatment"])
    (points,) = by_gid(ax, "nma-sucra-point")
    np.testing.assert_allclose(points.get_xdata(), expected["sucra"])
    with pytest.raises(ModelSpecError, match="ci_lower"):
        plot_sucra(table.drop(columns="ci_lower"))


def test_sucra_direction_required_when_unknown(fit):
    assert fit.network.lower_is_better is None
    with pytest.raises(ModelSpecError, match="lower_is_better"):
        plot_sucra(fit)


def test_class_ranks_from_a_fit(class_fit):
    fig = nb.plot_class_ranks(class_fit, lower_is_better=True)
    table = class_fit.rank_probabilities_by_class(lower_is_better=True)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == list(dict.fromkeys(table["class"]))
    with pytest.raises(ModelSpecError, match="lower_is_better"):
        nb.plot_class_ranks(class_fit)
