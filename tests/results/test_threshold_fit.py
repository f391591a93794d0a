"""Threshold analysis of a fit (``nb.threshold_analysis``) against brute force.

With fixed effects and a normal prior the exact engine's posterior mean of ``d`` is linear in the
data, so the thresholds are exact: a data point moved by 0.999 of its threshold leaves the
optimal treatment unchanged, and moved by 1.001 of it makes the reported new treatment optimal
(each checked by an exact refit of the moved data). The exact engine's mixture moments are
checked against its own draws, and a NUTS fit's thresholds against the exact fit's.
"""

from dataclasses import replace

import numpy as np
import pytest

import nma_bayes as nb
from nma_bayes.results.threshold_fit import posterior_moments

KW = dict(reference="Placebo", effects="fixed", prior_d=nb.Normal(0, 10), random_seed=1)


@pytest.fixture(scope="module")
def parkinsons():
    net = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                                    lower_is_better=True)  # fmt: skip
    return net, nb.fit_network(net, engine="exact", **KW)


def _optimal(net) -> str:
    """Optimal treatment of the exact fixed-effect refit (smallest posterior mean effect)."""
    fit = nb.fit_network(net, engine="exact", **KW)
    mean, _ = posterior_moments(fit)
    return [net.reference, *net.non_reference][int(np.argmin(np.r_[0.0, mean]))]


def _moved(net, study: str, contrast: str, shift: float):
    """The network with one study contrast's estimate moved by ``shift``."""
    i = net.studies.index(study)
    arm = contrast.split(" vs ")[0]
    j = [net.treatments[a] for a in net.arm[i]].index(arm)
    y = net.y.copy()
    y[i, j] += shift
    return replace(net, y=y)


def test_thresholds_equal_brute_force_refits(parkinsons):
    net, fit = parkinsons
    table = nb.threshold_analysis(fit).to_frame()
    kstar = _optimal(net)
    assert len(table) == 8  # 7 studies, one with three arms
    checked = 0
    for row in table.itertuples():
        for end in ("lower", "upper"):
            t = getattr(row, f"threshold_{end}")
            if not np.isfinite(t):
                continue
            assert _optimal(_moved(net, row.study, row.contrast, 0.999 * t)) == kstar
            new = _optimal(_moved(net, row.study, row.contrast, 1.001 * t))
            assert new == getattr(row, f"new_optimal_{end}") != kstar, (row.study, end)
            checked += 1
    assert checked >= 8


def test_exact_mixture_moments_match_the_draws():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", random_seed=1, draws=20000)  # fmt: skip
    mean, cov = posterior_moments(fit)
    draws = fit.idata["posterior"]["d"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    n = len(draws)  # independent draws: MC error of a mean sd / sqrt(n)
    sd = np.sqrt(np.diag(cov))
    assert np.abs(draws.mean(axis=0) - mean).max() < 4 * sd.max() / np.sqrt(n)
    # a covariance entry's MC sd is at most sqrt(2) sd_i sd_j / sqrt(n) for normal-ish draws
    assert np.abs(np.cov(draws, rowvar=False) - cov).max() < 6 * sd.max() ** 2 / np.sqrt(n)


def test_nuts_and_exact_thresholds_agree(parkinsons):
    net, exact = parkinsons
    nuts = nb.fit_network(net, draws=4000, **KW)
    a = nb.threshold_analysis(exact).to_frame()
    b = nb.threshold_analysis(nuts).to_frame()
    assert (a["new_optimal_lower"].fillna("") == b["new_optimal_lower"].fillna("")).all()
    finite = np.isfinite(a["threshold_lower"])
    # MC error of posterior means (sd ~0.2-0.5, ESS > 4000) moves a threshold by a few 0.01
    np.testing.assert_allclose(b.loc[finite, "threshold_lower"], a.loc[finite, "threshold_lower"],
                               atol=0.05)  # fmt: skip


def test_refusals(parkinsons):
    net, _ = parkinsons
    plain = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                           engine="exact", random_seed=1)  # fmt: skip
    with pytest.raises(nb.ModelSpecError, match="lower_is_better") as info:
        nb.threshold_analysis(plain)
    assert info.value.rule == "bad-option"
    assert nb.threshold_analysis(plain, lower_is_better=True).kstar in net.treatments
