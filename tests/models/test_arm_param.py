"""The partially non-centred parametrisation NUTS samples for arm-level random-effects models.

It must be the TSD2 model exactly (only the sampler's coordinates change): the graph's log
density is checked against the model's density written out in NumPy in its own coordinates
(baselines, ``d``, ``tau`` and standard-normal deviates), less the log-Jacobian of the change of
variables; the weights against a hand computation; a reduced SBC of NUTS on it runs in
``tests/engines/test_nuts_arm_sbc.py``.
"""

import numpy as np
import pytest
from scipy.stats import norm

import nma_bayes as nb
from nma_bayes.data.formats import network_from_options
from nma_bayes.models.arm_likelihood import OutcomeData, arm_loglik
from nma_bayes.models.arm_param import arm_information, arm_matrices, reparam_arrays, tuning_tau
from nma_bayes.models.pymc_graph import build_model
from nma_bayes.models.spec import ModelSpec


def _smoking():
    arms = nb.datasets.load_dataset("smoking", "arms")
    options = dict(likelihood="binomial", events="events", n="n", reference="No intervention")
    return network_from_options(arms[["study", "treatment", "events", "n"]], options)


def _model_coordinates(o: OutcomeData, rng, tau):
    """A point in the model's own coordinates: baselines, d (3), tau, deviates z ~ N(0, 1)."""
    mu = rng.normal(-2.0, 0.5, o.n_studies)
    d = rng.normal(0.0, 0.5, 3)
    z = rng.normal(size=len(o.nonbase))
    return mu, d, tau, z


def _model_log_density(o, mu, d, tau, z):
    """log p(y | theta) + priors (N(0, 100^2) on mu and d, U(0, 5) on tau) + N(0, 1) on z."""
    theta = o.linear_predictor(mu, np.concatenate([[0.0], d]), tau, z, o.arm_offset)
    ll = arm_loglik(np, theta, o.arm_events, o.arm_trials, o.likelihood, o.link).sum()
    return ll + norm(0, 100).logpdf(mu).sum() + norm(0, 100).logpdf(d).sum() + norm.logpdf(z).sum()


def _sampler_coordinates(net, o, mu, d, tau, z):
    """The same point in the sampler's coordinates (mu_centre, delta_u) and the weights lambda."""
    w = reparam_arrays(net, o)
    lam = w["re_lambda"]
    d_full = np.concatenate([[0.0], d])
    theta = o.linear_predictor(mu, d_full, tau, z, np.zeros_like(o.arm_offset))
    delta_nb = (theta - mu[o.arm_study])[o.nonbase]
    m = arm_matrices(o)["contrast"] @ d_full
    u = lam * m + tau ** (lam - 1) * (delta_nb - m)  # delta = m + tau^(1 - lam) (u - lam m)
    centre = mu + w["centre_shear"] @ delta_nb
    return centre, u, lam


def test_sampled_density_is_the_tsd2_model_in_new_coordinates():
    """Differences of log density between points agree to rounding: the parametrisation changes
    the coordinates, not the posterior. The change of variables from (mu, z) to (c, u) has
    log-Jacobian sum(lambda) log tau + log|L| (the shear has a unit one; log|L| is constant)."""
    net = _smoking()
    o = OutcomeData.from_network(net)
    model = build_model(net, ModelSpec("random", nb.Normal(0, 100), nb.Uniform(0, 5)))
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(7)
    ours, theirs = [], []
    for tau in (0.15, 0.8, 2.5):
        mu, d, tau, z = _model_coordinates(o, rng, tau)
        centre, u, lam = _sampler_coordinates(net, o, mu, d, tau, z)
        point = {"d": d, "tau_interval__": np.log(tau / (5 - tau)), "delta_u": u,
                 "mu_centre": centre}  # fmt: skip
        ours.append(logp(point))
        theirs.append(_model_log_density(o, mu, d, tau, z) - lam.sum() * np.log(tau))
    np.testing.assert_allclose(np.diff(ours), np.diff(theirs), rtol=1e-9, atol=1e-7)


