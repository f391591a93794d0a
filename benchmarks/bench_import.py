"""Import cost and a whole-process exact-engine fit, side by side with JAGS (issue 10).

Measures, each as the median of ``--repeats`` fresh processes on this machine:

* ``import nma_bayes`` alone (wall time of ``python -c "import nma_bayes"`` minus that of a bare
  ``python -c "pass"``, and the heavy modules it loads: PyMC, PyTensor, nutpie, matplotlib and
  ArviZ must be absent);
* a whole process that imports nma_bayes, loads parkinsons, fits it with the exact engine and
  prints the relative effects (interpreter start-up included);
* JAGS's whole process on the same network (``Rscript benchmarks/jags_nma.R``, iterations sized
  by ``bench_vs_jags.jags_case`` to min bulk ESS >= 1000 and R-hat <= 1.01);

and prints their ratio (target: exact-engine process / JAGS process <= 1.0).

Usage: ``python benchmarks/bench_import.py [--repeats 5] [--skip-jags]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAVY = ("pymc", "pytensor", "nutpie", "matplotlib", "arviz")

FIT_CODE = (
    "import nma_bayes as nb\n"
    "df = nb.datasets.load_dataset('parkinsons')\n"
    "fit = nb.fit_network(df, reference='Placebo', engine='exact', random_seed=1)\n"
    "print(fit.relative_effects().round(3).to_string(index=False))\n"
)


def _wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def heavy_modules() -> list[str]:
    """Heavy libraries that a bare ``import nma_bayes`` loads (should be none)."""
    code = "import sys, nma_bayes; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    loaded = set(out.stdout.decode().split())
    return [m for m in HEAVY if m in loaded]


def jags_seconds(args) -> float:
    """Median whole-process JAGS time on parkinsons at the ESS/R-hat bar."""
    sys.path.insert(0, str(HERE))
    import bench_vs_jags as bj

    import nma_bayes as nb

    df = nb.datasets.load_dataset("parkinsons")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data, net = bj.jags_data(df, "Placebo")
        data_csv = tmpdir / "data.csv"
        data.to_csv(data_csv, index=False)
        jargs = argparse.Namespace(
            rscript="Rscript", jags_adapt=1000, jags_burnin=1000, jags_iter=1000, chains=4,
            seed=1, jags_no_glm=False, jags_repeats=args.repeats,
        )  # fmt: skip
        return bj.jags_case(data_csv, net, jargs, tmpdir)["jags_s"]


def main(argv=None) -> int:
    """Print the measurements as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-jags", action="store_true")
    args = parser.parse_args(argv)
    _wall("import nma_bayes")  # warm the OS page cache and __pycache__
    bare = float(np.median([_wall("pass") for _ in range(args.repeats)]))
    imp = float(np.median([_wall("import nma_bayes") for _ in range(args.repeats)]))
    fit = float(np.median([_wall(FIT_CODE) for _ in range(args.repeats)]))
    rows = [
        ("python start-up", bare),
        ("import nma_bayes (minus start-up)", imp - bare),
        ("whole process: import + exact fit of parkinsons + relative effects", fit),
    ]
    if not args.skip_jags:
        jags = jags_seconds(args)
        rows += [("JAGS whole process, parkinsons (ESS >= 1000)", jags),
                 ("ratio exact process / JAGS process", fit / jags)]  # fmt: skip
    print(f"heavy modules loaded by 'import nma_bayes': {heavy_modules() or 'none'}")
    print("| measurement | value |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
