"""Priors and model specification: validated, described, keyed for compiled-model reuse."""

import pytest

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError


@pytest.mark.parametrize(
    "make",
    [
        lambda: nb.Normal(0, 0),
        lambda: nb.Normal(0, -1),
        lambda: nb.Normal(float("nan"), 1),
        lambda: nb.HalfNormal(0),
        lambda: nb.Uniform(2, 1),
        lambda: nb.Uniform(-1, 1),
        lambda: nb.Uniform(0, float("inf")),
        lambda: nb.LogNormal(0, 0),
    ],
)
def test_invalid_prior_parameters_raise(make):
    with pytest.raises(ModelSpecError):
        make()


def test_prior_descriptions():
    assert nb.Normal(0, 100).describe() == "normal(0, 100^2)"
    assert nb.HalfNormal(5).describe() == "half-normal(0, 5^2)"
    assert nb.Uniform(0, 2.905).describe() == "uniform(0, 2.905)"


def test_spec_validation():
    with pytest.raises(ModelSpecError, match="effects='mixed'"):
        nb.ModelSpec(effects="mixed")
    with pytest.raises(ModelSpecError, match="prior_tau"):
        nb.ModelSpec(prior_tau=nb.Normal(0, 1))
    with pytest.raises(ModelSpecError, match="prior_d"):
        nb.ModelSpec(prior_d=nb.HalfNormal(1))


def test_structure_key_ignores_numbers_but_not_families():
    a = nb.ModelSpec("random", nb.Normal(0, 10), nb.Uniform(0, 5))
    b = nb.ModelSpec("random", nb.Normal(0, 100), nb.Uniform(0, 2))
    c = nb.ModelSpec("random", nb.Normal(0, 100), nb.HalfNormal(1))
    assert a.structure_key() == b.structure_key() != c.structure_key()
    # the tau prior does not matter for a fixed-effect model
    assert (
        nb.ModelSpec("fixed", prior_tau=nb.Uniform(0, 5)).structure_key()
        == nb.ModelSpec("fixed").structure_key()
    )


def test_spec_describes_priors_shown_in_summary():
    text = nb.ModelSpec("random", nb.Normal(0, 43.575), nb.Uniform(0, 2.905)).describe()
    assert text["prior d"] == "normal(0, 43.575^2)"
    assert text["prior tau"] == "uniform(0, 2.905)"
    assert "prior tau" not in nb.ModelSpec("fixed").describe()
