"""The collapsed contrast model (``models/collapsed.py``, ``models/collapsed_kernel.py``).

Exact computations only: the compiled ``log p(y | tau)`` against the exact engine's NumPy
marginal (an independent implementation: batched Woodbury blocks, ``bincount`` scatter, LAPACK
Cholesky), its analytic gradient against central finite differences, the draws of ``d | tau``
against the exact conditional mean and covariance, and the PyTensor Op (numba and Python
backends) against the kernel.
"""

import numpy as np
import pytest
from reference_helpers import smd_arms_network

import nma_bayes as nb
from nma_bayes.engines.exact_marginal import log_marginal
from nma_bayes.models.collapsed import CollapsedLoglik, collapsible
from nma_bayes.models.collapsed_kernel import collapsed_logp_grad, draw_d
from nma_bayes.models.likelihood import ContrastData
from nma_bayes.models.regression import RegressionDesign


def _networks():
    yield "parkinsons", nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"))
    yield "smd-from-arms", smd_arms_network()  # the rank-two SMD covariance (u, cov_u)
    yield "social_anxiety", nb.Network.from_contrasts(nb.datasets.load_dataset("social_anxiety"))


NETWORKS = dict(_networks())


def _arrays(net):
    cd = ContrastData.from_network(net)
    return cd, (cd.y, cd.var, cd.cov, cd.u, cd.cov_u, cd.mask, cd.arm_pos, cd.base_pos)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_log_density_equals_the_exact_engines_marginal_up_to_a_constant(name):
    net = NETWORKS[name]
    cd, arrays = _arrays(net)
    n_d = net.n_treatments - 1
    taus = np.array([0.0, 0.02, 0.1, 0.3, 1.0, 3.0])
    got = np.array([collapsed_logp_grad(t**2, *arrays, 0.5, 3.0, n_d)[0] for t in taus])
    want, _ = log_marginal(cd, taus, np.full(n_d, 0.5), np.full(n_d, 3.0), full=False)
    # both are log p(y | tau) up to a constant in tau (the exact engine drops -sum log s0 and
    # the normalising constants); differences agree to rounding
    np.testing.assert_allclose(got - got[0], want - want[0], atol=1e-8)
    assert np.ptp(got) > 1.0  # tau matters: the check has teeth


@pytest.mark.parametrize("name", list(NETWORKS))
def test_analytic_gradient_equals_finite_differences(name):
    net = NETWORKS[name]
    _, arrays = _arrays(net)
    n_d = net.n_treatments - 1
    for s in (1e-4, 0.01, 0.09, 1.0, 4.0):
        h = 1e-6 * max(s, 1e-2)
        up = collapsed_logp_grad(s + h, *arrays, 0.0, 10.0, n_d)[0]
        down = collapsed_logp_grad(s - h, *arrays, 0.0, 10.0, n_d)[0]
        grad = collapsed_logp_grad(s, *arrays, 0.0, 10.0, n_d)[1]
        # central differences: error O(h^2 f''') plus rounding ~1e-16 |f| / h
        assert grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-5)


def test_shape_bucket_padding_changes_the_density_by_a_constant_only():
    net = NETWORKS["parkinsons"]
    _, arrays = _arrays(net)
    n_d = net.n_treatments - 1
    for s in (0.01, 0.5):
        plain = collapsed_logp_grad(s, *arrays, 0.0, 10.0, n_d)
        padded = collapsed_logp_grad(s, *arrays, 0.0, 10.0, n_d + 3)
        # a padded entry has P = 1/s0^2 and d_hat = m0: its log N(m0; m0, s0^2) + log(2 pi)/2
        # - log|P|/2 = -log s0 - log(1/s0^2)/2 = 0, so the density is unchanged
        assert padded[0] == pytest.approx(plain[0], abs=1e-10)
        assert padded[1] == pytest.approx(plain[1], abs=1e-10)


def test_draws_of_d_given_tau_have_the_exact_conditional_mean_and_covariance():
    net = NETWORKS["smd-from-arms"]
    cd, arrays = _arrays(net)
    n_d, n = net.n_treatments - 1, 40_000
    tau = 0.4
    _, exact = log_marginal(cd, np.array([tau]), np.zeros(n_d), np.full(n_d, 10.0), full=True)
    z = np.random.default_rng(5).standard_normal((n, n_d))
    d = draw_d(np.full(n, tau**2), z, *arrays, 0.0, 10.0)
    sd = np.sqrt(np.diag(exact["cov"][0]))
    # mean: 4 Monte Carlo SEs (sd / sqrt(n)); covariance: entries of the sample covariance
    # have SE <= sd_j sd_k sqrt(2 / n), 4 of them
    assert np.all(np.abs(d.mean(0) - exact["mean"][0]) < 4 * sd / np.sqrt(n))
    tol = 4 * np.outer(sd, sd) * np.sqrt(2 / n)
    assert np.all(np.abs(np.cov(d.T) - exact["cov"][0]) < tol)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_the_op_gives_the_kernels_density_and_gradient_in_every_backend(mode):
    import pytensor
    import pytensor.tensor as pt

    net = NETWORKS["parkinsons"]
    _, arrays = _arrays(net)
    n_d = net.n_treatments - 1
    tau = pt.dscalar("tau")
    logp, _ = CollapsedLoglik(n_d)(tau**2, *arrays, 0.0, 10.0)
    fn = pytensor.function([tau], [logp, pytensor.grad(logp, tau)], mode=mode)
    got_logp, got_grad = fn(0.3)
    want_logp, want_ds = collapsed_logp_grad(0.09, *arrays, 0.0, 10.0, n_d)
    assert float(got_logp) == pytest.approx(want_logp, rel=1e-12)
    assert float(got_grad) == pytest.approx(2 * 0.3 * want_ds, rel=1e-12)  # ds/dtau = 2 tau


def test_collapsible_models():
    net = NETWORKS["parkinsons"]
    spec = nb.ModelSpec("random", nb.Normal(0, 10), nb.HalfNormal(1.0))
    assert collapsible(net, spec, None)
    assert not collapsible(net, nb.ModelSpec("fixed", nb.Normal(0, 10)), None)
    df = nb.datasets.load_dataset("parkinsons").assign(x=lambda f: f["study"].factorize()[0])
    reg_net = nb.Network.from_contrasts(df, covariates="x")
    reg_spec = nb.ModelSpec("random", interaction="shared")
    assert not collapsible(reg_net, reg_spec, RegressionDesign.from_network(reg_net, reg_spec))
