"""Ordered categorical outcomes: PASI 50/75/90 in psoriasis (NICE DSU TSD2), and risk ratios.

Fits TSD2's psoriasis network (16 studies, 8 treatments; studies report PASI 50/75/90, 50/75,
50 only or 75 only) with the ordered probit random-effects model, and prints the probit
differences next to multinma's vignette, the cutpoints, the predicted probabilities of reaching
PASI 50/75/90 for TSD2's baseline, the residual deviance over the 58 data points and the
rankings. Then the smoking-cessation network with the binomial log link: risk ratios.

Run:  python examples/ordered_outcomes.py
"""

import os

import pandas as pd

import nma_bayes as nb

DRAWS = int(os.environ.get("NMA_EXAMPLE_DRAWS", "1000"))


def main() -> None:
    pso = nb.datasets.load_dataset("psoriasis", "arms_long_cumulative")
    fit = nb.fit_network(
        pso, likelihood="ordered", link="probit", category="cutpoint", events="r", n="n",
        arm="arm",  # Ellis 1991 and Gottlieb 2004 have two arms of one treatment: keep them apart
        reference="Supportive care", prior_d=nb.Normal(0, 10), prior_tau=nb.HalfNormal(2.5),
        draws=DRAWS, random_seed=1,
    )  # fmt: skip
    ref = nb.datasets.reference_results("psoriasis")
    ref = ref[(ref.source == "multinma_vignette") & (ref.model == "RE")]
    effects = ref[ref.quantity == "relative_effect_probit"][["treatment", "mean"]]
    rel = fit.relative_effects().merge(effects.rename(columns={"mean": "vignette"}), on="treatment")
    pd.set_option("display.width", 160)
    print(fit)
    print("\nProbit differences vs supportive care (ours vs multinma's vignette):")
    print(rel.round(3).to_string(index=False))
    print("\nCutpoints (PASI 50 fixed at 0):")
    print(fit.cutpoints().round(3).to_string(index=False))
    print("\nBetween-study SD:")
    print(fit.heterogeneity().round(3).to_string())
    print("\nP(at least PASI 50/75/90), baseline probit(P(PASI 50 | SC)) ~ N(-1.097, 1/123):")
    table = fit.absolute_effects(nb.Normal(-1.097, 123**-0.5))
    print(table.pivot(index="treatment", columns="category", values="mean").round(2).to_string())
    print("\nModel fit (58 data points):")
    print(fit.model_fit().round(1).to_string(index=False))
    print("\nRankings (higher response is better):")
    print(fit.sucra(lower_is_better=False).round(3).to_string(index=False))

    smoking = nb.datasets.load_dataset("smoking", "arms")
    rr = nb.fit_network(smoking, likelihood="binomial", link="log", reference="No intervention",
                        draws=DRAWS, random_seed=1)  # fmt: skip
    print("\nSmoking cessation, binomial log link: risk ratios vs no intervention:")
    print(rr.relative_effects(scale="RR").round(3).to_string(index=False))


if __name__ == "__main__":
    main()
