"""Tests for the MCID forest plot (Agg backend; artists inspected by gid, nothing shown)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.figure import Figure

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.plots.decisions import plot_prob_difference

matplotlib.use("Agg")


def by_gid(ax, gid):
    """Artists of an Axes with the given gid."""
    return [a for a in ax.get_children() if a.get_gid() == gid]


def main_axes(fig):
    return next(ax for ax in fig.axes if ax.get_label() != "nma-decision-colorbar")


def yticklabels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def test_rows_are_the_effects_coloured_by_the_probability(fit):
    import matplotlib.pyplot as plt

    fig = plot_prob_difference(fit, threshold=0.3, lower_is_better=True)
    assert isinstance(fig, Figure) and plt.get_fignums() == []  # not held by pyplot
    ax = main_axes(fig)
    probs = fit.prob_difference(threshold=0.3, lower_is_better=True)
    probs = probs.sort_values("probability", ascending=False, kind="stable")
    effects = fit.relative_effects().set_index("treatment").loc[probs["treatment"]]
    assert yticklabels(ax) == list(probs["treatment"])  # highest probability at the top
    (ci,) = by_gid(ax, "nma-decision-ci")
    segments = ci.get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments], effects["ci_lower"])
    np.testing.assert_allclose([s[1][0] for s in segments], effects["ci_upper"])
    np.testing.assert_allclose(ci.get_array(), probs["probability"])
    expected = colormaps["viridis_r"](probs["probability"].to_numpy())
    ci.update_scalarmappable()  # the colours as drawn
    np.testing.assert_allclose(ci.get_colors(), expected, atol=1e-6)
    (points,) = by_gid(ax, "nma-decision-point")
    np.testing.assert_allclose(points.get_offsets()[:, 0], effects["median"])
    texts = [t.get_text() for t in by_gid(ax, "nma-decision-prob")]
    assert texts == [f"{p:.2f}" for p in probs["probability"]]
    assert len({tuple(c) for c in ci.get_colors()}) > 1  # the colours say something


def test_threshold_lines_null_line_and_benefit_side(fit):
    for lower, side in ((True, "left"), (False, "right")):
        ax = main_axes(plot_prob_difference(fit, threshold=0.25, lower_is_better=lower))
        lines = by_gid(ax, "nma-threshold")
        assert sorted(line.get_xdata()[0] for line in lines) == [-0.25, 0.25]
        (null,) = by_gid(ax, "nma-null")
        assert null.get_xdata()[0] == 0.0
        (region,) = by_gid(ax, "nma-benefit-region")
        start, end = region.get_x(), region.get_x() + region.get_width()  # data units
        left, right = ax.get_xlim()
        if side == "left":
            assert (start, end) == pytest.approx((left, -0.25))
        else:
            assert (start, end) == pytest.approx((0.25, right))
        label = ax.get_xlabel()
        assert "vs cau" in label and ("lower" if lower else "higher") + " is better" in label
        assert any("MCID (0.25)" in t.get_text() for t in ax.get_legend().get_texts())


def test_colour_bar_names_the_event(fit):
    fig = plot_prob_difference(fit, threshold=0.3, lower_is_better=True, comparator="wlc")
    bars = [ax for ax in fig.axes if ax.get_label() == "nma-decision-colorbar"]
    assert len(bars) == 1
    assert bars[0].get_xlabel() == "P(better than wlc by more than the MCID)"
    ax = main_axes(fig)
    assert "wlc" not in yticklabels(ax) and "cau" in yticklabels(ax)


def test_treatment_order_and_given_axes(fit):
    import matplotlib.pyplot as plt

    user_fig, user_ax = plt.subplots()
    fig = plot_prob_difference(fit, threshold=0.3, lower_is_better=False, order="treatment",
                               ci_prob=0.8, ax=user_ax)  # fmt: skip
    assert fig is user_fig
    assert yticklabels(user_ax) == [t for t in fit.treatments if t != "cau"]
    assert "80% CrI" in user_ax.get_xlabel()


def test_ratio_scale_draws_ratios_on_a_log_axis():
    data = nb.datasets.load_dataset("therapy_formats")  # read as log odds ratios for the test
    f = nb.fit_network(data, reference="cau", measure="logOR", engine="exact", random_seed=1)
    ax = main_axes(plot_prob_difference(f, threshold=0.8, lower_is_better=True, scale="ratio"))
    assert ax.get_xscale() == "log"
    lines = sorted(line.get_xdata()[0] for line in by_gid(ax, "nma-threshold"))
    np.testing.assert_allclose(lines, [0.8, 1.25])
    (null,) = by_gid(ax, "nma-null")
    assert null.get_xdata()[0] == 1.0
    effects = f.relative_effects(scale="OR")
    (ci,) = by_gid(ax, "nma-decision-ci")
    assert sorted(s[0][0] for s in ci.get_segments()) == pytest.approx(sorted(effects["ci_lower"]))
    assert ax.get_xlabel().startswith("OR vs cau")
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=40)  # draws without warnings
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_bad_options_are_refused_before_drawing(fit):
    import matplotlib.pyplot as plt

    with pytest.raises(ModelSpecError, match="order="):
        plot_prob_difference(fit, threshold=0.3, lower_is_better=True, order="effect")
    with pytest.raises(ModelSpecError, match="threshold must be"):
        plot_prob_difference(fit, threshold=-1, lower_is_better=True)
    with pytest.raises(ModelSpecError, match="benefit direction is unknown"):
        plot_prob_difference(fit, threshold=0.3, lower_is_better=None)
    with pytest.raises(ModelSpecError, match="continuous outcome"):
        plot_prob_difference(fit, threshold=0.8, lower_is_better=True, scale="ratio")
    with pytest.raises(ModelSpecError, match="ci_prob"):
        plot_prob_difference(fit, threshold=0.3, lower_is_better=True, ci_prob=95)
    assert plt.get_fignums() == []
