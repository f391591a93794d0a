"""Ratio scales of relative effects (OR, HR, RR, rate ratio) and absolute effects of outcome fits.

Exact checks: on the ratio scale the median and interval ends are the exponentiated log-scale
ones (quantiles are invariant under the monotone map) and the mean and SD are those of the
exponentiated posterior (draws: the mean of ``exp(draws)``; exact engine: lognormal moments of the
quadrature's Gaussian mixture). Absolute effects: the formulas per family on given draws, the
refusals, and the diabetes example of TSD2 (3-year risk of diabetes with a cloglog baseline
``N(-4.2, precision 1.11)`` on Diuretic) against the published posterior means.
"""

import functools

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from reference_helpers import arm_fit
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import norm

import nma_bayes as nb
from nma_bayes.base.validate import check_scale
from nma_bayes.results import absolute as AB
from nma_bayes.results import tables as T
from nma_bayes.results.posterior import Posterior

QUANTILES = ["median", "ci_lower", "ci_upper"]

# a small synthetic network of log odds ratios: A-B, A-C, B-C, A-D (two studies each)
LOG_OR = pd.DataFrame(
    {
        "study": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"],
        "treat1": ["B", "B", "C", "C", "C", "C", "D", "D"],
        "treat2": ["A", "A", "A", "A", "B", "B", "A", "A"],
        "TE": [-0.40, -0.15, -0.60, -0.35, -0.20, 0.05, 0.30, 0.10],
        "seTE": [0.20, 0.25, 0.30, 0.22, 0.28, 0.35, 0.40, 0.30],
    }
)


@functools.cache
def exact_fit(effects, tau_scale=1.0):
    return nb.fit_network(
        LOG_OR, measure="logOR", reference="A", effects=effects, engine="exact", random_seed=7,
        prior_d=nb.Normal(0, 10), prior_tau=nb.HalfNormal(tau_scale),
    )  # fmt: skip


def _draws_posterior(fit):
    """The same draws behind the NUTS path of the accessor (summaries of draws, not quadrature)."""
    return Posterior(fit.network, fit.spec, fit.idata, None)


# ------------------------------------------------------------------------------ ratio scales
@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_or_scale_from_draws_is_exp_of_the_log_scale(effects):
    post = _draws_posterior(exact_fit(effects))
    for all_pairs in (False, True):
        lin = T.relative_effects(post, all_pairs=all_pairs, ci_prob=0.9)
        ratio = T.relative_effects(post, all_pairs=all_pairs, ci_prob=0.9, scale="OR")
        assert ratio.attrs["scale"] == "OR" and lin.attrs["scale"] == "logOR"
        assert ratio[["treatment", "comparator"]].equals(lin[["treatment", "comparator"]])
        np.testing.assert_allclose(ratio[QUANTILES], np.exp(lin[QUANTILES]), rtol=1e-14)
        d = post.d_full()
        draws = [
            np.exp((d.sel(treatment=t) - d.sel(treatment=c)).values.ravel())
            for t, c in zip(lin["treatment"], lin["comparator"], strict=True)
        ]
        np.testing.assert_allclose(ratio["mean"], [x.mean() for x in draws], rtol=1e-13)
        np.testing.assert_allclose(ratio["sd"], [x.std(ddof=1) for x in draws], rtol=1e-12)


def test_or_scale_of_the_exact_engine_fixed_effect_is_lognormal():
    """A fixed-effect posterior of ``d`` is exactly normal: exp(d) is lognormal in closed form."""
    fit = exact_fit("fixed")
    lin = fit.relative_effects(all_pairs=True)
    ratio = fit.relative_effects(all_pairs=True, scale="odds ratio")
    np.testing.assert_allclose(ratio[QUANTILES], np.exp(lin[QUANTILES]), rtol=1e-14)
    m, v = lin["mean"].to_numpy(), lin["sd"].to_numpy() ** 2
    np.testing.assert_allclose(ratio["mean"], np.exp(m + v / 2), rtol=1e-10)
    np.testing.assert_allclose(ratio["sd"], np.exp(m + v / 2) * np.sqrt(np.expm1(v)), rtol=1e-9)


def test_or_scale_of_the_exact_engine_random_effects_matches_many_exact_draws():
    """The lognormal-mixture moments of the quadrature agree with 400,000 independent exact
    draws (mean within 4 Monte Carlo standard errors, SD within 2%); quantiles are the
    exponentiated exact ones. Prior tau ~ half-N(0, 0.5^2): light enough a tail for every
    ratio to have a finite mean and SD."""
    fit = exact_fit("random", 0.5)
    lin, ratio = fit.relative_effects(), fit.relative_effects(scale="OR")
    np.testing.assert_allclose(ratio[QUANTILES], np.exp(lin[QUANTILES]), rtol=1e-14)
    _, d = fit.exact.sample(400_000, seed=11)
    x = np.exp(d)  # exact.treatments are the non-reference treatments in network order
    assert list(ratio["treatment"]) == fit.exact.treatments
    mcse = x.std(0, ddof=1) / np.sqrt(len(x))
    assert np.all(np.abs(ratio["mean"] - x.mean(0)) < 4 * mcse)
    np.testing.assert_allclose(ratio["sd"], x.std(0, ddof=1), rtol=0.02)


