"""Shared helpers: reference tables and one cached fit per reference analysis."""

import functools
import warnings

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

import nma_bayes as nb
from nma_bayes.base.errors import NMAConvergenceWarning

#: What a reference fit must reach for its Monte Carlo error to mean something (looser than the
#: package's warning thresholds, R-hat 1.01 and bulk ESS 400, which flag runs to improve): at
#: R-hat 1.05 the chains agree to a few percent of a posterior SD, 100 effective draws estimate
#: the MCSE itself to about 10%, and divergences in 1% of the draws would bias the posterior
#: visibly; one rare divergence in thousands of draws (seen on statins RE) does not.
USABLE_RHAT, USABLE_ESS, USABLE_DIVERGENT_SHARE = 1.05, 100, 0.01


def check_usable(fit: nb.NetworkFit) -> None:
    """Refuse a sampler run whose Monte Carlo error cannot be trusted (see ``USABLE_*``)."""
    if "sample_stats" not in fit.idata:  # the exact engine: independent draws, no chains
        return
    table = fit.diagnostics()
    draws = fit.idata["posterior"].sizes["chain"] * fit.idata["posterior"].sizes["draw"]
    assert table["r_hat"].max() <= USABLE_RHAT, table.sort_values("r_hat").tail()
    assert table["ess_bulk"].min() >= USABLE_ESS, table.sort_values("ess_bulk").head()
    assert table.attrs["divergences"] <= USABLE_DIVERGENT_SHARE * draws, table.attrs


def usable(make):
    """Fit with NMAConvergenceWarning silenced (accuracy is the subject), then check_usable."""

    @functools.wraps(make)
    def checked(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NMAConvergenceWarning)
            fit = make(*args, **kwargs)
        check_usable(fit)
        return fit

    return checked


def reference(name: str, source: str, model: str, quantity: str) -> pd.DataFrame:
    """Rows of a bundled data set's reference results, indexed by treatment."""
    table = nb.datasets.reference_results(name)
    rows = table[(table.source == source) & (table.model == model) & (table.quantity == quantity)]
    assert len(rows), f"no reference rows for {name}/{source}/{model}/{quantity}"
    return rows.set_index("treatment")


def smd_arms_network() -> nb.Network:
    """Four studies of arm-level means (a four-arm study among them) as SMDs: the rank-two
    within-study covariance (``u``, ``cov_u``) of SMDs sharing a base arm."""
    arms = pd.DataFrame(
        {
            "study": ["s1"] * 4 + ["s2"] * 2 + ["s3"] * 3 + ["s4"] * 2,
            "treatment": ["A", "B", "C", "D", "A", "B", "B", "C", "D", "A", "D"],
            "mean": [10.0, 8.5, 7.0, 9.0, 11.0, 9.5, 8.0, 7.5, 7.9, 10.2, 9.9],
            "sd": [3.0, 2.5, 3.5, 2.8, 3.1, 2.9, 2.6, 3.3, 3.0, 2.7, 3.2],
            "n": [40, 35, 42, 38, 50, 52, 30, 28, 33, 61, 58],
        }
    )
    return nb.Network.from_arms(arms, measure="SMD", reference="A")


