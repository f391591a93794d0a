"""The survival models' densities against SciPy, their bases, and their designs (no sampling)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.integrate import quad

from nma_bayes.models.survival_basis import (
    constant_hazard_coefficients,
    fp_basis,
    fp_labels,
    mspline_basis,
    quantile_knots,
)
from nma_bayes.models.survival_model import SurvivalDesign, SurvivalSpec, event_loglik


def _event_data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    rows = []
    for s, (a, b) in enumerate([("P", "X"), ("P", "Y"), ("X", "Y")]):
        for t in (a, b):
            time = rng.weibull(1.3, n) * 2.0
            rows.append(pd.DataFrame({"study": f"S{s}", "treatment": t, "time": time,
                                      "status": (rng.uniform(size=n) < 0.8).astype(float)}))
    return pd.concat(rows, ignore_index=True)


def test_fp_basis_and_labels_follow_royston_altman():
    t = np.array([0.5, 2.0, 10.0])
    basis = fp_basis(t, (0, 1))
    np.testing.assert_allclose(basis, np.c_[np.ones(3), np.log(t), t])
    repeated = fp_basis(t, (0.5, 0.5))  # a repeated power: t^p, then t^p log t
    np.testing.assert_allclose(repeated[:, 2], t**0.5 * np.log(t))
    assert fp_labels((0, 1)) == ["intercept", "log(t)", "t"]
    assert fp_labels((2, 2)) == ["intercept", "t^2", "t^2*log(t)"]


def test_mspline_basis_integrates_to_its_i_spline_and_constant_coefficients_are_flat():
    rng = np.random.default_rng(3)
    times = rng.exponential(2.0, 200)
    knots = quantile_knots(times, rng.uniform(size=200) < 0.7, n_internal=5)
    t = np.array([0.1, 0.7, 1.9, knots[-1], knots[-1] + 1.0])
    m, i = mspline_basis(t, knots)
    assert m.shape == (5, 5 + 4)
    for j in (0, 4, 8):  # I_j(t) = int_0^t M_j, each M_j a density on the knots' range
        for k in range(3):
            exact = quad(lambda u, j=j: mspline_basis([u], knots)[0][0, j], 0, t[k], limit=200)[0]
            assert abs(exact - i[k, j]) < 1e-8
    np.testing.assert_allclose(i[3], 1.0, atol=1e-10)
    c = constant_hazard_coefficients(knots)
    np.testing.assert_allclose(c.sum(), 1.0)
    np.testing.assert_allclose(m[:4] @ c, 1 / knots[-1], rtol=1e-10)  # constant inside
    # beyond the last knot: the hazard at it
    np.testing.assert_allclose(i[4] - i[3], m[3], atol=1e-12)


@pytest.mark.parametrize("model", ["exponential", "weibull", "gompertz", "lognormal",
                                   "loglogistic"])  # fmt: skip
def test_event_loglik_equals_scipy(model):
    """``status log f + (1 - status) log S`` by SciPy's distributions, at random parameters."""
    rng = np.random.default_rng(7)
    t = rng.exponential(1.5, 40)
    status = (rng.uniform(size=40) < 0.6).astype(float)
    eta, aux = rng.normal(-0.3, 0.4, 40), rng.uniform(0.6, 1.8, 40)
    arrays = {"time": t, "log_time": np.log(t), "status": status}
    if model == "exponential":
        dist = stats.expon(scale=np.exp(-eta))
    elif model == "weibull":  # H = e^eta t^a: scale e^(-eta / a)
        dist = stats.weibull_min(aux, scale=np.exp(-eta / aux))
    elif model == "gompertz":  # h = e^eta e^(g t): scipy's gompertz(c) has h = c e^(x) on x = g t
        aux = aux - 1.2  # a rate of either sign
        ours = event_loglik(np, model, eta, aux, arrays)
        h = np.exp(eta + aux * t)
        cum = np.exp(eta) * np.expm1(aux * t) / aux
        np.testing.assert_allclose(ours, status * np.log(h) - cum, rtol=1e-12)
        pos = aux > 0
        ref = stats.gompertz(np.exp(eta[pos]) / aux[pos], scale=1 / aux[pos])
        expected = status[pos] * ref.logpdf(t[pos]) + (1 - status[pos]) * ref.logsf(t[pos])
        np.testing.assert_allclose(ours[pos], expected, rtol=1e-10)
        return
    elif model == "lognormal":
        dist = stats.lognorm(aux, scale=np.exp(eta))
    else:  # log-logistic: scipy's fisk(c, scale)
        dist = stats.fisk(aux, scale=np.exp(eta))
    expected = status * dist.logpdf(t) + (1 - status) * dist.logsf(t)
    np.testing.assert_allclose(event_loglik(np, model, eta, aux, arrays), expected, rtol=1e-10)