def test_an_infinite_ratio_moment_is_refused_not_truncated():
    """D is compared with A in two studies only: under tau ~ half-N(0, 1) the variance of
    d_D given tau grows like tau^2/2, so E[OR^2] integrates exp(tau^2) against a posterior
    decaying like exp(-tau^2/2): infinite. The quadrature would return a truncated number; it
    raises instead, and the quantile-only summaries still work."""
    fit = exact_fit("random", 1.0)
    with pytest.raises(nb.NumericalError, match=r"posterior SD of the ratio .* of D vs A is infin"):
        fit.relative_effects(scale="OR")
    with pytest.raises(nb.NumericalError, match="D vs A"):
        fit.league_table(scale="OR", stat="mean")
    table = fit.league_table(scale="OR", digits=3)
    lin = fit.relative_effects("B", ci_prob=0.95).set_index("treatment").loc["D"]
    est, lo, hi = np.exp(lin[["median", "ci_lower", "ci_upper"]].astype(float))
    assert table.loc["D", "B"] == f"{est:.3f} ({lo:.3f}, {hi:.3f})"
    assert table.loc["B", "D"] == f"{1 / est:.3f} ({1 / hi:.3f}, {1 / lo:.3f})"


def test_league_table_on_the_ratio_scale():
    fit = exact_fit("random", 0.5)
    for stat in ("median", "mean"):
        table = fit.league_table(scale="OR", stat=stat, digits=4)
        assert table.attrs["scale"] == "OR"
        rel = fit.relative_effects("B", scale="OR")
        row = rel.set_index("treatment").loc["D"]
        want = f"{row[stat]:.4f} ({row['ci_lower']:.4f}, {row['ci_upper']:.4f})"
        assert table.loc["D", "B"] == want
        back = fit.relative_effects("D", scale="OR").set_index("treatment").loc["B"]
        want = f"{back[stat]:.4f} ({back['ci_lower']:.4f}, {back['ci_upper']:.4f})"
        assert table.loc["B", "D"] == want  # its own summary, not the reciprocal of the mean
    assert fit.league_table(scale=None).equals(fit.league_table())
    with pytest.raises(nb.ModelSpecError, match="stat="):
        fit.league_table(scale="OR", stat="mode")


@pytest.mark.parametrize(
    ("measure", "scale", "expected"),
    [
        ("logOR", None, None),
        ("logOR", "OR", "OR"),
        ("logOR", "Odds_Ratio", "OR"),
        ("logOR", "logOR", None),
        ("logOR", "linear", None),
        ("logHR", "hazard-ratio", "HR"),
        ("logHR", "hr", "HR"),
        ("logRR", "RR", "RR"),
        ("logRR", "risk ratio", "RR"),
        ("logRateRatio", "rate ratio", "rate ratio"),
        ("logRateRatio", "RR", "rate ratio"),
        ("logRateRatio", "IRR", "rate ratio"),
        ("logHR", "log", None),
        ("SMD", None, None),
        ("SMD", "linear", None),
    ],
)
def test_check_scale_names(measure, scale, expected):
    assert check_scale(scale, measure) == expected


@pytest.mark.parametrize(
    ("measure", "scale", "match"),
    [
        ("SMD", "OR", r"\(SMD\) are not log ratios.*Valid scales: None \(the linear"),
        ("MD", "HR", "not log ratios"),
        ("logOR", "HR", "whose ratio scale is 'OR'.*Valid scales: None .*, 'OR'"),
        ("logHR", "rate ratio", "Valid scales: None .*, 'HR'"),
        ("logOR", "odds", "'OR'"),
        (None, "OR", "records no effect measure"),
        ("logOR", 1.0, "scale must be a string or None"),
        ("SMD", "log", "not log ratios"),
    ],
)
def test_check_scale_refusals(measure, scale, match):
    with pytest.raises(nb.ModelSpecError, match=match) as err:
        check_scale(scale, measure)
    assert err.value.rule == "bad-option"


