"""Hostile options: wrong types, and options the data or the model would silently ignore.

Every case asserts the typed error (a ``ValueError``), its rule and a message fragment naming the
option. Cases through ``fit_network`` run with the engines replaced by functions that fail the
test (fixture ``no_engine``), so they pass only if the error is raised before any sampling; the
positive controls show that the same options are accepted where they apply (they reach the
engine). The summaries are checked on one exact-engine fit.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base import errors as E

REACHED = "the engine was reached"


@pytest.fixture
def no_engine(monkeypatch):
    """Make any attempt to build a model or compute a posterior fail the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError(REACHED)

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", forbidden)
    monkeypatch.setattr("nma_bayes.fitting.fit.exact_posterior", forbidden)
    monkeypatch.setattr("nma_bayes.models.pymc_graph.build_model", forbidden)


def contrasts(**cols):
    rows = [("s1", "B", "A", 0.1, 0.2), ("s2", "C", "A", 0.2, 0.25), ("s3", "C", "B", 0.1, 0.3),
            ("s4", "B", "A", 0.3, 0.2), ("s5", "C", "A", 0.1, 0.3)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])
    return df.assign(**cols)


def events(**cols):
    """Binary outcomes per arm (base arm first), with extra columns ``cols``."""
    rows = [("e1", "A", 5, 50), ("e1", "B", 9, 50), ("e2", "A", 1, 40), ("e2", "C", 3, 41),
            ("e3", "B", 7, 60), ("e3", "C", 4, 60)]  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treatment", "events", "n"]).assign(**cols)


def rates(exposure):
    """Poisson counts per arm over ``exposure`` (e.g. person-days)."""
    return events().rename(columns={"n": "exposure"}).assign(exposure=exposure)


def refused(call, rule, fragment, exc=E.ModelSpecError):
    with pytest.raises(exc, match=fragment) as info:
        call()
    assert isinstance(info.value, ValueError) and info.value.rule == rule
    return info.value


def reaches_the_engine(call):
    """The options are accepted: validation passes and the (forbidden) engine is called."""
    with pytest.raises(AssertionError, match=REACHED):
        call()


# ------------------------------------------------------------------- likelihood and link types
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"likelihood": ["binomial"]}, r"likelihood= must be a string, got \['binomial'\]"),
        ({"likelihood": "binomial", "link": ["logit"]}, r"link= must be a string.*\['logit'\]"),
        ({"likelihood": 1}, r"likelihood= must be a string, got 1 \(int\)"),
    ],
)
def test_likelihood_and_link_that_are_not_strings_are_refused(no_engine, kwargs, fragment):
    refused(lambda: nb.fit_network(events(), **kwargs), "bad-option", fragment)


# ------------------------------------------------------------------------------------- center
@pytest.mark.parametrize("center", [{"x": 1, 0: 2}, {("x",): 1.0}])
def test_center_keys_that_are_not_names_are_refused(no_engine, center):
    refused(
        lambda: nb.fit_network(contrasts(x=[1.0, 2, 3, 4, 5]), covariates="x", center=center),
        "bad-option",
        r"center= must map covariate names \(strings\).*keys .* are not strings",
    )


# ------------------------------------------------------------------ meta-regression priors
@pytest.mark.parametrize("interaction", [None, "shared", "independent"])
def test_prior_beta_sd_without_exchangeable_interactions_is_refused(no_engine, interaction):
    name = interaction or "shared"
    refused(
        lambda: nb.fit_network(contrasts(x=[1.0, 2, 3, 4, 5]), covariates="x", engine="exact",
                               interaction=interaction, prior_beta_sd=nb.HalfNormal(2.0)),
        "bad-option",
        rf"prior_beta_sd=.*interaction='{name}' has no such SD.*interaction='exchangeable'",
    )  # fmt: skip


def test_prior_beta_sd_with_exchangeable_interactions_is_accepted(no_engine):
    reaches_the_engine(
        lambda: nb.fit_network(contrasts(x=[1.0, 2, 3, 4, 5]), covariates="x",
                               interaction="exchangeable", prior_beta_sd=nb.HalfNormal(2.0))
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"prior_beta": nb.Normal(0, 2)}, r"^prior_beta= configures a meta-regression"),
        ({"prior_beta": nb.Normal(0, 10)}, r"^prior_beta= configures"),  # the default's value
        ({"prior_beta_sd": nb.HalfNormal(1.0)}, r"^prior_beta_sd= configures"),
        ({"center": False, "prior_beta": nb.Normal(0, 2)}, r"^center= and prior_beta= configure"),
    ],
)
def test_regression_priors_without_covariates_are_refused(no_engine, kwargs, fragment):
    error = refused(lambda: nb.fit_network(contrasts(), engine="exact", **kwargs), "bad-option",
                    fragment)  # fmt: skip
    assert "no covariates were given: pass covariates=" in str(error)


