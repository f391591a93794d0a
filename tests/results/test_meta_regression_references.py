"""Network meta-regression (TSD3) against its references: certolizumab and statins.

Seeded NUTS fits of the bundled data sets with the references' priors (d, beta ~ N(0, 100^2),
tau ~ U(0, 5); study baselines N(0, 100^2), or N(0, 1000) for the baseline-risk model as in
TSD3/multinma) compared with

* the data sets' own JAGS fits of the TSD2/TSD3 code (``jags_tsd3_shared_interaction_*``:
  4 chains, every quantity with ESS >= 4,000 and R-hat <= 1.01; their READMEs);
* TSD3's published values (``tsd3_published``: statins' subgroup model, certolizumab's
  baseline-risk model, two decimals).

Tolerances (the issue's acceptance): a posterior mean within 0.05 or within z* combined Monte
Carlo standard errors (ours from ArviZ ``mcse``, the reference's ``sd / sqrt(4000)``), whichever
is larger, z* = 3 sigma made family-wise over the means compared in one test (Bonferroni, as in
``test_arm_likelihoods``); published two-decimal values add their rounding, 0.005. beta's
interval ends within 0.1; tau's median within 0.05; DIC within 2 (our DIC plugs in the posterior
mean of the fitted events, so it is compared with the references' ``DIC_plugin_fitted_mean``
where they have one).
"""

import functools

import arviz as az
import numpy as np
import pytest
from reference_helpers import usable
from scipy.special import ndtri

import nma_bayes as nb

JAGS_ESS = 4000
ROUNDING = 0.005
PRIORS = dict(prior_d=nb.Normal(0, 100), prior_beta=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))

CASES = {
    # key: (data set, covariate, effects, reference source, reference model)
    "certolizumab_fe": ("certolizumab", "disease_duration", "fixed",
                        "jags_tsd3_shared_interaction_FE", "FE_shared_interaction"),
    "certolizumab_re": ("certolizumab", "disease_duration", "random",
                        "jags_tsd3_shared_interaction_RE", "RE_shared_interaction"),
    "statins_fe": ("statins", "secondary", "fixed", "jags_tsd3_shared_interaction_FE",
                   "FE_shared_interaction"),
    "statins_re": ("statins", "secondary", "random", "jags_tsd3_shared_interaction_RE",
                   "RE_shared_interaction"),
}  # fmt: skip
REFERENCE = {"certolizumab": "Placebo", "statins": "control"}
# certolizumab RE is compared with its stored rows: they were remade on 2026-12-06 without JAGS's
# glm module, which had biased the first version (tau median 0.826, Infliximab 1.880; a JAGS rerun
# replaced them here until then, benchmarks/README.md).


def z_star(m: int) -> float:
    """3 sigma (two-sided 0.27%) made family-wise over ``m`` statistics (Bonferroni)."""
    return float(-ndtri(0.0027 / 2 / m))


@functools.cache
@usable
def regression_fit(key: str) -> nb.NetworkFit:
    name, covariate, effects, _, _ = CASES[key]
    # random effects: tau is weakly identified (<= 3 studies per comparison in certolizumab),
    # so more draws keep its ESS and the interval ends' Monte Carlo error small
    n = 3000 if effects == "random" else 1000
    return nb.fit_network(
        nb.datasets.load_dataset(name, "arms"),
        likelihood="binomial",
        studies=nb.datasets.load_dataset(name, "studies"),
        covariates=covariate,
        interaction="shared",
        reference=REFERENCE[name],
        effects=effects,
        draws=n,
        tune=n,
        random_seed=20261130,
        **PRIORS,
    )


def reference_rows(key, source=None, model=None):
    """The reference rows of a case, with the ESS the tolerances assume (:data:`JAGS_ESS`)."""
    name, _, _, ref_source, ref_model = CASES[key]
    ref = nb.datasets.reference_results(name)
    ref = ref[(ref["source"] == (source or ref_source)) & (ref["model"] == (model or ref_model))]
    return ref.assign(ess=JAGS_ESS)


def _mcse(draws) -> float:
    return float(az.mcse(draws.to_dataset(name="x"), method="mean")["x"])


def _beta_draws(fit):
    return fit.idata["posterior"]["beta_group"].sel(interaction_group="shared").squeeze("term")


@pytest.mark.reference
@pytest.mark.parametrize("key", list(CASES))
def test_relative_effects_at_the_centre_match_jags(key):
    fit = regression_fit(key)  # a usable run (reference_helpers.check_usable), not a perfect one
    ref = reference_rows(key)
    ref = ref[ref["quantity"] == "relative_effect_logOR"]
    d = fit.d_full()
    z = z_star(len(ref) + 1)
    for row in ref.itertuples():
        draws = d.sel(treatment=row.treatment) - d.sel(treatment=row.comparator)
        tol = max(0.05, z * np.hypot(_mcse(draws), row.sd / np.sqrt(row.ess)))
        assert float(draws.mean()) == pytest.approx(row.mean, abs=tol), row.treatment
    beta = reference_rows(key).set_index("quantity").loc["beta_shared_interaction"]
    ours = fit.regression().iloc[0]
    tol = max(0.05, z * np.hypot(_mcse(_beta_draws(fit)), beta["sd"] / np.sqrt(beta["ess"])))
    assert ours["mean"] == pytest.approx(beta["mean"], abs=tol)
    assert ours["ci_lower"] == pytest.approx(beta["lower95"], abs=0.1)
    assert ours["ci_upper"] == pytest.approx(beta["upper95"], abs=0.1)


