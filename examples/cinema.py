"""How much confidence does each estimate deserve? CINeMA on a Bayesian fit.

Parkinson's disease (mean differences in off-time, random effects, exact engine). The risk-of-
bias and indirectness judgements below are ILLUSTRATIVE, not the trials' published assessments:
with your review, read them from your RoB 2 table.

1. Judge every network estimate in CINeMA's six domains (Nikolakopoulou et al. 2020) and rate it.
2. Show where the judgements come from: the study contributions and the node-split intervals.
3. Draw the league table coloured by confidence and the forest plot against the range of
   equivalence, and write the report with the confidence and threshold sections.

Run:  python examples/cinema.py [OUTPUT_FOLDER]   (files go to a temporary folder unless one is
given)
"""

import sys
import tempfile
from pathlib import Path

import nma_bayes as nb


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", random_seed=1)  # fmt: skip
    studies = fit.network.studies
    rob = {s: "low" for s in studies} | {studies[0]: "high", studies[2]: "some concerns"}
    indirectness = {s: "low" for s in studies} | {studies[4]: "some concerns"}
    # an off-time difference of 0.5 hours is taken as clinically important (illustration)
    conf = nb.cinema(fit, rob=rob, indirectness=indirectness, mcid=0.5,
                     reporting_bias="undetected")  # fmt: skip
    print(conf)
    print(conf.summary().to_string(index=False))
    table = conf.to_frame()
    cols = ["treatment", "comparator", "evidence", "rob_high", "incoherence_basis", "downgrades"]
    print(table[cols].round(2).to_string(index=False))
    print("global design-by-treatment test:", conf.global_test)

    nb.plot_confidence(conf).savefig(out / "confidence_league.png", dpi=80)
    nb.plot_confidence(conf, kind="forest").savefig(out / "confidence_forest.png", dpi=80)
    th = nb.threshold_analysis(fit, lower_is_better=True)
    path = fit.to_report(out / "report.html", lower_is_better=True, cinema=conf, thresholds=th)
    print(f"figures and report in {out} ({path.name})")


if __name__ == "__main__":
    main()
