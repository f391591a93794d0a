"""How robust is the recommendation? Threshold analysis (Phillippo et al. 2018).

1. A fit of our own (Parkinson's disease, mean differences, fixed effects, exact engine): the
   adjustment of each study's estimate that would change the optimal treatment, and the forest
   plot of the decision-invariant intervals.
2. The same analysis from posterior summaries alone, as with the R package nmathresh: the
   thrombolytics example's published posterior.

Run:  python examples/thresholds.py [OUTPUT_FOLDER]   (the figure goes to a temporary folder
unless one is given)
"""

import sys
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import nma_bayes as nb


def own_fit(out: Path) -> None:
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", effects="fixed", random_seed=1)  # fmt: skip
    th = nb.threshold_analysis(fit, lower_is_better=True)
    print(f"Parkinson's disease: optimal treatment {th.kstar}")
    cols = ["study", "contrast", "y", "threshold_lower", "new_optimal_lower",
            "threshold_upper", "new_optimal_upper"]  # fmt: skip
    print(th.to_frame()[cols].round(3).to_string(index=False))
    nb.plot_thresholds(th).savefig(out / "thresholds_parkinsons.png", dpi=80)


def from_summaries() -> None:
    folder = resources.files("nma_bayes") / "datasets" / "data" / "thrombolytics_threshold"
    with resources.as_file(folder) as path:
        summary = pd.read_csv(path / "thrombo_post_summary.csv")
        post_cov = pd.read_csv(path / "thrombo_post_cov.csv").select_dtypes("number").to_numpy()
        studies = pd.read_csv(path / "thrombo_study_level_thresholds.csv")
    mean_d = summary["Mean"].to_numpy()[:5]  # d_12 ... d_16 against SK
    # each study's log ORs against its first arm; the two of study 1 (three arms) share the
    # variance of its base arm's log odds (column cov_within_study)
    lik_cov = np.diag(studies["var"].to_numpy())
    lik_cov[0, 1] = lik_cov[1, 0] = studies["cov_within_study"].iloc[0]
    design = np.zeros((len(studies), 5))
    for row, (t, b) in enumerate(zip(studies["treat1_code"], studies["treat2_code"], strict=True)):
        design[row, t - 2] += 1.0
        if b > 1:
            design[row, b - 2] -= 1.0
    th = nb.threshold_table(mean_d, post_cov, lik_cov, design=design, lower_is_better=True,
                            y=studies["y_logOR"].to_numpy())  # fmt: skip
    print(f"\nThrombolytics (nmathresh's example): optimal treatment code {th.kstar}")
    print(th.to_frame()[["data_point", "y", "threshold_lower", "threshold_upper"]]
          .round(4).head(6).to_string(index=False))  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
        out.mkdir(parents=True, exist_ok=True)
        own_fit(out)
    else:
        with tempfile.TemporaryDirectory(prefix="nma-") as folder:
            own_fit(Path(folder))
    from_summaries()


if __name__ == "__main__":
    main()
