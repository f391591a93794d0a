"""Reduced simulation-based calibration of NUTS on the Weibull survival NMA (pseudo-IPD).

40 replicates on one design (``fixed_design``: one layout, so one compiled model; SBC holds
given the design), random effects on the log hazard ratios, a Weibull shape per study, a shared
meta-regression interaction on a study covariate, 4 x 250 draws after 300 warm-up. The full run
(200 networks, a new design each) is in issue 27's note (``python benchmarks/sbc.py --survival
--regression``).
"""

import warnings

from scipy.stats import binomtest

from nma_bayes.analyses.calibration import sbc_summary
from nma_bayes.analyses.calibration_survival import SurvivalSBCSettings, run_survival_sbc
from nma_bayes.base.errors import NMAConvergenceWarning


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
