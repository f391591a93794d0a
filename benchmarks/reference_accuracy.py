"""Print how far the test suite's reference fits are from the published results.

Run by hand: ``python benchmarks/reference_accuracy.py`` (about 30 s). Uses the same seeded fits
as tests/test_reference_fits.py and prints the largest absolute deviation of each summary.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_helpers import reference, reference_fit  # noqa: E402

import nma_bayes as nb  # noqa: E402

COLUMNS = {
    "mean": "mean",
    "sd": "sd",
    "median": "median",
    "ci_lower": "lower95",
    "ci_upper": "upper95",
}


def report(label, ours, ref):
    """Print max |ours - ref| for every summary column the reference has."""
    parts = []
    for col, ref_col in COLUMNS.items():
        if ref_col in ref and ref[ref_col].notna().all():
            parts.append(f"{col} {np.abs(ours.loc[ref.index, col] - ref[ref_col]).max():.4f}")
    print(f"{label:<40} max |diff|: " + ", ".join(parts))


def main():
    start = time.time()
    checks = [
        ("therapy_re", "therapy_formats", "book_gemtc_mcmc2_samples", "RE", "relative_effect_SMD"),
        ("parkinsons_re", "parkinsons", "TSD2", "RE", "relative_effect"),
        ("parkinsons_fe", "parkinsons", "TSD2", "FE", "relative_effect"),
        (
            "social_re",
            "social_anxiety",
            "computed_here_JAGS_not_published",
            "RE",
            "relative_effect_SMD",
        ),
        ("senn_fe", "senn2013", "computed_netmeta_algorithm", "FE", "relative_effect_MD"),
    ]
    for key, name, source, model, quantity in checks:
        fit = reference_fit(key)
        ref = reference(name, source, model, quantity)
        comparator = ref["comparator"].iloc[0]
        report(f"{key} vs {source}", fit.relative_effects(comparator).set_index("treatment"), ref)
        if fit.spec.random:
            tau = fit.heterogeneity().loc["tau"]
            print(
                f"{'':<40} tau mean {tau['mean']:.4f}, median {tau['median']:.4f}, "
                f"95% CrI {tau['ci_lower']:.4f}-{tau['ci_upper']:.4f}"
            )
        if not fit.spec.random:
            gls, _ = nb.gls_estimate(fit.network, prior_sd=100)
            got = fit.relative_effects().set_index("treatment").loc[gls.index, "mean"]
            print(f"{'':<40} vs exact conjugate posterior mean: {np.abs(got - gls).max():.4f}")
    fit = reference_fit("therapy_re")
    ref = reference("therapy_formats", "book_gemtc_mcmc2_samples", "RE", "sucra_lower_is_better")
    sucra = fit.sucra(lower_is_better=True).set_index("treatment").loc[ref.index, "sucra"]
    print(f"{'therapy_re SUCRA':<40} max |diff|: {np.abs(sucra - ref['value']).max():.4f}")
    print(f"total {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
