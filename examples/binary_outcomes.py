"""Binary outcomes at arm level: smoking cessation (NICE DSU TSD4), exact binomial likelihood.

Fits the bundled smoking cessation network (24 studies, 4 treatments, two zero-event arms) with the
TSD2 arm-based binomial-logit random-effects model, and prints the log odds ratios vs no
intervention next to TSD4's published posterior means, the heterogeneity and the rankings.
No continuity correction is applied anywhere: the likelihood is exact.

Run:  python examples/binary_outcomes.py
"""

import pandas as pd

import nma_bayes as nb


def main() -> None:
    arms = nb.datasets.load_dataset("smoking", "arms")
    fit = nb.fit_network(
        arms,
        likelihood="binomial",
        reference="No intervention",
        prior_d=nb.Normal(0, 100),  # TSD4's priors
        prior_tau=nb.Uniform(0, 5),
        draws=2000,
        tune=2000,
        random_seed=1,
    )
    ref = nb.datasets.reference_results("smoking")
    ref = ref[(ref.source == "TSD4") & (ref.comparator == "No intervention")]
    rel = fit.relative_effects().merge(
        ref[["treatment", "mean"]].rename(columns={"mean": "TSD4 mean"}), on="treatment"
    )
    pd.set_option("display.width", 160)
    print(fit)
    print("\nLog odds ratios vs no intervention (ours vs TSD4):")
    print(rel.round(3).to_string(index=False))
    print("\nBetween-study SD:")
    print(fit.heterogeneity().round(3).to_string())
    print("\nRankings (higher quit rates are better):")
    print(fit.sucra(lower_is_better=False).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
