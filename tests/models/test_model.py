"""The PyMC graph: built without sampling, named and shaped as documented, exact log-density."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import nma_bayes as nb
from nma_bayes.models.pymc_graph import build_model, marginal_loglik, model_data


def _three_arm_network():
    df = pd.DataFrame(
        {
            "study": ["s1", "s1", "s2", "s3"],
            "treat1": ["B", "C", "C", "B"],
            "treat2": ["A", "A", "B", "A"],
            "TE": [-0.3, -0.5, -0.1, -0.4],
            "seTE": [0.2, 0.25, 0.3, 0.15],
            "se_base": [0.12, 0.12, np.nan, np.nan],
        }
    )
    return nb.Network.from_contrasts(df, reference="A")


def _dense_loglik(net, d_full, tau):
    """Study log-densities from dense covariances (scipy), for comparison."""
    out = []
    for i in range(net.n_studies):
        m = np.asarray(net.mask[i])
        k = int(m.sum())
        cov = net.study_covariance(i) + tau**2 / 2 * (np.eye(k) + np.ones((k, k)))
        mu = d_full[np.asarray(net.arm[i])[m]] - d_full[net.base[i]]
        out.append(multivariate_normal(mu, cov).logpdf(np.asarray(net.y[i])[m]))
    return np.array(out)


@pytest.mark.parametrize("tau", [0.0, 0.05, 0.4, 2.0])
def test_closed_form_loglik_equals_dense_mvn(tau):
    net = nb.datasets.load_dataset("social_anxiety")
    net = nb.Network.from_contrasts(net, reference="Waitlist")
    rng = np.random.default_rng(0)
    d_full = rng.normal(0, 0.5, net.n_treatments)
    d_full[net.treatment_index("Waitlist")] = 0.0
    data = model_data(net)
    pos_to_treat = np.zeros(net.n_treatments, dtype=int)
    # model_data maps treatment index -> position in d_full = [0, d(others)]
    others = [i for i, t in enumerate(net.treatments) if t != net.reference]
    pos_to_treat[1:] = others
    pos_to_treat[0] = net.treatment_index(net.reference)
    d_pos = d_full[pos_to_treat]
    mu = d_pos[data["arm_pos"]] - d_pos[data["base_pos"]][:, None]
    closed = marginal_loglik(
        np, data["y"] - mu, data["var"], data["cov"], data["mask"], np.float64(tau**2)
    )
    np.testing.assert_allclose(closed, _dense_loglik(net, d_full, tau), rtol=1e-10, atol=1e-10)


def test_closed_form_loglik_vectorises_over_draws():
    net = _three_arm_network()
    data = model_data(net)
    tau2 = np.array([0.0, 0.1, 0.5])
    resid = np.broadcast_to(data["y"], (3, *data["y"].shape))
    many = marginal_loglik(np, resid, data["var"], data["cov"], data["mask"], tau2)
    assert many.shape == (3, net.n_studies)
    for j, t2 in enumerate(tau2):
        one = marginal_loglik(np, data["y"], data["var"], data["cov"], data["mask"], t2)
        np.testing.assert_allclose(many[j], one, rtol=1e-12)


def test_build_model_names_dims_and_finite_logp_without_sampling():
    net = _three_arm_network()
    model = build_model(net, nb.ModelSpec("random", nb.Normal(0, 10), nb.HalfNormal(1)))
    assert [v.name for v in model.free_RVs] == ["d", "tau"]
    assert model.coords["treatment"] == ("B", "C")
    assert model.named_vars_to_dims["d"] == ("treatment",)
    ip = model.initial_point()
    logp = model.compile_logp()(ip)
    grad = model.compile_dlogp()(ip)
    assert np.isfinite(logp)
    assert np.all(np.isfinite(grad)) and grad.shape == (3,)


def test_model_logp_equals_priors_plus_dense_likelihood():
    net = _three_arm_network()
    spec = nb.ModelSpec("random", nb.Normal(0, 10), nb.HalfNormal(1))
    model = build_model(net, spec)
    d = np.array([-0.35, -0.45])
    tau = 0.3
    point = {"d": d, "tau_log__": np.log(tau)}
    logp = model.compile_logp(jacobian=False)(point)
    from scipy.stats import halfnorm, norm

    d_full = np.array([0.0, *d])  # treatments A, B, C; reference A
    expected = (
        norm(0, 10).logpdf(d).sum()
        + halfnorm(scale=1).logpdf(tau)
        + _dense_loglik(net, d_full, tau).sum()
    )
    assert logp == pytest.approx(expected, rel=1e-10)


def test_fixed_effect_model_has_no_tau():
    model = build_model(_three_arm_network(), nb.ModelSpec("fixed"))
    assert [v.name for v in model.free_RVs] == ["d"]
    assert np.isfinite(model.compile_logp()(model.initial_point()))


@pytest.mark.parametrize("prior", [nb.HalfNormal(0.5), nb.Uniform(0, 2), nb.LogNormal(-1.5, 1.0)])
def test_tau_prior_families_build(prior):
    model = build_model(_three_arm_network(), nb.ModelSpec("random", prior_tau=prior))
    tau_rv = model["tau"]
    assert (
        tau_rv.owner.op.name
        == {"halfnormal": "halfnormal", "uniform": "uniform", "lognormal": "lognormal"}[
            prior.family
        ]
    )
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    # prior parameters are data, so refits with other numbers reuse the graph
    assert {k for k in model.named_vars if k.startswith("prior_tau_")} == {
        f"prior_tau_{k}" for k in prior.params()
    }


def _four_arm_smd_network(smd_method):
    import pandas as pd

    arms = pd.DataFrame(
        {
            "study": ["s1"] * 4 + ["s2"] * 2 + ["s3"] * 3,
            "treatment": ["A", "B", "C", "D", "A", "B", "B", "C", "D"],
            "mean": [10.0, 8.5, 7.0, 9.0, 11.0, 9.5, 8.0, 7.5, 7.9],
            "sd": [3.0, 2.5, 3.5, 2.8, 3.1, 2.9, 2.6, 3.3, 3.0],
            "n": [40, 35, 42, 38, 50, 52, 30, 28, 33],
        }
    )
    return nb.Network.from_arms(arms, measure="SMD", smd_method=smd_method, reference="A")


@pytest.mark.parametrize("smd_method", ["escalc", "netmeta"])
@pytest.mark.parametrize("tau", [0.0, 0.3])
def test_rank_two_loglik_for_smd_from_arms_equals_dense_mvn(smd_method, tau):
    net = _four_arm_smd_network(smd_method)
    assert np.any(np.asarray(net.cov_u) > 0)  # the SMD term is present
    data = model_data(net)
    d_full = np.array([0.0, -0.4, -0.8, -0.2])  # A (reference), B, C, D
    mu = d_full[data["arm_pos"]] - d_full[data["base_pos"]][:, None]
    closed = marginal_loglik(
        np, data["y"] - mu, data["var"], data["cov"], data["mask"], np.float64(tau**2),
        data["u"], data["cov_u"],
    )  # fmt: skip
    np.testing.assert_allclose(closed, _dense_loglik(net, d_full, tau), rtol=1e-10)
