"""Binomial probit and log links: the ordered model's special case, and risk ratios vs JAGS.

Monte Carlo error. The probit fits run 4 x 2,000 draws; their means are compared within
``Z_FAMILY = 3.3`` (a Bonferroni bound over the 7 effects at 1%) combined MCSEs,
``sd * sqrt(1/ESS_1 + 1/ESS_2)`` with each fit's smallest bulk ESS. The log-link fits run 4 x
2,000 draws and are compared with long JAGS runs of the same model (``benchmarks/jags_arm.R``,
family ``binomial log``: bulk ESS >= 29,000, MCSE <= 0.0004; ``tests/models/data/README.md``)
within 3.3 of our MCSEs plus the JAGS MCSE.
"""

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_helpers import PSORIASIS, psoriasis_arms, usable

import nma_bayes as nb
from nma_bayes.models.arm_likelihood import OutcomeData, arm_fitted

pytestmark = pytest.mark.reference

Z_FAMILY = 3.3
DATA = Path(__file__).resolve().parents[1] / "models" / "data"


def _pasi75():
    """Every arm that reports PASI 75, with that count only: one cutpoint in the network."""
    df = psoriasis_arms()
    return df[df["cutpoint"] == "PASI75"].reset_index(drop=True)


def _min_ess(fit) -> float:
    diag = fit.diagnostics().set_index("parameter")
    return float(diag.loc[diag.index.str.startswith(("d[", "tau")), "ess_bulk"].min())


@functools.cache
@usable
def _probit_fit(kind: str) -> nb.NetworkFit:
    df = _pasi75()
    common = dict(effects="fixed", draws=2000, random_seed=75, prior_d=nb.Normal(0, 10))
    if kind == "ordered":
        return nb.fit_network(df, **PSORIASIS, **common)
    binary = dict(likelihood="binomial", link="probit", events="r", reference="Supportive care")
    return nb.fit_network(df, **binary, **common)


def test_single_cutpoint_ordered_model_has_the_binomial_probit_density():
    """Exactly: the two graphs' log densities agree at any point (same free variables)."""
    df = _pasi75()
    ordered = nb.Network.from_data(arms=df, **PSORIASIS)
    binary = nb.Network.from_data(
        arms=df, likelihood="binomial", link="probit", events="r", reference="Supportive care"
    )
    assert ordered.categories == ("PASI75",)
    spec = nb.ModelSpec(effects="fixed")
    m1, m2 = nb.build_model(ordered, spec), nb.build_model(binary, spec)
    assert sorted(m1.initial_point()) == sorted(m2.initial_point()) == ["d", "mu"]
    rng = np.random.default_rng(3)
    f1, f2 = m1.compile_logp(), m2.compile_logp()
    for _ in range(5):
        point = {k: rng.normal(0, 1, np.shape(v)) for k, v in m1.initial_point().items()}
        # constants differ: the multinomial's log C(n; r, n - r) is left out by both graphs
        assert f1(point) == pytest.approx(f2(point), rel=1e-12)


def test_single_cutpoint_ordered_fit_equals_binomial_probit_fit():
    a, b = _probit_fit("ordered"), _probit_fit("binomial")
    ra = a.relative_effects().set_index("treatment")
    rb = b.relative_effects().set_index("treatment").loc[ra.index]
    tol = Z_FAMILY * ra["sd"] * np.sqrt(1 / _min_ess(a) + 1 / _min_ess(b))
    assert (np.abs(ra["mean"] - rb["mean"]) <= tol).all()
    assert b.network.measure == "probit"


def _log_data():
    return pd.read_csv(DATA / "log_link_high_risk.csv", dtype={"study": str})


@functools.cache
@usable
def _log_fit(model: str) -> nb.NetworkFit:
    effects = {"FE": "fixed", "RE": "random"}[model]
    return nb.fit_network(
        _log_data(),
        likelihood="binomial",
        link="log",
        events="r",
        reference="A",
        effects=effects,
        draws=2000,
        random_seed=11,
        prior_d=nb.Normal(0, 100),
        prior_tau=nb.Uniform(0, 5),
    )


@pytest.mark.parametrize("model", ["FE", "RE"])
def test_log_link_risk_ratios_match_a_long_jags_run(model):
    fit = _log_fit(model)
    ref = pd.read_csv(DATA / "log_link_jags.csv")
    ref = ref[ref["model"] == model].set_index("treatment")
    ours = fit.relative_effects().set_index("treatment")
    if model == "RE":
        ours = pd.concat([ours, fit.heterogeneity().loc[["tau"]]])
    ours = ours.loc[ref.index]
    mcse = ours["sd"] / np.sqrt(_min_ess(fit)) + ref["mcse_mean"]
    assert (np.abs(ours["mean"] - ref["mean"]) <= Z_FAMILY * mcse).all(), (ours, ref)
    # SDs: MCSE of an SD about 0.71 that of the mean
    assert (np.abs(ours["sd"] - ref["sd"]) <= Z_FAMILY * 0.71 * mcse + 1e-3).all()
    rr = fit.relative_effects(scale="RR").set_index("treatment")
    np.testing.assert_allclose(rr.loc["B", "median"], np.exp(ours.loc["B", "median"]), rtol=1e-9)


@pytest.mark.parametrize("model", ["FE", "RE"])
def test_log_link_fitted_probabilities_never_exceed_one(model):
    """Every draw's fitted risk is at most 1 and every baseline at most 0 (gemtc's model)."""
    fit = _log_fit(model)
    post = fit.idata["posterior"]
    assert float(post["mu"].max()) <= 0.0
    from nma_bayes.results.goodness_of_fit import _outcome_theta

    outcomes = OutcomeData.from_network(fit.network)
    theta = _outcome_theta(fit, outcomes)
    assert theta.max() > -0.05  # the data push some arms right up to the cap (46/46 events)
    p = arm_fitted(theta, np.ones(theta.shape[1]), "binomial", "log")
    assert p.max() <= 1.0
    table = fit.absolute_effects(nb.Normal(np.log(0.9), 0.1))
    assert (table["ci_upper"] <= 1.0).all() and (table["mean"] <= 1.0).all()
