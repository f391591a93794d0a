"""Tests for nma_bayes.plots.plot_regression (Agg backend; artists inspected, nothing shown)."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from reference_helpers import PARKINSONS_YEAR as YEAR

import nma_bayes as nb
from nma_bayes.base.errors import CovariateWarning, ModelSpecError
from nma_bayes.plots import plot_regression
from nma_bayes.plots.regression import MAX_MARKER_AREA, MIN_MARKER_AREA, marker_areas

matplotlib.use("Agg")

SETTING = {s: ("inpatient" if i % 2 else "outpatient") for i, s in enumerate(YEAR)}


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def parkinsons():
    df = nb.datasets.load_dataset("parkinsons").copy()
    df["year"] = df["study"].map(YEAR)
    df["setting"] = df["study"].map(SETTING)
    assert df[["year", "setting"]].notna().all().all()
    return df


@pytest.fixture(scope="module")
def fit():
    """Exact engine, one interaction per treatment: every panel has its own slope."""
    return nb.fit_network(
        parkinsons(),
        reference="Placebo",
        covariates="year",
        interaction="independent",
        engine="exact",
        random_seed=1,
    )


@pytest.fixture(scope="module")
def categorical_fit():
    with warnings.catch_warnings():  # some comparisons sit in one subgroup only
        warnings.simplefilter("ignore", CovariateWarning)
        return nb.fit_network(
            parkinsons(),
            reference="Placebo",
            covariates="setting",
            interaction="independent",
            engine="exact",
            random_seed=1,
        )


def by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def matching(points, treatment, comparator):
    """Rows of study_points comparing treatment and comparator, effect as treatment - comparator."""
    same = points[(points["treatment"] == treatment) & (points["comparator"] == comparator)]
    rev = points[(points["treatment"] == comparator) & (points["comparator"] == treatment)]
    return same.assign(sign=1.0), rev.assign(sign=-1.0)


def test_line_and_band_are_the_regression_curve(fit):
    fig = plot_regression(fit, "year")
    assert isinstance(fig, Figure)
    curve = fit.regression_curve("year")
    treatments = list(dict.fromkeys(curve["treatment"]))
    assert treatments == ["Bromocriptine", "Cabergoline", "Pramipexole", "Ropinirole"]
    assert [ax.get_title() for ax in fig.axes] == treatments
    for ax, treatment in zip(fig.axes, treatments, strict=True):
        rows = curve[curve["treatment"] == treatment]
        (line,) = by_gid(ax, "nma-curve")
        np.testing.assert_allclose(line.get_xdata(), rows["value"].to_numpy(dtype=float))
        np.testing.assert_allclose(line.get_ydata(), rows["median"].to_numpy())
        (band,) = by_gid(ax, "nma-band")
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(rows["ci_lower"].min())
        assert ys.max() == pytest.approx(rows["ci_upper"].max())
        (null,) = by_gid(ax, "nma-null")
        assert list(null.get_ydata()) == [0.0, 0.0]
        assert ax.get_xlabel() == "year"
        assert ax.get_ylabel() == "effect vs Placebo"  # contrast data: no measure recorded
    # slopes differ between panels (independent interactions): the panels are not copies
    slopes = [np.ptp(by_gid(ax, "nma-curve")[0].get_ydata()) for ax in fig.axes]
    assert len({round(s, 6) for s in slopes}) == len(slopes)


def test_points_are_the_matching_study_contrasts(fit):
    fig = plot_regression(fit, "year")
    points = fit.study_points("year")
    drawn = 0
    for ax in fig.axes:
        same, rev = matching(points, ax.get_title(), "Placebo")
        assert rev.empty  # every study of this network has Placebo as base arm when present
        found = by_gid(ax, "nma-study-points")
        if same.empty:
            assert not found
            continue
        (scatter,) = found
        offsets = scatter.get_offsets()
        assert len(offsets) == len(same)
        np.testing.assert_allclose(offsets[:, 0], same["value"].to_numpy())
        np.testing.assert_allclose(offsets[:, 1], same["effect"].to_numpy())
        drawn += len(offsets)
    # Ropinirole (1), Pramipexole (2), Bromocriptine (1) vs Placebo; Cabergoline has none
    assert drawn == 4


def test_reversed_comparisons_are_flipped(fit):
    fig = plot_regression(fit, "year", comparator="Ropinirole")
    points = fit.study_points("year")
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert "Ropinirole" not in panels and "Placebo" in panels
    # Lieberman 1998 records Ropinirole - Placebo = -0.31: drawn as Placebo - Ropinirole = +0.31
    (scatter,) = by_gid(panels["Placebo"], "nma-study-points")
    np.testing.assert_allclose(scatter.get_offsets(), [[2.0, 0.31]])
    # Brunt 2002 A and B record Bromocriptine - Ropinirole: drawn as they are
    same, rev = matching(points, "Bromocriptine", "Ropinirole")
    (scatter,) = by_gid(panels["Bromocriptine"], "nma-study-points")
    assert rev.empty and len(scatter.get_offsets()) == len(same) == 2
    np.testing.assert_allclose(scatter.get_offsets()[:, 1], [-0.35, 0.55])
    assert not by_gid(panels["Pramipexole"], "nma-study-points")  # no direct study
    assert panels["Placebo"].get_ylabel() == "effect vs Ropinirole"
    curve = fit.regression_curve("year", comparator="Ropinirole")
    placebo = curve[curve["treatment"] == "Placebo"]
    line = by_gid(panels["Placebo"], "nma-curve")[0]
    np.testing.assert_allclose(line.get_ydata(), placebo["median"].to_numpy())


def test_marker_area_is_proportional_to_precision(fit):
    fig = plot_regression(fit, "year", comparator="Bromocriptine")
    points = fit.study_points("year")
    weights, sizes = [], []
    for ax in fig.axes:
        same, rev = matching(points, ax.get_title(), "Bromocriptine")
        rows = same if not same.empty else rev
        for scatter in by_gid(ax, "nma-study-points"):
            assert len(scatter.get_sizes()) == len(rows)
            weights += rows["weight"].tolist()
            sizes += list(scatter.get_sizes())
    weights, sizes = np.array(weights), np.array(sizes)
    assert len(weights) == 5  # Cabergoline 2, Ropinirole 2 (reversed), Placebo 1 (Guttman)
    order = np.argsort(weights)
    assert np.all(np.diff(sizes[order]) > 0)  # larger weight, larger marker
    assert sizes.max() == pytest.approx(MAX_MARKER_AREA)  # the most precise study of the figure
    np.testing.assert_allclose(sizes, MAX_MARKER_AREA * weights / weights.max())


def test_marker_areas_floor():
    areas = marker_areas([0.001, 1.0, 10.0], 10.0)
    np.testing.assert_allclose(areas, [MIN_MARKER_AREA, MAX_MARKER_AREA / 10, MAX_MARKER_AREA])


def test_options_treatments_ci_prob_points(fit):
    fig = plot_regression(fit, "year", treatments="Pramipexole", ci_prob=0.8, points=False)
    (ax,) = fig.axes
    assert ax.get_title() == "Pramipexole"
    assert not by_gid(ax, "nma-study-points")
    curve = fit.regression_curve("year", treatments=["Pramipexole"], ci_prob=0.8)
    ys = by_gid(ax, "nma-band")[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(curve["ci_lower"].min())
    assert ys.max() == pytest.approx(curve["ci_upper"].max())
    assert any("80% CrI" in t.get_text() for t in fig.legends[0].get_texts())


def test_categorical_covariate_draws_levels(categorical_fit):
    fig = plot_regression(categorical_fit, "setting")
    curve = categorical_fit.regression_curve("setting")
    points = categorical_fit.study_points("setting")
    levels = ["inpatient", "outpatient"]
    for ax in fig.axes:
        assert not by_gid(ax, "nma-curve") and not by_gid(ax, "nma-band")
        rows = curve[curve["treatment"] == ax.get_title()]
        (est,) = by_gid(ax, "nma-level-point")
        np.testing.assert_allclose(est.get_xdata(), [0.0, 1.0])
        np.testing.assert_allclose(est.get_ydata(), rows["median"].to_numpy())
        (ci,) = by_gid(ax, "nma-level-ci")
        np.testing.assert_allclose([s[0][1] for s in ci.get_segments()], rows["ci_lower"])
        np.testing.assert_allclose([s[1][1] for s in ci.get_segments()], rows["ci_upper"])
        assert [t.get_text() for t in ax.get_xticklabels()] == levels
        same, _ = matching(points, ax.get_title(), "Placebo")
        for scatter in by_gid(ax, "nma-study-points"):
            offsets = scatter.get_offsets()
            assert len(offsets) == len(same)
            # each point sits just right of its level's interval
            level_x = np.array([levels.index(v) for v in same["value"]], dtype=float)
            assert np.all((offsets[:, 0] > level_x) & (offsets[:, 0] < level_x + 0.5))
            np.testing.assert_allclose(offsets[:, 1], same["effect"].to_numpy())


def test_draws_into_given_axes(fit):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    out = plot_regression(fit, "year", treatments=["Ropinirole", "Pramipexole"], ax=axes)
    assert out is fig
    assert [ax.get_title() for ax in axes] == ["Ropinirole", "Pramipexole"]
    assert axes[0].get_legend() is not None
    with pytest.raises(ModelSpecError, match="ax holds 1 Axes for 2 treatments"):
        plot_regression(fit, "year", treatments=["Ropinirole", "Pramipexole"], ax=axes[0])


def test_errors(fit):
    plain = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", engine="exact", random_seed=1
    )
    with pytest.raises(ModelSpecError, match="no meta-regression"):
        plot_regression(plain, "year")
    with pytest.raises(ModelSpecError, match="not a covariate"):
        plot_regression(fit, "age")
    with pytest.raises(ModelSpecError, match="Not treatments"):
        plot_regression(fit, "year", treatments=["Aspirin"])
    with pytest.raises(ModelSpecError, match="no treatments to draw"):
        plot_regression(fit, "year", treatments=[])


def test_exported_from_the_package():
    assert nb.plot_regression is plot_regression
    assert "plot_regression" in nb.__all__ and "plot_regression" in nb.plots.__all__


def test_arm_level_fit_with_pymc():
    """One NUTS fit (arm-level binomial data): empirical log-odds ratios as points, logOR label."""
    arms = nb.datasets.load_dataset("statins", "arms")
    studies = nb.datasets.load_dataset("statins", "studies")
    with warnings.catch_warnings():  # a short run may flag ESS; the plot is what is tested
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        fit = nb.fit_network(
            arms,
            likelihood="binomial",
            studies=studies,
            covariates="secondary",
            reference="control",
            draws=300,
            tune=300,
            chains=2,
            random_seed=1,
        )
    fig = plot_regression(fit, "secondary")
    (ax,) = fig.axes
    assert ax.get_title() == "statin"
    assert ax.get_ylabel() == "effect vs control (logOR)"
    curve = fit.regression_curve("secondary")
    np.testing.assert_allclose(by_gid(ax, "nma-curve")[0].get_ydata(), curve["median"])
    points = fit.study_points("secondary")
    (scatter,) = by_gid(ax, "nma-study-points")
    assert len(scatter.get_offsets()) == len(points) == arms["study"].nunique() == 19
    np.testing.assert_allclose(scatter.get_offsets()[:, 1], points["effect"])
    sizes = scatter.get_sizes()
    assert sizes[np.argmax(points["weight"].to_numpy())] == pytest.approx(MAX_MARKER_AREA)
