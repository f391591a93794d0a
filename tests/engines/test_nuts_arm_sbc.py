"""Reduced simulation-based calibration of NUTS on the arm-level binomial random-effects model.

The model NUTS samples is partially non-centred (:mod:`nma_bayes.models.arm_param`); its weights
come from the data, so a mistake in them or in the change of variables would show as ranks that
are not uniform. 40 replicates on one design (``fixed_design``: one compiled model; SBC holds
given the design), 4 x 250 draws after 300 warm-up. The full run (200 networks, a new design
each) is in issue 25's note (``python benchmarks/sbc.py --arms --engines pymc``).
"""

import warnings

from scipy.stats import binomtest

from nma_bayes.analyses.calibration import sbc_summary
from nma_bayes.analyses.calibration_arms import ArmSBCSettings, run_arm_sbc
from nma_bayes.base.errors import NMAConvergenceWarning


def test_reduced_sbc_of_nuts_on_the_binomial_random_effects_model():
    """Ranks of d and tau uniform (chi-square over 10 bins, tested at 0.1%: the d ranks of one
    replicate share data) and 95% intervals covering at the nominal rate (exact binomial test
    at 0.1%); NUTS refuses nothing."""
    settings = ArmSBCSettings(fixed_design=True)
    with warnings.catch_warnings():
        # short runs of small simulated networks: a low-ESS or rare-divergence warning on a
        # replicate is expected and does not bias the ranks (the test is their uniformity)
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        ranks, refused = run_arm_sbc(40, engine="pymc", settings=settings, seed=26,
                                     fit_options={"draws": 250, "tune": 300})  # fmt: skip
    assert refused == 0
    summary = sbc_summary(ranks).set_index("parameter")
    assert summary.loc["tau", "n"] == 40
    assert (summary["chi2_p"] > 0.001).all(), summary
    for parameter, row in summary.iterrows():
        k = int(round(row["coverage"] * row["n"]))
        assert binomtest(k, int(row["n"]), 0.95).pvalue > 0.001, parameter