@pytest.mark.reference
@pytest.mark.parametrize("key", ["certolizumab_re", "statins_re"])
def test_heterogeneity_matches_jags(key):
    """tau's median within 0.05 or 3 combined MCSEs of the median (ours from ArviZ; the
    reference's ~1.25 sd / sqrt(ESS), the normal approximation)."""
    ref = reference_rows(key).set_index("quantity").loc["tau"]
    fit = regression_fit(key)
    tau = fit.idata["posterior"]["tau"]
    mcse = float(az.mcse(tau.to_dataset(name="x"), method="quantile", prob=0.5)["x"])
    tol = max(0.05, 3 * np.hypot(mcse, 1.25 * ref["sd"] / np.sqrt(ref["ess"])))
    assert fit.heterogeneity().loc["tau", "median"] == pytest.approx(ref["median"], abs=tol)


@pytest.mark.reference
@pytest.mark.parametrize("key", list(CASES))
def test_model_fit_matches_jags(key):
    ref = reference_rows(key).set_index("quantity")["value"]
    ours = regression_fit(key).model_fit().iloc[0]
    assert ours["resdev"] == pytest.approx(ref["resdev"], abs=2)
    assert ours["DIC"] == pytest.approx(ref["DIC_plugin_fitted_mean"], abs=2)


@pytest.mark.reference
@pytest.mark.parametrize("key", ["statins_fe", "statins_re"])
def test_statins_subgroups_match_tsd3_and_jags(key):
    """TSD3 uses the uncentred 0/1 covariate: its d is primary prevention (at={"secondary": 0})."""
    fit = regression_fit(key)
    d0 = fit.posterior.at({"secondary": 0}).d_full()
    d1 = fit.posterior.at({"secondary": 1}).d_full()
    primary = d0.sel(treatment="statin") - d0.sel(treatment="control")
    secondary = d1.sel(treatment="statin") - d1.sel(treatment="control")
    table = fit.relative_effects(at={"secondary": 0}).iloc[0]
    assert table["mean"] == pytest.approx(float(primary.mean()))
    model = CASES[key][4]
    published = reference_rows(key, "tsd3_published", model).set_index("quantity")
    jags = reference_rows(key).set_index("quantity")
    z = z_star(3)
    for quantity, draws in (("logOR_primary_prevention", primary),
                            ("logOR_secondary_prevention", secondary)):  # fmt: skip
        row = jags.loc[quantity]
        tol = max(0.05, z * np.hypot(_mcse(draws), row["sd"] / np.sqrt(JAGS_ESS)))
        assert float(draws.mean()) == pytest.approx(row["mean"], abs=tol), quantity
    row = published.loc["logOR_primary_prevention"]
    tol = max(0.05, ROUNDING + z * _mcse(primary))
    assert float(primary.mean()) == pytest.approx(row["mean"], abs=tol)
    beta = fit.regression().iloc[0]
    row = published.loc["beta_shared_interaction"]
    assert beta["mean"] == pytest.approx(
        row["mean"], abs=max(0.05, ROUNDING + z * _mcse(_beta_draws(fit)))
    )
    assert beta["ci_lower"] == pytest.approx(row["lower95"], abs=0.1)
    assert beta["ci_upper"] == pytest.approx(row["upper95"], abs=0.1)
    assert fit.model_fit().iloc[0]["resdev"] == pytest.approx(
        published.loc["resdev", "value"], abs=2
    )


@functools.cache
@usable
def baseline_risk_fit(effects: str) -> nb.NetworkFit:
    """TSD3's baseline-risk model of certolizumab, centred at TSD3's -2.421 (multinma's test)."""
    return nb.fit_network(
        nb.datasets.load_dataset("certolizumab", "arms"),
        likelihood="binomial",
        covariates="baseline_risk",
        center={"baseline_risk": -2.421},
        reference="Placebo",
        effects=effects,
        prior_baseline=nb.Normal(0, 1000**0.5),
        # Abe2006 has no placebo responders: with beta near -1 its baseline is held only by its
        # prior (TSD3 README), a long flat ridge in (mu, beta) that needs long chains for R-hat
        draws=5000 if effects == "fixed" else 2000,
        tune=2000,
        random_seed=20261130,
        **PRIORS,
    )


@pytest.mark.reference
@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_baseline_risk_regression_matches_tsd3(effects):
    fit = baseline_risk_fit(effects)
    model = "FE_baseline_risk" if effects == "fixed" else "RE_baseline_risk"
    ref = nb.datasets.reference_results("certolizumab")
    ref = ref[(ref["source"] == "tsd3_published") & (ref["model"] == model)]
    rel = fit.relative_effects().set_index("treatment")
    effects_ref = ref[ref["quantity"] == "relative_effect_logOR"]
    for row in effects_ref.itertuples():
        assert rel.loc[row.treatment, "mean"] == pytest.approx(row.mean, abs=0.05), row.treatment
    beta = fit.regression().iloc[0]
    row = ref.set_index("quantity").loc["beta_baseline_risk"]
    assert beta["mean"] == pytest.approx(row["mean"], abs=0.05)
    assert beta["ci_lower"] == pytest.approx(row["lower95"], abs=0.1)
    assert beta["ci_upper"] == pytest.approx(row["upper95"], abs=0.1)
    resdev = ref.set_index("quantity").loc["resdev", "value"]
    assert fit.model_fit().iloc[0]["resdev"] == pytest.approx(resdev, abs=2)
