"""Simulation-based calibration of the shared-interaction network meta-regression, run by hand.

    python benchmarks/sbc_regression.py --n 1000 --engine exact --out benchmarks/results/sbcreg.md
    python benchmarks/sbc_regression.py --n 60 --engine pymc --draws 500 --studies 20 20 \
        --out benchmarks/results/sbcreg_pymc.md

Each replicate draws ``d ~ N(0, 1)``, ``tau ~ half-N(0, 0.5^2)`` and ``beta ~ N(0, 0.5^2)``,
simulates a 5-treatment contrast network (SMD-like) with one numeric study covariate
``x ~ N(1, 1)`` from the TSD3 shared-interaction model (``x`` centred at its mean over studies),
fits it with ``fit_network(..., covariates="x", interaction="shared")`` and records the rank of
each true value among 99 posterior draws (MCMC draws thinned evenly) and whether the 95% interval
covers it (:func:`nma_bayes.analyses.calibration.run_sbc`).

Prints per parameter group (beta, d, tau) the chi-square p-value of rank uniformity (10 bins),
the coverage of the 95% intervals with its exact binomial 95% CI, and n; writes that table to
``--out`` (Markdown if it ends in .md, else CSV) and the ranks beside it (``<stem>_ranks.csv``).

With ``--engine pymc`` a meta-regression model is compiled per network layout (studies x
contrasts per study) and treatment set, so fix the number of studies (``--studies 20 20``): the
5 treatments are then always the same and only the largest study size varies (2-, 3- or 4-arm),
i.e. at most 3 compilations; the script reports how many it made.
"""

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

from nma_bayes.analyses.calibration import SBCSettings, run_sbc, sbc_summary
from nma_bayes.base.errors import NMAConvergenceWarning
from nma_bayes.models.priors import Normal


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of simulated networks")
    parser.add_argument("--engine", choices=["exact", "pymc"], default="exact")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--draws", type=int, default=500, help="draws per chain (pymc)")
    parser.add_argument("--tune", type=int, default=500, help="tuning steps per chain (pymc)")
    parser.add_argument("--chains", type=int, default=2, help="chains (pymc)")
    parser.add_argument(
        "--studies", type=int, nargs=2, default=(4, 40), metavar=("LO", "HI"),
        help="range of studies per network (fix it for pymc, e.g. 20 20)",
    )  # fmt: skip
    parser.add_argument("--covariate-mean", type=float, default=1.0)
    parser.add_argument("--prior-beta-sd", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=None, help="summary file (.md or .csv)")
    return parser.parse_args(argv)


def markdown(table) -> str:
    """A Markdown table (no tabulate dependency)."""
    fmt = {"chi2_p": "{:.4g}", "coverage": "{:.3f}"}
    rows = [[fmt.get(c, "{}").format(v) for c, v in row.items()] for _, row in table.iterrows()]
    head = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(head + ["| " + " | ".join(r) + " |" for r in rows])


def main(argv=None):
    args = parse_args(argv)
    settings = SBCSettings(
        studies=tuple(args.studies),
        covariate=Normal(args.covariate_mean, 1.0),
        prior_beta=Normal(0.0, args.prior_beta_sd),
    )
    fit_options = {}
    if args.engine == "pymc":
        fit_options = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    start = time.time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NMAConvergenceWarning)
        ranks = run_sbc(
            args.n, engine=args.engine, settings=settings, seed=args.seed, fit_options=fit_options
        )
    elapsed = time.time() - start
    kinds = Counter(
        str(w.message).split(":")[0][:70]
        for w in caught
        if issubclass(w.category, NMAConvergenceWarning)
    )
    n_warn = sum(kinds.values())
    summary = sbc_summary(ranks)
    lines = [
        f"command: python {' '.join(sys.argv)}",
        f"engine={args.engine}: {args.n} networks in {elapsed:.0f} s "
        f"({elapsed / args.n:.2f} s each), {n_warn} convergence warnings",
        f"settings: {settings}",
    ]
    lines += [f"  {count} x {kind}" for kind, count in kinds.most_common()]
    if args.engine == "pymc":
        from nma_bayes.engines import nuts

        lines.append(f"compiled models: {len(nuts._COMPILED)}")
    table = summary.assign(
        coverage_95ci=[f"[{lo:.3f}, {hi:.3f}]" for lo, hi in
                       zip(summary["coverage_lo"], summary["coverage_hi"], strict=True)]
    )[["parameter", "n", "chi2_p", "coverage", "coverage_95ci"]]  # fmt: skip
    print("\n".join(lines))
    print(table.round(4).to_string(index=False))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.suffix == ".md":
            body = "\n".join(f"- {line}" for line in lines)
            args.out.write_text(f"{body}\n\n{markdown(table)}\n")
        else:
            summary.to_csv(args.out, index=False)
        ranks.to_csv(args.out.with_name(f"{args.out.stem}_ranks.csv"), index=False)


if __name__ == "__main__":
    main()
