"""Simulation-based calibration of both engines (Talts et al. 2018), run by hand.

    python benchmarks/sbc.py                 # 200 networks per engine
    python benchmarks/sbc.py --networks 50 --engines exact

Prints, per engine and parameter group (d, tau), the chi-square p-value of rank uniformity
(10 bins, ranks among 99 draws; MCMC draws thinned evenly from 4 x 1000) and the coverage of 95%
intervals with its exact binomial 95% CI. Writes ranks to benchmarks/results/.
"""

import argparse
import time
import warnings
from pathlib import Path

from nma_bayes.analyses.calibration import run_sbc, sbc_summary
from nma_bayes.base.errors import NMAConvergenceWarning

OUT = Path(__file__).resolve().parent / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--engines", nargs="+", default=["exact", "pymc"])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for engine in args.engines:
        start = time.time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NMAConvergenceWarning)
            ranks = run_sbc(args.networks, engine=engine, seed=args.seed)
        n_warn = sum(issubclass(w.category, NMAConvergenceWarning) for w in caught)
        ranks.to_csv(OUT / f"sbc_{engine}_{args.networks}.csv", index=False)
        summary = sbc_summary(ranks)
        print(
            f"\nengine={engine}: {args.networks} networks in {time.time() - start:.0f} s, "
            f"{n_warn} convergence warnings"
        )
        print(summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
