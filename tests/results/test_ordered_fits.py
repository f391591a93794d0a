"""Ordered categorical fits of TSD2's psoriasis network vs multinma's vignette, TSD2 and JAGS.

The references (``nma_bayes.datasets``, ``psoriasis``; see its README) print 2 decimals. A
compared number must agree within its rounding (0.005) plus a family-wise Monte Carlo bound:
``Z_FAMILY`` (3.4, a two-sided Bonferroni bound for about 60 comparisons at 5%) times the
combined MCSE of ours and the reference's. Our MCSE of a mean is ``sd / sqrt(ESS)`` with our
smallest bulk ESS of the effects; the vignette's is taken at ``REF_ESS`` (1,000: it printed n_eff
872 for tau and more for the effects; FE 4 x 1,000, RE 4 x 2,500 draws), the long JAGS runs' at
3,000. MCSEs of an SD, a median and a 2.5%/97.5% quantile are 0.71, 1.25 and 2.7 times that of
the mean (normal approximations). Priors are multinma's (``d ~ N(0, 10^2)``, ``tau ~ half-N(0,
2.5^2)``, ``mu ~ N(0, 100^2)``); its flat cutpoint prior is our ``U(0, 10)`` on the increments,
the JAGS runs' prior, which the data make irrelevant (posterior SDs 0.03-0.05). TSD2's run size
is not printed: its MCSE is taken at ESS 1,000 like the vignette's (its priors differ a little;
the largest gap is 0.8 of the bound, Methotrexate's PASI 90 prediction; multinma checks itself
against TSD2 within 0.05).
"""

import functools

import numpy as np
import pandas as pd
import pytest
from reference_helpers import PSORIASIS, psoriasis_arms, reference, usable

import nma_bayes as nb

pytestmark = pytest.mark.reference

Z_FAMILY = 3.4
REF_ESS = {"multinma_vignette": 1000, "TSD2": 1000, "computed_here_JAGS_not_published": 3000}
#: MCSE of each summary relative to that of the mean (normal approximations).
MCSE_FACTOR = {"mean": 1.0, "sd": 0.71, "median": 1.25, "lower95": 2.7, "upper95": 2.7}
OURS = {
    "mean": "mean",
    "sd": "sd",
    "median": "median",
    "lower95": "ci_lower",
    "upper95": "ci_upper",
}
DATA = dict(link="probit", **PSORIASIS)
PRIORS = dict(
    prior_d=nb.Normal(0, 10), prior_tau=nb.HalfNormal(2.5), prior_baseline=nb.Normal(0, 100)
)


@functools.cache
@usable
def psoriasis_fit(model: str) -> nb.NetworkFit:
    """The seeded FE or RE ordered probit fit (RE: 4 x 2,500 draws, as the vignette)."""
    df = psoriasis_arms()
    effects = {"FE": "fixed", "RE": "random"}[model]
    draws = {"FE": 1000, "RE": 2500}[model]
    return nb.fit_network(
        df, effects=effects, draws=draws, tune=1000, random_seed=26, **DATA, **PRIORS
    )


def _min_ess(fit) -> float:
    diag = fit.diagnostics().set_index("parameter")
    return float(diag.loc[diag.index.str.startswith(("d[", "tau", "cutpoint")), "ess_bulk"].min())


def _check(ours: pd.DataFrame, ref: pd.DataFrame, ess: float, source: str, stats) -> None:
    """Every ``stats`` column within rounding plus the family-wise MCSE bound (module doc)."""
    ours = ours.loc[ref.index]
    scale = ours["sd"].to_numpy() * np.sqrt(1 / ess + 1 / REF_ESS[source])
    for stat in stats:
        tol = 0.005 + Z_FAMILY * MCSE_FACTOR[stat] * scale
        gap = np.abs(ours[OURS[stat]].to_numpy() - ref[stat].to_numpy())
        assert (gap <= tol).all(), (stat, pd.DataFrame({"gap": gap, "tol": tol}, index=ref.index))


@pytest.mark.parametrize("model", ["FE", "RE"])
@pytest.mark.parametrize("source", ["multinma_vignette", "computed_here_JAGS_not_published"])
def test_effects_and_cutpoints_match_the_references(model, source):
    fit = psoriasis_fit(model)
    ess = _min_ess(fit)
    ref = reference("psoriasis", source, model, "relative_effect_probit")
    ours = fit.relative_effects().set_index("treatment")
    _check(ours, ref, ess, source, MCSE_FACTOR)
    cut = reference("psoriasis", source, model, "cutpoint")
    ours_cut = fit.cutpoints().set_index("cutpoint")
    assert list(ours_cut.index) == ["PASI75", "PASI90"]
    _check(ours_cut, cut, ess, source, MCSE_FACTOR)
    if model == "RE":  # tau: its own ESS, and a skewed posterior (median and quantiles)
        tau = reference("psoriasis", source, "RE", "tau").iloc[[0]].set_index(pd.Index(["tau"]))
        het = fit.heterogeneity().loc[["tau"]]
        _check(het, tau, ess, source, ("mean", "sd", "median", "upper95"))


