"""Residual deviance, pD, DIC and pointwise log-likelihood of arm-level outcome fits (TSD2).

Per arm (Dias et al. 2011, NICE DSU TSD2; Spiegelhalter et al. 2002): binomial
``2[r log(r/rhat) + (n - r) log((n - r)/(n - rhat))]``, Poisson ``2[(rhat - r) + r log(r/rhat)]``;
``pD`` plugs in the posterior mean of ``rhat``. Seeded fits are compared with the published
WinBUGS values (TSD2 diabetes and dietary fat, TSD4 smoking) within 2 (the published values are
rounded, dietary fat FE differs from the data set's own JAGS fit of the TSD2 code by 1.4, and the
Monte Carlo error of a posterior mean deviance from 4000 draws is a few tenths); the formulas are
checked exactly against hand computations, and a mixed network (contrasts + arms) against the
contrast and arm parts written out independently.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_helpers import ARM_CASES, arm_fit, check_usable
from scipy.stats import binom, multivariate_normal, poisson

import nma_bayes as nb
from nma_bayes.models.arm_likelihood import arm_deviance, arm_fitted, arm_logpmf
from nma_bayes.results.goodness_of_fit import pointwise_loglik

PUBLISHED = ["diabetes_fe", "diabetes_re", "smoking_re", "dietary_fat_fe", "dietary_fat_re"]


def _published(key):
    name, _, model, source = ARM_CASES[key]
    ref = nb.datasets.reference_results(name)
    ref = ref[(ref["source"] == source) & (ref["model"] == model)]
    return ref.set_index("quantity")["value"]


@pytest.mark.reference
@pytest.mark.parametrize("key", PUBLISHED)
def test_resdev_pd_dic_match_published(key):
    fit = arm_fit(key)
    got = fit.model_fit().iloc[0]
    ref = _published(key)
    for quantity in ("resdev", "pD", "DIC"):
        assert got[quantity] == pytest.approx(ref[quantity], abs=2.0), (quantity, got[quantity])
    assert got["n_data"] == fit.network.n_studies + fit.network.n_contrasts  # one per arm
    per_study = fit.model_fit(per_study=True)
    assert (per_study["data"] == "arms").all()
    assert per_study["n_data"].sum() == got["n_data"]
    assert per_study["resdev"].sum() == pytest.approx(got["resdev"])
    assert per_study["leverage"].sum() == pytest.approx(got["pD"])
    assert per_study["dic"].sum() == pytest.approx(got["DIC"])


def _hand_deviance(r, n, rhat, family):
    """TSD2's deviance of one arm, term by term with plain floats (0 log 0 = 0)."""

    def xlog(a, b):
        return 0.0 if a == 0 else a * np.log(a / b)

    if family == "poisson":
        return 2 * ((rhat - r) + xlog(r, rhat))
    return 2 * (xlog(r, rhat) + xlog(n - r, n - rhat))


def test_arm_deviance_and_fitted_values_equal_hand_computation():
    r = np.array([0.0, 3.0, 10.0, 7.0])  # a zero-event arm and an arm whose events all occurred
    n = np.array([20.0, 15.0, 10.0, 40.0])
    theta = np.array([-2.5, -1.0, 1.5, 0.3])
    p_logit = 1 / (1 + np.exp(-theta))
    p_cloglog = 1 - np.exp(-np.exp(theta))
    np.testing.assert_allclose(arm_fitted(theta, n, "binomial", "logit"), n * p_logit, rtol=1e-14)
    np.testing.assert_allclose(
        arm_fitted(theta, n, "binomial", "cloglog"), n * p_cloglog, rtol=1e-14
    )
    exposure = np.array([50.0, 12.5, 30.0, 80.0])
    log_rate = theta - 2.0
    rate_fit = arm_fitted(log_rate + np.log(exposure), exposure, "poisson", "log")
    np.testing.assert_allclose(rate_fit, exposure * np.exp(log_rate), rtol=1e-14)
    for rhat in (n * p_logit, n * p_cloglog):
        hand = [_hand_deviance(*args, "binomial") for args in zip(r, n, rhat, strict=True)]
        np.testing.assert_allclose(arm_deviance(r, n, rhat, "binomial"), hand, rtol=1e-13)
    hand = [_hand_deviance(ri, None, mi, "poisson") for ri, mi in zip(r, rate_fit, strict=True)]
    np.testing.assert_allclose(arm_deviance(r, exposure, rate_fit, "poisson"), hand, rtol=1e-13)
    # zero-event arm written out: 2 n log(n / (n - rhat)) = -2 n log(1 - p)
    assert arm_deviance(0.0, 20.0, 20 * p_logit[0], "binomial") == pytest.approx(
        -2 * 20 * np.log(1 - p_logit[0]), rel=1e-13
    )
    assert arm_deviance(0.0, 50.0, 4.0, "poisson") == pytest.approx(8.0, rel=1e-15)
    # a perfect fit has zero deviance; draws broadcast over the leading axis
    assert np.all(arm_deviance(r, n, r, "binomial") == 0.0)
    many = arm_deviance(r, n, np.stack([n * p_logit, r]), "binomial")
    assert many.shape == (2, 4) and np.all(many[1] == 0.0)


