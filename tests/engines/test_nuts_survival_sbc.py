"""Reduced simulation-based calibration of NUTS on the Weibull survival NMA (pseudo-IPD).

40 replicates on one design (``fixed_design``: one layout, so one compiled model; SBC holds
given the design), random effects on the log hazard ratios, a Weibull shape per study, a shared
meta-regression interaction on a study covariate, 4 x 250 draws after 300 warm-up; and the
Gompertz, log-normal and log-logistic fixed-effect models (30 replicates each). The full runs
(a new design each) are in issue 27's note (``python benchmarks/sbc.py --survival
[--regression] [--model MODEL]``).
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.stats import binomtest

from nma_bayes.analyses.calibration import sbc_summary
from nma_bayes.analyses.calibration_survival import (
    SurvivalSBCSettings,
    event_times,
    run_survival_sbc,
)
from nma_bayes.base.errors import NMAConvergenceWarning
from nma_bayes.models.survival_model import AUX_NAME


def test_reduced_sbc_of_the_weibull_random_effects_model():
    """Ranks of d, the shapes, tau and the interaction uniform (chi-square over 10 bins, tested
    at 0.1%: the ranks of one replicate share data) and 95% intervals covering at the nominal
    rate (exact binomial test at 0.1%)."""
    settings = SurvivalSBCSettings(fixed_design=True, random=True, regression=True)
    with warnings.catch_warnings():
        # short runs of small simulated networks: a low-ESS warning on a replicate is expected
        # and does not bias the ranks (the test is their uniformity)
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        ranks = run_survival_sbc(
            40, settings=settings, seed=27, fit_options={"draws": 250, "tune": 300}
        )
    summary = sbc_summary(ranks).set_index("parameter")
    assert sorted(summary.index) == ["beta", "d", "shape", "tau"]
    assert summary.loc["tau", "n"] == summary.loc["beta", "n"] == 40
    assert (summary["chi2_p"] > 0.001).all(), summary
    for parameter, row in summary.iterrows():
        k = int(round(row["coverage"] * row["n"]))
        assert binomtest(k, int(row["n"]), 0.95).pvalue > 0.001, parameter


@pytest.mark.parametrize("model", ["gompertz", "lognormal", "loglogistic"])
def test_reduced_sbc_of_the_other_parametric_families(model):
    """The same test for the Gompertz (a signed rate), log-normal and log-logistic (AFT) fixed-
    effect models: 30 replicates each, ranks of d and the auxiliary parameters."""
    settings = SurvivalSBCSettings(fixed_design=True, model=model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        ranks = run_survival_sbc(
            30, settings=settings, seed=28, fit_options={"draws": 250, "tune": 300}
        )
    summary = sbc_summary(ranks).set_index("parameter")
    assert sorted(summary.index) == sorted(["d", AUX_NAME[model]])
    assert (summary["chi2_p"] > 0.001).all(), summary
    for parameter, row in summary.iterrows():
        k = int(round(row["coverage"] * row["n"]))
        assert binomtest(k, int(row["n"]), 0.95).pvalue > 0.001, parameter


@pytest.mark.parametrize("model, aux, dist", [
    ("weibull", 1.5, lambda eta, a: stats.weibull_min(a, scale=np.exp(-eta / a))),
    ("gompertz", 0.4, lambda eta, g: stats.gompertz(np.exp(eta) / g, scale=1 / g)),
    ("lognormal", 0.7, lambda eta, s: stats.lognorm(s, scale=np.exp(eta))),
    ("loglogistic", 2.0, lambda eta, k: stats.fisk(k, scale=np.exp(eta))),
])  # fmt: skip
def test_simulated_event_times_invert_each_familys_survival_function(model, aux, dist):
    """S(T) = u exactly (SciPy's survival functions, multinma's parametrisations)."""
    u = np.random.default_rng(3).uniform(size=1000)
    t = event_times(model, 0.3, aux, u)
    np.testing.assert_allclose(dist(0.3, aux).sf(t), u, rtol=1e-9)