@functools.cache
@usable
def reference_fit(key: str, engine: str = "pymc") -> nb.NetworkFit:
    """One seeded fit per reference analysis and engine, shared by the tests that check it."""
    tsd2 = {"prior_d": nb.Normal(0, 100), "prior_tau": nb.Uniform(0, 5)}
    settings = {
        # gemtc priors used in Harrer et al.: d ~ N(0, (15 * 2.905)^2), sd.d ~ U(0, 2.905)
        "therapy_re": (
            "therapy_formats",
            "cau",
            "random",
            {"prior_d": nb.Normal(0, 43.575), "prior_tau": nb.Uniform(0, 2.905)},
        ),
        "parkinsons_re": ("parkinsons", "Placebo", "random", tsd2),
        "parkinsons_fe": ("parkinsons", "Placebo", "fixed", tsd2),
        # the computed JAGS reference used d ~ N(0, 100^2), tau ~ U(0, 5)
        "social_re": ("social_anxiety", "Waitlist", "random", tsd2),
        "senn_fe": ("senn2013", "plac", "fixed", {"prior_d": nb.Normal(0, 100)}),
    }
    arm_fits = {
        # arm-level data: SMD with netmeta's definition (to compare with netmeta's NMA), MD from
        # the TSD2 inputs (arm means and their SEs)
        "parkinsons_arms_smd_fe": ("parkinsons", "SMD", "fixed", {"smd_method": "netmeta"}),
        "stowe_arms_smd_fe": ("stowe2010", "SMD", "fixed", {"smd_method": "netmeta"}),
        "parkinsons_arms_md_re": ("parkinsons", "MD", "random", {"se": "se"}),
        "parkinsons_arms_md_fe": ("parkinsons", "MD", "fixed", {"se": "se"}),
    }
    if key in ("social_ex", "social_common"):
        # multinma social anxiety vignette: prior_trt N(0, 100^2), prior_het half-N(0, 5^2),
        # class means N(0, 10^2), class SDs N(0.33, 0.1^2) truncated, three shared SD groups
        class_kw = {"class_model": "common"}
        if key == "social_ex":
            class_kw = {
                "class_model": "exchangeable",
                "prior_class_mean": nb.Normal(0, 10),
                "prior_class_sd": nb.priors.TruncatedNormal(0.33, 0.1),
                "class_sd": {
                    "Exercise and SH no support": ["Exercise promotion", "Self-help no support"],
                    "SSRIs and NSSA": ["SSRI/SNRI", "NSSA"],
                    "Psychodynamic & Other psychological therapies": [
                        "Psychodynamic psychotherapy",
                        "Other psychological therapies",
                    ],
                },
            }
        return nb.fit_network(
            nb.datasets.load_dataset("social_anxiety"),
            reference="Waitlist",
            classes="class",
            prior_d=nb.Normal(0, 100),
            prior_tau=nb.HalfNormal(5),
            random_seed=20261127,
            engine=engine,
            **class_kw,
        )
    if key in arm_fits:
        name, measure, effects, options = arm_fits[key]
        return nb.fit_network(
            nb.datasets.load_dataset(name, "arms"),
            measure=measure,
            reference="Placebo",
            effects=effects,
            random_seed=20261127,
            draws=5000 if measure == "MD" else 1000,
            engine=engine,
            **tsd2,
            **options,
        )
    name, ref, effects, priors = settings[key]
    # parkinsons RE: tau is barely identified (7 studies), so d is a heavy-tailed scale mixture
    # whose SD needs more draws for a small Monte Carlo error; sampling 4 x 5000 takes < 1 s
    draws = 5000 if name == "parkinsons" else 1000
    return nb.fit_network(
        nb.datasets.load_dataset(name),
        reference=ref,
        effects=effects,
        random_seed=20261127,
        draws=draws,
        engine=engine,
        **priors,
    )


# arm-level outcome likelihoods (binomial logit / cloglog, Poisson) against TSD2/TSD4
_LOGIT = dict(likelihood="binomial")
_CLOGLOG = dict(likelihood="binomial", link="cloglog", reference="Diuretic")
_POISSON = dict(likelihood="poisson", reference="control")
_FE = dict(effects="fixed")
_PLACEBO = dict(reference="Placebo")
_LONG = dict(draws=4000, tune=4000)
ARM_CASES = {
    # key: (dataset, fit options, reference model, reference source or None)
    "smoking_re": ("smoking", _LOGIT | dict(reference="No intervention"), "RE", "TSD4"),
    "thrombolytics_fe": ("thrombolytics", _LOGIT | dict(reference="SK") | _FE, "FE", None),
    "diabetes_fe": ("diabetes", _CLOGLOG | _FE, "FE", "TSD2"),
    "diabetes_re": ("diabetes", _CLOGLOG, "RE", "TSD2"),
    "dietary_fat_fe": ("dietary_fat", _POISSON | _FE, "FE", "tsd2_published"),
    "dietary_fat_re": ("dietary_fat", _POISSON, "RE", "tsd2_published"),
    # no covariate yet: the data sets' own JAGS fits of the TSD2 code (their README)
    "certolizumab_fe": ("certolizumab", _LOGIT | _PLACEBO | _FE, "FE", "jags_tsd2_FE"),
    # tau is weakly identified here (<= 3 studies per comparison): a longer run for its ESS
    "certolizumab_re": ("certolizumab", _LOGIT | _PLACEBO | _LONG, "RE", "jags_tsd2_RE"),
    "statins_fe": ("statins", _LOGIT | dict(reference="control") | _FE, "FE", "jags_tsd2_FE"),
    "statins_re": ("statins", _LOGIT | dict(reference="control"), "RE", "jags_tsd2_RE"),
}
#: Smallest effective sample size of the JAGS reference fits (their READMEs: >= 4,780).
JAGS_REFERENCE_ESS = 4000
#: Reference rows replaced by an independent rerun, with the reason (none at present). Until the
#: data sets' JAGS rows were remade on 2026-12-06, certolizumab's ``jags_tsd2_RE`` Infliximab
#: mean (1.827) and tau median (0.820) were replaced here by a JAGS rerun (1.750 and 0.779, as
#: NUTS gives): the first version of those rows was sampled with JAGS's ``glm`` module, whose
#: binomial sampler biased the random-effects fits. The remade rows, without it, agree with
#: exact quadrature (Infliximab 1.739 vs 1.751; README), so the stored rows are compared as they
#: are. Key: (data set, source, treatment or "tau"); value: (mean, sd, ESS) of the rerun, or for
#: "tau" (median, MCSE of the median, ESS).
REFERENCE_RERUNS: dict[tuple[str, str, str], tuple[float, float, float]] = {}


