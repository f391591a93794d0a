"""Network meta-regression on contrast data: the exact and PyMC engines against closed forms.

Given ``tau`` the meta-regression model is linear in ``theta = (d, beta)`` with a Gaussian
likelihood and Gaussian priors, so the fixed-effect posterior is exactly
``N(P^{-1} b, P^{-1})`` with ``P = X'V^{-1}X + diag(1/s0^2)`` and ``b = X'V^{-1}y + m0/s0^2``
(generalised least squares with the priors). The design ``X`` is built here by hand, row by row
from the network's contrasts, independently of the engines' scatter/Woodbury code.
"""

import numpy as np
import pandas as pd
import pytest
from reference_helpers import stacked_design
from scipy.stats import norm

import nma_bayes as nb
from nma_bayes.base.errors import CovariateWarning
from nma_bayes.models.regression import RegressionDesign

PRIOR_D, PRIOR_BETA = nb.Normal(0.0, 10.0), nb.Normal(0.5, 2.0)


def therapy(seed=3):
    """therapy_formats (multi-arm studies) with a made-up numeric covariate and a subgroup."""
    df = nb.datasets.load_dataset("therapy_formats")
    rng = np.random.default_rng(seed)
    studies = list(dict.fromkeys(df["study"]))
    x = dict(zip(studies, rng.normal(50, 10, len(studies)).round(1), strict=True))
    group = dict(zip(studies, rng.choice(["high", "low", "mid"], len(studies)), strict=True))
    return df.assign(severity=df["study"].map(x), rob=df["study"].map(group))


def closed_form(net, reg, prior_d=PRIOR_D, prior_beta=PRIOR_BETA):
    """Posterior mean and covariance of (d, free betas) of the FE model, by dense GLS."""
    x_d, y, v, _ = stacked_design(net)
    others = list(net.non_reference)
    rows = []  # the interaction columns, by hand: x_i (1[g(arm) = g] - 1[g(base) = g])
    group = {t: reg.group_pos[1 + others.index(t)] if t in others else 0 for t in net.treatments}
    for i in range(net.n_studies):
        base = net.treatments[net.base[i]]
        for a in np.asarray(net.arm[i])[np.asarray(net.mask[i])]:
            row = np.zeros((len(reg.groups), reg.n_terms))
            for t, sign in ((net.treatments[a], 1.0), (base, -1.0)):
                if group[t]:
                    row[group[t] - 1] += sign * reg.x[i]
            rows.append(row.reshape(-1))
    x = np.hstack([x_d, np.array(rows)])
    m0 = np.r_[np.full(len(others), prior_d.mean), np.full(reg.n_free, prior_beta.mean)]
    s0 = np.r_[np.full(len(others), prior_d.sd), np.full(reg.n_free, prior_beta.sd)]
    v_inv = np.linalg.inv(v)
    cov = np.linalg.inv(x.T @ v_inv @ x + np.diag(1 / s0**2))
    mean = cov @ (x.T @ v_inv @ y + m0 / s0**2)
    return mean, cov, x, y, v_inv


def fit(df, **kw):
    opts = dict(reference="cau", effects="fixed", engine="exact", prior_d=PRIOR_D, random_seed=5)
    if "covariates" in kw:  # prior_beta= without covariates is refused (it would be ignored)
        opts["prior_beta"] = PRIOR_BETA
    return nb.fit_network(df, **(opts | kw))


@pytest.mark.parametrize("interaction", ["shared", "independent"])
def test_exact_fixed_effect_regression_equals_closed_form(interaction):
    f = fit(therapy(), covariates="severity", interaction=interaction)
    reg = f.posterior.regression
    mean, cov, *_ = closed_form(f.network, reg)
    n_d = len(f.network.non_reference)
    rel = f.relative_effects()
    np.testing.assert_allclose(rel["mean"], mean[:n_d], atol=1e-8)
    np.testing.assert_allclose(rel["sd"], np.sqrt(np.diag(cov))[:n_d], atol=1e-8)
    table = f.regression()
    sd_b = np.sqrt(np.diag(cov))[n_d:]
    np.testing.assert_allclose(table["mean"], mean[n_d:], atol=1e-8)
    np.testing.assert_allclose(table["sd"], sd_b, atol=1e-8)
    np.testing.assert_allclose(table["ci_upper"], mean[n_d:] + norm.ppf(0.975) * sd_b, atol=1e-7)
    assert table.attrs["center"]["severity"] == pytest.approx(
        f.network.covariates.values["severity"].mean()
    )
    assert len(table) == (1 if interaction == "shared" else n_d)