def test_ratio_scale_refused_for_a_measure_that_is_not_a_log_ratio():
    fit = nb.fit_network(
        nb.datasets.load_dataset("senn2013", "contrasts"), measure="MD", effects="fixed",
        engine="exact", random_seed=1,
    )  # fmt: skip
    with pytest.raises(nb.ModelSpecError, match="not log ratios"):
        fit.relative_effects(scale="OR")
    with pytest.raises(nb.ModelSpecError, match="not log ratios"):
        fit.league_table(scale="RR")
    with pytest.raises(nb.ModelSpecError, match="arm-level outcome data"):
        fit.absolute_effects(nb.Normal(0, 1))
    with pytest.raises(nb.ModelSpecError, match="ratio scale is 'OR'"):
        exact_fit("fixed").relative_effects(scale="HR")


# ------------------------------------------------------------------------- absolute effects
def _outcome_posterior(name, seed=0, n=(2, 300), **options):
    """An outcome network with made-up draws of ``d`` (no sampling): the formulas, not a fit."""
    net = nb.Network.from_data(arms=nb.datasets.load_dataset(name, "arms"), **options)
    rng = np.random.default_rng(seed)
    others = list(net.non_reference)
    d = rng.normal(0.0, 0.3, (*n, len(others)))
    post = xr.Dataset(
        {"d": (("chain", "draw", "treatment"), d)},
        coords={"chain": np.arange(n[0]), "draw": np.arange(n[1]), "treatment": others},
    )
    idata = xr.DataTree.from_dict({"posterior": post})
    return Posterior(net, nb.ModelSpec("fixed", nb.Normal(0, 100)), idata, None)


def _baseline_draws(seed, size, baseline):
    rng = np.random.default_rng(np.random.SeedSequence([seed, AB.BASELINE_STREAM]))
    return rng.normal(baseline.mean, baseline.sd, size=size)


@pytest.mark.parametrize(
    ("name", "options", "kwargs"),
    [
        ("smoking", dict(likelihood="binomial", reference="No intervention"), {}),
        ("diabetes", dict(likelihood="binomial", link="cloglog", reference="Diuretic"),
         dict(time=3)),
        ("dietary_fat", dict(likelihood="poisson", reference="control"), {}),
        ("dietary_fat", dict(likelihood="poisson", reference="control"), dict(exposure=1000)),
    ],
)  # fmt: skip
def test_absolute_draws_follow_the_family_formula(name, options, kwargs):
    post = _outcome_posterior(name, **options)
    base = nb.Normal(-2.0, 0.5)
    draws = AB.absolute_draws(post, base, seed=99, **kwargs)
    d = post.d_full().values.reshape(-1, len(post.network.treatments))
    eta = _baseline_draws(99, len(d), base)[:, None] + d
    if options["likelihood"] == "poisson":
        want = np.exp(eta) * kwargs.get("exposure", 1.0)
    elif options.get("link") == "cloglog":
        want = 1 - np.exp(-np.exp(eta + np.log(kwargs["time"])))
    else:
        want = expit(eta)
    np.testing.assert_allclose(draws, want, rtol=1e-12)
    given = dict(time=kwargs.get("time"), exposure=kwargs.get("exposure"))
    table = AB.absolute_effects(post, base, seed=99, ci_prob=0.9, n_draws=None, **given)
    assert list(table["treatment"]) == list(post.network.treatments)
    np.testing.assert_allclose(table["mean"], want.mean(0), rtol=1e-12)
    np.testing.assert_allclose(table["ci_upper"], np.quantile(want, 0.95, axis=0), rtol=1e-12)
    assert table["baseline"].str.contains(post.network.reference).all()
    extra = {"time"} if "time" in kwargs else {"exposure"} if "poisson" in str(options) else set()
    assert set(table.columns) == {"treatment", "mean", "sd", "median", "ci_lower", "ci_upper",
                                  "quantity", "baseline"} | extra  # fmt: skip
    # n_draws: evenly spaced posterior draws, each with its own baseline draw
    thin = AB.absolute_draws(post, base, seed=99, n_draws=7, **kwargs)
    np.testing.assert_allclose(thin, want[np.linspace(0, len(want) - 1, 7).round().astype(int)])


