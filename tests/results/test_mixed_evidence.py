"""Mixed evidence: studies at arm level (exact binomial likelihood) and studies as contrasts
(normal likelihood on log odds ratios) in one network, on one scale.

When the contrasts are the arm data's own log odds ratios and the trials are so large that the
normal approximation of a log OR is exact to well below the Monte Carlo error (10^6 patients per
arm, 10-40% events: the approximation error of a log OR is O(1/events) ~ 1e-5), the mixed fit must
reproduce the all-arm fit within Monte Carlo error.
"""

import arviz as az
import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb


def _large_trials(seed=11):
    rng = np.random.default_rng(seed)
    d = {"A": 0.0, "B": 0.3, "C": -0.2}
    designs = [("A", "B"), ("A", "C"), ("B", "C")] * 2 + [("A", "B", "C")]
    rows = []
    for i, arms in enumerate(designs):
        mu = rng.uniform(-2.0, -0.5)
        for t in arms:
            n = 1_000_000
            p = 1 / (1 + np.exp(-(mu + d[t] - d[arms[0]])))
            rows.append((f"s{i}", t, int(rng.binomial(n, p)), n))
    return pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])


def _as_contrasts(arms: pd.DataFrame) -> pd.DataFrame:
    """Each study's log ORs vs its base arm with their exact large-sample covariance."""
    rows = []
    for s, g in arms.groupby("study", sort=False):
        b = g.iloc[0]
        var_b = 1 / b.events + 1 / (b.n - b.events)
        for _, a in g.iloc[1:].iterrows():
            var_a = 1 / a.events + 1 / (a.n - a.events)
            log_or = np.log(a.events / (a.n - a.events)) - np.log(b.events / (b.n - b.events))
            se_base = np.sqrt(var_b) if len(g) > 2 else np.nan
            rows.append((s, a.treatment, b.treatment, log_or, np.sqrt(var_a + var_b), se_base))
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])


@pytest.mark.reference
def test_mixed_network_reproduces_the_arm_only_fit():
    arms = _large_trials()
    contrast_studies = ["s0", "s2", "s6"]  # includes the three-arm study
    mixed = nb.Network.from_data(
        arms=arms[~arms.study.isin(contrast_studies)],
        contrasts=_as_contrasts(arms[arms.study.isin(contrast_studies)]),
        likelihood="binomial",
        reference="A",
    )
    assert mixed.outcome.sum() == 4 and (~mixed.outcome).sum() == 3
    options = dict(effects="fixed", prior_d=nb.Normal(0, 100), random_seed=5)
    fits = [
        nb.fit_network(arms, likelihood="binomial", reference="A", **options),
        nb.fit_network(mixed, **options),
    ]
    means, mcses = [], []
    for fit in fits:
        d = fit.idata["posterior"]["d"]
        means.append(d.mean(("chain", "draw")).to_numpy())
        mcses.append(az.mcse(d.to_dataset(name="x"), method="mean")["x"].to_numpy())
    z = (means[0] - means[1]) / np.hypot(*mcses)
    # two parameters, family-wise 3 sigma (Bonferroni: z* = 3.2 at m = 2)
    assert np.all(np.abs(z) < 3.2), z
    assert np.all(np.abs(means[0] - means[1]) < 1e-3)