def test_effects_at_a_covariate_value_are_the_linear_combination():
    """d_t + beta (x - x_bar) for treatments vs the reference (shared beta, TSD3)."""
    f = fit(therapy(), covariates="severity")
    reg = f.posterior.regression
    mean, cov, *_ = closed_form(f.network, reg)
    n_d = len(f.network.non_reference)
    shift = 62.0 - reg.center["severity"]
    combo = np.hstack([np.eye(n_d), np.full((n_d, 1), shift)])
    rel = f.relative_effects(at={"severity": 62.0})
    np.testing.assert_allclose(rel["mean"], combo @ mean, atol=1e-8)
    np.testing.assert_allclose(rel["sd"], np.sqrt(np.diag(combo @ cov @ combo.T)), atol=1e-8)
    # a comparison of two non-reference treatments does not move with a shared interaction
    pairs = f.relative_effects(all_pairs=True, at={"severity": 62.0})
    base = f.relative_effects(all_pairs=True)
    both = (pairs["comparator"] != "cau").to_numpy()
    np.testing.assert_allclose(pairs["mean"][both], base["mean"][both], atol=1e-9)
    assert not np.allclose(pairs["mean"][~both], base["mean"][~both])
    # draw-based summaries move with the draws of beta: SUCRA at x differs from the centre's
    at = f.sucra(lower_is_better=True, at={"severity": 20.0})["sucra"].to_numpy()
    assert not np.allclose(at, f.sucra(lower_is_better=True)["sucra"].to_numpy())


def test_categorical_covariate_is_dummy_coded_against_its_first_level():
    with pytest.warns(CovariateWarning, match="all fall in one subgroup"):  # 1-study comparisons
        f = fit(therapy(), covariates="rob", interaction="shared")
    reg = f.posterior.regression
    assert reg.terms == ("rob[low]", "rob[mid]") and reg.levels["rob"] == ("high", "low", "mid")
    values = f.network.covariates.values["rob"].to_numpy()
    np.testing.assert_array_equal(reg.x[:, 0], values == "low")
    np.testing.assert_array_equal(reg.x[:, 1], values == "mid")
    mean, cov, *_ = closed_form(f.network, reg)
    n_d = len(f.network.non_reference)
    rel = f.relative_effects(at={"rob": "mid"})
    np.testing.assert_allclose(rel["mean"], mean[:n_d] + mean[n_d + 1], atol=1e-8)
    np.testing.assert_allclose(f.relative_effects()["mean"], mean[:n_d], atol=1e-8)  # "high"


def test_class_interactions_share_one_beta_per_class():
    df = therapy()
    classes = {"cau": "control", "wlc": "control", "ind": "face", "grp": "face", "gsh": "guided",
               "ush": "self", "tel": "face"}  # fmt: skip
    f = fit(df, covariates="severity", interaction="class", classes=classes)
    reg = f.posterior.regression
    # the reference's class ("control") has no interaction: wlc vs cau does not move with x
    assert reg.groups == ("face", "guided", "self")
    mean, _, *_ = closed_form(f.network, reg)
    table = f.regression()
    assert list(table["group"]) == list(reg.groups)
    np.testing.assert_allclose(table["mean"], mean[-len(reg.groups) :], atol=1e-8)
    at = f.relative_effects(at={"severity": 70.0}).set_index("treatment")["mean"]
    centre = f.relative_effects().set_index("treatment")["mean"]
    assert at["wlc"] == pytest.approx(centre["wlc"], abs=1e-9)
    assert at["grp"] - centre["grp"] == pytest.approx(at["tel"] - centre["tel"], abs=1e-9)
    assert at["grp"] != pytest.approx(centre["grp"], abs=1e-6)