@functools.cache
@usable
def arm_fit(key: str) -> nb.NetworkFit:
    """One seeded NUTS fit per arm-level outcome reference case (:data:`ARM_CASES`)."""
    name, options, _, _ = ARM_CASES[key]
    df = nb.datasets.load_dataset(name, "arms")
    # random-effects arm-based models have a funnel between tau and the arm deviates: a longer
    # warm-up and more draws keep R-hat <= 1.01 and the bulk ESS of tau above 400
    n = 2000 if options.get("effects", "random") == "random" else 1000
    # the references' priors (TSD2/TSD4 WinBUGS code): d ~ N(0, 100^2), tau ~ U(0, 5)
    priors = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))
    settings = dict(draws=n, tune=n) | options
    return nb.fit_network(df, random_seed=20261130, **priors, **settings)


def stacked_design(net):
    """Dense arrays of a network, built independently of the engines (for brute-force checks).

    Returns
    -------
    x : (N, T-1) design over the non-reference treatments; y : (N,) contrasts; v : (N, N)
    block-diagonal within-study covariance; blocks : per-study covariance matrices.
    """
    others = [t for t in net.treatments if t != net.reference]
    col = {t: i for i, t in enumerate(others)}
    xs, ys, blocks = [], [], []
    for i in range(net.n_studies):
        m = np.asarray(net.mask[i])
        x = np.zeros((m.sum(), len(others)))
        base = net.treatments[net.base[i]]
        for j, a in enumerate(np.asarray(net.arm[i])[m]):
            if net.treatments[a] in col:
                x[j, col[net.treatments[a]]] += 1
            if base in col:
                x[j, col[base]] -= 1
        xs.append(x)
        ys.append(np.asarray(net.y[i])[m])
        blocks.append(net.study_covariance(i))
    return np.vstack(xs), np.concatenate(ys), block_diag(*blocks), blocks


#: A made-up per-study covariate of the parkinsons network (constant within study), for tests of
#: meta-regression summaries, plots and reports.
PARKINSONS_YEAR = {
    "Lieberman 1998": 2.0,
    "Lieberman 1997": 3.5,
    "Guttman 1997": 5.0,
    "Brunt 2002, Group A": 6.5,
    "Brunt 2002, Group B": 8.0,
    "Gershanik 1994b": 9.5,
    "Gershanik 1994a": 11.0,
}


#: Columns and reference of TSD2's psoriasis data (``arms_long_cumulative``) for the ordered model.
PSORIASIS = dict(likelihood="ordered", category="cutpoint", events="r", n="n", arm="arm",
                 reference="Supportive care")  # fmt: skip


def psoriasis_arms() -> pd.DataFrame:
    """The psoriasis arms, one row per arm and reported cutpoint (at-least counts)."""
    return nb.datasets.load_dataset("psoriasis", "arms_long_cumulative")
