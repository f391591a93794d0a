"""New tau priors (half-Cauchy, log-normal and log-t on tau^2) and the published predictive
distributions of Turner et al. (2015) and Rhodes et al. (2015)."""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import nma_bayes as nb
from nma_bayes.engines.exact import ExactPosterior, _log_prior_tau, _tau_bounds
from nma_bayes.fitting.fit import as_network
from nma_bayes.models.empirical_priors import (
    RHODES_AREAS,
    RHODES_COMPARISONS,
    RHODES_OUTCOMES,
    TURNER_COMPARISONS,
    TURNER_OUTCOMES,
    list_empirical_priors,
    rhodes2015,
    turner2015,
)
from nma_bayes.models.priors import TAU_FAMILIES, HalfCauchy, LogNormalTau2, LogStudentTTau2
from nma_bayes.models.spec import ModelSpec

NEW_PRIORS = [HalfCauchy(0.5), LogNormalTau2(-2.56, 1.74), LogStudentTTau2(-3.44, 2.59, 5.0)]


@pytest.fixture(scope="module")
def network():
    return as_network(nb.datasets.load_dataset("therapy_formats"), reference="cau")


# ------------------------------------------------------------------------- prior objects
def test_new_families_are_tau_priors():
    for cls in (HalfCauchy, LogNormalTau2, LogStudentTTau2):
        assert cls in TAU_FAMILIES
    for prior in NEW_PRIORS:
        assert ModelSpec(prior_tau=prior).prior_tau == prior
    keys = {ModelSpec(prior_tau=p).structure_key() for p in NEW_PRIORS}
    assert len(keys) == 3  # each family compiles its own graph


@pytest.mark.parametrize(
    "make",
    [
        lambda: HalfCauchy(0.0),
        lambda: HalfCauchy(-1.0),
        lambda: LogNormalTau2(float("nan"), 1.0),
        lambda: LogNormalTau2(-2.0, 0.0),
        lambda: LogStudentTTau2(float("inf"), 1.0),
        lambda: LogStudentTTau2(-2.0, -1.0),
        lambda: LogStudentTTau2(-2.0, 1.0, 0.0),
    ],
)
def test_invalid_parameters(make):
    with pytest.raises(nb.ModelSpecError):
        make()


def test_describe_and_params():
    assert HalfCauchy(0.5).describe() == "half-Cauchy(0, 0.5)"
    assert LogNormalTau2(-2.56, 1.74).describe() == "log-normal(-2.56, 1.74^2) on tau^2"
    assert LogStudentTTau2(-3.44, 2.59).describe() == "log-t_5(-3.44, 2.59) on tau^2"
    labelled = LogNormalTau2(-1.0, 1.0, label="source")
    assert labelled.describe().endswith("[source]")
    assert labelled.params() == {"mu": -1.0, "sigma": 1.0}  # the label is no parameter
    assert LogStudentTTau2().params() == {"mu": -3.44, "sigma": 2.59, "nu": 5.0}


def _reference_logpdf(prior, tau):
    """Log density of tau from scipy (normalised)."""
    if isinstance(prior, HalfCauchy):
        return stats.halfcauchy(scale=prior.scale).logpdf(tau)
    if isinstance(prior, LogNormalTau2):  # tau^2 ~ LN(mu, sigma^2): density f(tau^2) * 2 tau
        return stats.lognorm(s=prior.sigma, scale=np.exp(prior.mu)).logpdf(tau**2) + np.log(2 * tau)
    t = stats.t(prior.nu, loc=prior.mu, scale=prior.sigma)  # log(tau^2) ~ t: f(2 log tau) 2/tau
    return t.logpdf(2 * np.log(tau)) + np.log(2 / tau)


@pytest.mark.parametrize("prior", NEW_PRIORS, ids=lambda p: p.family)
def test_exact_log_prior_matches_scipy(prior):
    tau = np.linspace(0.01, 3.0, 50)
    got = _log_prior_tau(ModelSpec(prior_tau=prior), tau)
    diff = got - _reference_logpdf(prior, tau)
    np.testing.assert_allclose(diff, diff[0], atol=1e-10)  # equal up to a constant


