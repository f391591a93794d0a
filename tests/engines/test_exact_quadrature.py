"""The exact engine's quadrature over tau against a dense brute-force integral, for every prior
family and width (issue 17: a wide prior used to under-resolve the mass near tau = 0).

The brute force is independent of the engine's algebra. With ``B`` the block-diagonal matrix of
the random-effects structure (``(I + J)/2`` per study) the marginal covariance of all contrasts
is ``Sigma(tau) = M + tau^2 B`` with ``M = V + s0^2 X X'``. One generalised eigendecomposition
``B^{-1/2} M B^{-1/2} = Q diag(lambda) Q'`` then gives, for every tau at O(N) cost,
``log|Sigma| = log|B| + sum log(lambda + tau^2)`` and ``y'Sigma^{-1}y = sum z^2/(lambda + tau^2)``,
so the posterior of tau is evaluated on 60,000 nodes of a trapezoid rule in ``log(tau)``, and
``E[d | tau, y] = m0 + s0^2 X' Sigma^{-1} (y - X m0)`` at each node.

Tolerance: the acceptance bound of the issue, 0.005 on the tau median and interval ends and on the
posterior means of d. The brute force's own error (trapezoid, spacing 0.002 in log tau) is below
1e-4 here; there is no Monte Carlo error on either side.
"""

import numpy as np
import pytest
from reference_helpers import stacked_design
from scipy.linalg import block_diag, eigh
from scipy.special import ndtr

import nma_bayes as nb
from nma_bayes.base.errors import ExactEngineError
from nma_bayes.engines.exact import ExactPosterior, _log_prior_tau

TOL = 0.005


def _design(net):
    """Stacked contrasts, design, within-study covariance and random-effects structure."""
    x, y, v, blocks = stacked_design(net)
    b = block_diag(*[(np.eye(len(k)) + np.ones((len(k),) * 2)) / 2 for k in blocks])
    return x, y, v, b


class BruteForce:
    """Dense quadrature of the posterior of (tau, d) for one network and prior on d."""

    def __init__(self, net, prior_d):
        x, y, v, b = _design(net)
        self.m0, self.s0 = prior_d.mean, prior_d.sd
        bw, bq = np.linalg.eigh(b)
        b_isqrt = bq @ np.diag(bw**-0.5) @ bq.T
        lam, q = eigh(b_isqrt @ (v + self.s0**2 * x @ x.T) @ b_isqrt)
        self.lam = lam
        self.z = q.T @ b_isqrt @ (y - x @ np.full(x.shape[1], self.m0))
        self.w = self.s0**2 * x.T @ b_isqrt @ q  # E[d | tau] = m0 + w (z / (lam + tau^2))
        self.logdet_b = np.linalg.slogdet(b)[1]

    def loglik(self, tau):
        t2 = tau[:, None] ** 2
        return -0.5 * (np.log(self.lam + t2).sum(1) + (self.z**2 / (self.lam + t2)).sum(1))

    def posterior(self, spec, lo=-30.0, hi=36.0, n=60_001):
        """Tau quantiles (2.5%, 50%, 97.5%) and the posterior means of d."""
        u = np.linspace(lo, hi, n)  # log(tau)
        tau = np.exp(u)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = _log_prior_tau(spec, tau) + self.loglik(tau) + u  # + log Jacobian of exp
        lp = np.where(np.isnan(lp), -np.inf, lp)
        f = np.exp(lp - lp.max())
        h = u[1] - u[0]
        cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * h)])
        cdf /= cdf[-1]
        quantiles = np.exp(np.interp([0.025, 0.5, 0.975], cdf, u))
        w = f * h
        w[[0, -1]] /= 2
        w /= w.sum()
        keep = w > 1e-16
        d_mean = self.m0 + self.w @ (self.z[:, None] / (self.lam[:, None] + tau[keep] ** 2))
        return quantiles, d_mean @ w[keep]


def _tiny_se_network():
    """Parkinsons with one two-arm study made nearly exact (seTE 1e-5, ~4e4 times below the others;
    smaller values are refused by the validation rules te-vs-se and se-spread)."""
    df = nb.datasets.load_dataset("parkinsons").copy()
    two_arm = df.groupby("study")["study"].transform("size") == 1
    row = df.index[two_arm][0]
    df.loc[row, "seTE"] = 1e-5
    return nb.Network.from_contrasts(df, reference="Placebo")


NETWORKS = {
    "parkinsons": lambda: nb.Network.from_contrasts(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo"
    ),
    "social_anxiety": lambda: nb.Network.from_contrasts(
        nb.datasets.load_dataset("social_anxiety"), reference="Waitlist"
    ),
    "tiny_seTE": _tiny_se_network,
}

SCALE_WIDTHS = [0.1, 1.0, 10.0, 100.0, 1e4]
LOG_WIDTHS = [0.1, 0.5, 1.0, 2.0]
PRIORS = (
    [nb.HalfNormal(w) for w in SCALE_WIDTHS]
    + [nb.HalfCauchy(w) for w in SCALE_WIDTHS]
    + [nb.Uniform(0, w) for w in SCALE_WIDTHS + [1e10]]
    + [nb.LogNormal(-1.5, s) for s in LOG_WIDTHS]
    + [nb.priors.LogNormalTau2(-2.5, 2 * s) for s in LOG_WIDTHS]
    + [nb.priors.LogStudentTTau2(-2.5, 2 * s, 5) for s in LOG_WIDTHS]
)


