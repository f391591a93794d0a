"""``engine="auto"``: the Laplace engine for arm-level outcome networks it covers, NUTS when it
refuses, the exact engine (or NUTS) for the rest; and the analyses that refit use it by default.

Every fit is seeded; the comparisons are exact (the same seed gives the same draws), so nothing
here depends on Monte Carlo error.
"""

import logging

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.analyses import batch as B
from nma_bayes.analyses import cinema as C
from nma_bayes.analyses import influence as I
from nma_bayes.analyses.inconsistency import prepare_network
from nma_bayes.analyses.sensitivity import prior_sensitivity
from nma_bayes.fitting.fit import ENGINES, resolve_engine
from nma_bayes.models.spec import ModelSpec

#: TSD4's priors (as the JAGS references of smoking).
PRIORS = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))
#: Dietary fat (10 studies, Poisson rates): small enough for many refits.
FAT = dict(likelihood="poisson", reference="control")


@pytest.fixture(scope="module")
def smoking():
    return nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]


@pytest.fixture(scope="module")
def fat():
    return nb.datasets.load_dataset("dietary_fat", "arms")


@pytest.fixture(scope="module")
def smoking_auto(smoking):
    return nb.fit_network(smoking, likelihood="binomial", engine="auto", random_seed=7, **PRIORS)


# ----------------------------------------------------------------------------- fit_network
def test_auto_runs_the_laplace_engine_on_arm_level_outcomes(smoking, smoking_auto):
    laplace = nb.fit_network(smoking, likelihood="binomial", engine="laplace", random_seed=7,
                             **PRIORS)  # fmt: skip
    assert "auto" in ENGINES
    assert smoking_auto.engine == laplace.engine == "laplace"
    for var in ("d", "tau", "mu"):
        np.testing.assert_array_equal(smoking_auto.idata["posterior"][var],
                                      laplace.idata["posterior"][var])  # fmt: skip
    assert "engine_fallback" not in smoking_auto.idata["posterior"].attrs


def test_auto_takes_nuts_only_settings_without_using_them(smoking):
    kw = dict(likelihood="binomial", random_seed=7, draws=200, chains=2, **PRIORS)
    auto = nb.fit_network(smoking, engine="auto", tune=10, sampler="pymc", target_accept=0.8,
                          collapse=False, **kw)  # fmt: skip
    plain = nb.fit_network(smoking, engine="laplace", **kw)
    assert auto.engine == "laplace"
    np.testing.assert_array_equal(auto.idata["posterior"]["d"], plain.idata["posterior"]["d"])


def test_auto_falls_back_to_nuts_when_the_laplace_engine_refuses(fat, monkeypatch, caplog):
    monkeypatch.setattr("nma_bayes.engines.laplace.K_MAX", float("-inf"))  # no k can meet it
    kw = dict(effects="fixed", random_seed=5, draws=1000, tune=1000, chains=2, progressbar=False,
              prior_d=nb.Normal(0, 100), **FAT)  # fmt: skip
    with pytest.raises(nb.ExactEngineError, match="Pareto k"):  # asked for by name: it refuses
        nb.fit_network(fat, engine="laplace", **kw)
    with caplog.at_level(logging.INFO, logger="nma_bayes.fitting.fit"):
        fit = nb.fit_network(fat, engine="auto", **kw)
    assert fit.engine == "pymc"
    reason = fit.idata["posterior"].attrs["engine_fallback"]
    assert "Pareto k" in reason
    assert any(reason in r.getMessage() and "NUTS" in r.getMessage() for r in caplog.records)
    nuts = nb.fit_network(fat, engine="pymc", **kw)  # the same seed and settings: the same draws
    np.testing.assert_array_equal(fit.idata["posterior"]["d"], nuts.idata["posterior"]["d"])


def test_auto_picks_the_exact_engine_for_contrast_data():
    data = nb.datasets.load_dataset("parkinsons")
    auto = nb.fit_network(data, engine="auto", random_seed=2)
    exact = nb.fit_network(data, engine="exact", random_seed=2)
    assert auto.engine == "exact"
    np.testing.assert_array_equal(auto.idata["posterior"]["d"], exact.idata["posterior"]["d"])


def test_resolve_engine_covers_what_each_engine_covers(smoking):
    arms = nb.Network.from_data(arms=smoking, likelihood="binomial")
    contrasts = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"))
    plain, classes = ModelSpec(), ModelSpec(class_model="common")
    assert resolve_engine("auto", arms, plain) == "laplace"
    assert resolve_engine("auto", arms, classes) == "pymc"  # the Laplace engine has no classes
    assert resolve_engine("auto", contrasts, plain) == "exact"
    assert resolve_engine("auto", contrasts, classes) == "pymc"  # nor the exact engine
    for engine in ("pymc", "exact", "laplace"):  # an engine named is the engine run
        assert resolve_engine(engine, arms, plain) == engine
    # arm-level and contrast studies together: neither the Laplace nor the exact engine
    df = nb.datasets.load_dataset("smoking", "arms")
    first = df[df["study"] == df["study"].iloc[0]].reset_index(drop=True)
    lo = np.log(first["events"] / (first["n"] - first["events"]))
    se = np.sqrt((1 / first["events"] + 1 / (first["n"] - first["events"])).sum())
    contrast = pd.DataFrame({"study": [first["study"][0]], "treat1": [first["treatment"][1]],
                             "treat2": [first["treatment"][0]], "TE": [lo[1] - lo[0]],
                             "seTE": [se]})  # fmt: skip
    others = smoking[smoking["study"] != first["study"][0]]
    mixed = nb.Network.from_data(contrasts=contrast, arms=others, likelihood="binomial")
    assert resolve_engine("auto", mixed, plain) == "pymc"