@pytest.mark.parametrize("prior", NEW_PRIORS, ids=lambda p: p.family)
def test_tau_bounds_hold_the_prior_mass(prior):
    lo, hi = _tau_bounds(ModelSpec(prior_tau=prior))
    if isinstance(prior, HalfCauchy):
        mass = stats.halfcauchy(scale=prior.scale).cdf(hi) - stats.halfcauchy.cdf(lo)
    elif isinstance(prior, LogNormalTau2):
        dist = stats.norm(prior.mu, prior.sigma)
        mass = dist.cdf(2 * np.log(hi)) - dist.cdf(2 * np.log(lo))
    else:
        dist = stats.t(prior.nu, loc=prior.mu, scale=prior.sigma)
        mass = dist.cdf(2 * np.log(hi)) - dist.cdf(2 * np.log(lo))
    assert mass > 1 - 1e-3


@pytest.mark.parametrize("prior", NEW_PRIORS, ids=lambda p: p.family)
def test_pymc_prior_matches_scipy(network, prior):
    model = nb.build_model(network, ModelSpec(prior_tau=prior))
    tau = np.array([0.05, 0.3, 1.0, 2.5])
    if prior.family == "logt_tau2":  # free parameter log(tau^2); tau is deterministic
        assert "log_tau2" in model.named_vars and "tau" in model.named_vars
        got = pm.logp(model["log_tau2"], 2 * np.log(tau)).eval()
        want = stats.t(prior.nu, loc=prior.mu, scale=prior.sigma).logpdf(2 * np.log(tau))
    else:
        got = pm.logp(model["tau"], tau).eval()
        want = _reference_logpdf(prior, tau)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _brute_force_tau_quantiles(ex, qs):
    """Quantiles of tau from a dense grid in log(tau) (no spacing problem near tau = 0)."""
    lt = np.linspace(np.log(1e-10), np.log(20.0), 20001)
    t = np.exp(lt)
    lp = np.concatenate([ex.log_density_tau(t[i : i + 2000]) for i in range(0, t.size, 2000)])
    w = np.exp(lp - lp.max()) * t
    cdf = np.cumsum(w) / w.sum()
    return np.interp(qs, cdf, t)


@pytest.mark.parametrize(
    "prior",
    [NEW_PRIORS[0], NEW_PRIORS[1], NEW_PRIORS[2]],
    ids=lambda p: p.family,
)
def test_exact_engine_matches_brute_force(network, prior):
    ex = ExactPosterior(network, ModelSpec(prior_tau=prior))
    s = ex.tau_summary(0.95)
    want = _brute_force_tau_quantiles(ex, [0.5, 0.025, 0.975])
    got = [s["median"], s["ci_lower"], s["ci_upper"]]
    np.testing.assert_allclose(got, want, rtol=3e-3)


# ----------------------------------------------------------------- published predictive priors
@pytest.mark.parametrize(
    ("outcome", "comparison", "mu", "sigma"),
    [
        # Turner et al. (2015), Stat Med 34:984-998, Table IV (log odds ratios), values as
        # transcribed in bayesmeta's TurnerEtAlParameters and rnmamod's table_tau2_prior
        ("all-cause mortality", "pharmacological vs placebo/control", -3.95, 1.34),
        ("subjective outcomes (various)", "pharmacological vs placebo/control", -2.70, 1.52),
        ("obstetric outcomes", "non-pharmacological vs pharmacological", -2.49, 1.50),
        ("mental health indicators", "non-pharmacological vs non-pharmacological", -1.67, 1.47),
        ("pain", "pharmacological vs pharmacological", -2.06, 1.58),
        ("adverse events", "non-pharmacological vs placebo/control", -2.10, 1.71),
    ],
)
def test_turner_table_values(outcome, comparison, mu, sigma):
    prior = turner2015(outcome, comparison)
    assert isinstance(prior, LogNormalTau2)
    assert (prior.mu, prior.sigma) == (mu, sigma)
    assert outcome in prior.label and comparison in prior.label


@pytest.mark.parametrize(
    ("outcome", "comparison", "area", "mu", "sigma"),
    [
        # Rhodes et al. (2015), J Clin Epidemiol 68:52-60, Table 3 (SMDs, t with 5 df), values
        # as transcribed in bayesmeta's RhodesEtAlParameters and rnmamod's table_tau2_prior
        ("obstetric outcome", "pharmacological vs placebo/control", "other", -4.13, 2.34),
        ("mental health outcome", "pharmacological vs placebo/control", "other", -2.99, 2.16),
        (
            "various subjectively measured outcomes",
            "non-pharmacological (any)",
            "other",
            -2.62,
            2.41,
        ),
        (
            "resource use and hospital stay / process",
            "pharmacological vs pharmacological",
            "other",
            -2.83,
            2.70,
        ),
        # appendix tables (respiratory diseases; cancer)
        ("obstetric outcome", "pharmacological vs placebo/control", "respiratory", -6.03, 2.36),
        ("biological marker", "pharmacological vs pharmacological", "cancer", -1.13, 2.87),
    ],
)
def test_rhodes_table_values(outcome, comparison, area, mu, sigma):
    prior = rhodes2015(outcome, comparison, area=area)
    assert isinstance(prior, LogStudentTTau2)
    assert (prior.mu, prior.sigma, prior.nu) == (mu, sigma, 5.0)