@pytest.mark.parametrize("model", ["FE", "RE"])
def test_effects_and_tau_agree_with_tsd2(model):
    fit = psoriasis_fit(model)
    ref = reference("psoriasis", "TSD2", model, "relative_effect_probit")
    _check(fit.relative_effects().set_index("treatment"), ref, _min_ess(fit), "TSD2", MCSE_FACTOR)
    if model == "RE":
        tau = reference("psoriasis", "TSD2", "RE", "tau").iloc[[0]].set_index(pd.Index(["tau"]))
        _check(fit.heterogeneity().loc[["tau"]], tau, _min_ess(fit), "TSD2", MCSE_FACTOR)


@pytest.mark.parametrize("model", ["FE", "RE"])
def test_predicted_probabilities_match_the_vignette(model):
    """P(at least PASI 50/75/90) with the baseline probit(P(PASI 50 | SC)) ~ N(-1.097, 1/123)."""
    fit = psoriasis_fit(model)
    table = fit.absolute_effects(nb.Normal(-1.097, 123**-0.5)).set_index(["treatment", "category"])
    ess = _min_ess(fit)
    for cut in ("PASI50", "PASI75", "PASI90"):
        ref = reference("psoriasis", "multinma_vignette", model, f"prob_{cut}")
        ref = ref[ref["comparator"].str.startswith("baseline probit")]
        ours = table.xs(cut, level="category")
        _check(ours, ref, ess, "multinma_vignette", ("mean", "sd", "median"))
        tsd2 = reference("psoriasis", "TSD2", model, f"prob_{cut}")
        _check(ours, tsd2, ess, "TSD2", MCSE_FACTOR)


@pytest.mark.parametrize("model", ["FE", "RE"])
def test_residual_deviance_and_dic(model):
    """resdev within 1 of the vignette over its 58 data points; pD is TSD2's plug-in."""
    fit = psoriasis_fit(model)
    totals = fit.model_fit().iloc[0]
    vignette = reference("psoriasis", "multinma_vignette", model, "resdev")["value"].iloc[0]
    assert totals["n_data"] == 58
    assert abs(totals["resdev"] - vignette) <= 1.0
    # pD plugs in the posterior mean of the expected counts (TSD2); multinma's differs a little
    pd_ref = reference("psoriasis", "multinma_vignette", model, "pD")["value"].iloc[0]
    assert abs(totals["pD"] - pd_ref) <= 1.5
    per_study = fit.model_fit(per_study=True)
    assert per_study["n_data"].sum() == 58
    assert per_study["resdev"].sum() == pytest.approx(totals["resdev"])


def test_random_effects_ranks_match_the_vignette():
    fit = psoriasis_fit("RE")
    ref = reference("psoriasis", "multinma_vignette", "RE", "rank_higher_better")
    ours = fit.sucra(lower_is_better=False).set_index("treatment").loc[ref.index]
    # MCSE of a mean rank: its SD (<= 2) over sqrt(ESS), ours and the vignette's
    tol = 0.005 + Z_FAMILY * ref["sd"] * np.sqrt(1 / _min_ess(fit) + 1 / 1000)
    assert (np.abs(ours["mean_rank"] - ref["mean"]) <= tol).all()
    probs = fit.rank_probabilities(lower_is_better=False)
    best = reference("psoriasis", "multinma_vignette", "RE", "rank_prob_1")["value"]
    # a probability's MCSE is at most 0.5 / sqrt(ESS)
    bound = 0.005 + Z_FAMILY * 0.5 * np.sqrt(1 / _min_ess(fit) + 1 / 1000)
    assert (np.abs(probs.loc[best.index].iloc[:, 0] - best) <= bound).all()


def test_loo_has_one_point_per_study_with_the_multinomial_constant():
    """The pointwise log-likelihood sums each arm's exact multinomial log-probability."""
    from scipy.stats import multinomial

    fit = psoriasis_fit("FE")
    from nma_bayes.results.goodness_of_fit import pointwise_loglik

    ll = pointwise_loglik(fit)
    assert ll.sizes["study"] == 16
    # Guenther 1991: two arms reporting PASI 50 only, checked at one draw against SciPy
    post = fit.idata["posterior"]
    d = post["d"].isel(chain=0, draw=0).to_series()
    mu = float(post["mu"].isel(chain=0, draw=0).sel(outcome_study="Guenther 1991"))
    arms = psoriasis_arms()
    rows = arms[arms["study"] == "Guenther 1991"]
    from scipy.stats import norm

    total = 0.0
    for _, row in rows.iterrows():
        theta = mu + (d.get(row["treatment"], 0.0) - 0.0)
        p = norm.cdf(theta)  # PASI 50 is the first cutpoint: c = 0
        total += multinomial.logpmf([row["n"] - row["r"], row["r"]], row["n"], [1 - p, p])
    assert float(ll.isel(chain=0, draw=0).sel(study="Guenther 1991")) == pytest.approx(total)
