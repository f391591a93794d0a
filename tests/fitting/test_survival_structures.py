"""Classes and meta-regression of the parametric survival models, against the Poisson NMA.

An exponential survival model's log-likelihood of an arm's patients is ``sum_i (status_i eta -
e^eta t_i) = D eta - e^eta T``: the Poisson log-likelihood of the arm's events ``D`` over its
exposure ``T`` (up to a constant). So the exponential NMA with a class model and a meta-
regression has the posterior of ``fit_network(likelihood="poisson")`` with the same structures
and priors, a model of the contrast machinery tested against TSD2/TSD3 references. The two
fits use independent draws: posterior means must agree within ``Z_FAMILY`` combined MCSEs
(3.5: Bonferroni over the compared means at 2%), SDs within 10% (the MCSE of an SD at ESS >=
400 is under 4%).

Data: multinma's ndmm event times (``nma_bayes.datasets``), with a study-level covariate, the
publication year in each study's name (a label chosen for the check, not a clinical claim), and
the classes Placebo = {Pbo}, IMiD = {Len, Thal}.
"""

import functools

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.fitting.survival import fit_survival

pytestmark = pytest.mark.reference

Z_FAMILY = 3.5
STRUCTURES = {
    "exchangeable_shared": dict(class_model="exchangeable", prior_class_sd=nb.HalfNormal(0.25),
                                covariates="year", interaction="shared"),
    "common_class": dict(class_model="common", covariates="year", interaction="class",
                         center={"year": 2014.0}),
}  # fmt: skip


def _events() -> pd.DataFrame:
    ipd = nb.datasets.load_dataset("ndmm_survival", "ndmm_ipd")
    agd = nb.datasets.load_dataset("ndmm_survival", "ndmm_agd")
    data = pd.concat([ipd[["study", "trt", "eventtime", "status"]], agd], ignore_index=True)
    data = data.rename(columns={"trt": "treatment"}).assign(time=data["eventtime"] / 12)
    return data.assign(year=data["study"].str[-4:].astype(float),
                       cls=data["treatment"].map({"Pbo": "Placebo", "Len": "IMiD",
                                                  "Thal": "IMiD"}))  # fmt: skip


@functools.cache
def _pair(name: str):
    options = dict(classes="cls", reference="Pbo", random_seed=11, draws=2000,
                   **STRUCTURES[name])  # fmt: skip
    data = _events()
    survival = fit_survival(data, model="exponential", **options)
    arms = data.groupby(["study", "treatment"], sort=False).agg(
        events=("status", "sum"), exposure=("time", "sum"), year=("year", "first"),
        cls=("cls", "first")).reset_index()  # fmt: skip
    poisson = nb.fit_network(arms, likelihood="poisson", events="events", exposure="exposure",
                             effects="fixed", **options)  # fmt: skip
    return survival, poisson


def _agree(ours: pd.DataFrame, theirs: pd.DataFrame, mcse: np.ndarray) -> None:
    assert np.all(np.abs(ours["mean"].to_numpy() - theirs["mean"].to_numpy()) <= Z_FAMILY * mcse)
    assert np.allclose(ours["sd"].to_numpy(), theirs["sd"].to_numpy(), rtol=0.10)


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_exponential_structures_match_the_poisson_nma(name):
    survival, poisson = _pair(name)
    mcse = {f: fit.diagnostics().set_index("parameter")["mcse_mean"]
            for f, fit in (("s", survival), ("p", poisson))}  # fmt: skip
    for fit in (survival, poisson):
        assert fit.diagnostics()["ess_bulk"].min() >= 400
    ours, theirs = survival.relative_effects(), poisson.relative_effects()
    combined = np.hypot(mcse["s"][[f"d[{t}]" for t in ours["treatment"]]].to_numpy(),
                        mcse["p"].filter(like="d[").iloc[:len(ours)].to_numpy())  # fmt: skip
    _agree(ours, theirs, combined)
    ours, theirs = survival.regression(), poisson.regression()
    assert ours["term"].tolist() == theirs["term"].tolist() == ["year"] * len(ours)
    assert ours.attrs["center"]["year"] == pytest.approx(theirs.attrs["center"]["year"])
    _agree(ours, theirs, Z_FAMILY * ours["sd"].to_numpy() / np.sqrt(400))