def test_deterministics_are_the_model_baselines_and_deviates():
    """``mu`` and ``e_arm`` recorded by the sampler are the model's baselines and deviates."""
    net = _smoking()
    o = OutcomeData.from_network(net)
    model = build_model(net, ModelSpec("random", nb.Normal(0, 100), nb.Uniform(0, 5)))
    mu, d, tau, z = _model_coordinates(o, np.random.default_rng(3), 0.6)
    centre, u, _ = _sampler_coordinates(net, o, mu, d, tau, z)
    point = {"d": d, "tau_interval__": np.log(tau / (5 - tau)), "delta_u": u, "mu_centre": centre}
    outs = model.replace_rvs_by_values([model["mu"], model["e_arm"]])
    got = model.compile_fn(outs, inputs=model.value_vars)(point)
    np.testing.assert_allclose(got[0], mu, atol=1e-9)
    np.testing.assert_allclose(got[1], z, atol=1e-9)


def _two_comparison_network():
    """Three AB studies and two AC studies, 2 arms each (hand-checkable moments)."""
    import pandas as pd

    rows = [("s1", "A", 10, 100), ("s1", "B", 20, 100), ("s2", "A", 5, 50), ("s2", "B", 15, 60),
            ("s3", "A", 30, 200), ("s3", "B", 31, 190), ("s4", "A", 12, 80), ("s4", "C", 4, 80),
            ("s5", "A", 40, 120), ("s5", "C", 25, 110)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])
    options = dict(likelihood="binomial", events="events", n="n", reference="A")
    net = network_from_options(df, options)
    return net, OutcomeData.from_network(net)


def test_weights_match_a_hand_computation():
    """tau_hat: DerSimonian-Laird within each comparison, pooled; lambda = tau^2/(tau^2 + v);
    each arm's share of its study's information (no zero counts here: the observed rates)."""
    net, o = _two_comparison_network()
    p = o.arm_events / o.arm_trials
    y, info = np.log(p / (1 - p)), o.arm_trials * p * (1 - p)
    lor, v = y[1::2] - y[0::2], 1 / info[1::2] + 1 / info[0::2]
    q = df = c = 0.0
    for sel in (slice(0, 3), slice(3, 5)):
        w = 1 / v[sel]
        q += (w * (lor[sel] - (w * lor[sel]).sum() / w.sum()) ** 2).sum()
        df += w.size - 1
        c += w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (q - df) / c)
    assert tau2 > 0  # the data are heterogeneous enough for the check to mean something
    assert tuning_tau(net, o) == pytest.approx(np.sqrt(tau2), rel=1e-12)
    arrays = reparam_arrays(net, o)
    np.testing.assert_allclose(arrays["re_lambda"], tau2 / (tau2 + v), rtol=1e-12)
    share = info[1::2] / (info[0::2] + info[1::2])
    np.testing.assert_allclose(arrays["centre_shear"][np.arange(5), np.arange(5)], share)
    assert np.count_nonzero(arrays["centre_shear"]) == 5


def test_no_repeated_comparison_gives_the_non_centred_model():
    """Without two studies of one comparison the moment estimate is 0: lambda = 0 everywhere
    (the non-centred parametrisation, right where the data say nothing about tau)."""
    import pandas as pd

    rows = [("s1", "A", 10, 100), ("s1", "B", 20, 100), ("s2", "A", 5, 50), ("s2", "C", 15, 60)]
    df = pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])
    options = dict(likelihood="binomial", events="events", n="n", reference="A")
    net = network_from_options(df, options)
    o = OutcomeData.from_network(net)
    assert tuning_tau(net, o) == 0.0
    assert not reparam_arrays(net, o)["re_lambda"].any()


def test_normal_arms_give_their_means_and_precisions():
    """Normal arm-level outcomes (arm means with SEs): the observed linear predictor is the mean
    and its information 1 / se^2 (the binomial continuity rules do not apply to them)."""
    import pandas as pd

    df = pd.DataFrame({"study": ["s1", "s1", "s2", "s2"], "treatment": ["A", "B", "A", "C"],
                       "mean": [1.5, 2.5, 0.7, -0.4], "sd": [2.0, 3.0, 1.0, 1.5],
                       "n": [16, 36, 25, 9]})  # fmt: skip
    net = network_from_options(df, dict(likelihood="normal", reference="A"))
    o = OutcomeData.from_network(net)
    theta, info = arm_information(net, o)
    np.testing.assert_allclose(theta, o.arm_events)  # the means, arm by arm
    np.testing.assert_allclose(info, 1.0 / o.arm_trials**2)
    np.testing.assert_allclose(sorted(theta), sorted(df["mean"]))
    np.testing.assert_allclose(sorted(1 / info), sorted((df["sd"] / np.sqrt(df["n"])) ** 2))
