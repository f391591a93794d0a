"""Exchangeable class effects for the social anxiety network (41 treatments, 17 classes).

Fits the class model of the multinma vignette (Mayo-Wilson et al. 2014 data): treatment effects
exchangeable within classes, some classes sharing a within-class SD. Prints tau, the class
effects vs waitlist and the class rankings. Draws are few to keep the run short; set
``NMA_EXAMPLE_DRAWS`` for a production run.

Run:  python examples/class_models.py
"""

import os
import warnings

import pandas as pd

import nma_bayes as nb

CLASS_SD = {
    "Exercise and SH no support": ["Exercise promotion", "Self-help no support"],
    "SSRIs and NSSA": ["SSRI/SNRI", "NSSA"],
    "Psychodynamic & Other psychological therapies": [
        "Psychodynamic psychotherapy",
        "Other psychological therapies",
    ],
}


def main() -> None:
    draws = int(os.environ.get("NMA_EXAMPLE_DRAWS", 300))
    df = nb.datasets.load_dataset("social_anxiety")
    with warnings.catch_warnings():
        # few draws may not meet the ESS threshold
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        fit = nb.fit_network(
            df,
            reference="Waitlist",
            classes="class",
            class_model="exchangeable",
            prior_d=nb.Normal(0, 100),
            prior_tau=nb.HalfNormal(5),
            prior_class_mean=nb.Normal(0, 10),
            prior_class_sd=nb.priors.TruncatedNormal(0.33, 0.1),
            class_sd=CLASS_SD,
            draws=draws,
            tune=draws,
            random_seed=1,
        )
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print("Heterogeneity")
    print(fit.heterogeneity().round(3).to_string())
    print("\nClass effects (SMD) vs the reference's class")
    print(fit.class_effects().round(3).to_string(index=False))
    print("\nClass rankings (lower SMD is better)")
    print(fit.class_rankings(lower_is_better=True).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