def test_arm_logpmf_is_the_exact_log_probability():
    r = np.array([0.0, 3.0, 10.0, 7.0])
    n = np.array([20.0, 15.0, 10.0, 40.0])
    theta = np.array([[-2.5, -1.0, 1.5, 0.3], [0.4, -3.0, 2.0, -0.2]])  # two draws
    np.testing.assert_allclose(
        arm_logpmf(theta, r, n, "binomial", "logit"),
        binom.logpmf(r, n, 1 / (1 + np.exp(-theta))),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        arm_logpmf(theta, r, n, "binomial", "cloglog"),
        binom.logpmf(r, n, 1 - np.exp(-np.exp(theta))),
        rtol=1e-12,
    )
    exposure = np.array([50.0, 12.5, 30.0, 80.0])
    np.testing.assert_allclose(
        arm_logpmf(theta + np.log(exposure), r, exposure, "poisson", "log"),
        poisson.logpmf(r, exposure * np.exp(theta)),
        rtol=1e-12,
    )


def _flat(da, dim=None):
    order = ("chain", "draw") + ((dim,) if dim else ())
    values = da.transpose(*order).values
    return values.reshape(-1, values.shape[-1]) if dim else values.reshape(-1)


def _hand_theta(fit, arms):
    """Linear predictor of every arm of ``arms`` per draw, from the labelled posterior."""
    post = fit.idata["posterior"]
    d = {t: _flat(post["d"].sel(treatment=t)) for t in post["treatment"].values}
    d[fit.reference] = 0.0
    base = arms.groupby("study", sort=False)["treatment"].first()
    tau = _flat(post["tau"]) if "tau" in post else None
    cols = []
    for study, treatment in zip(arms["study"], arms["treatment"], strict=True):
        b = base[study]
        theta = _flat(post["mu"].sel(outcome_study=study)) + d[treatment] - d[b]
        if tau is not None and treatment != b:
            # study effects tau L z: L the Cholesky factor of (I + J)/2 over the non-base arms
            others = [t for t in arms.loc[arms["study"] == study, "treatment"] if t != b]
            k = len(others)
            chol = np.linalg.cholesky((np.eye(k) + np.ones((k, k))) / 2)
            row = others.index(treatment)
            z = [_flat(post["e_arm"].sel(outcome_arm=f"{study}: {t}")) for t in others]
            theta = theta + tau * sum(chol[row, j] * z[j] for j in range(row + 1))
        cols.append(theta)
    return np.stack(cols, axis=1)


@pytest.mark.reference
def test_random_effects_pointwise_loglik_and_deviance_by_hand():
    """Smoking RE (two three-arm studies, zero-event arms): the posterior keeps ``mu`` by
    outcome study and ``e_arm`` by "study: treatment"; pointwise log-likelihood and per-study
    resdev equal scipy's binomial and TSD2's deviance computed arm by arm from those draws."""
    fit = arm_fit("smoking_re")
    arms = nb.datasets.load_dataset("smoking", "arms")
    post = fit.idata["posterior"]
    assert list(post["outcome_study"].values) == list(fit.network.studies)
    assert post.sizes["outcome_arm"] == len(arms) - arms["study"].nunique()  # non-base arms
    theta = _hand_theta(fit, arms)
    p = 1 / (1 + np.exp(-theta))
    r, n = arms["events"].to_numpy(float), arms["n"].to_numpy(float)
    ll_arm = pd.DataFrame(binom.logpmf(r, n, p).T, index=arms["study"])
    ll = pointwise_loglik(fit)
    by_study = ll_arm.groupby(level=0, sort=False).sum().loc[list(ll["study"].values)]
    np.testing.assert_allclose(_flat(ll, "study"), by_study.to_numpy().T, rtol=1e-9, atol=1e-9)
    per_study = fit.model_fit(per_study=True).set_index("study")
    keep = np.linspace(0, theta.shape[0] - 1, min(4000, theta.shape[0])).round().astype(int)
    rhat = n * p[keep]
    dev = [[_hand_deviance(*a, "binomial") for a in zip(r, n, row, strict=True)] for row in rhat]
    dev = pd.Series(np.mean(dev, axis=0), index=arms["study"]).groupby(level=0, sort=False).sum()
    np.testing.assert_allclose(per_study.loc[dev.index, "resdev"], dev.to_numpy(), rtol=1e-9)
    at_mean = [_hand_deviance(*a, "binomial") for a in zip(r, n, rhat.mean(0), strict=True)]
    leverage = dev - pd.Series(at_mean, index=arms["study"]).groupby(level=0, sort=False).sum()
    np.testing.assert_allclose(per_study.loc[dev.index, "leverage"], leverage, rtol=1e-9)


