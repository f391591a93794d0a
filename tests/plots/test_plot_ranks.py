"""Tests for nma_bayes.plots.plot_class_ranks (Agg backend; lines inspected, nothing shown)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.plots import plot_class_ranks

matplotlib.use("Agg")

CLASSES = {"A1": "alpha", "A2": "alpha", "B1": "beta", "C1": "gamma", "C2": "gamma", "C3": "gamma"}


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def rank_table(classes: dict[str, str] = CLASSES, seed: int = 0) -> pd.DataFrame:
    """Hand-made rank probabilities: within each class ranks 1..n, each row a distribution."""
    rng = np.random.default_rng(seed)
    rows = []
    for cls in dict.fromkeys(classes.values()):
        members = [t for t, c in classes.items() if c == cls]
        probs = rng.dirichlet(np.ones(len(members)), size=len(members))
        for t, p in zip(members, probs, strict=True):
            cum = np.cumsum(p)
            for r in range(len(members)):
                rows.append((t, cls, r + 1, p[r], cum[r]))
    return pd.DataFrame(rows, columns=["treatment", "class", "rank", "probability", "cumulative"])


def panels(fig: Figure):
    return [ax for ax in fig.axes if ax.get_title()]


def test_one_panel_per_class_titled_in_order_of_appearance():
    fig = plot_class_ranks(rank_table())
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in panels(fig)] == ["alpha", "beta", "gamma"]
    assert len(fig.axes) == 3  # unused grid cells are removed


@pytest.mark.parametrize("cumulative", [False, True])
def test_lines_are_the_table(cumulative):
    table = rank_table()
    fig = plot_class_ranks(table, cumulative=cumulative)
    column = "cumulative" if cumulative else "probability"
    for ax in panels(fig):
        rows = table[table["class"] == ax.get_title()]
        members = list(dict.fromkeys(rows["treatment"]))
        assert [line.get_label() for line in ax.get_lines()] == members
        assert [t.get_text() for t in ax.get_legend().get_texts()] == members
        for line, name in zip(ax.get_lines(), members, strict=True):
            expected = rows[rows["treatment"] == name].sort_values("rank")
            np.testing.assert_array_equal(line.get_xdata(), expected["rank"].to_numpy(float))
            np.testing.assert_allclose(line.get_ydata(), expected[column].to_numpy(float))


def test_rows_in_any_order():
    table = rank_table()
    shuffled = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    first = list(dict.fromkeys(shuffled["class"]))
    fig = plot_class_ranks(shuffled)
    assert [ax.get_title() for ax in panels(fig)] == first
    for ax in panels(fig):
        for line in ax.get_lines():
            expected = table[table["treatment"] == line.get_label()].sort_values("rank")
            np.testing.assert_array_equal(line.get_xdata(), expected["rank"].to_numpy(float))
            np.testing.assert_allclose(line.get_ydata(), expected["probability"].to_numpy(float))


def test_classes_select_and_order_panels():
    fig = plot_class_ranks(rank_table(), classes=["gamma", "alpha"])
    assert [ax.get_title() for ax in panels(fig)] == ["gamma", "alpha"]
    assert [len(ax.get_lines()) for ax in panels(fig)] == [3, 2]
    fig = plot_class_ranks(rank_table(), classes="beta")
    assert [ax.get_title() for ax in panels(fig)] == ["beta"]


def test_draws_into_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    out = plot_class_ranks(rank_table(), classes=["beta", "alpha"], ax=axes)
    assert out is fig
    assert [ax.get_title() for ax in axes] == ["beta", "alpha"]
    fig, ax = plt.subplots()
    assert plot_class_ranks(rank_table(), classes=["alpha"], ax=ax) is fig
    assert len(ax.get_lines()) == 2


@pytest.mark.parametrize("drop", ["treatment", "class", "rank", "probability", "cumulative"])
def test_missing_column_raises(drop):
    with pytest.raises(ModelSpecError, match=drop):
        plot_class_ranks(rank_table().drop(columns=drop))


def test_bad_input_raises():
    table = rank_table()
    with pytest.raises(ModelSpecError, match="DataFrame"):
        plot_class_ranks(table.to_dict())
    with pytest.raises(ModelSpecError, match="no rows"):
        plot_class_ranks(table.iloc[:0])
    bad = table.copy()
    bad.loc[0, "probability"] = np.nan
    with pytest.raises(ModelSpecError, match="probability"):
        plot_class_ranks(bad)
    bad = table.copy()
    bad.loc[0, "class"] = "beta"  # A1 now in two classes
    with pytest.raises(ModelSpecError, match="several classes"):
        plot_class_ranks(bad)
    with pytest.raises(ModelSpecError, match="unknown: \\['delta'\\]"):
        plot_class_ranks(table, classes=["alpha", "delta"])
    with pytest.raises(ModelSpecError, match="distinct"):
        plot_class_ranks(table, classes=["alpha", "alpha"])
    with pytest.raises(ModelSpecError, match="distinct"):
        plot_class_ranks(table, classes=[])

    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 2)
    with pytest.raises(ModelSpecError, match="2 Axes for 3 classes"):
        plot_class_ranks(table, ax=axes)


def test_table_from_a_fit():
    """With a fit's own table once ``rank_probabilities_by_class`` exists (built by hand before)."""
    df = nb.datasets.load_dataset("psps_t2_illustrative")
    fit = nb.fit_network(
        df, engine="exact", reference="Conventional medical management", classes="class",
        random_seed=1, draws=200,
    )  # fmt: skip
    if hasattr(fit, "rank_probabilities_by_class"):
        table = fit.rank_probabilities_by_class(lower_is_better=True)
    else:
        probs = fit.rank_probabilities(lower_is_better=True)
        rows = []
        for cls in dict.fromkeys(fit.network.classes.values()):
            members = [t for t in fit.network.treatments if fit.network.classes[t] == cls]
            sub = probs.loc[members].to_numpy()
            for i, t in enumerate(members):
                cum = np.cumsum(sub[i])
                for r in range(sub.shape[1]):
                    rows.append((t, cls, r + 1, sub[i, r], cum[r]))
        table = pd.DataFrame(
            rows, columns=["treatment", "class", "rank", "probability", "cumulative"]
        )
    fig = plot_class_ranks(table)
    titles = [ax.get_title() for ax in panels(fig)]
    assert sorted(titles) == sorted(set(fit.network.classes.values()))
    assert sum(len(ax.get_lines()) for ax in panels(fig)) == len(fit.network.treatments)


def test_matplotlib_imported_lazily():
    """No module-level matplotlib import (PyMC/ArviZ may load it anyway, so read the source)."""
    import ast
    import inspect

    import nma_bayes.plots.class_ranks as module

    tree = ast.parse(inspect.getsource(module))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.startswith("matplotlib")]
