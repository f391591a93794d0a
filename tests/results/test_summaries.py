"""Summaries computed from posterior draws: checked against exact hand computations."""

import numpy as np
import pytest
import xarray as xr

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.results import summaries


def _draws(values, names):
    """Wrap (n_draws, T) values as a (chain=1, draw, treatment) DataArray."""
    values = np.asarray(values, dtype=float)
    return xr.DataArray(
        values[None], dims=("chain", "draw", "treatment"), coords={"treatment": names}
    )


def test_ranks_and_sucra_on_known_draws():
    # Three draws over treatments A, B, C (effects vs A); lower is better.
    d = _draws([[0.0, -1.0, 1.0], [0.0, -1.0, -2.0], [0.0, 2.0, 1.0]], ["A", "B", "C"])
    ranks = summaries.rank_draws(d, lower_is_better=True)
    np.testing.assert_array_equal(ranks, [[2, 1, 3], [3, 2, 1], [1, 3, 2]])
    probs = summaries.rank_probabilities_table(d, lower_is_better=True)
    np.testing.assert_allclose(probs.loc["A"].values, [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(probs.sum(axis=0), 1.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    table = summaries.sucra_table(d, lower_is_better=True, ci_prob=0.95).set_index("treatment")
    # SUCRA = (T - mean rank) / (T - 1)
    mean_rank = np.array([2.0, 2.0, 2.0])
    np.testing.assert_allclose(table["mean_rank"], mean_rank)
    np.testing.assert_allclose(table["sucra"], (3 - mean_rank) / 2)
    np.testing.assert_allclose(table["p_best"], [1 / 3, 1 / 3, 1 / 3])


def test_direction_reverses_ranks():
    d = _draws(np.random.default_rng(1).normal(size=(500, 4)), list("ABCD"))
    low = summaries.sucra_table(d, lower_is_better=True, ci_prob=0.9)["sucra"].to_numpy()
    high = summaries.sucra_table(d, lower_is_better=False, ci_prob=0.9)["sucra"].to_numpy()
    np.testing.assert_allclose(low + high, 1.0)


def test_sucra_equals_area_under_cumulative_ranking_curve():
    # Salanti et al. (2011): SUCRA = mean of the cumulative rank probabilities over ranks 1..T-1.
    d = _draws(np.random.default_rng(2).normal(size=(2000, 5)) * [0, 1, 0.5, 2, 1], list("ABCDE"))
    probs = summaries.rank_probabilities_table(d, lower_is_better=False)
    cum = probs.cumsum(axis=1).iloc[:, :-1].mean(axis=1)
    table = summaries.sucra_table(d, lower_is_better=False, ci_prob=0.95).set_index("treatment")
    np.testing.assert_allclose(table["sucra"], cum.loc[table.index], atol=1e-12)


def test_relative_effects_reference_and_all_pairs():
    rng = np.random.default_rng(3)
    vals = np.column_stack([np.zeros(400), rng.normal(1, 0.1, 400), rng.normal(3, 0.2, 400)])
    d = _draws(vals, ["A", "B", "C"])
    vs_b = summaries.relative_effects_table(d, "B", all_pairs=False, ci_prob=0.95)
    assert list(vs_b["treatment"]) == ["A", "C"]
    assert set(vs_b["comparator"]) == {"B"}
    np.testing.assert_allclose(vs_b["mean"], [-vals[:, 1].mean(), (vals[:, 2] - vals[:, 1]).mean()])
    pairs = summaries.relative_effects_table(d, "A", all_pairs=True, ci_prob=0.95)
    assert list(zip(pairs["treatment"], pairs["comparator"], strict=True)) == [
        ("B", "A"),
        ("C", "A"),
        ("C", "B"),
    ]
    lo, hi = np.quantile(vals[:, 2] - vals[:, 1], [0.025, 0.975])
    assert pairs.iloc[2]["ci_lower"] == pytest.approx(lo)
    assert pairs.iloc[2]["ci_upper"] == pytest.approx(hi)
    assert list(pairs.columns) == [
        "treatment",
        "comparator",
        "mean",
        "sd",
        "median",
        "ci_lower",
        "ci_upper",
    ]


def test_league_table_orientation_and_antisymmetry():
    vals = np.column_stack([np.zeros(100), np.full(100, 1.0), np.full(100, 3.0)])
    league = summaries.league_table(
        _draws(vals, ["A", "B", "C"]), ci_prob=0.95, digits=1, stat="median"
    )
    assert league.loc["C", "A"] == "3.0 (3.0, 3.0)"  # row vs column
    assert league.loc["A", "C"] == "-3.0 (-3.0, -3.0)"
    assert league.loc["B", "B"] == "B"
    with pytest.raises(ModelSpecError, match="stat"):
        summaries.league_table(_draws(vals, ["A", "B", "C"]), ci_prob=0.95, digits=1, stat="mode")


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1])
def test_ci_prob_validated(bad):
    with pytest.raises(ModelSpecError, match="ci_prob"):
        summaries.check_ci_prob(bad)


def test_exact_fit_league_table_is_the_exact_all_pairs_table():
    """One league table: on an exact fit it is built from the quadrature's all-pairs effects (not
    from the independent draws), in both triangles."""
    df = nb.datasets.load_dataset("parkinsons")
    fit = nb.fit_network(df, reference="Placebo", engine="exact", random_seed=1)
    league = fit.league_table(digits=4)
    pairs = fit.relative_effects(all_pairs=True)
    draws = summaries.relative_effects_table(
        fit.d_full(), "Placebo", all_pairs=True, ci_prob=0.95
    )
    assert not np.allclose(draws["median"], pairs["median"], atol=1e-4)  # the check has teeth
    for row in pairs.itertuples():
        t, c = row.treatment, row.comparator
        assert league.loc[t, c] == f"{row.median:.4f} ({row.ci_lower:.4f}, {row.ci_upper:.4f})"
        assert league.loc[c, t] == f"{-row.median:.4f} ({-row.ci_upper:.4f}, {-row.ci_lower:.4f})"


def test_diagnostics_table_has_one_row_per_entry_of_a_two_dimensional_parameter():
    """A parameter over two dimensions (FP coefficients per treatment, beta per group and term)
    gets one row per cell; a cell fixed by the model (constant draws) is left out."""
    from nma_bayes.results.convergence import diagnostics_table

    rng = np.random.default_rng(0)
    values = rng.normal(size=(4, 100, 3, 2))
    values[:, :, 1, :] = 0.0  # a treatment fixed at 0 in both coefficients
    dims = ("chain", "draw", "treatment", "coefficient")
    coords = {"treatment": ["A", "C", "D"], "coefficient": ["b0", "b1"]}
    post = xr.Dataset({"d": (dims, values)}, coords=coords)
    table = diagnostics_table(xr.DataTree.from_dict({"posterior": post}), var_names=("d",))
    assert list(table["parameter"]) == ["d[A, b0]", "d[A, b1]", "d[D, b0]", "d[D, b1]"]
