"""The ordered categorical likelihood and the probit and log links, against SciPy exactly."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from reference_helpers import PSORIASIS, psoriasis_arms
from scipy.special import gammaln
from scipy.stats import binom, logistic, multinomial, norm

import nma_bayes as nb
from nma_bayes.models.arm_likelihood import OutcomeData, arm_loglik, arm_logpmf
from nma_bayes.models.ordered_likelihood import (
    OrderedCells,
    cell_logp,
    log_cdf,
    log_interval,
    observed_information,
)

DIST = {"probit": norm, "logit": logistic}


@pytest.mark.parametrize("link", ["probit", "logit"])
def test_log_cdf_and_intervals_in_both_tails(link):
    """NumPy and PyTensor agree with SciPy, and the tails keep their precision (mirror trick)."""
    x = np.linspace(-30, 30, 61)
    xs = pt.dvector()
    f = pytensor.function(
        [xs], [log_cdf(pt, xs, link), pytensor.grad(log_cdf(pt, xs, link).sum(), xs)]
    )
    value, grad = f(x)
    np.testing.assert_allclose(value, DIST[link].logcdf(x), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(log_cdf(np, x, link), DIST[link].logcdf(x), rtol=1e-10)
    assert np.isfinite(grad).all()
    a, b = np.array([0.3, 5.0, -3.0, 12.0, -12.0]), np.array([-0.2, 4.0, -3.5, 11.0, -12.5])
    # the exact value from the tail where the difference is not a cancellation of two ~1s
    dist = DIST[link]
    exact = np.array(
        [
            np.log(dist.sf(y) - dist.sf(x)) if x + y > 0 else np.log(dist.cdf(x) - dist.cdf(y))
            for x, y in zip(a, b, strict=True)
        ]
    )
    np.testing.assert_allclose(log_interval(np, a, b, link), exact, rtol=1e-9)
    av, bv = pt.dvector(), pt.dvector()
    li = log_interval(pt, av, bv, link)
    g = pytensor.function([av, bv], [li, *pytensor.grad(li.sum(), [av, bv])])(a, b)
    np.testing.assert_allclose(g[0], exact, rtol=1e-9)
    assert all(np.isfinite(v).all() for v in g)


def test_cells_of_arms_reporting_different_cutpoints():
    at_least = np.array([[18, 6, 1], [np.nan, 9, np.nan], [40, 17, np.nan]])
    cells = OrderedCells.from_counts(at_least, np.array([193, 25, 57]))
    assert (cells.n_bottom, cells.n_top) == (3, 3)
    # bottom: n - r at the first cutpoint; middle: differences; top: the last at-least count
    rows = sorted(zip(cells.arm, cells.lo, cells.hi, cells.count, strict=True))
    assert rows == [
        (0, -1, 0, 175),
        (0, 0, 1, 12),
        (0, 1, 2, 5),
        (0, 2, -1, 1),
        (1, -1, 1, 16),
        (1, 1, -1, 9),
        (2, -1, 0, 17),
        (2, 0, 1, 23),
        (2, 1, -1, 17),
    ]
    np.testing.assert_array_equal(cells.arm_sum(cells.count, 3), [193, 25, 57])


@pytest.mark.parametrize("link", ["probit", "logit"])
@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_graph_log_likelihood_is_the_multinomial_over_observed_categories(link, effects):
    """The graph's likelihood term at a point equals SciPy's multinomial, constants aside."""
    net = nb.Network.from_data(arms=psoriasis_arms(), link=link, **PSORIASIS)
    model = nb.build_model(net, nb.ModelSpec(effects=effects))
    rng = np.random.default_rng(5)
    point = {k: rng.normal(0, 0.5, size=np.shape(v)) for k, v in model.initial_point().items()}
    outs = [
        model["arm_loglik"],
        model["cutpoints"],
        model["mu"],
        model["d"],
        *([model["e_arm"], model["tau"]] if effects == "random" else []),
    ]
    # the variables at the point's values (compiled as they are, the RVs would be random draws)
    f = model.compile_fn(
        model.replace_rvs_by_values(outs), inputs=model.value_vars, on_unused_input="ignore"
    )
    out = f(point)
    loglik, cut, mu, d = out[:4]
    o = OutcomeData.from_network(net)
    d_full = np.concatenate([[0.0], d])
    theta = mu[o.arm_study] + d_full[o.arm_pos] - d_full[o.arm_base]
    if effects == "random":  # the arm deviates as the graph keeps them: delta = m + tau L e
        e, tau = out[4], out[5]
        theta = o.linear_predictor(mu, d_full, tau, e, np.zeros(len(o.arm_study)))
    expected = 0.0
    for a in range(len(o.arm_study)):
        r = o.arm_events[a]
        js = np.flatnonzero(np.isfinite(r))
        upper = np.concatenate([[1.0], DIST[link].cdf(theta[a] - cut[js]), [0.0]])
        counts = -np.diff(np.concatenate([[o.arm_trials[a]], r[js], [0.0]]))
        probs = upper[:-1] - upper[1:]
        n = o.arm_trials[a]
        log_coef = gammaln(n + 1) - gammaln(counts + 1).sum()  # the graph leaves it out
        expected += multinomial.logpmf(counts, n, probs) - log_coef
    assert float(loglik) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("link", ["probit", "log"])
def test_binomial_probit_and_log_links_are_exact(link):
    r, n = np.array([0.0, 3.0, 20.0, 46.0]), np.array([20.0, 30.0, 25.0, 46.0])
    theta = (
        np.array([-1.3, -0.4, 0.8, 0.3]) if link == "probit" else np.array([-3.0, -2.1, -0.2, 0.4])
    )
    p = norm.cdf(theta) if link == "probit" else np.exp(np.minimum(theta, -1e-16))
    np.testing.assert_allclose(
        arm_logpmf(theta, r, n, "binomial", link), binom.logpmf(r, n, p), rtol=1e-12, atol=1e-14
    )
    ts = pt.dvector()
    f = pytensor.function([ts], arm_loglik(pt, ts, r, n, "binomial", link))
    np.testing.assert_allclose(f(theta), arm_loglik(np, theta, r, n, "binomial", link), rtol=1e-12)


def test_cell_logp_numpy_and_pytensor_agree_on_draw_axes():
    at_least = np.array([[18, 6, 1], [np.nan, 9, np.nan]])
    cells = OrderedCells.from_counts(at_least, np.array([193, 25]))
    theta = np.array([[-1.0, 0.2], [0.5, 1.5]])  # (A, draws)
    cut = np.array([[0.0, 0.0], [0.7, 0.8], [1.5, 1.6]])
    ours = cell_logp(np, theta, cut, cells, "probit")
    th, ct = pt.dmatrix(), pt.dmatrix()
    tensor = pytensor.function([th, ct], cell_logp(pt, th, ct, cells, "probit"))(theta, cut)
    np.testing.assert_allclose(ours, tensor, rtol=1e-12)
    # probabilities of each arm's categories add up to 1 in every draw
    np.testing.assert_allclose(cells.arm_sum(np.exp(ours).T, 2), 1.0, rtol=1e-12)


@pytest.mark.parametrize("link", ["probit", "logit"])
def test_observed_information_is_the_multinomial_fisher_information(link):
    """At proportions equal to the model's probabilities it is -E[d^2 log L / d theta^2]:
    checked by finite differences of the expected log-likelihood; one cutpoint is binomial."""
    theta, cut, n = 0.3, np.array([0.0, 0.7, 1.6]), 250.0
    reported = np.array([0.0, 2.0])  # an arm reporting the first and the third cutpoint
    probs = DIST[link].cdf(theta - cut[[0, 2]])
    at_least = np.array([n * probs[0], np.nan, n * probs[1]])
    upper = np.concatenate([[1.0], probs, [0.0]])
    shares = upper[:-1] - upper[1:]

    def expected_loglik(t):
        up = np.concatenate([[1.0], DIST[link].cdf(t - cut[reported.astype(int)]), [0.0]])
        return n * (shares * np.log(up[:-1] - up[1:])).sum()

    h = 1e-4
    second = expected_loglik(theta + h) - 2 * expected_loglik(theta) + expected_loglik(theta - h)
    ours = observed_information(at_least, np.array(n), link)
    assert float(ours) == pytest.approx(-second / h**2, rel=1e-5)
    p = 0.3
    single = observed_information(np.array([n * p, np.nan, np.nan]), np.array(n), link)
    dens = DIST[link].pdf(DIST[link].ppf(p))
    assert float(single) == pytest.approx(n * dens**2 / (p * (1 - p)), rel=1e-12)