def test_default_regression_priors_are_not_mistaken_for_given_ones(no_engine):
    reaches_the_engine(lambda: nb.fit_network(contrasts(), engine="exact"))
    reaches_the_engine(
        lambda: nb.fit_network(contrasts(x=[1.0, 2, 3, 4, 5]), covariates="x", engine="exact",
                               prior_beta=nb.Normal(0, 2))
    )  # fmt: skip


# ------------------------------------------------------- outcome columns the data do not use
@pytest.mark.parametrize(
    ("data", "kwargs", "fragment"),
    [
        (events(t=1.0), {"likelihood": "binomial", "time": "t"},
         r"time='t' do not apply to likelihood='binomial', link='logit'.*link='cloglog'"),
        (events(t=1.0), {"likelihood": "binomial", "exposure": "t"},
         r"exposure='t' do not apply to likelihood='binomial'.*likelihood='poisson'"),
        (events(t=1.0), {"likelihood": "binomial", "link": "cloglog", "time": "t", "exposure": "t"},
         r"exposure='t' do not apply to likelihood='binomial', link='cloglog'"),
        (rates(100.0).assign(t=1.0), {"likelihood": "poisson", "time": "t"},
         r"time='t' do not apply to likelihood='poisson'"),
        (events(s=0.1), {"likelihood": "binomial", "se": "s"},
         r"se='s' do not apply to likelihood='binomial'"),
    ],
)  # fmt: skip
def test_outcome_columns_the_likelihood_ignores_are_refused(no_engine, data, kwargs, fragment):
    refused(lambda: nb.fit_network(data, **kwargs), "option-not-applicable", fragment)
    refused(lambda: nb.Network.from_data(arms=data, **kwargs), "option-not-applicable", fragment)


def test_outcome_columns_without_a_likelihood_are_refused(no_engine):
    arms = pd.DataFrame({"study": ["a1", "a1", "a2", "a2"], "treatment": ["A", "B", "B", "C"],
                         "mean": [10.0, 9, 9.5, 8], "sd": [3.0, 3.2, 2.9, 3.1],
                         "n": [40, 41, 30, 33], "events": [1, 2, 3, 4]})  # fmt: skip
    refused(lambda: nb.fit_network(arms, measure="MD", events="events"), "option-not-applicable",
            r"events='events' do not apply to continuous arm-level data")  # fmt: skip
    refused(lambda: nb.fit_network(contrasts(ev=1), events="ev"), "option-not-applicable",
            r"'events='.*do not apply to contrast data")  # fmt: skip
    refused(lambda: nb.Network.from_data(contrasts=contrasts(t=1.0), time="t"),
            "option-not-applicable", r"time='t' do not apply to contrast data")  # fmt: skip


def test_outcome_columns_the_likelihood_uses_are_accepted(no_engine):
    reaches_the_engine(lambda: nb.fit_network(events(t=2.0), likelihood="binomial",
                                              link="cloglog", time="t"))  # fmt: skip
    reaches_the_engine(lambda: nb.fit_network(rates(100.0).rename(columns={"exposure": "py"}),
                                              likelihood="poisson", exposure="py"))  # fmt: skip


# ------------------------------------------------------------------------------- exposure
def test_exposure_in_person_days_beyond_a_sample_size_bound_is_accepted():
    exposure = [3.65e9, 3.7e9, 2.9e9, 3.0e9, 4.1e9, 4.0e9]  # 1e7 people over a year, in days
    net = nb.Network.from_data(arms=rates(exposure), likelihood="poisson")
    assert np.allclose(np.sort(net.trials[net.outcome].ravel()), np.sort(exposure))
    follow_up = events(time=2e9)  # cloglog follow-up in person-seconds: large but accepted
    assert nb.Network.from_data(arms=follow_up, likelihood="binomial", link="cloglog").outcome.all()


