"""Quick start: random-effects NMA of the bundled therapy_formats data (SMD, lower is better).

Reproduces the Bayesian analysis of Harrer et al. (2021), "Doing Meta-Analysis with R", chapter
"Network Meta-Analysis" (gemtc priors), and prints the relative effects vs care as usual, the
league table, SUCRA with intervals, and the heterogeneity SD.

Run:  python examples/quickstart.py
"""

import pandas as pd

import nma_bayes as nb


def main() -> None:
    info = nb.datasets.DATASETS["therapy_formats"]
    df = nb.datasets.load_dataset("therapy_formats")
    fit = nb.fit_network(
        df,
        reference=info.reference,
        random_seed=1,
        prior_d=nb.Normal(0, 43.575),  # gemtc default: 15 x om.scale
        prior_tau=nb.Uniform(0, 2.905),  # gemtc default: U(0, om.scale)
    )
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    print(fit)
    print(f"\nData: {info.title}\nSource: {info.citation}\n")
    print("Relative effects (SMD) vs", fit.reference)
    print(fit.relative_effects().round(3).to_string(index=False))
    print("\nLeague table (row vs column, posterior median and 95% CrI)")
    print(fit.league_table().to_string())
    print("\nSUCRA (lower SMD is better), with 95% interval of the per-draw scaled rank")
    print(fit.sucra(lower_is_better=info.lower_is_better).round(3).to_string(index=False))
    print("\nHeterogeneity")
    print(fit.heterogeneity().round(3).to_string())
    print("\nDiagnostics")
    diag = fit.diagnostics()
    print(diag.round(3).to_string(index=False))
    print(f"divergences: {diag.attrs['divergences']}")


if __name__ == "__main__":
    main()
