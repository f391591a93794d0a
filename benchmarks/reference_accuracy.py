"""Print how far the reference fits of the test suite are from the published results.

Run by hand: python benchmarks/reference_accuracy.py (about 30 s; uses the same seeded fits as
tests/test_reference_fits.py and prints the largest absolute deviation per check).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import numpy as np
from reference_helpers import reference, reference_fit

import nma_bayes as nb

t = time.time()
f = reference_fit("therapy_re")
ref = reference("therapy_formats", "book_gemtc_mcmc2_samples", "RE", "relative_effect_SMD")
o = f.relative_effects("cau").set_index("treatment").loc[ref.index]
print(
    "therapy mean",
    np.abs(o["mean"] - ref["mean"]).max(),
    "lo",
    np.abs(o.ci_lower - ref.lower95).max(),
    "hi",
    np.abs(o.ci_upper - ref.upper95).max(),
)
tau = reference("therapy_formats", "book_gemtc_mcmc2_samples", "RE", "tau")
print("tau", f.heterogeneity().loc["tau", "mean"], tau["mean"].iloc[0])
sr = reference("therapy_formats", "book_gemtc_mcmc2_samples", "RE", "sucra_lower_is_better")
s = f.sucra(lower_is_better=True).set_index("treatment").loc[sr.index, "sucra"]
print("sucra", np.abs(s - sr["value"]).max())
for k, m in [("parkinsons_re", "RE"), ("parkinsons_fe", "FE")]:
    f = reference_fit(k)
    ref = reference("parkinsons", "TSD2", m, "relative_effect")
    o = f.relative_effects().set_index("treatment").loc[ref.index]
    print(
        k,
        "mean",
        np.abs(o["mean"] - ref["mean"]).max(),
        "sd",
        np.abs(o["sd"] - ref["sd"]).max(),
        "median",
        np.abs(o["median"] - ref["median"]).max(),
        "lo",
        np.abs(o.ci_lower - ref.lower95).max(),
        "hi",
        np.abs(o.ci_upper - ref.upper95).max(),
    )
    if m == "RE":
        print("tau median", f.heterogeneity().loc["tau", "median"])
f = reference_fit("social_re")
print("social tau", f.heterogeneity().loc["tau"].round(4).to_dict())
ref = reference("social_anxiety", "computed_here_JAGS_not_published", "RE", "relative_effect_SMD")
o = f.relative_effects("Waitlist").set_index("treatment").loc[ref.index]
print(
    "social mean",
    np.abs(o["mean"] - ref["mean"]).max(),
    "lo",
    np.abs(o.ci_lower - ref.lower95).max(),
    "hi",
    np.abs(o.ci_upper - ref.upper95).max(),
)
f = reference_fit("senn_fe")
g, _ = nb.gls_estimate(f.network, prior_sd=100)
o = f.relative_effects("plac").set_index("treatment")
ref = reference("senn2013", "computed_netmeta_algorithm", "FE", "relative_effect_MD")
print(
    "senn vs gls",
    np.abs(o.loc[g.index, "mean"] - g).max(),
    "vs netmeta",
    np.abs(o.loc[ref.index, "mean"] - ref["mean"]).max(),
)
print("total", time.time() - t)