@pytest.fixture(scope="module", params=list(NETWORKS))
def case(request):
    net = NETWORKS[request.param]()
    prior_d = nb.Normal(0, 10)
    return net, prior_d, BruteForce(net, prior_d)


@pytest.mark.parametrize("prior", PRIORS, ids=str)
def test_exact_engine_matches_dense_brute_force(case, prior):
    net, prior_d, brute = case
    spec = nb.ModelSpec("random", prior_d, prior)
    ex = ExactPosterior(net, spec)
    want_q, want_d = brute.posterior(spec)
    s = ex.tau_summary(0.95)
    got_q = [s["ci_lower"], s["median"], s["ci_upper"]]
    np.testing.assert_allclose(got_q, want_q, atol=TOL, rtol=0)
    got_d = ex.linear_summary(np.eye(len(ex.treatments)), 0.95)["mean"]
    np.testing.assert_allclose(got_d, want_d, atol=TOL, rtol=0)


def test_wide_priors_agree_with_each_other_and_with_tsd2():
    """The issue's cases: half-normal(0, 100) and uniform(0, 100 / 1e10) on parkinsons give the
    posterior of uniform(0, 5) (TSD2: tau median 0.28, 95% CrI 0.01 to 1.55), not 0.55 or 651."""
    net = NETWORKS["parkinsons"]()
    medians = []
    for prior in (nb.HalfNormal(100), nb.Uniform(0, 100), nb.Uniform(0, 1e10), nb.Uniform(0, 5)):
        s = ExactPosterior(net, nb.ModelSpec("random", nb.Normal(0, 100), prior)).tau_summary(0.95)
        medians.append(s["median"])
        assert s["median"] == pytest.approx(0.28, abs=0.005)
        assert s["ci_lower"] == pytest.approx(0.01, abs=0.005)
        assert s["ci_upper"] == pytest.approx(1.55, abs=0.03)  # the prior's cut at 5 matters
    assert np.ptp(medians) < 0.002


def test_tiny_standard_error_random_effects_is_not_distorted():
    """seTE down to 1e-5 leaves tau's posterior almost where the exact-constraint limit puts it."""
    net = _tiny_se_network()
    spec = nb.ModelSpec("random", nb.Normal(0, 10), nb.HalfNormal(1))
    want_q, _ = BruteForce(net, nb.Normal(0, 10)).posterior(spec)
    s = ExactPosterior(net, spec).tau_summary(0.95)
    assert s["median"] == pytest.approx(want_q[1], abs=1e-3)


def test_prior_wider_than_the_integrable_range_is_refused_not_answered(monkeypatch):
    """When the range of log(tau) has to be clipped (the engine keeps exp(x) finite, |x| <= 700)
    and the clipped prior tail still holds mass that the likelihood does not suppress, the answer
    would depend on the clip: the engine refuses with a typed error. Simulated by clipping at
    |log tau| <= 3 a log-normal prior whose 1e-16 tails lie at about +-16."""
    import nma_bayes.engines.exact as exact

    monkeypatch.setattr(exact, "X_LIMIT", 3.0)
    net = NETWORKS["parkinsons"]()
    spec = nb.ModelSpec("random", nb.Normal(0, 10), nb.LogNormal(-1.5, 2.0))
    assert ndtr((-3.0 + 1.5) / 2.0) > 0.2  # the clipped lower tail holds a fifth of the prior
    with pytest.raises(ExactEngineError, match="lower end.*prior"):
        ExactPosterior(net, spec)
    monkeypatch.setattr(exact, "X_LIMIT", 700.0)
    ExactPosterior(net, spec)  # the same prior with the real range is fine


def test_unconverged_quadrature_raises(monkeypatch):
    """With too few nodes allowed, the self-check refuses instead of answering."""
    import nma_bayes.engines.tau_quadrature as quad

    monkeypatch.setattr(quad, "N_MAX", 33)
    net = NETWORKS["parkinsons"]()
    with pytest.raises(ExactEngineError, match="did not converge"):
        ExactPosterior(net, nb.ModelSpec("random", nb.Normal(0, 10), nb.HalfNormal(1)))


@pytest.mark.parametrize(
    "make", [lambda: nb.LogNormal(-1.5, 1e4), lambda: nb.priors.LogNormalTau2(-2.5, 1e4),
             lambda: nb.priors.LogStudentTTau2(-2.5, 1e4, 5)],  # fmt: skip
    ids=["lognormal", "lognormal_tau2", "logt_tau2"],
)
def test_log_scale_priors_of_width_1e4_are_refused_at_construction(make):
    """On the log scale a width of 1e4 spreads tau over e^(+-10^4): refused before any fit (the
    scale families above are integrated at that width, and uniform to 1e10)."""
    with pytest.raises(nb.ModelSpecError, match="tau"):
        make()