def test_general_settings():
    # Turner et al. (2015) p. 993: N(-2.56, 1.74^2); Rhodes et al. (2015) Sec. 3.3: t_5(-3.44, 2.59)
    assert (turner2015().mu, turner2015().sigma) == (-2.56, 1.74)
    assert (rhodes2015().mu, rhodes2015().sigma, rhodes2015().nu) == (-3.44, 2.59, 5.0)
    assert "general" in turner2015().describe()


def test_label_matching():
    ref = turner2015("all-cause mortality", "pharmacological vs placebo/control")
    assert turner2015("All-Cause", "placebo vs pharma") == ref  # prefix, case, either order
    assert turner2015("all-cause mortality", "Pharmacological vs. Placebo / Control") == ref
    assert turner2015("subjective", "drug vs control").mu == -2.70
    # Rhodes: any comparison with a non-pharmacological intervention is "non-pharmacological"
    mh = rhodes2015("mental health", "non-pharmacological (any)")
    assert rhodes2015("mental health", "non-pharma vs placebo") == mh
    assert rhodes2015("mental health", "pharma vs non-pharma") == mh
    assert rhodes2015("mental", "pharma vs pharma").mu == -3.27
    assert rhodes2015("obstetric", "pharma vs placebo", area="Cancer").mu == -1.57


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: turner2015("hair colour", "pharma vs placebo"), "all-cause mortality"),
        (lambda: turner2015("s", "pharma vs placebo"), "ambiguous"),
        (lambda: turner2015("pain", "surgery vs placebo"), "non-pharmacological vs pharma"),
        (lambda: turner2015("pain", "placebo vs control"), "not a comparison type"),
        (lambda: turner2015("pain"), "both outcome and comparison"),
        (lambda: rhodes2015("pain", "pharma vs placebo"), "mental health outcome"),
        (lambda: rhodes2015("mental", "pharma vs placebo", area="dermatology"), "respiratory"),
        (lambda: rhodes2015(area="cancer"), "general setting"),
        (lambda: turner2015(3, "pharma vs placebo"), "must be a string"),
    ],
)
def test_unknown_labels_list_the_valid_ones(call, match):
    with pytest.raises(nb.ModelSpecError, match=match):
        call()


def test_list_empirical_priors_round_trip():
    table = list_empirical_priors()
    assert len(table) == 1 + 16 * 5 + 1 + 3 * 8 * 3
    assert {
        "source",
        "outcome",
        "comparison",
        "area",
        "mu",
        "sigma",
        "nu",
        "tau_median",
        "reference",
    } <= set(table.columns)
    np.testing.assert_allclose(table["tau_median"], np.exp(table["mu"] / 2))
    for row in table.itertuples():
        if row.outcome == "general":
            continue
        if row.source == "turner2015":
            prior = turner2015(row.outcome, row.comparison)
        else:
            prior = rhodes2015(row.outcome, row.comparison, area=row.area)
        assert (prior.mu, prior.sigma) == (row.mu, row.sigma)
    assert set(table.loc[table.source == "rhodes2015", "area"].dropna()) == set(RHODES_AREAS)
    assert len(TURNER_OUTCOMES) == 16 and len(TURNER_COMPARISONS) == 5
    assert len(RHODES_OUTCOMES) == 8 and len(RHODES_COMPARISONS) == 3


@pytest.mark.parametrize(
    "prior",
    [
        turner2015("mental health indicators", "non-pharmacological vs placebo/control"),
        rhodes2015("mental health outcome", "non-pharmacological (any)"),
        rhodes2015(),
        HalfCauchy(0.5),
    ],
    ids=lambda p: p.describe(),
)
def test_fit_under_named_prior_exact(prior):
    df = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(
        df, reference="cau", prior_tau=prior, engine="exact", random_seed=1, draws=200
    )
    tau = fit.heterogeneity().loc["tau"]
    assert 0.2 < tau["median"] < 0.8 and tau["ci_lower"] < tau["median"] < tau["ci_upper"]
    assert fit.describe()["prior tau"] == prior.describe()
    assert np.isfinite(fit.relative_effects()["median"]).all()