@pytest.mark.parametrize(
    ("data", "kwargs", "column"),
    [
        (rates([1e16, 1e5, 1e5, 1e5, 1e5, 1e5]), {"likelihood": "poisson"}, "exposure"),
        (events(time=[1.0, 1, 1, 1, 1, 5e15]), {"likelihood": "binomial", "link": "cloglog"},
         "time"),
    ],
)  # fmt: skip
def test_absurd_exposure_is_refused_with_its_own_wording(no_engine, data, kwargs, column):
    error = refused(lambda: nb.fit_network(data, **kwargs), "exposure-too-large",
                    rf"'{column}' \(exposure or follow-up time per arm\) must be at most 1e\+15",
                    E.InvalidValueError)  # fmt: skip
    assert "sample size" not in str(error)


# ------------------------------------------------------------------ covariate term names
def test_two_categorical_covariates_with_one_term_name_are_refused():
    # 'g' has level 'a][b' -> term 'g[a][b]'; 'g[a]' has level 'b' -> term 'g[a][b]'
    df = contrasts(g=["a][b", "0", "a][b", "0", "0"], **{"g[a]": ["a", "b", "a", "b", "b"]})
    refused(lambda: nb.Network.from_contrasts(df, covariates=["g", "g[a]"]),
            "covariate-term-collision",
            r"term 'g\[a\]\[b\]' from 'g' \(categorical\) and 'g\[a\]' \(categorical\)",
            E.InvalidValueError)  # fmt: skip


def test_distinct_term_names_keep_each_covariate_its_own_term():
    df = contrasts(g=["a", "b", "a", "b", "b"], **{"g[c]": [0.0, 1.0, 2.0, 1.0, 3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", E.CovariateWarning)  # the point is the term names
        fit = nb.fit_network(df, covariates=["g", "g[c]"], engine="exact", random_seed=1)
    assert fit.posterior.regression.terms == ("g[b]", "g[c]")
    moved = fit.posterior.regression.term_values({"g[c]": 2.0})
    assert moved[0] == 0.0 and moved[1] != 0.0  # at= moves the numeric term only


# ------------------------------------------------------------------------------ summaries
@pytest.fixture(scope="module")
def regression_fit():
    return nb.fit_network(contrasts(x=[1.0, 2, 3, 4, 5]), covariates="x", engine="exact",
                          random_seed=1, lower_is_better=True)  # fmt: skip


@pytest.mark.parametrize("k", [[[1, 2]], [(1,)], np.array([[1, 2]]), [np.array([1])]])
def test_top_k_refuses_a_nested_k(regression_fit, k):
    refused(lambda: regression_fit.top_k(k=k, lower_is_better=True), "bad-option",
            r"k must be an integer from 1 to 3")  # fmt: skip


def test_top_k_takes_a_flat_sequence_of_ints(regression_fit):
    table = regression_fit.top_k(k=np.array([1, 2]), lower_is_better=True)
    assert list(table["k"].unique()) == [1, 2]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"values": 5}, r"values= must be a non-empty list of values of 'x'.*got 5"),
        ({"values": []}, r"values= must be a non-empty list.*got \[\]"),
        ({"values": "12"}, r"values= must be a non-empty list"),
        ({"values": {1.0, 2.0}}, r"values= must be a non-empty list"),
        ({"values": [[1.0, 2.0]]}, r"values= holds \[1.0, 2.0\]: x is numeric; give a finite"),
        ({"values": [1.0, np.nan]}, r"values= holds nan: x is numeric"),
        ({"treatments": 5}, r"treatments= must be a list of treatment names, got 5"),
    ],
)
def test_regression_curve_refuses_bad_values(regression_fit, kwargs, fragment):
    refused(lambda: regression_fit.regression_curve("x", **kwargs), "bad-option", fragment)


@pytest.mark.parametrize("covariate", [["x"], None, 1])
def test_regression_curve_refuses_a_covariate_that_is_not_a_name(regression_fit, covariate):
    for values in (None, [1.0]):
        refused(lambda v=values: regression_fit.regression_curve(covariate, values=v),
                "bad-option", r"name one covariate of this fit as a string; covariates: 'x'")


def test_regression_curve_takes_an_array_of_values(regression_fit):
    curve = regression_fit.regression_curve("x", values=np.array([1.0, 4.0]))
    assert sorted(curve["value"].unique()) == [1.0, 4.0]
