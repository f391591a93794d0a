"""``nodesplit`` refuses, before any fit, what it cannot split and bad options.

Every split network is built and every option checked before the consistency model is fitted:
meta-regression (``covariates=``), arm-level outcome likelihoods, bad comparisons and bad options
raise a typed error while ``fit_network`` is replaced by a function that fails the test.
"""

import numpy as np
import pytest

import nma_bayes as nb
from nma_bayes.analyses import inconsistency
from nma_bayes.base.errors import ModelSpecError, UnknownTreatmentError
from nma_bayes.data.transforms import nodesplit_network
from nma_bayes.results.summaries import flat_draws


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if node-splitting fits any model."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a model was fitted")

    monkeypatch.setattr(inconsistency, "fit_network", forbidden)


def _parkinsons():
    return nb.datasets.load_dataset("parkinsons")


@pytest.mark.parametrize("engine", ["pymc", "exact"])
def test_meta_regression_is_refused_before_any_fit(engine, no_fit):
    df = _parkinsons()
    df["year"] = df.groupby("study").ngroup().astype(float)  # constant within each study
    with pytest.raises(ModelSpecError, match="meta-regression") as info:
        nb.nodesplit(df, covariates="year", engine=engine)
    assert info.value.rule == "bad-option"


def test_exact_engine_on_arm_level_outcomes_is_refused_before_any_fit(no_fit):
    arms = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    with pytest.raises(ModelSpecError, match="arm-level binomial") as info:
        nb.nodesplit(arms, likelihood="binomial", engine="exact")
    assert info.value.rule == "bad-option"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"engine": "bogus"}, ModelSpecError, "engine='bogus'"),
        ({"drws": 100}, ModelSpecError, r"did you mean draws="),
        ({"random_seed": "1"}, ModelSpecError, "random_seed"),
        ({"prior_tau": 1.0}, ModelSpecError, "prior_tau"),
        ({"comparisons": 5}, ModelSpecError, "comparisons="),
        ({"comparisons": [("Placebo",)]}, ModelSpecError, "pairs of treatment names"),
        ({"comparisons": []}, ModelSpecError, "comparisons= is empty"),
        ({"comparisons": [("Placebo", "Nope")]}, UnknownTreatmentError, "'Nope'"),
        ({"comparisons": [("Cabergoline", "Ropinirole")]}, ModelSpecError, "directly"),
    ],
)
def test_bad_options_and_comparisons_are_refused_before_any_fit(kwargs, error, match, no_fit):
    with pytest.raises(error, match=match) as info:
        nb.nodesplit(_parkinsons(), **kwargs)
    assert info.value.rule is not None


def test_a_network_without_a_loop_has_nothing_to_split(no_fit):
    star = _parkinsons()
    star = star[star["treat2"].eq("Placebo") | star["treat1"].eq("Placebo")]
    star = star[star.groupby("study")["study"].transform("size").eq(1)]
    with pytest.raises(ModelSpecError, match="nothing to split") as info:
        nb.nodesplit(star, reference="Placebo")
    assert info.value.rule == "bad-option"


def test_each_split_is_the_fit_of_its_split_network():
    """The split networks built up front are the ones fitted: a split fitted by hand agrees."""
    df = _parkinsons()
    net = nb.Network.from_contrasts(df)
    a, b = nb.splittable_comparisons(net)[0]
    table = nb.nodesplit(df, [(a, b)], random_seed=3)
    split, pseudo = nodesplit_network(net, a, b)
    d = nb.fit_network(split, engine="exact", random_seed=3).d_full()
    direct = flat_draws(d.sel(treatment=pseudo) - d.sel(treatment=a))
    indirect = flat_draws(d.sel(treatment=b) - d.sel(treatment=a))
    row = table.iloc[0]
    assert (row["treatment"], row["comparator"]) == (b, a)
    assert row["direct"] == np.quantile(direct, 0.5)
    assert row["indirect"] == np.quantile(indirect, 0.5)
