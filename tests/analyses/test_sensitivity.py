"""prior_sensitivity: refits under several tau priors, one tidy table."""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.analyses.sensitivity import SENSITIVITY_COLUMNS, prior_sensitivity
from nma_bayes.models.empirical_priors import rhodes2015

PRIORS = {
    "tight HN(0.1)": nb.HalfNormal(0.1),
    "vague U(0, 5)": nb.Uniform(0.0, 5.0),
    "Rhodes mental health": rhodes2015("mental health outcome", "non-pharmacological (any)"),
}


@pytest.fixture(scope="module")
def data():
    return nb.datasets.load_dataset("therapy_formats")


@pytest.fixture(scope="module")
def table(data):
    return prior_sensitivity(data, PRIORS, reference="cau", lower_is_better=True, random_seed=3)


def test_columns_and_layout(table):
    assert tuple(table.columns) == SENSITIVITY_COLUMNS
    assert list(table["prior"].unique()) == list(PRIORS)  # in the dict's order
    n_treat = 7
    for name, rows in table.groupby("prior", sort=False):
        counts = rows["quantity"].value_counts()
        assert counts["tau"] == 1
        assert counts["relative_effect"] == n_treat - 1
        assert counts["sucra"] == n_treat
        assert rows["prior_description"].nunique() == 1
        assert rows["prior_description"].iloc[0] == PRIORS[name].describe()
        effects = rows[rows.quantity == "relative_effect"]
        assert (effects["comparator"] == "cau").all() and "cau" not in set(effects["treatment"])
        sucra = rows[rows.quantity == "sucra"]
        assert list(sucra["rank"]) == list(range(1, n_treat + 1))
        assert sucra["estimate"].is_monotonic_decreasing
        assert set(sucra["treatment"]) == set(effects["treatment"]) | {"cau"}
    tau = table[table.quantity == "tau"]
    assert tau["treatment"].isna().all() and tau["rank"].isna().all()
    medians = table[table.quantity != "sucra"]  # a SUCRA (a mean) may lie outside its interval
    assert (medians["ci_lower"] <= medians["estimate"]).all()
    assert (medians["estimate"] <= medians["ci_upper"]).all()
    assert table.attrs == {"random_seed": 3, "reference": "cau", "engine": "exact"}


def test_tau_moves_with_the_prior(table):
    tau = table[table.quantity == "tau"].set_index("prior")["estimate"]
    # a tight half-normal(0, 0.1^2) pulls tau down from its value under a vague U(0, 5)
    assert tau["tight HN(0.1)"] < tau["vague U(0, 5)"] - 0.02
    assert 0.3 < tau["tight HN(0.1)"] < tau["vague U(0, 5)"] < 0.7


def test_rows_match_the_single_fits(data, table):
    prior = PRIORS["vague U(0, 5)"]
    fit = nb.fit_network(data, reference="cau", prior_tau=prior, engine="exact", random_seed=3)
    rows = table[table.prior == "vague U(0, 5)"]
    effects = rows[rows.quantity == "relative_effect"].set_index("treatment")
    want = fit.relative_effects().set_index("treatment")
    np.testing.assert_allclose(effects["estimate"], want.loc[effects.index, "median"])
    np.testing.assert_allclose(effects["ci_upper"], want.loc[effects.index, "ci_upper"])
    sucra = rows[rows.quantity == "sucra"].set_index("treatment")["estimate"]
    want_sucra = fit.sucra(lower_is_better=True).set_index("treatment")["sucra"]
    np.testing.assert_allclose(sucra, want_sucra.loc[sucra.index])
    tau = fit.heterogeneity().loc["tau"]
    got = rows[rows.quantity == "tau"].iloc[0]
    assert got["estimate"] == pytest.approx(tau["median"])


def test_same_seed_same_table(data, table):
    again = prior_sensitivity(data, PRIORS, reference="cau", lower_is_better=True, random_seed=3)
    pd.testing.assert_frame_equal(again, table)


def test_seed_drawn_once_when_omitted(data):
    out = prior_sensitivity(
        data, {"a": nb.HalfNormal(1.0)}, reference="cau", lower_is_better=False, draws=100
    )
    assert isinstance(out.attrs["random_seed"], int)


@pytest.mark.parametrize(
    ("priors", "kwargs", "match"),
    [
        ({}, {}, "non-empty dict"),
        ([nb.HalfNormal(1.0)], {}, "non-empty dict"),
        ({"d prior": nb.Normal(0, 1)}, {}, "tau priors must be one of"),
        ({1: nb.HalfNormal(1.0)}, {}, "must be strings"),
        ({"a": nb.HalfNormal(1.0)}, {"prior_tau": nb.HalfNormal(1.0)}, "prior_tau"),
        ({"a": nb.HalfNormal(1.0)}, {"effects": "fixed"}, "effects"),
    ],
)
def test_errors(data, priors, kwargs, match):
    with pytest.raises(nb.ModelSpecError, match=match):
        prior_sensitivity(data, priors, reference="cau", lower_is_better=True, **kwargs)
