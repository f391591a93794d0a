"""What the frequentist evidence-structure functions take besides contrasts: arm-level outcome
data (their normal approximation, netmeta's ``pairwise``) and a Bayesian fit.

Exact checks: smoking's counts given directly give the same numbers as the log odds ratios the
netmeta references were computed from (so they equal netmeta to 1e-6 by ``test_evidence.py``);
hand-computed log rate ratios with the zero-event increment; a fit's hat matrix is the GLS hat
matrix at its posterior median ``tau`` (and differs from the DerSimonian-Laird one).
"""

import numpy as np
import pandas as pd
import pytest
from evidence_networks import network

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.data.approximate import outcome_contrasts

SMOKING = dict(likelihood="binomial", reference="No intervention")
ORDER = ["Group counselling", "Individual counselling", "Self-help", "No intervention"]


def _frames(result) -> pd.DataFrame:
    return result.to_frame().select_dtypes("number")


@pytest.mark.parametrize(
    "function, kwargs",
    [(nb.decompose_q, {}), (nb.evidence_summary, {}), (nb.contribution_matrix, {}),
     (nb.contribution_matrix, {"method": "randomwalk", "effects": "fixed"}),
     (nb.netheat, {"effects": "random"}), (nb.funnel, {"order": ORDER})],
)  # fmt: skip
def test_arm_level_counts_equal_their_log_odds_ratios(function, kwargs):
    arms = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    ours = _frames(function(arms, **kwargs, **SMOKING))
    theirs = _frames(function(network("smoking"), **kwargs))
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12, atol=1e-14)


def test_poisson_arms_become_log_rate_ratios_with_the_zero_increment():
    arms = pd.DataFrame(
        {"study": ["s1", "s1", "s2", "s2"], "treatment": ["A", "B", "A", "B"],
         "events": [0, 4, 10, 20], "exposure": [100.0, 120.0, 50.0, 80.0]}
    )  # fmt: skip
    net = outcome_contrasts(nb.Network.from_data(arms=arms, likelihood="poisson"), "test")
    assert (net.likelihood, net.link) == ("normal", "identity") and not net.outcome.any()
    table = net.contrasts.set_index("study")
    # s1 has a zero-event arm: 0.5 added to both arms' events
    want = np.log(4.5 / 120) - np.log(0.5 / 100), np.sqrt(1 / 4.5 + 1 / 0.5)
    assert table.loc["s1", ["TE", "seTE"]].tolist() == pytest.approx(want, rel=1e-12)
    want = np.log(20 / 80) - np.log(10 / 50), np.sqrt(1 / 20 + 1 / 10)
    assert table.loc["s2", ["TE", "seTE"]].tolist() == pytest.approx(want, rel=1e-12)


def test_cloglog_outcomes_are_refused():
    arms = nb.datasets.load_dataset("diabetes", "arms")
    with pytest.raises(ModelSpecError, match="cloglog") as err:
        nb.evidence_summary(arms, likelihood="binomial", link="cloglog")
    assert err.value.rule == "bad-option"


@pytest.fixture(scope="module")
def parkinsons_fits():
    data = nb.datasets.load_dataset("parkinsons")
    kw = dict(reference="Placebo", engine="exact", random_seed=1)
    return nb.fit_network(data, **kw), nb.fit_network(data, effects="fixed", **kw)


def test_a_random_effects_fit_uses_its_posterior_median_tau(parkinsons_fits):
    fit, _ = parkinsons_fits
    tau = float(fit.heterogeneity().loc["tau", "median"])
    for function in (nb.contribution_matrix, nb.evidence_summary):
        got = function(fit)
        assert got.tau == pytest.approx(tau, rel=1e-12)
        want = function(fit.network, tau=tau)
        pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
        dl = function(fit.network)  # netmeta's DerSimonian-Laird tau: a different hat matrix
        assert dl.tau != pytest.approx(tau, abs=1e-3)
    # the user's tau wins over the fit's
    assert nb.contribution_matrix(fit, tau=0.1).tau == 0.1


def test_a_fixed_effect_fit_gives_the_fixed_effect_model(parkinsons_fits):
    _, fixed = parkinsons_fits
    got = nb.evidence_summary(fixed)
    assert got.effects == "fixed" and got.tau == 0.0
    pd.testing.assert_frame_equal(
        got.to_frame(), nb.evidence_summary(fixed.network, effects="fixed").to_frame()
    )
    assert nb.netheat(fixed).to_frame().equals(nb.netheat(fixed.network).to_frame())
    with pytest.raises(ModelSpecError, match="a fit's own network") as err:
        nb.contribution_matrix(fixed, reference="Placebo")
    assert err.value.rule == "bad-option"