def test_regression_moves_effects_and_curves_to_the_populations_covariates():
    """relative_effects(at=), the PH hazard ratio in a study and the study's survival curve
    per draw: d_k + beta_k (x - x_bar), exp(-e^(mu_s + d_k + beta_k (x_s - x_bar)) t)."""
    fit, _ = _pair("exchangeable_shared")
    post = fit.idata["posterior"]
    center = fit.regression().attrs["center"]["year"]
    d = post["d"].sel(treatment="Thal").values.reshape(-1)
    beta = post["beta"].sel(treatment="Thal", term="year").values.reshape(-1)
    at = fit.relative_effects(at={"year": 2019}).set_index("treatment").loc["Thal"]
    assert at["mean"] == pytest.approx((d + beta * (2019 - center)).mean(), rel=1e-9)
    hr = nb.hazard_ratios(fit, [1.0], baseline_study="Jackson2019", scale="logHR")
    assert hr.set_index("treatment").loc["Thal", "mean"] == pytest.approx(at["mean"], rel=1e-9)
    mu = post["mu"].sel(study="Morgan2012").values.reshape(-1)  # base arm Pbo; year 2012
    curve = nb.survival_summary(fit, [2.0], baseline_study="Morgan2012")["survival"]
    exact = np.exp(-np.exp(mu + d + beta * (2012 - center)) * 2.0)
    assert curve.set_index("treatment").loc["Thal", "mean"] == pytest.approx(exact.mean(),
                                                                            rel=1e-9)
    with pytest.raises(nb.ModelSpecError, match="not a covariate"):
        fit.relative_effects(at={"age": 60})
    html = fit._repr_html_()
    assert f"year, shared interaction (centred: year at {center:.6g})" in html
    assert "exchangeable (2 classes)" in html


def test_structure_options_that_cannot_apply_raise_typed_errors_before_sampling():
    events = _events()
    grouped = nb.datasets.load_dataset("grouped_survival", "grouped_tte")
    varying = events.assign(year=np.arange(len(events), dtype=float))
    cases = [
        (dict(data=grouped, model="fp", covariates="x"), "parametric models",
         "option-not-applicable"),
        (dict(data=events, model="weibull", covariates="baseline_risk"), "baseline_risk",
         "bad-option"),
        (dict(data=events, model="weibull", class_model="common"), "needs classes=",
         "bad-option"),
        (dict(data=events, model="weibull", interaction="shared"), "no covariates",
         "bad-option"),
        (dict(data=varying, model="weibull", covariates="year"), "vary within arms",
         "covariate-not-constant"),
        (dict(data=events, model="weibull", covariates="nope"), "nope", "covariate-column"),
    ]  # fmt: skip
    for kwargs, match, rule in cases:
        with pytest.raises(ValueError, match=match) as info:
            fit_survival(**kwargs, reference="Pbo" if "status" in kwargs["data"] else None)
        assert info.value.rule == rule
    fit, _ = _pair("common_class")
    with pytest.raises(nb.ModelSpecError, match="needs a meta-regression"):
        nb.survival_summary(_fit_without_regression(), [1.0],
                            baseline=nb.ExternalBaseline(mu=nb.Normal(-1, 0.1), at={"year": 1}))
    external = nb.ExternalBaseline(mu=nb.Normal(-1.0, 0.1), at={"year": 2019})
    table = nb.survival_summary(fit, [1.0], baseline=external)["survival"]
    assert table["treatment"].tolist() == ["Pbo", "Len", "Thal"]


@functools.cache
def _fit_without_regression():
    return fit_survival(_events(), model="exponential", reference="Pbo", random_seed=3)
