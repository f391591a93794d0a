"""MCMC vs the exact posterior (parkinsons, TSD2 Example 5).

Fits the random-effects model with PyMC/nutpie (few draws, to stay quick) and compares every
posterior summary with the exact engine's, in units of Monte Carlo standard error.

Run:  python examples/exact_vs_mcmc.py
"""

import os
import warnings

import pandas as pd

import nma_bayes as nb


def main() -> None:
    draws = int(os.environ.get("NMA_EXAMPLE_DRAWS", 500))
    df = nb.datasets.load_dataset("parkinsons")
    reference = nb.datasets.DATASETS["parkinsons"].reference
    with warnings.catch_warnings():
        # few draws may not meet the ESS threshold; the comparison below shows the MC error
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        fit = nb.fit_network(
            df,
            reference=reference,
            prior_d=nb.Normal(0, 100),
            prior_tau=nb.Uniform(0, 5),
            draws=draws,
            tune=draws,
            random_seed=1,
        )
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(fit)
    print("\nMCMC - exact, in Monte Carlo standard errors")
    table = fit.compare_exact()
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