def test_absolute_effects_refusals():
    cloglog = _outcome_posterior(
        "diabetes", likelihood="binomial", link="cloglog", reference="Diuretic"
    )
    logit = _outcome_posterior("smoking", likelihood="binomial", reference="No intervention")
    poisson = _outcome_posterior("dietary_fat", likelihood="poisson", reference="control")
    base = nb.Normal(-4.2, 1 / np.sqrt(1.11))
    cases = [
        (cloglog, {}, "needs time="),
        (cloglog, dict(time=0), "time must be a positive"),
        (cloglog, dict(time="3"), "time must be a positive"),
        (cloglog, dict(time=3, exposure=2), "exposure= does not apply"),
        (logit, dict(time=3), "time= does not apply"),
        (poisson, dict(exposure=-1.0), "exposure must be a positive"),
        (logit, dict(n_draws=601), "exceeds the 600 posterior draws"),
        (logit, dict(n_draws=0), "n_draws must be an integer >= 1"),
    ]
    for post, kwargs, match in cases:
        with pytest.raises(nb.ModelSpecError, match=match):
            AB.absolute_draws(post, base, seed=1, **kwargs)
    with pytest.raises(nb.ModelSpecError, match="baseline must be a normal"):
        AB.absolute_draws(logit, nb.HalfNormal(1), seed=1)
    with pytest.raises(nb.ModelSpecError, match="ci_prob"):
        AB.absolute_effects(logit, base, seed=1, time=None, exposure=None, ci_prob=95,
                            n_draws=None)  # fmt: skip


# ------------------------------------------------------------- TSD2 diabetes: 3-year risks
#: Published rounding of the TSD2 probabilities (three decimals).
ROUNDING = 0.0005
DIABETES_BASELINE = nb.Normal(-4.2, 1 / np.sqrt(1.11))  # WinBUGS dnorm(-4.2, 1.11): a precision


def diabetes_fit(effects):
    """The shared seeded fits of the TSD2 diabetes example (``reference_helpers.arm_fit``)."""
    return arm_fit("diabetes_fe" if effects == "fixed" else "diabetes_re")


@pytest.mark.reference
@pytest.mark.parametrize(("effects", "model"), [("fixed", "FE"), ("random", "RE")])
def test_diabetes_three_year_risks_match_tsd2(effects, model):
    """Posterior mean 3-year risks vs TSD2 within the rounding (0.0005) plus 3 MCSE of our mean.

    The MCSE (ArviZ, by chain) is 0.0005-0.001 (FE, 4 x 1000 draws: 0.0007-0.0010; RE, 4 x 2000:
    0.0005-0.0007), so the tolerance is 0.002-0.0036: the risks' posterior SD (~0.05-0.07) comes
    almost all from the baseline, drawn independently once per posterior draw. The reference
    treatment's risk is the baseline alone: also checked against its integral (0.06516)."""
    fit = diabetes_fit(effects)
    table = fit.absolute_effects(DIABETES_BASELINE, time=3).set_index("treatment")
    assert (table["time"] == 3).all() and (table["quantity"] == "probability").all()
    chains, draws = fit.settings.chains, fit.settings.draws
    samples = AB.absolute_draws(fit.posterior, DIABETES_BASELINE, seed=fit.seed, time=3)
    samples = samples.reshape(chains, draws, -1)
    ref = nb.datasets.reference_results("diabetes")
    ref = ref[(ref["model"] == model) & (ref["quantity"] == "prob_diabetes_3y")]
    assert len(ref) == 6
    for row in ref.itertuples():
        k = list(fit.treatments).index(row.treatment)
        x = xr.Dataset({"p": (("chain", "draw"), samples[:, :, k])})
        mcse = float(az.mcse(x, method="mean")["p"])
        assert mcse < 0.002
        tol = ROUNDING + 3 * mcse
        assert tol < 0.01
        assert table.loc[row.treatment, "mean"] == pytest.approx(samples[:, :, k].mean())
        assert table.loc[row.treatment, "mean"] == pytest.approx(row.mean, abs=tol), row.treatment
        if row.treatment == fit.reference:  # d = 0: the baseline alone, an integral in closed form
            exact = quad(lambda b: norm.pdf(b, -4.2, 1 / np.sqrt(1.11)) * -np.expm1(-3 * np.exp(b)),
                         -15, 6)[0]  # fmt: skip
            assert table.loc[row.treatment, "mean"] == pytest.approx(exact, abs=3 * mcse)


@pytest.mark.reference
def test_hazard_ratio_scale_on_a_sampled_fit_is_exp_of_the_log_scale():
    fit = diabetes_fit("fixed")
    lin, hr = fit.relative_effects(all_pairs=True), fit.relative_effects(all_pairs=True, scale="HR")
    np.testing.assert_allclose(hr[QUANTILES], np.exp(lin[QUANTILES]), rtol=1e-14)
    d = fit.d_full()
    for row in hr.itertuples():
        x = np.exp((d.sel(treatment=row.treatment) - d.sel(treatment=row.comparator)).values)
        assert row.mean == pytest.approx(x.mean(), rel=1e-13)
        assert row.sd == pytest.approx(x.std(ddof=1), rel=1e-12)
    with pytest.raises(nb.ModelSpecError, match="ratio scale is 'HR'"):
        fit.relative_effects(scale="OR")
    assert fit.league_table(scale="hazard ratio").shape == (6, 6)
