"""Simulation-based calibration of both engines (Talts et al. 2018), run by hand.

    python benchmarks/sbc.py                 # 200 networks per engine
    python benchmarks/sbc.py --networks 50 --engines exact
    python benchmarks/sbc.py --engines pymc --collapse on    # the collapsed sampler throughout
    python benchmarks/sbc.py --arms --engines pymc laplace   # the arm-level binomial RE model
    python benchmarks/sbc.py --ordered --link probit         # the ordered categorical RE model
    python benchmarks/sbc.py --survival                      # the Weibull RE model, pseudo-IPD
    python benchmarks/sbc.py --survival --regression         # ... with a shared interaction
    python benchmarks/sbc.py --survival --model lognormal --random no   # another family, FE

Prints, per engine and parameter group (d, tau), the chi-square p-value of rank uniformity
(10 bins, ranks among 99 draws; MCMC draws thinned evenly from 4 x 1000) and the coverage of 95%
intervals with its exact binomial 95% CI. Writes ranks to benchmarks/results/.
"""

import argparse
import time
import warnings
from pathlib import Path

from nma_bayes.analyses.calibration import run_sbc, sbc_summary
from nma_bayes.analyses.calibration_arms import run_arm_sbc
from nma_bayes.analyses.calibration_ordered import OrderedSBCSettings, run_ordered_sbc
from nma_bayes.analyses.calibration_survival import SurvivalSBCSettings, run_survival_sbc
from nma_bayes.base.errors import NMAConvergenceWarning

OUT = Path(__file__).resolve().parent / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--engines", nargs="+", default=["exact", "pymc"])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--collapse", choices=("auto", "on", "off"), default="auto",
        help="PyMC engine: the collapsed sampler where it applies (auto), always, or never",
    )  # fmt: skip
    parser.add_argument(
        "--arms", action="store_true",
        help="the arm-level binomial random-effects model (calibration_arms) instead",
    )  # fmt: skip
    parser.add_argument(
        "--ordered", action="store_true",
        help="the ordered categorical random-effects model (calibration_ordered; NUTS) instead",
    )  # fmt: skip
    parser.add_argument(
        "--survival", action="store_true",
        help="the Weibull random-effects survival model on pseudo-IPD (calibration_survival)",
    )  # fmt: skip
    parser.add_argument(
        "--model", choices=("weibull", "gompertz", "lognormal", "loglogistic"), default="weibull",
        help="--survival: the family (simulated and fitted)",
    )  # fmt: skip
    parser.add_argument(
        "--random", choices=("yes", "no"), default="yes",
        help="--survival: random effects (default) or fixed effects",
    )  # fmt: skip
    parser.add_argument(
        "--regression", action="store_true",
        help="--survival with a shared meta-regression interaction on a study covariate",
    )  # fmt: skip
    parser.add_argument("--link", choices=("probit", "logit"), default="probit")
    args = parser.parse_args()
    if args.ordered or args.survival:
        args.engines = ["pymc"]
    collapse = {"auto": None, "on": True, "off": False}[args.collapse]
    OUT.mkdir(exist_ok=True)
    for engine in args.engines:
        start = time.time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NMAConvergenceWarning)
            refused = 0
            if args.survival:
                settings = SurvivalSBCSettings(random=args.random == "yes", model=args.model,
                                               regression=args.regression)  # fmt: skip
                ranks = run_survival_sbc(args.networks, settings=settings, seed=args.seed)
            elif args.ordered:
                settings = OrderedSBCSettings(link=args.link)
                ranks = run_ordered_sbc(args.networks, settings=settings, seed=args.seed)
            elif args.arms:
                ranks, refused = run_arm_sbc(args.networks, engine=engine, seed=args.seed)
            else:
                options = {"collapse": collapse} if engine == "pymc" else None
                ranks = run_sbc(args.networks, engine=engine, seed=args.seed, fit_options=options)
        n_warn = sum(issubclass(w.category, NMAConvergenceWarning) for w in caught)
        plain = not (args.arms or args.ordered or args.survival)
        tag = f"_collapse-{args.collapse}" if engine == "pymc" and plain else ""
        tag += "_arms" if args.arms else ""
        tag += f"_ordered-{args.link}" if args.ordered else ""
        tag += f"_survival-{args.model}" if args.survival else ""
        tag += "-fe" if args.survival and args.random == "no" else ""
        tag += "-regression" if args.survival and args.regression else ""
        ranks.to_csv(OUT / f"sbc_{engine}{tag}_{args.networks}.csv", index=False)
        summary = sbc_summary(ranks)
        print(
            f"\nengine={engine}{tag}: {args.networks} networks in {time.time() - start:.0f} s, "
            f"{n_warn} convergence warnings, {refused} refused"
        )
        print(summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
