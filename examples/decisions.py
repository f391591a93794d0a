"""Decision summaries on the illustrative PSPS-T2 network: P(top k), P(better by an MCID), LOO.

The data are simulated (``psps_t2_illustrative``: shaped like Goudman et al. 2025's network of 13
trials in persistent spinal pain syndrome type 2; SMDs of pain, lower is better). Fits the
random-effects model with the exact engine and prints what a guideline panel asks:

* how likely each treatment is among the best 1 and 3 (with Monte Carlo SEs), and the
  cumulative rank probabilities (SUCRA is their mean over the first K - 1 ranks);
* how likely each treatment beats conventional medical management by more than an MCID of 0.3
  SMD, and each class holds the best treatment;
* which trials move the results when left out (leave-one-study-out, exact refits).

Run:  python examples/decisions.py
"""

import pandas as pd

import nma_bayes as nb

REFERENCE = "Conventional medical management"
MCID = 0.3  # SMD; pain: lower is better


def main() -> None:
    df = nb.datasets.load_dataset("psps_t2_illustrative")
    fit = nb.fit_network(df, reference=REFERENCE, classes="class", engine="exact", random_seed=1)
    pd.set_option("display.width", 120)
    print("P(among the best k), k = 1 and 3:")
    print(fit.top_k(k=[1, 3], lower_is_better=True).round(3).to_string(index=False))
    cumulative = fit.rank_probabilities(lower_is_better=True, cumulative=True)
    print("\nCumulative rank probabilities P(rank <= k):")
    print(cumulative.round(3).to_string())
    better = fit.prob_difference(threshold=MCID, lower_is_better=True)
    print(f"\nP(pain lower than {REFERENCE} by more than {MCID} SMD):")
    print(better.round(3).to_string(index=False))
    print("\nP(class holds the best treatment):")
    print(fit.class_top_k(k=1, lower_is_better=True).round(3).to_string(index=False))
    influence = nb.leave_one_out(df, lower_is_better=True, reference=REFERENCE, random_seed=1)
    print("\nLeave-one-study-out influence (flag: the top treatment changes, or an effect moves")
    print("by more than 1 posterior SD):")
    columns = ["study", "method", "best", "max_shift_sd", "max_shift_treatment", "flag"]
    print(influence.summary()[columns].round(2).to_string(index=False))


if __name__ == "__main__":
    main()
