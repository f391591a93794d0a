"""Checking consistency and evidence flow: smoking cessation (arms) and Parkinson's (contrasts).

Bayesian checks on the smoking-cessation network (NICE DSU TSD4; binomial likelihood on the arms):
node-splitting (Dias et al. 2010), the unrelated mean effects (UME) model compared with the
consistency model (TSD4: DIC and the dev-dev plot; NUTS), the design-by-treatment interaction
model (Higgins et al. 2012) and the leverage plot (TSD2). The node-splits and the
design-by-treatment fits use the analyses' default for arm-level data, ``engine="auto"``: the
Laplace engine, and NUTS where its importance weights refuse a fit. Then the frequentist,
sampling-free evidence structure of the Parkinson's network (contrasts): the decomposition of
Cochran's Q (Krahn et al. 2013), the proportion of direct evidence (König et al. 2013), the
contribution matrix (Papakonstantinou et al. 2018), the net heat plot and the
comparison-adjusted funnel plot (Chaimani et al. 2013). Figures and an HTML report with the
section "Inconsistency and evidence" are written to the folder given as first argument
(default: a temporary folder, removed at the end).

Run:  python examples/inconsistency.py [OUTPUT_FOLDER]
"""

import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import nma_bayes as nb
from nma_bayes.report.html_report import write_report

#: Short runs keep the example quick; use the defaults (4 x 1000 draws) for real analyses.
SAMPLER = {"draws": 500, "tune": 500, "chains": 2}


def smoking_checks(out: Path) -> None:
    """Node-split, UME, design-by-treatment and leverage plot of the smoking arms."""
    arms = nb.datasets.load_dataset("smoking", "arms")
    options = {"likelihood": "binomial", "reference": "No intervention", "random_seed": 1}
    split = nb.nodesplit(arms, **options, **SAMPLER)
    cols = ["treatment", "comparator", "direct", "indirect", "difference", "p_value"]
    print("Node-splitting (log odds ratios; treatment vs comparator):")
    print(split[cols].round(3).to_string(index=False))

    fit = nb.fit_network(arms, **options, **SAMPLER)
    ume = nb.fit_network(arms, consistency="ume", **options, **SAMPLER)
    print("\nConsistency vs unrelated mean effects (TSD4):")
    print(nb.compare_models({"consistency": fit, "UME": ume})[["resdev", "pD", "DIC"]].round(2))
    nb.plot_dev_dev(nb.dev_dev(fit, ume)).savefig(out / "dev_dev.png", dpi=80)
    nb.plot_leverage(fit).savefig(out / "leverage.png", dpi=80)

    # warns (rule design-separation): the design Group counselling:No intervention is one study
    # with 0 events in its No intervention arm, so its omega follows the prior of d downwards
    dbt = nb.design_by_treatment(arms, **options, **SAMPLER)
    print("\nDesign-by-treatment interaction model (Higgins et al. 2012):")
    print(dbt.model_fit.round(2).to_string(index=False))
    cols = ["design", "treatment", "comparator", "omega", "p_value", "contraction"]
    print(dbt.inconsistency[cols].round(3).to_string(index=False))
    report = write_report(fit, out / "smoking_report.html", nodesplit=split,
                          design_by_treatment=dbt)  # fmt: skip
    print(f"\nreport with the section 'Inconsistency and evidence': {report}")


def parkinsons_evidence(out: Path) -> None:
    """The frequentist evidence structure of the Parkinson's network (no sampling)."""
    df = nb.datasets.load_dataset("parkinsons")
    print("\nParkinson's disease (mean differences): decomposition of Cochran's Q")
    print(nb.decompose_q(df, reference="Placebo").summary().round(3).to_string(index=False))
    summary = nb.evidence_summary(df).to_frame()
    print("\nProportion of direct evidence, mean path length, minimal parallelism:")
    shown = ["comparison", "proportion_direct", "mean_path_length", "minimal_parallelism"]
    print(summary[shown].round(3).to_string(index=False))
    contribution = nb.contribution_matrix(df)
    nb.plot_contribution(contribution).savefig(out / "contribution.png", dpi=80)
    nb.plot_netheat(nb.netheat(df)).savefig(out / "netheat.png", dpi=80)
    order = ["Bromocriptine", "Cabergoline", "Pramipexole", "Ropinirole", "Placebo"]
    funnel = nb.funnel(df, order=order)
    print("\nTests of small-study effects (comparison-adjusted funnel plot):")
    print(funnel.tests().round(3).to_string(index=False))
    nb.plot_funnel(funnel).savefig(out / "funnel.png", dpi=80)


def run(out: Path) -> None:
    """Run both parts, writing figures and the report into ``out``."""
    pd.set_option("display.width", 160)
    with warnings.catch_warnings():
        # short NUTS runs and PSIS-LOO of small studies can warn; the numbers are still shown
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Pp]areto.*")
        smoking_checks(out)
    parkinsons_evidence(out)
    print(f"\nfigures written to {out}")


def main() -> None:
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
        out.mkdir(parents=True, exist_ok=True)
        run(out)
        return
    with tempfile.TemporaryDirectory(prefix="nma-") as folder:
        run(Path(folder))


if __name__ == "__main__":
    main()