@pytest.mark.parametrize("model", ["weibull", "lognormal", "mspline"])
def test_graph_log_likelihood_equals_the_numpy_density(model):
    """The PyMC graph's likelihood term at a random point equals event_loglik in NumPy."""
    from nma_bayes.models.survival_graph import build_survival_model
    from nma_bayes.models.survival_model import AUX_NAME

    design = SurvivalDesign.from_event_times(_event_data(), model=model, reference="P",
                                             n_knots=3)  # fmt: skip
    spec = SurvivalSpec(model, random=True)
    pm_model = build_survival_model(design, spec)
    rng = np.random.default_rng(11)
    point = {v.name: rng.normal(0, 0.3, size=pm_model.initial_point()[v.name].shape)
             for v in pm_model.value_vars}  # fmt: skip
    (loglik,) = pm_model.replace_rvs_by_values([pm_model["loglik"]])
    value = pm_model.compile_fn(loglik, inputs=pm_model.value_vars, on_unused_input="ignore")(
        point
    )
    # the same numbers by hand: coefficients, random deviates, auxiliary parameter, baseline
    d = np.r_[0.0, point["d_raw"]]
    mu = point["mu_raw"] + design.arrays["rate_offset"]
    tau = np.exp(point["tau_log__"])
    coef = mu[design.arm_study] + d[design.arm_treatment] - d[design.arm_base]
    coef[design.re_arms()] += tau * design.re_cholesky() @ point["z"]
    aux = baseline = None
    arm = design.row_arm
    if model == "mspline":
        sd = np.exp(point["rw_sd_log__"])
        steps = np.c_[np.zeros(3), np.cumsum(sd[:, None] * point["rw_u"], axis=1)]
        logits = design.arrays["rw_centre"] + steps
        c = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        rows_c = c[design.arm_study[arm]]
        baseline = ((rows_c * design.arrays["m_basis"]).sum(1),
                    (rows_c * design.arrays["i_basis"]).sum(1))  # fmt: skip
    else:
        aux = np.exp(point[f"log_{AUX_NAME[model]}"])[design.arm_study[arm]]
    expected = event_loglik(np, model, coef[arm], aux, design.arrays, baseline).sum()
    np.testing.assert_allclose(value, expected, rtol=1e-10)


def test_designs_put_the_reference_first_and_refuse_disconnected_data():
    from nma_bayes.base.errors import DisconnectedNetworkError, UnknownTreatmentError

    data = _event_data()
    design = SurvivalDesign.from_event_times(data, model="weibull", reference="Y")
    assert design.treatments == ("Y", "P", "X")
    assert design.n_rows == len(data)
    assert [design.arm_labels[i] for i in design.re_arms()] == ["S0: X", "S1: Y", "S2: Y"]
    with pytest.raises(UnknownTreatmentError, match="'Q' is not a treatment"):
        SurvivalDesign.from_event_times(data, model="weibull", reference="Q")
    apart = data.assign(treatment=data["treatment"].where(data["study"] != "S2", "Z"))
    apart = apart[apart["study"] != "S1"]
    with pytest.raises(DisconnectedNetworkError, match="2 components"):
        SurvivalDesign.from_event_times(apart, model="weibull")