def test_model_fit_uses_the_regression_means():
    """FE: resdev = E[(y - X theta)'V^{-1}(y - X theta)] = r'V^{-1}r + tr(V^{-1} X C X') exactly;
    pD = tr(V^{-1} X C X'). From 4000 independent draws the Monte Carlo SD of the mean deviance
    is sqrt(2 pD / 4000) (a chi-square with pD degrees of freedom): 5 of them is the tolerance."""
    f = fit(therapy(), covariates="severity", draws=2000, chains=2)
    mean, cov, x, y, v_inv = closed_form(f.network, f.posterior.regression)
    r = y - x @ mean
    pd_exact = np.trace(v_inv @ x @ cov @ x.T)
    table = f.model_fit().iloc[0]
    tol = 5 * np.sqrt(2 * pd_exact / 4000)
    assert table["resdev"] == pytest.approx(r @ v_inv @ r + pd_exact, abs=tol)
    assert table["pD"] == pytest.approx(pd_exact, abs=tol)
    # without the covariate the fit is worse or equal in deviance at its own mean
    plain = fit(therapy(), draws=2000, chains=2).model_fit().iloc[0]
    assert plain["pD"] == pytest.approx(pd_exact - 1, abs=tol)


@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_pymc_engine_matches_the_exact_engine(effects):
    """NUTS on the same model: every statistic within 4.5 MCSE of the exact value (the closed
    form for fixed effects; quadrature over tau for random effects). compare_exact gives 4
    statistics per parameter (up to 36 here): 4.5 sigma keeps a false alarm below 0.03%."""
    f = fit(therapy(), covariates="severity", engine="pymc", effects=effects, draws=1000)
    assert not f.problems
    z = f.compare_exact()
    assert {"beta[shared, severity]"} <= set(z["parameter"])
    assert np.abs(z["z"]).max() < 4.5


def test_exchangeable_interactions_with_a_tiny_sd_are_the_shared_model():
    """beta_k ~ N(B, sigma^2) with sigma ~ half-N(0, (1e-6)^2) is the shared model up to a
    variance of 1e-12 (beta's posterior SD here is ~0.005 per unit of severity): B's posterior
    mean is the closed-form shared beta within 4 MCSE, and every treatment's beta follows B."""
    df = therapy()
    f = fit(df, covariates="severity", interaction="exchangeable", engine="pymc",
            prior_beta_sd=nb.HalfNormal(1e-6), draws=1000)  # fmt: skip
    table = f.regression()
    assert set(table["parameter"]) == {"beta", "beta_mean", "beta_sd"}
    assert (table["parameter"] == "beta").sum() == len(f.network.non_reference)
    shared = fit(df, covariates="severity")
    mean, cov, *_ = closed_form(shared.network, shared.posterior.regression)
    row = table[table["parameter"] == "beta_mean"].iloc[0]
    mcse = float(f.diagnostics().set_index("parameter").loc["beta_mean[severity]", "mcse_mean"])
    assert row["mean"] == pytest.approx(mean[-1], abs=4 * mcse)
    betas = table.loc[table["parameter"] == "beta", "mean"].to_numpy()
    np.testing.assert_allclose(betas, row["mean"], atol=1e-4)


def test_regression_design_groups_and_map():
    net = nb.Network.from_contrasts(therapy(), reference="cau", covariates="severity")
    spec = nb.ModelSpec("fixed", interaction="independent")
    reg = RegressionDesign.from_network(net, spec)
    assert reg.groups == net.non_reference
    np.testing.assert_array_equal(reg.beta_map(), np.eye(len(net.non_reference)))
    shared = RegressionDesign.from_network(net, nb.ModelSpec("fixed"))
    assert shared.groups == ("shared",) and shared.beta_map().shape == (len(reg.groups), 1)
    assert (shared.beta_map() == 1).all()
    assert (
        RegressionDesign.from_network(nb.Network.from_contrasts(therapy(), reference="cau"), spec)
        is None
    )


