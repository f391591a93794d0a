"""Reduced simulation-based calibration of the shared-interaction meta-regression, in CI.

Issue acceptance: "SBC for the shared-interaction SMD model (reduced in CI, full run in the
closing note): ranks uniform, 95% coverage of beta within its binomial interval."

200 networks (5 treatments, 4-40 studies, up to 40% multi-arm) with one numeric study covariate
``x ~ N(1, 1)`` (mean away from 0, so that centring at the mean over studies matters), ``beta``
drawn from ``N(0, 0.5^2)`` and the study effects simulated from exactly the model fitted (TSD3
shared interaction, ``x`` centred at its mean over the simulated studies), fitted with the exact
engine (independent draws; ~0.1 s a replicate).

Thresholds. Ranks of ``beta``, ``d`` and ``tau`` among 99 draws are binned in 10 bins and tested
with a chi-square test at p > 0.001: a calibrated engine fails each test with probability 0.1%
(a little more for ``d``, whose 4 ranks per replicate are pooled although they are not
independent). The coverage of the 95% intervals of ``beta`` (one per replicate, independent) is
Binomial(200, 0.95) for a calibrated engine; we require 0.95 inside the exact (Clopper-Pearson)
99.9% interval of the observed proportion, which a calibrated engine fails with probability below
0.1% (Clopper-Pearson is conservative), while a 200-replicate run still detects coverage off by
about 6 points or more. The data are seeded, so the test is deterministic; the thresholds say how
unlikely a failure of a correct engine is. The full run (1000 exact replicates, and the PyMC
engine) is benchmarks/sbc_regression.py. A negative control (fitting without centring) must fail.
"""

import numpy as np
import pytest
from scipy.stats import binomtest

from nma_bayes.analyses.calibration import (
    COVARIATE,
    SBCSettings,
    run_sbc,
    sbc_summary,
    simulate_from_prior,
)
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.models.priors import HalfNormal, Normal

SETTINGS = SBCSettings(covariate=Normal(1.0, 1.0), prior_beta=Normal(0.0, 0.5))


def test_shared_interaction_exact_engine_is_calibrated():
    ranks = run_sbc(200, engine="exact", settings=SETTINGS, seed=2027)
    summary = sbc_summary(ranks).set_index("parameter")
    assert set(summary.index) == {"beta", "d", "tau"}
    assert summary.loc["beta", "n"] == 200 and summary.loc["d", "n"] == 800
    assert (summary["chi2_p"] > 0.001).all(), summary
    beta = ranks[ranks["parameter"] == "beta"]
    ci = binomtest(int(beta["covered"].sum()), len(beta)).proportion_ci(0.999)
    assert ci.low <= 0.95 <= ci.high, (beta["covered"].mean(), ci)


def test_uncentred_fit_of_centred_data_is_detected():
    """Negative control: the data are centred at x_bar ~ 1, the fit centres at 0, so ``d`` is
    the effect at x = 0 (shifted by -beta x_bar from the truth): the check must see it."""
    ranks = run_sbc(40, engine="exact", settings=SETTINGS, seed=2027, fit_options={"center": False})
    d = sbc_summary(ranks).set_index("parameter").loc["d"]
    assert d["chi2_p"] < 1e-6 and d["coverage_hi"] < 0.95


def _expected_te(data, truth):
    """The model's mean of every contrast: d_1 - d_2 + (beta_1 - beta_2)(x - x_bar)."""
    d = {"T1": 0.0, **truth["d"]}
    beta = {t: (0.0 if t == "T1" else truth["beta"]) for t in d}
    x = data.groupby("study", sort=False)[COVARIATE].first()
    xc = data["study"].map(x - x.mean())
    d1, d2 = data["treat1"].map(d), data["treat2"].map(d)
    return d1 - d2 + (data["treat1"].map(beta) - data["treat2"].map(beta)) * xc


def test_simulated_contrasts_follow_the_shared_interaction_mean():
    settings = SBCSettings(
        prior_tau=HalfNormal(1e-6),  # tau ~ 0
        multi_arm_share=(0.3, 0.6),
        covariate=Normal(3.0, 2.0),
        prior_beta=Normal(0.0, 1.0),
        arm_size=(10**10, 10**10),  # within-study SEs ~ 1.4e-5
    )
    rng = np.random.default_rng(4)
    for _ in range(5):
        data, truth = simulate_from_prior(settings, rng)
        assert set(truth) == {"d", "tau", "beta"}
        assert (data.groupby("study")[COVARIATE].nunique() == 1).all()  # constant within study
        assert data["se_base"].notna().any()  # some multi-arm studies
        np.testing.assert_allclose(data["TE"], _expected_te(data, truth), atol=1e-3)
        # two non-reference arms: the covariate cancels; vs the reference it does not
        others = (data["treat1"] != "T1") & (data["treat2"] != "T1")
        d = {"T1": 0.0, **truth["d"]}
        plain = data["treat1"].map(d) - data["treat2"].map(d)
        np.testing.assert_allclose(data.loc[others, "TE"], plain[others], atol=1e-3)
        assert np.abs(data.loc[~others, "TE"] - plain[~others]).max() > 0.01


def test_without_covariate_the_data_have_no_covariate():
    data, truth = simulate_from_prior(SBCSettings(), np.random.default_rng(0))
    assert COVARIATE not in data.columns and set(truth) == {"d", "tau"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"covariate": True},
        {"covariate": HalfNormal(1.0)},
        {"prior_beta": HalfNormal(1.0)},
        {"arm_size": (0, 10)},
        {"arm_size": (50, 10)},
        {"arm_size": (10.0, 20)},
    ],
)
def test_settings_are_validated(kwargs):
    with pytest.raises(ModelSpecError):
        SBCSettings(**kwargs)


def test_new_settings_are_keyword_only():
    fields = (5, (4, 40), (0.0, 0.4), Normal(0, 1), HalfNormal(0.5), 99)
    with pytest.raises(TypeError):
        SBCSettings(*fields, Normal(0, 1))