def _mixed_network():
    """Smoking with eight two-arm studies given as log odds ratios, the rest as arms."""
    df = nb.datasets.load_dataset("smoking", "arms")
    sizes = df.groupby("study", sort=False).size()
    positive = df.groupby("study", sort=False)["events"].min() > 0
    chosen = [s for s in sizes.index if sizes[s] == 2 and positive[s]][:8]
    rows = []
    for study in chosen:
        a, b = df[df["study"] == study].itertuples()
        log_odds = [np.log(x.events / (x.n - x.events)) for x in (a, b)]
        se = np.sqrt(sum(1 / x.events + 1 / (x.n - x.events) for x in (a, b)))
        rows.append((study, b.treatment, a.treatment, log_odds[1] - log_odds[0], se))
    contrasts = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])
    arms = df[~df["study"].isin(chosen)]
    net = nb.Network.from_data(
        contrasts=contrasts, arms=arms, likelihood="binomial", reference="No intervention"
    )
    return net, contrasts, arms


@pytest.mark.reference
def test_mixed_network_adds_the_contrast_and_arm_parts():
    net, contrasts, arms = _mixed_network()
    fit = nb.fit_network(net, effects="fixed", random_seed=20261130, prior_d=nb.Normal(0, 100))
    check_usable(fit)  # accuracy is the subject: a usable run, not a perfect one
    per_study = fit.model_fit(per_study=True).set_index("study")
    total = fit.model_fit().iloc[0]
    assert total["n_data"] == len(contrasts) + len(arms)
    assert per_study.loc[contrasts["study"], "n_data"].eq(1).all()
    assert (per_study.loc[contrasts["study"], "data"] == "contrasts").all()
    assert (per_study.loc[arms["study"].unique(), "data"] == "arms").all()
    for column, name in (("resdev", "resdev"), ("leverage", "pD"), ("dic", "DIC")):
        assert per_study[column].sum() == pytest.approx(total[name])
    post = fit.idata["posterior"]
    d = {t: _flat(post["d"].sel(treatment=t)) for t in post["treatment"].values}
    d[fit.reference] = 0.0
    keep = np.linspace(0, len(d[net.non_reference[0]]) - 1, 4000).round().astype(int)
    # contrast studies, fixed effects: dev = (y - (d_t - d_b))^2 / se^2; pD plugs in the mean
    ll_contrast = {}
    for row in contrasts.itertuples():
        fitted = d[row.treat1] - d[row.treat2]
        dev = ((row.TE - fitted[keep]) / row.seTE) ** 2
        at_mean = ((row.TE - fitted[keep].mean()) / row.seTE) ** 2
        assert per_study.loc[row.study, "resdev"] == pytest.approx(dev.mean(), rel=1e-9)
        assert per_study.loc[row.study, "leverage"] == pytest.approx(dev.mean() - at_mean, rel=1e-9)
        mvn = multivariate_normal(mean=[0.0], cov=[[row.seTE**2]])
        ll_contrast[row.study] = mvn.logpdf((row.TE - fitted)[:, None])
    # arm studies: the arm part as in the RE test, fixed effects
    theta = _hand_theta(fit, arms)
    r, n = arms["events"].to_numpy(float), arms["n"].to_numpy(float)
    rhat = n / (1 + np.exp(-theta[keep]))
    dev = [[_hand_deviance(*a, "binomial") for a in zip(r, n, row, strict=True)] for row in rhat]
    dev = pd.Series(np.mean(dev, axis=0), index=arms["study"]).groupby(level=0, sort=False).sum()
    np.testing.assert_allclose(per_study.loc[dev.index, "resdev"], dev.to_numpy(), rtol=1e-9)
    ll = pointwise_loglik(fit)
    for study, want in ll_contrast.items():
        np.testing.assert_allclose(_flat(ll.sel(study=study)), want, rtol=1e-9)
    ll_arm = pd.DataFrame(binom.logpmf(r, n, 1 / (1 + np.exp(-theta))).T, index=arms["study"])
    ll_arm = ll_arm.groupby(level=0, sort=False).sum()
    np.testing.assert_allclose(
        _flat(ll.sel(study=list(ll_arm.index)), "study"), ll_arm.to_numpy().T, rtol=1e-9
    )
    # PSIS-LOO runs; leaving out an outcome study leaves its baseline to the prior, so ArviZ may
    # warn about large Pareto k
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        lo = fit.loo()
    assert np.isfinite(float(lo.elpd)) and np.asarray(lo.pareto_k).shape == (net.n_studies,)
