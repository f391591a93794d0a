"""The networks netmeta 3.3-1 analysed for the bundled evidence-structure references.

Shared by ``test_evidence.py`` (Q decomposition, network measures, contribution matrices) and
``test_netheat_funnel.py`` (net heat plot, comparison-adjusted funnel plot). Each network is built
from the data netmeta was given (see the data sets' READMEs): arm means for stowe2010 and
parkinsons, netmeta's all-pairs contrast files for senn2013 and therapy_formats, and smoking's log
odds ratios computed from the counts as netmeta's ``pairwise`` does. Every number must agree to
1e-6 relative; entries that netmeta prints as floating-point noise around 0 (|x| < 1e-12) are
compared absolutely.
"""

import numpy as np
import pandas as pd

import nma_bayes as nb

REFERENCE = {
    "stowe2010": "Placebo",
    "parkinsons": "Placebo",
    "senn2013": "plac",
    "smoking": "No intervention",
    "therapy_formats": "cau",
}
NAMES = list(REFERENCE)
RTOL, ATOL = 1e-6, 1e-12


def smoking_log_odds_ratios(arms: pd.DataFrame) -> pd.DataFrame:
    """Log ORs of each arm vs the study's first arm, in base form (netmeta ``pairwise``).

    0.5 is added to every cell of a study with a zero (or full) cell (``incr = 0.5``,
    ``method.incr = "only0"``); the variance of a log odds is ``1/r + 1/(n - r)``, so the
    covariance of two contrasts of a study is the base arm's.
    """
    rows = []
    for study, g in arms.groupby("study", sort=False):
        r, n = g["events"].to_numpy(float), g["n"].to_numpy(float)
        if ((r == 0) | (r == n)).any():
            r, n = r + 0.5, n + 1.0
        log_odds, var = np.log(r / (n - r)), 1 / r + 1 / (n - r)
        trt = g["treatment"].tolist()
        for j in range(1, len(trt)):
            se_base = np.sqrt(var[0]) if len(trt) > 2 else np.nan
            rows.append((study, trt[j], trt[0], log_odds[j] - log_odds[0],
                         np.sqrt(var[j] + var[0]), se_base))  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])


def network(name: str) -> nb.Network:
    """The network netmeta analysed (see the data set's README)."""
    ref = REFERENCE[name]
    if name in ("stowe2010", "parkinsons"):  # pairwise(sm = "MD") of the arm means
        arms = nb.datasets.load_dataset(name, "arms")[["study", "treatment", "mean", "sd", "n"]]
        return nb.Network.from_arms(arms, measure="MD", reference=ref)
    if name == "smoking":
        contrasts = smoking_log_odds_ratios(nb.datasets.load_dataset(name, "arms"))
        return nb.Network.from_contrasts(contrasts, reference=ref)
    data = nb.datasets.load_dataset(name, "contrasts_netmeta_allpairs")
    data = data[["study", "treat1", "treat2", "TE", "seTE"]]
    return nb.Network.from_contrasts(data, reference=ref)


def reference(name: str, part: str) -> pd.DataFrame:
    """Return the bundled ``netmeta_inconsistency_{part}.csv`` of a data set."""
    return nb.datasets.load_dataset(name, f"netmeta_inconsistency_{part}")


def assert_close(ours, theirs, what=""):
    """Equal to ``RTOL`` relative, to ``ATOL`` absolute where netmeta's value is below it."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=what)
    tiny = np.abs(theirs) < ATOL  # netmeta's floating-point zeros
    ok = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[ok & tiny], theirs[ok & tiny], atol=ATOL, rtol=0, err_msg=what)
    np.testing.assert_allclose(ours[ok & ~tiny], theirs[ok & ~tiny], rtol=RTOL, err_msg=what)
