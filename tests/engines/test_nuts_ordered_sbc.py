"""Reduced simulation-based calibration of NUTS on the ordered categorical model.

40 replicates on one design (``fixed_design``: one layout and reporting pattern, so one compiled
model; SBC holds given the design), random effects, probit link, each study reporting all three
cutpoints, the first two, or one; 4 x 250 draws after 300 warm-up. The full run (200 networks, a
new design each) is in issue 26's note (``python benchmarks/sbc.py --ordered``).
"""

import warnings

from scipy.stats import binomtest

from nma_bayes.analyses.calibration import sbc_summary
from nma_bayes.analyses.calibration_ordered import OrderedSBCSettings, run_ordered_sbc
from nma_bayes.base.errors import NMAConvergenceWarning


def test_reduced_sbc_of_the_ordered_random_effects_model():
    """Ranks of d, tau and the cutpoints uniform (chi-square over 10 bins, tested at 0.1%: the
    ranks of one replicate share data) and 95% intervals covering at the nominal rate (exact
    binomial test at 0.1%)."""
    settings = OrderedSBCSettings(fixed_design=True)
    with warnings.catch_warnings():
        # short runs of small simulated networks: a low-ESS or rare-divergence warning on a
        # replicate is expected and does not bias the ranks (the test is their uniformity)
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        ranks = run_ordered_sbc(
            40, settings=settings, seed=26, fit_options={"draws": 250, "tune": 300}
        )
    summary = sbc_summary(ranks).set_index("parameter")
    assert list(summary.index) == ["cutpoint", "d", "tau"]
    assert summary.loc["tau", "n"] == 40 and summary.loc["cutpoint", "n"] == 80
    assert (summary["chi2_p"] > 0.001).all(), summary
    for parameter, row in summary.iterrows():
        k = int(round(row["coverage"] * row["n"]))
        assert binomtest(k, int(row["n"]), 0.95).pvalue > 0.001, parameter
