"""All pairwise comparisons of large networks with the exact engine (issue 17).

Times, in one process, for simulated networks of 100, 150 and 300 treatments (``2 T`` studies,
10% multi-arm): the exact fit (quadrature over tau), ``relative_effects(all_pairs=True)`` (every
one of the ``T(T-1)/2`` pairs by quadrature, from three covariance entries per pair and node) and
``league_table()`` (built from the same all-pairs table). Before issue 17 the all-pairs step was
an ``O(T^4)`` einsum: 12 s at 100 treatments, 42 s at 150 and 704 s at 300.

Run from the repository root: ``python benchmarks/bench_exact_scale.py [--sizes 100 150 300]``.
The acceptance bound is all pairs of a 300-treatment network in at most 10 s (fit included).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulate import simulate_network  # noqa: E402

import nma_bayes as nb  # noqa: E402


def measure(n_treatments: int, seed: int) -> dict:
    """Fit one simulated network with the exact engine and time the all-pairs summaries."""
    df = simulate_network(2 * n_treatments, n_treatments, seed=seed)
    t0 = time.perf_counter()
    fit = nb.fit_network(df, reference="T01", engine="exact", random_seed=seed, draws=250)
    t1 = time.perf_counter()
    pairs = fit.relative_effects(all_pairs=True)
    t2 = time.perf_counter()
    league = fit.league_table()
    t3 = time.perf_counter()
    assert len(pairs) == n_treatments * (n_treatments - 1) // 2
    assert league.shape == (n_treatments, n_treatments)
    return {
        "treatments": n_treatments,
        "studies": df["study"].nunique(),
        "nodes": len(fit.exact.tau),
        "fit_s": t1 - t0,
        "all_pairs_s": t2 - t1,
        "league_s": t3 - t2,
        "fit_plus_pairs_s": t2 - t0,
    }


def main(argv=None) -> int:
    """Print a Markdown table of the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 150, 300])
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    rows = [measure(n, args.seed) for n in args.sizes]
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---:|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c])
                                for c in cols) + " |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