def test_centring_is_reported_and_settable():
    f = fit(therapy(), covariates="severity", center={"severity": 40.0})
    assert f.regression().attrs["center"] == {"severity": 40.0}
    g = fit(therapy(), covariates="severity")
    # the same likelihood, reparametrised: d moves by beta * (40 - mean), beta is unchanged;
    # only the vague N(0, 10^2) prior on d, now placed at another centre, differs (~1e-6 here)
    shift = 40.0 - g.regression().attrs["center"]["severity"]
    np.testing.assert_allclose(f.regression()["mean"], g.regression()["mean"], atol=1e-5)
    np.testing.assert_allclose(
        f.relative_effects()["mean"], g.relative_effects(at={"severity": 40.0})["mean"], atol=1e-5
    )
    assert shift != 0
    assert "severity at 40" in f.describe()["covariate centring"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"interaction": "shared"}, "no covariates were given"),
        ({"covariates": "severity", "interaction": "bogus"}, "interaction='bogus'"),
        ({"covariates": "severity", "interaction": "class"}, "needs treatment classes"),
        ({"covariates": "severity", "center": {"rob": 1.0}}, "not a numeric covariate"),
        ({"covariates": "severity", "center": "mean"}, "center= must be"),
        ({"covariates": "severity", "interaction": "exchangeable"}, "exact engine covers"),
    ],
)
def test_bad_regression_options_are_refused_before_fitting(kwargs, match):
    with pytest.raises(nb.ModelSpecError, match=match) as info:
        fit(therapy(), **kwargs)
    assert info.value.rule == "bad-option"


def test_bad_at_values_are_refused():
    with pytest.warns(CovariateWarning, match="all fall in one subgroup"):
        f = fit(therapy(), covariates=["severity", "rob"])
    with pytest.raises(nb.ModelSpecError, match="not a covariate"):
        f.relative_effects(at={"age": 3})
    with pytest.raises(nb.ModelSpecError, match="not a level of rob"):
        f.sucra(lower_is_better=True, at={"rob": "none"})
    with pytest.raises(nb.ModelSpecError, match="give a finite number"):
        f.league_table(at={"severity": "high"})
    plain = fit(therapy())
    with pytest.raises(nb.ModelSpecError, match="no covariates"):
        plain.relative_effects(at={"severity": 3})
    with pytest.raises(nb.ModelSpecError, match="no meta-regression"):
        plain.regression()


def test_regression_curve_and_study_points():
    f = fit(therapy(), covariates="severity")
    curve = f.regression_curve("severity", treatments=["grp"])
    assert len(curve) == 41 and (curve["comparator"] == "cau").all()
    at = f.relative_effects(at={"severity": float(curve["value"].iloc[7])})
    assert curve["mean"].iloc[7] == pytest.approx(
        float(at.set_index("treatment").loc["grp", "mean"])
    )
    values = f.network.covariates.values["severity"]
    assert curve["value"].min() == values.min() and curve["value"].max() == values.max()
    points = f.study_points("severity")
    assert len(points) == f.network.n_contrasts
    row = points.iloc[0]
    i = f.network.studies.index(row["study"])
    assert row["value"] == values.iloc[i]
    assert row["weight"] == pytest.approx(1 / row["se"] ** 2)
    frame = pd.DataFrame(points)
    assert set(frame["comparator"]) <= set(f.network.treatments)


def test_exports_carry_the_regression_table(tmp_path):
    f = fit(therapy(), covariates="severity")
    written = f.to_csv(tmp_path)
    table = pd.read_csv(tmp_path / "regression.csv")
    assert tmp_path / "regression.csv" in written
    np.testing.assert_allclose(table["mean"], f.regression()["mean"])
    assert "regression.csv" not in {p.name for p in fit(therapy()).to_csv(tmp_path / "plain")}
