"""The Laplace engine (nested Laplace over tau, corrected by PSIS) against published posteriors.

Monte Carlo error: the engine's draws are a systematic resample of importance-weighted
proposals, so a posterior mean has MCSE ~ sd / sqrt(n_eff) with 1 / n_eff = 1 / IS-ESS + 1 / n
(n the draws returned; the importance-sampling ESS is in the posterior's attrs); a 2.5% or 97.5%
quantile ~ 2.7 times that (sqrt(p (1 - p)) / phi(z_p) for a normal posterior), a median ~1.25
times. Tolerances add the reference's own error (JAGS: sd / sqrt(4000); published tables: their
rounding, 0.005) and are 3 sigma made family-wise over the rows compared (Bonferroni).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_helpers import ARM_CASES, JAGS_REFERENCE_ESS
from scipy.special import ndtri
from scipy.stats import binomtest

import nma_bayes as nb
from nma_bayes.analyses.calibration import sbc_summary
from nma_bayes.analyses.calibration_arms import run_arm_sbc
from nma_bayes.base.errors import ExactEngineError, ModelSpecError

ROUNDING = 0.005
#: Every reference network: the importance weights' Pareto k stayed <= 0.65 over six seeds on
#: each (<= 0.45 except certolizumab, whose arms have few events).
KEYS = [
    "smoking_re",
    "thrombolytics_fe",
    "diabetes_fe",
    "diabetes_re",
    "dietary_fat_fe",
    "dietary_fat_re",
    "statins_fe",
    "statins_re",
    "certolizumab_fe",
    "certolizumab_re",
]
PRIORS = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))


def z_star(m: int) -> float:
    return float(-ndtri(0.0027 / 2 / m))


#: The reference cases, and thrombolytics with random effects (no published posterior; the long
#: JAGS runs only).
CASES = ARM_CASES | {
    "thrombolytics_re": ("thrombolytics", dict(likelihood="binomial", reference="SK"), "RE", None)
}
#: Long JAGS runs of every case (4 chains, min bulk ESS >= 20,000; tests/engines/data/README.md).
LONG_JAGS = pd.read_csv(Path(__file__).parent / "data" / "jags_long_arm.csv")


def _fit(key: str, seed: int = 20261206, **settings):
    name, options, _, _ = CASES[key]
    options = {k: v for k, v in options.items() if k not in ("draws", "tune")}
    df = nb.datasets.load_dataset(name, "arms")
    return nb.fit_network(df, engine="laplace", random_seed=seed, **PRIORS, **options, **settings)


def _reference(key, prefix):
    name, _, model, source = ARM_CASES[key]
    ref = nb.datasets.reference_results(name)
    ref = ref[(ref["model"] == model) & ref["quantity"].str.startswith(prefix)]
    return ref if source is None else ref[ref["source"] == source]


def _n_eff(fit) -> float:
    post = fit.idata["posterior"]
    n = post.sizes["chain"] * post.sizes["draw"]
    return 1.0 / (1.0 / post.attrs["is_ess"] + 1.0 / n)


@pytest.mark.parametrize("key", KEYS)
def test_relative_effects_match_the_references(key):
    fit = _fit(key)
    assert fit.engine == "laplace" and fit.idata["posterior"].attrs["pareto_k"] <= 0.7
    ref = _reference(key, "relative_effect")
    d, n_eff = fit.d_full(), _n_eff(fit)
    z = z_star(4 * len(ref))
    for row in ref.itertuples():
        x = (d.sel(treatment=row.treatment) - d.sel(treatment=row.comparator)).values.ravel()
        jags = row.source.startswith("jags")
        ref_err = row.sd / np.sqrt(JAGS_REFERENCE_ESS) if jags else 0.0
        slack = 0.0 if jags else ROUNDING
        checks = [("mean", x.mean(), row.mean, 1.0),
                  ("sd", x.std(), row.sd, np.sqrt(0.5)),
                  ("lower95", np.quantile(x, 0.025), row.lower95, 2.7),
                  ("upper95", np.quantile(x, 0.975), row.upper95, 2.7)]  # fmt: skip
        for what, ours, want, factor in checks:
            if not np.isfinite(want):
                continue
            tol = slack + z * np.hypot(factor * row.sd / np.sqrt(n_eff), factor * ref_err)
            assert ours == pytest.approx(want, abs=tol), (row.treatment, row.comparator, what)


@pytest.mark.parametrize("key", sorted(set(LONG_JAGS["key"])))
def test_agrees_with_long_jags_runs_within_a_twentieth_of_a_posterior_sd(key):
    """Issue 25's bar: mean, SD and 2.5%/97.5% quantiles of every ``d`` contrast and tau's median
    within 0.05 posterior SD of JAGS (4 x 10,000 draws here: n_eff >= 13,000). The Monte Carlo
    error of the comparison (ours and JAGS's, family-wise 3 sigma) is below 0.05 SD for means,
    SDs and medians, so those are held to the bar; for the interval ends it is ~0.08-0.1 SD, and
    they are held to it instead (the measured gaps are in issue 25's closing note)."""
    fit = _fit(key, draws=10_000)
    ref = LONG_JAGS[LONG_JAGS["key"] == key]
    d, n_eff = fit.d_full(), _n_eff(fit)
    assert n_eff >= 13_000
    z = z_star(4 * len(ref))
    for row in ref.itertuples():
        if row.quantity == "tau":
            x = fit.idata["posterior"]["tau"].values.ravel()
            checks = [("median", np.median(x), row.median, 1.25)]
        else:
            x = (d.sel(treatment=row.treatment) - d.sel(treatment=row.comparator)).values.ravel()
            checks = [("mean", x.mean(), row.mean, 1.0), ("sd", x.std(), row.sd, np.sqrt(0.5)),
                      ("lower95", np.quantile(x, 0.025), row.lower95, 2.7),
                      ("upper95", np.quantile(x, 0.975), row.upper95, 2.7)]  # fmt: skip
        for what, ours, want, factor in checks:
            mc = factor * row.sd * np.sqrt(1 / n_eff + 1 / row.ess_bulk)
            tol = max(0.05 * row.sd, z * mc)
            gap = (ours - want) / row.sd
            assert ours == pytest.approx(want, abs=tol), (row.treatment, what, gap)


@pytest.mark.parametrize("key", [k for k in KEYS if k.endswith("_re")])
def test_tau_median_matches_the_reference(key):
    fit = _fit(key)
    row = _reference(key, "tau").iloc[0]
    mcse = 1.25 * row["sd"] / np.sqrt(_n_eff(fit))
    jags = row["source"].startswith("jags")
    ref_err = 1.25 * row["sd"] / np.sqrt(JAGS_REFERENCE_ESS) if jags else 0.0
    slack = 0.0 if jags else ROUNDING
    tol = slack + 3 * np.hypot(mcse, ref_err)
    assert fit.heterogeneity().loc["tau", "median"] == pytest.approx(row["median"], abs=tol)


def test_same_seed_same_draws_and_the_fit_works_downstream():
    from threadpoolctl import threadpool_limits

    a = _fit("smoking_re", seed=3)
    with threadpool_limits(limits=1, user_api="blas"):  # as on a Dask worker
        b = _fit("smoking_re", seed=3)
    np.testing.assert_array_equal(a.idata["posterior"]["d"], b.idata["posterior"]["d"])
    other = _fit("smoking_re", seed=4).idata["posterior"]["d"]
    assert not np.array_equal(a.idata["posterior"]["d"], other)
    # the draws repeat proposals: their reported ESS is the weights' effective size, not ArviZ's
    # count of the resample (which would overstate it), and the MCSE grows to match
    diag, n_eff = a.diagnostics(), _n_eff(a)
    assert diag["ess_bulk"].max() <= n_eff * (1 + 1e-12) and diag["ess_tail"].max() <= n_eff
    sd = a.idata["posterior"]["tau"].std().item()
    assert diag.set_index("parameter").loc["tau", "mcse_mean"] >= 0.9 * sd / np.sqrt(n_eff)
    # TSD4's random-effects smoking: residual deviance 54.0 for 50 data points
    assert a.model_fit()["resdev"].iloc[0] == pytest.approx(54.0, abs=1.5)
    assert set(a.sucra(lower_is_better=False)["treatment"]) == set(a.network.non_reference) | {
        a.network.reference
    }


SPARSE = pd.DataFrame(
    [("s1", "A", 0, 8), ("s1", "B", 3, 8), ("s2", "A", 0, 6), ("s2", "C", 0, 6),
     ("s3", "B", 1, 7), ("s3", "C", 0, 7), ("s4", "A", 0, 9), ("s4", "B", 0, 9)],
    columns=["study", "treatment", "events", "n"],
)  # fmt: skip


def test_refuses_what_it_does_not_cover_and_when_its_weights_say_so(monkeypatch):
    contrasts = nb.datasets.load_dataset("parkinsons")
    with pytest.raises(ModelSpecError, match="contrast-level studies") as info:
        nb.fit_network(contrasts, engine="laplace")
    assert info.value.rule == "bad-option"
    smoking = nb.datasets.load_dataset("smoking", "arms")
    kw = dict(likelihood="binomial", engine="laplace", random_seed=1, **PRIORS)
    # the checks themselves: a bound the weights cannot meet makes the engine refuse
    monkeypatch.setattr("nma_bayes.engines.laplace.K_MAX", 0.05)
    with pytest.raises(ExactEngineError, match="Pareto k"):
        nb.fit_network(smoking, **kw)
    monkeypatch.setattr("nma_bayes.engines.laplace.K_MAX", 0.7)
    monkeypatch.setattr("nma_bayes.engines.laplace.MIN_ESS_SHARE", 100.0)
    with pytest.raises(ExactEngineError, match="effective sample size"):
        nb.fit_network(smoking, **kw)


def test_sparse_arms_answered_or_refused_never_wrong():
    """Arms with 0-3 events of 6-9 patients, every A arm empty: d is barely identified (its
    posterior reaches the N(0, 100^2) prior's scale), far from any normal, and the weights'
    Pareto k ranges over 0.3-0.76 with the seed (seeds 1-6 when this was written): the engine
    answers for some seeds and refuses for others. Every answer among seeds 1-4 (at least two)
    agrees with NUTS (4 x 5000 draws): medians and 95% interval ends within 3 sigma of both
    Monte Carlo errors, family-wise over seeds and rows."""
    kw = dict(likelihood="binomial", reference="A", effects="fixed", **PRIORS)
    nuts = nb.fit_network(SPARSE, random_seed=1, draws=5000, tune=2000, progressbar=False, **kw)
    ess = nuts.diagnostics().set_index("parameter")["ess_bulk"]
    b = nuts.relative_effects().set_index("treatment")
    answers = []
    for seed in range(1, 5):
        try:
            answers.append(nb.fit_network(SPARSE, engine="laplace", random_seed=seed, **kw))
        except ExactEngineError as err:
            assert "Pareto k" in str(err) or "effective sample size" in str(err)
    assert len(answers) >= 2
    z = z_star(6 * len(answers))
    for lap in answers:
        n_eff, a = _n_eff(lap), lap.relative_effects().set_index("treatment")
        for t in ("B", "C"):
            sd = b.loc[t, "sd"]
            for col, factor in (("median", 1.25), ("ci_lower", 2.7), ("ci_upper", 2.7)):
                tol = z * factor * sd * np.hypot(1 / np.sqrt(n_eff), 1 / np.sqrt(ess[f"d[{t}]"]))
                assert a.loc[t, col] == pytest.approx(b.loc[t, col], abs=tol), (lap.seed, t, col)


def test_reduced_sbc_of_the_binomial_random_effects_model():
    """40 simulated binomial networks (4 treatments, 6-20 studies, 20% three-arm): ranks of d and
    tau uniform and 95% intervals covering at the nominal rate (tests at 0.1%: the d ranks of one
    replicate share data); the engine refused none of 20 such networks when this was written and
    may refuse a few (its Pareto k check), never silently. The full run (200 networks) is in
    issue 25's note."""
    ranks, refused = run_arm_sbc(40, seed=25, fit_options={"draws": 250})
    assert refused <= 4
    summary = sbc_summary(ranks).set_index("parameter")
    assert summary.loc["tau", "n"] == 40 - refused
    assert (summary["chi2_p"] > 0.001).all(), summary
    for parameter, row in summary.iterrows():
        k = int(round(row["coverage"] * row["n"]))
        assert binomtest(k, int(row["n"]), 0.95).pvalue > 0.001, parameter


#: multinma's treatment order for smoking (the JAGS "multinma" node-split convention).
MULTINMA_ORDER = ["No intervention", "Group counselling", "Individual counselling", "Self-help"]


def test_nodesplit_of_smoking_matches_the_long_jags_run():
    """Every split of smoking (random effects) with the Laplace engine against JAGS (4 x 15,000+).

    Our MCSE: the table's bulk ESS is the effective size of the resampled draws (smoking:
    importance-sampling ESS ~2,000-2,600 for 4,000 draws, so ~1,350-1,550, where ArviZ's count
    of the resample, duplicates included, is ~3,600-4,150)."""
    smoking = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    table = nb.nodesplit(smoking, likelihood="binomial", treatments=MULTINMA_ORDER,
                         reference="No intervention", engine="laplace", random_seed=23,
                         **PRIORS)  # fmt: skip
    ref = nb.datasets.load_dataset("smoking", "jags_nodesplit")
    ref = ref[(ref["convention"] == "multinma") & (ref["effects"] == "RE")]
    z = z_star(3 * len(table))
    median_mcse = np.sqrt(np.pi / 2)
    for row in table.itertuples():
        pair = {row.treatment, row.comparator}
        mine = ref[ref["trt_a"].isin(pair) & ref["trt_b"].isin(pair)].set_index("quantity")
        sign = 1.0 if mine["trt_b"].iloc[0] == row.treatment else -1.0
        for ours, theirs in (("direct", "d_dir"), ("indirect", "d_ind"), ("difference", "omega")):
            sd = (getattr(row, f"{ours}_upper") - getattr(row, f"{ours}_lower")) / (2 * 1.96)
            jags_sd, jags_ess = mine.loc[theirs, "sd"], mine.loc[theirs, "ess"]
            tol = z * median_mcse * np.hypot(sd / np.sqrt(row.ess_bulk),
                                             jags_sd / np.sqrt(jags_ess))  # fmt: skip
            assert getattr(row, ours) == pytest.approx(sign * mine.loc[theirs, "median"],
                                                       abs=tol), (pair, ours)  # fmt: skip
