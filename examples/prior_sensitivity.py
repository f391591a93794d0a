"""Sensitivity of a random-effects NMA to the heterogeneity prior (therapy_formats, SMD).

Compares a vague half-normal prior, TSD2's uniform prior and the empirical predictive
distributions of Rhodes et al. (2015) for SMDs (general setting and mental-health outcomes,
non-pharmacological comparisons), all with the exact engine.

Run:  python examples/prior_sensitivity.py
"""

import pandas as pd

import nma_bayes as nb


def main() -> None:
    df = nb.datasets.load_dataset("therapy_formats")
    priors = {
        "HalfNormal(1)": nb.HalfNormal(1.0),
        "Uniform(0, 5)": nb.Uniform(0, 5),
        "Rhodes 2015 (general)": nb.rhodes2015(),
        "Rhodes 2015 (mental health, non-pharma)": nb.rhodes2015(
            "mental health", "non-pharmacological vs placebo/control"
        ),
    }
    for name, prior in priors.items():
        print(f"{name}: {prior}")
    table = nb.prior_sensitivity(
        df, priors, reference="cau", lower_is_better=True, engine="exact", random_seed=1
    )
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    cols = ["prior", "estimate", "ci_lower", "ci_upper"]
    print("\ntau under each prior")
    print(table.query("quantity == 'tau'")[cols].round(3).to_string(index=False))
    print("\nSUCRA ranking under each prior")
    sucra = table.query("quantity == 'sucra'").pivot(
        index="treatment", columns="prior", values="estimate"
    )
    print(sucra.round(3).to_string())


if __name__ == "__main__":
    main()
