"""The contribution-matrix heat map: its cells are the matrix in percent, labels and options."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError

matplotlib.use("Agg")


def _parkinsons():
    return nb.datasets.load_dataset("parkinsons")


def _by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def test_cells_are_the_matrix_in_percent_with_labels():
    cm = nb.contribution_matrix(_parkinsons(), method="randomwalk", effects="fixed")
    fig = nb.plot_contribution(cm)
    (image,) = _by_gid(fig, "contribution-cells")
    wide = cm.matrix()
    np.testing.assert_allclose(image.get_array(), 100 * wide.to_numpy(float), atol=1e-12)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(wide.index)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(wide.columns)
    values = _by_gid(fig, "contribution-value")
    assert len(values) == int((100 * wide.to_numpy() >= 0.5).sum())
    assert "random walk, common effect" in ax.get_xlabel()
    # every row sums to 100%
    np.testing.assert_allclose(image.get_array().sum(axis=1), 100.0)


def test_from_data_fit_and_by_study():
    data = _parkinsons()
    by_study = nb.plot_contribution(data, by="study", annotate=False)
    labels = [t.get_text() for t in by_study.axes[0].get_xticklabels()]
    assert labels == list(nb.contribution_matrix(data, by="study").matrix().columns)
    assert _by_gid(by_study, "contribution-value") == []
    fit = nb.fit_network(data, engine="exact", random_seed=1)
    from_fit = nb.plot_contribution(fit)
    (image,) = _by_gid(from_fit, "contribution-cells")
    expected = nb.contribution_matrix(fit).matrix().to_numpy(float)
    np.testing.assert_allclose(image.get_array(), 100 * expected)


def test_draws_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert nb.plot_contribution(nb.contribution_matrix(_parkinsons()), ax=ax) is fig
    assert _by_gid(fig, "contribution-cells")


def test_bad_arguments_are_typed_errors():
    cm = nb.contribution_matrix(_parkinsons())
    with pytest.raises(ModelSpecError, match="apply to data, not to a computed"):
        nb.plot_contribution(cm, method="randomwalk")
    with pytest.raises(ModelSpecError, match="annotate"):
        nb.plot_contribution(cm, annotate="yes")
    with pytest.raises(ModelSpecError, match="method"):
        nb.plot_contribution(_parkinsons(), method="longestpath")