# ------------------------------------------------------------------------------ the analyses
def test_nodesplit_of_arm_level_outcomes_uses_the_laplace_engine(smoking):
    kw = dict(likelihood="binomial", reference="No intervention", random_seed=23, **PRIORS)
    table = nb.nodesplit(smoking, **kw)
    assert table.attrs["engine"] == "laplace"
    laplace = nb.nodesplit(smoking, engine="laplace", **kw)
    pd.testing.assert_frame_equal(table, laplace)
    # the defaults, and an engine named: NUTS stays NUTS
    assert prepare_network(smoking, None, {"likelihood": "binomial"}, "nodesplit",
                           own=())[1] == "auto"  # fmt: skip
    assert prepare_network(smoking, "pymc", {"likelihood": "binomial"}, "nodesplit",
                           own=())[1] == "pymc"  # fmt: skip
    park = nb.datasets.load_dataset("parkinsons")
    assert prepare_network(park, None, {}, "nodesplit", own=())[1] == "exact"
    exact = nb.nodesplit(park, random_seed=1)
    assert exact.attrs["engine"] == "exact"


def test_leave_one_out_of_arm_level_outcomes_uses_the_laplace_engine(fat):
    kw = dict(lower_is_better=True, random_seed=4, **FAT)
    loo = nb.leave_one_out(fat, **kw)
    assert loo.engine == loo.full_fit.engine == "laplace"
    summary = loo.summary()
    assert (summary["method"] == "refit").all()  # no PSIS: the Laplace engine refits
    # a refit is the Laplace fit of the network without the study, draw for draw
    study = fat["study"].iloc[0]
    alone = nb.fit_network(fat[fat["study"] != study], engine="laplace", random_seed=4, **FAT)
    got = loo.effects().query("study == @study").set_index("treatment")
    np.testing.assert_array_equal(got["mean"], alone.relative_effects().set_index(
        "treatment").loc[got.index, "mean"])  # fmt: skip
    net = nb.Network.from_data(arms=fat, **FAT)
    assert I._resolve_engine(None, net, {}) == "auto"
    assert I._resolve_engine("pymc", net, {}) == "pymc"


def test_prior_sensitivity_defaults_to_auto(fat):
    priors = {"HN(1)": nb.HalfNormal(1.0), "U(0, 5)": nb.Uniform(0, 5)}
    table = prior_sensitivity(fat, priors, lower_is_better=True, random_seed=3, **FAT)
    assert table.attrs["engine"] == "laplace"
    named = prior_sensitivity(fat, priors, lower_is_better=True, random_seed=3,
                              engine="laplace", **FAT)  # fmt: skip
    pd.testing.assert_frame_equal(table, named)
    contrasts = prior_sensitivity(nb.datasets.load_dataset("parkinsons"), priors,
                                  lower_is_better=True, random_seed=3)  # fmt: skip
    assert contrasts.attrs["engine"] == "exact"  # as before: the exact engine


def test_fit_many_fits_arm_level_items_with_auto(fat):
    park = nb.datasets.load_dataset("parkinsons")
    net, kw = B._default_engine(fat, dict(FAT))
    assert isinstance(net, nb.Network) and kw == {"engine": "auto"}
    assert B._default_engine(park, {})[1] == {"engine": "pymc"}  # fit_network's default
    assert B._default_engine(fat, {"engine": "pymc", **FAT}) == (fat, {"engine": "pymc", **FAT})
    fits = nb.fit_many({"fat": fat}, random_seed=6, progress=False, **FAT)
    assert fits["fat"].engine == "laplace"
    alone = nb.fit_network(fat, engine="laplace", random_seed=fits["fat"].seed, **FAT)
    np.testing.assert_array_equal(fits["fat"].idata["posterior"]["d"],
                                  alone.idata["posterior"]["d"])  # fmt: skip


def test_cinema_refits_arm_level_fits_with_auto(smoking_auto):
    assert C._refit_options(smoking_auto)["engine"] == "auto"
    park = nb.fit_network(nb.datasets.load_dataset("parkinsons"), engine="exact", random_seed=1)
    assert C._refit_options(park)["engine"] == "exact"


def test_engines_label():
    assert B.engines_label(["laplace", "laplace"]) == "laplace"
    assert B.engines_label(["laplace", "pymc", "laplace"]) == "laplace+pymc"
