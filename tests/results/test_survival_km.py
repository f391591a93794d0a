"""Kaplan-Meier steps of observed data (to overlay on model curves), and their plot."""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb


def test_kaplan_meier_of_event_times_is_the_product_limit_estimate():
    data = pd.DataFrame({
        "study": "S", "treatment": ["A"] * 6 + ["B"] * 2,
        "time": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0],
        "status": [1, 1, 0, 1, 0, 1, 0, 1],
    })  # fmt: skip
    km = nb.kaplan_meier(data, study="S").set_index(["treatment", "time"])["survival"]
    # A: 6 at risk at 1 (1 event), 5 at 2 (1 event, 1 censored), 3 at 3 (1), 1 at 5 (1)
    expected = [1.0, 5 / 6, 5 / 6 * 4 / 5, 5 / 6 * 4 / 5 * 2 / 3, 0.0]
    np.testing.assert_allclose(km.loc["A"].to_numpy(), expected)
    assert list(km.loc["A"].index) == [0.0, 1.0, 2.0, 3.0, 5.0]
    np.testing.assert_allclose(km.loc["B"].to_numpy(), [1.0, 0.0])  # 1 at risk at 2
    with pytest.raises(nb.ModelSpecError, match="'T' is not in the data"):
        nb.kaplan_meier(data, study="T")


def test_kaplan_meier_of_grouped_intervals_and_the_overlay_plot():
    km_data = nb.datasets.load_dataset("grouped_survival", "grouped_tte")
    km = nb.kaplan_meier(km_data, study="STUDY2")
    arm = km_data[(km_data.study == "STUDY2") & (km_data.treatment == "C")]
    steps = km[km.treatment == "C"]["survival"].to_numpy()
    np.testing.assert_allclose(steps[1:], np.cumprod(1 - arm["n.event"] / arm["n.risk"]))
    curves = pd.DataFrame({"treatment": ["B", "B", "C", "C"], "time": [0.0, 10.0, 0.0, 10.0],
                           "median": [1.0, 0.7, 1.0, 0.6], "ci_lower": [1.0, 0.6, 1.0, 0.5],
                           "ci_upper": [1.0, 0.8, 1.0, 0.7]})  # fmt: skip
    fig = nb.plot_survival(curves, km=km)
    lines = fig.axes[0].lines
    assert len(lines) == 4  # a curve and a Kaplan-Meier step line per treatment
    assert lines[0].get_color() == lines[1].get_color()
    assert lines[1].get_drawstyle() == "steps-post" and lines[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="Kaplan-Meier table"):
        nb.plot_survival(curves, km=km.drop(columns="survival"))
