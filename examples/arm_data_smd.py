"""Arm-level continuous data: fixed vs random effects on the SMD scale (stowe2010).

Fits the bundled Parkinson's disease arm-level data of Stowe et al. (2010) as standardised mean
differences (Hedges' g, metafor's definition) with the exact engine, once with fixed and once with
random effects, and prints the relative effects vs placebo, tau and the DIC of both models.

Run:  python examples/arm_data_smd.py
"""

import pandas as pd

import nma_bayes as nb


def main() -> None:
    arms = nb.datasets.load_dataset("stowe2010", "arms")
    reference = nb.datasets.DATASETS["stowe2010"].reference
    fits = {
        effects: nb.fit_network(
            arms,
            measure="SMD",
            reference=reference,
            effects=effects,
            engine="exact",
            random_seed=1,
        )
        for effects in ("fixed", "random")
    }
    pd.set_option("display.width", 160)
    for effects, fit in fits.items():
        print(f"\n{effects} effects: SMD vs {fit.reference}")
        print(fit.relative_effects().round(3).to_string(index=False))
    print("\nHeterogeneity (random effects)")
    print(fits["random"].heterogeneity().round(3).to_string())
    print("\nModel fit (residual deviance, pD, DIC)")
    print(nb.compare_models({"FE": fits["fixed"], "RE": fits["random"]}).round(2).to_string())


if __name__ == "__main__":
    main()
