"""Benchmark nma_bayes's node-split of smoking against the same analysis in JAGS, in one run.

Issue 23: node-splitting of every splittable comparison of the smoking network (TSD4; 24 studies,
4 treatments, 2 three-arm studies; all 6 pairs have direct and indirect evidence), binomial
likelihood, logit link, random effects, arm-based, multinma's multi-arm convention, priors
``d ~ N(0, 100^2)``, ``tau ~ U(0, 5)`` (JAGS: also ``mu_i``, ``omega ~ N(0, 100^2)``):

* **nma_bayes**: ``nb.nodesplit(arms, likelihood="binomial", treatments=ORDER,
  reference="No intervention", prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5),
  random_seed=1)`` (the consistency model and 6 splits, 7 NUTS fits of 4 chains x (1000 tune +
  1000 draws), nma_bayes's defaults). *first* = the first call in this process (compiles),
  *warm* = median of ``--repeats`` later calls (same seed), *cold* = median wall time of
  ``--cold-repeats`` fresh ``python`` processes that import nma_bayes, read the CSV, run the
  node-split and exit (the on-disk compile caches are warm, as for any user after the first
  run). ESS: the table's ``ess_bulk``, the smallest bulk ESS (ArviZ) of the split's direct,
  indirect and difference (omega) draws.
* **JAGS**: ``Rscript benchmarks/jags_nodesplit.R`` (see its header): the consistency model and
  one model per split, the same 7 fits, 4 chains each (rjags runs them one after the other, on
  one core), ``--jags-adapt`` (default: the NUTS tune, 1000) adaptation + ``--jags-burnin``
  (default 0) burn-in + ``n_iter`` kept iterations. ESS of ``direct``, ``indirect`` and
  ``omega`` per split: ArviZ bulk ESS on the saved draws (nma_bayes's own definition; used for
  the ratios) and coda's ``effectiveSize`` (computed in R, shown beside). **JAGS s** = median
  wall time of ``--jags-repeats`` whole ``Rscript`` processes (R start-up, loading rjags, 7 x
  compile + adapt + sampling, writing the draws).

  Two JAGS settings: (1) *same iterations* as nma_bayes (n_iter = the NUTS draws, 1000); (2)
  *same ESS*: n_iter grown until JAGS's min bulk ESS over every split's direct, indirect and
  omega reaches nma_bayes's (the warm table's smallest ``ess_bulk``; ``--target-ess`` to set
  it) with max R-hat <= 1.01, as ``bench_arm_vs_jags.jags_arm_case`` grows its iterations
  (x 1.2 x target / min ESS, at least x 1.25, at most x 4 per try, rounded up to 500; cut back
  once if the target is met at more than twice the ESS). JAGS's Gibbs draws are more
  autocorrelated than NUTS's, so (2) is the fair time ratio: the time to the same minimum ESS
  of the split quantities. ESS/s (min ESS over the splits / wall time of the whole analysis)
  gives the same comparison without re-running.

Sanity check: the omega medians of nma_bayes, of JAGS (the same-ESS run) and of the published
JAGS reference of the bundled data set (``jags_nodesplit.csv``, multinma convention, 4 x 15000
iterations), with their difference in units of the posterior SD.

Usage::

    python benchmarks/bench_nodesplit_vs_jags.py                 # ~3-4 min on 2 cores
    python benchmarks/bench_nodesplit_vs_jags.py --quick         # no repeats, no cold process
    python benchmarks/bench_nodesplit_vs_jags.py --skip-ours --target-ess 1000   # JAGS only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import nma_bayes as nb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_fit import CHILD_HEADER, RHAT_BAR, library_state  # noqa: E402
from bench_vs_jags import (  # noqa: E402
    JAGS_TAG,
    MAX_JAGS_ATTEMPTS,
    _run_timed,
    draws_diagnostics,
    markdown_table,
)

JAGS_SCRIPT = HERE / "jags_nodesplit.R"
DATA_DIR = Path(__file__).resolve().parents[1] / "nma_bayes" / "datasets" / "data" / "smoking"
#: multinma's treatment order (the inconsistency factor goes on the later treatment's arm)
ORDER = ["No intervention", "Group counselling", "Individual counselling", "Self-help"]
REFERENCE = ORDER[0]
PRIOR_SD = 100.0  # d (and mu, omega) ~ N(0, 100^2)
TAU_UPPER = 5.0  # tau ~ U(0, 5)
MAX_GROWTH = 4.0  # JAGS iterations grow at most 4x per try ...
SHRINK_ABOVE = 2.0  # ... and are cut back once if the target is met with min ESS > 2x it
JSON_TAG = "BENCH_NODESPLIT_JSON:"
QUANTITIES = ("direct", "indirect", "omega")


# ----------------------------------------------------------------------------------- data
def load_arms(data_dir: Path) -> pd.DataFrame:
    """The smoking arms as nma_bayes reads them: ``study, treatment, events, n``."""
    raw = pd.read_csv(data_dir / "arms.csv")
    events = "events" if "events" in raw else "r"
    arms = pd.DataFrame(
        {
            "study": raw["study"].astype(str),
            "treatment": raw["treatment"],
            "events": raw[events].astype(int),
            "n": raw["n"].astype(int),
        }
    )
    unknown = set(arms["treatment"]) - set(ORDER)
    if unknown:
        raise ValueError(f"treatments not in the multinma order: {sorted(unknown)}")
    return arms


def jags_table(arms: pd.DataFrame) -> pd.DataFrame:
    """``jags_nodesplit.R``'s table: studies numbered in file order, arms in ``ORDER``."""
    tab = arms.assign(
        study_i=pd.factorize(arms["study"])[0] + 1,
        t=arms["treatment"].map({t: i + 1 for i, t in enumerate(ORDER)}),
    ).sort_values(["study_i", "t"], kind="stable")
    tab["arm"] = tab.groupby("study_i").cumcount() + 1
    tab["na"] = tab.groupby("study_i")["t"].transform("size")
    return pd.DataFrame(
        {
            "study": tab["study_i"],
            "arm": tab["arm"],
            "t": tab["t"],
            "r": tab["events"],
            "n": tab["n"],
            "na": tab["na"],
        }
    )


def split_key(comparator: str, treatment: str) -> str:
    """``"x:y"``: the JAGS fit of the split of ``treatment`` vs ``comparator`` (x < y)."""
    x, y = ORDER.index(comparator) + 1, ORDER.index(treatment) + 1
    if x >= y:
        raise ValueError(f"{treatment} vs {comparator}: comparator must come first in ORDER")
    return f"{x}:{y}"


# ------------------------------------------------------------------------------ nma_bayes
def nodesplit_kwargs(args) -> dict:
    kw = dict(
        likelihood="binomial",
        treatments=list(ORDER),
        reference=REFERENCE,
        prior_d=nb.Normal(0, PRIOR_SD),
        prior_tau=nb.Uniform(0, TAU_UPPER),
        random_seed=args.seed,
    )
    for name in ("draws", "tune", "chains"):  # only if asked: else nma_bayes's defaults
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    return kw


def run_nodesplit(arms: pd.DataFrame, args) -> tuple[float, pd.DataFrame, int]:
    """One ``nb.nodesplit`` call in this process: (seconds, table, convergence warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nb.NMAConvergenceWarning)
        t0 = time.perf_counter()
        table = nb.nodesplit(arms, **nodesplit_kwargs(args))
        seconds = time.perf_counter() - t0
    n_warn = sum(isinstance(w.message, nb.NMAConvergenceWarning) for w in caught)
    return seconds, table, n_warn


CHILD = (
    CHILD_HEADER
    + r"""
cfg = json.loads(sys.argv[1])
import nma_bayes as nb
import pandas as pd
_t1 = time.perf_counter()
arms = pd.read_csv(cfg["csv"])
kw = dict(cfg["kwargs"])
kw["prior_d"] = nb.Normal(0, cfg["prior_sd"])
kw["prior_tau"] = nb.Uniform(0, cfg["tau_upper"])
_t2 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
    table = nb.nodesplit(arms, **kw)
_t3 = time.perf_counter()
out = {
    "import_s": _t1 - _t0, "load_s": _t2 - _t1, "nodesplit_s": _t3 - _t2,
    "in_process_s": _t3 - _t0, "min_ess_bulk": float(table["ess_bulk"].min()),
    "difference": [float(x) for x in table["difference"]], "peak_rss_mb": peak_rss_mb(),
}
print(__TAG__ + json.dumps(out), flush=True)
""".replace("__TAG__", repr(JSON_TAG))
)


def run_cold(csv: Path, args) -> dict:
    """One fresh ``python`` process: import, read, node-split, exit; its wall time."""
    kw = {k: v for k, v in nodesplit_kwargs(args).items() if not k.startswith("prior_")}
    cfg = {"csv": str(csv), "kwargs": kw, "prior_sd": PRIOR_SD, "tau_upper": TAU_UPPER}
    wall, proc = _run_timed([sys.executable, "-c", CHILD, json.dumps(cfg)], timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(JSON_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold run failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len(JSON_TAG) :])
    out["wall_s"] = wall
    return out


# ----------------------------------------------------------------------------------- JAGS
def run_jags(data_csv: Path, pairs: list[str], *, n_iter: int, args, tmpdir: Path) -> dict:
    """One whole ``Rscript jags_nodesplit.R`` run: timings, and ESS / medians per split."""
    draws_csv, summary_csv = tmpdir / "ns_draws.csv", tmpdir / "ns_summary.csv"
    cmd = [
        args.rscript,
        str(JAGS_SCRIPT),
        str(data_csv),
        str(draws_csv),
        str(summary_csv),
        ",".join(pairs),
        str(args.jags_adapt),
        str(args.jags_burnin),
        str(n_iter),
        str(args.chains or 4),
        str(args.seed),
        "0" if args.jags_no_glm else "1",
    ]
    wall, proc = _run_timed(cmd, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(JAGS_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"JAGS run failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len(JAGS_TAG) :])
    out.update(wall_s=wall, n_iter=n_iter)
    draws = pd.read_csv(draws_csv)
    summ = pd.read_csv(summary_csv).set_index(["fit", "quantity"])
    rows = {}
    for key in pairs:
        diag = draws_diagnostics(draws[draws["fit"] == key], {q: q for q in QUANTITIES})
        row = {}
        for q in QUANTITIES:
            row[f"ess_{q}"] = float(diag.loc[q, "ess_bulk"])
            row[f"coda_{q}"] = float(summ.loc[(key, q), "ess_coda"])
            row[f"median_{q}"] = float(diag.loc[q, "median"])
        row["sd_omega"] = float(summ.loc[(key, "omega"), "sd"])
        row["mcse_median_omega"] = float(diag.loc["omega", "mcse_median"])
        row["min_ess"] = min(row[f"ess_{q}"] for q in QUANTITIES)
        row["min_coda"] = min(row[f"coda_{q}"] for q in QUANTITIES)
        row["max_r_hat"] = float(diag["r_hat"].max())
        rows[key] = row
    out["splits"] = rows
    out["min_ess_bulk"] = min(r["min_ess"] for r in rows.values())
    out["min_ess_coda"] = min(r["min_coda"] for r in rows.values())
    out["max_r_hat"] = max(r["max_r_hat"] for r in rows.values())
    out["min_ess_where"] = min(
        ((r[f"ess_{q}"], f"{k} {q}") for k, r in rows.items() for q in QUANTITIES)
    )[1]
    return out


def jags_timed(data_csv, pairs, n_iter, args, tmpdir, first: dict | None = None) -> dict:
    """``--jags-repeats`` runs at ``n_iter`` (``first`` counts as one): the median wall time."""
    runs = [first or run_jags(data_csv, pairs, n_iter=n_iter, args=args, tmpdir=tmpdir)]
    runs += [
        run_jags(data_csv, pairs, n_iter=n_iter, args=args, tmpdir=tmpdir)
        for _ in range(args.jags_repeats - 1)
    ]
    final = dict(runs[0])
    final["wall_s"] = float(np.median([r["wall_s"] for r in runs]))
    final["fits_s"] = float(np.median([r["fits_s"] for r in runs]))
    final["walls"] = [r["wall_s"] for r in runs]
    final["peak_rss_mb"] = max(r["peak_rss_mb"] or np.nan for r in runs)
    return final


def jags_to_target(data_csv, pairs, target, args, tmpdir, start: dict) -> tuple[dict, str]:
    """Grow JAGS's iterations from ``start`` until min bulk ESS >= target and R-hat <= bar."""

    def meets(run: dict) -> bool:
        return run["min_ess_bulk"] >= target and run["max_r_hat"] <= RHAT_BAR

    def scaled(n_iter: int, ess: float) -> int:
        return int(np.ceil(n_iter * 1.2 * target / max(ess, 1.0) / 500.0) * 500)

    attempts = [start]
    n_iter = start["n_iter"]
    while not meets(attempts[-1]) and len(attempts) < MAX_JAGS_ATTEMPTS:
        new = scaled(n_iter, attempts[-1]["min_ess_bulk"])
        n_iter = int(min(max(new, 1.25 * n_iter), MAX_GROWTH * n_iter))
        attempts.append(run_jags(data_csv, pairs, n_iter=n_iter, args=args, tmpdir=tmpdir))
    final = attempts[-1]
    if meets(final) and final["min_ess_bulk"] > SHRINK_ABOVE * target and len(attempts) > 1:
        smaller = scaled(final["n_iter"], final["min_ess_bulk"])
        if smaller < final["n_iter"]:
            attempts.append(run_jags(data_csv, pairs, n_iter=smaller, args=args, tmpdir=tmpdir))
            if meets(attempts[-1]):
                final = attempts[-1]
    tried = ", ".join(f"{a['n_iter']} (min ESS {a['min_ess_bulk']:.0f})" for a in attempts)
    final = jags_timed(data_csv, pairs, final["n_iter"], args, tmpdir, first=final)
    final["met"] = meets(final)
    return final, tried


# --------------------------------------------------------------------------- reference
def published_omega(data_dir: Path) -> dict[str, tuple[float, float]]:
    """``"x:y" -> (median, sd)`` of omega (y vs x) in the bundled JAGS reference (multinma)."""
    path = data_dir / "jags_nodesplit.csv"
    if not path.exists():
        return {}
    ref = pd.read_csv(path)
    ref = ref[(ref["convention"] == "multinma") & (ref["quantity"] == "omega")]
    out = {}
    for r in ref.itertuples():
        a, b = ORDER.index(r.trt_a), ORDER.index(r.trt_b)
        sign = 1.0 if a < b else -1.0  # published: trt_b vs trt_a (TSD4 codes)
        x, y = sorted((a, b))
        out[f"{x + 1}:{y + 1}"] = (sign * float(r.median), float(r.sd))
    return out


# ----------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no repeats, no cold process")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="smoking data folder")
    parser.add_argument("--draws", type=int, default=None, help="NUTS draws/chain (default 1000)")
    parser.add_argument("--tune", type=int, default=None, help="NUTS tune/chain (default 1000)")
    parser.add_argument("--chains", type=int, default=None, help="chains, both (default 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed warm calls (2)")
    parser.add_argument("--cold-repeats", type=int, default=None, help="fresh processes (1)")
    parser.add_argument("--jags-repeats", type=int, default=None, help="timed Rscript runs (3)")
    parser.add_argument("--jags-adapt", type=int, default=None, help="default: the NUTS tune")
    parser.add_argument("--jags-burnin", type=int, default=0, help="JAGS burn-in iterations")
    parser.add_argument("--jags-no-glm", action="store_true", help="don't load JAGS's glm module")
    parser.add_argument(
        "--target-ess", type=float, default=None, help="JAGS's ESS target (default: ours)"
    )
    parser.add_argument("--skip-ours", action="store_true", help="JAGS only (needs --target-ess)")
    parser.add_argument("--rscript", default=shutil.which("Rscript") or "Rscript")
    parser.add_argument("--out", type=Path, default=None, help="CSV file (per split)")
    args = parser.parse_args(argv)
    if args.skip_ours and args.target_ess is None:
        parser.error("--skip-ours needs --target-ess")
    args.repeats = args.repeats or (1 if args.quick else 2)
    args.cold_repeats = 0 if args.quick else (args.cold_repeats or 1)
    args.jags_repeats = args.jags_repeats or (1 if args.quick else 3)
    draws = args.draws or 1000
    args.jags_adapt = args.jags_adapt if args.jags_adapt is not None else (args.tune or 1000)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or HERE / "results" / f"bench_nodesplit_vs_jags_{stamp}.csv"

    state = library_state()
    load_start = os.getloadavg()[0]
    print(
        f"nma_bayes {state['nma_bayes']} (git {state['git_commit'] or '?'}, uncommitted changes: "
        f"{state['git_dirty'] or '?'}, sources {state['source_sha256']}), nutpie "
        f"{state['nutpie']}, PyMC {state['pymc']}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_start:.2f}",
        flush=True,
    )
    t_start = time.perf_counter()
    arms = load_arms(args.data_dir)
    published = published_omega(args.data_dir)
    notes = []

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data_csv = tmpdir / "smoking_jags.csv"
        jags_table(arms).to_csv(data_csv, index=False)
        arms_csv = tmpdir / "smoking_arms.csv"
        arms.to_csv(arms_csv, index=False)

        # the splits: nma_bayes's splittable comparisons (all 6 pairs of smoking)
        net = nb.Network.from_data(
            arms=arms, likelihood="binomial", treatments=ORDER, reference=REFERENCE
        )
        pairs = [split_key(a, b) for a, b in nb.splittable_comparisons(net)]

        # ---------------------------------------------------------------- nma_bayes
        ours = None
        if not args.skip_ours:
            print("nma_bayes: first nb.nodesplit call (compiles) ...", flush=True)
            first_s, table, first_warn = run_nodesplit(arms, args)
            warm = [run_nodesplit(arms, args) for _ in range(args.repeats)]
            warm_s = float(np.median([w[0] for w in warm]))
            same = all(np.array_equal(w[1]["difference"], table["difference"]) for w in warm)
            if not same:
                notes.append("nma_bayes: the warm calls' tables differ from the first's")
            table = warm[-1][1]
            keys = [
                split_key(a, b)
                for a, b in zip(table["comparator"], table["treatment"], strict=True)
            ]
            if keys != pairs:
                raise RuntimeError(f"nb.nodesplit split {keys}, expected {pairs}")
            ours = {
                "first_s": first_s,
                "warm_s": warm_s,
                "warm_walls": [w[0] for w in warm],
                "convergence_warnings": warm[-1][2],
                "min_ess": float(table["ess_bulk"].min()),
                "max_r_hat": float(table["r_hat"].max()),
                "table": table.assign(split=keys).set_index("split"),
            }
            print(
                f"  first {first_s:.1f} s, warm {', '.join(f'{w[0]:.1f}' for w in warm)} s; "
                f"min ESS {ours['min_ess']:.0f}, max R-hat {ours['max_r_hat']:.4f}, "
                f"{ours['convergence_warnings']} convergence warnings per call",
                flush=True,
            )
            colds = [run_cold(arms_csv, args) for _ in range(args.cold_repeats)]
            if colds:
                ours["cold_s"] = float(np.median([c["wall_s"] for c in colds]))
                ours["cold_import_s"] = float(np.median([c["import_s"] for c in colds]))
                ours["cold_nodesplit_s"] = float(np.median([c["nodesplit_s"] for c in colds]))
                ours["cold_rss_mb"] = max(c["peak_rss_mb"] for c in colds)
                if any(c["difference"] != list(table["difference"]) for c in colds):
                    notes.append("nma_bayes: a cold process's table differs from the warm one")
                print(
                    f"  cold {ours['cold_s']:.1f} s (import {ours['cold_import_s']:.1f} s, "
                    f"nodesplit {ours['cold_nodesplit_s']:.1f} s)",
                    flush=True,
                )
        target = args.target_ess if args.target_ess is not None else ours["min_ess"]

        # --------------------------------------------------------------------- JAGS
        print(f"JAGS, same iterations (4 x {args.jags_adapt} adapt + {draws}) ...", flush=True)
        same_iter = jags_timed(data_csv, pairs, draws, args, tmpdir)
        print(
            f"  {same_iter['wall_s']:.2f} s, min ESS {same_iter['min_ess_bulk']:.0f} "
            f"({same_iter['min_ess_where']})",
            flush=True,
        )
        print(f"JAGS, to min ESS >= {target:.0f} ...", flush=True)
        start = {k: v for k, v in same_iter.items() if k != "walls"}
        start["wall_s"] = same_iter["walls"][0]
        sized, tried = jags_to_target(data_csv, pairs, target, args, tmpdir, start)
        print(f"  tried {tried}; {sized['wall_s']:.2f} s at {sized['n_iter']}", flush=True)
        if not sized["met"]:
            notes.append(f"JAGS missed min ESS {target:.0f} at {sized['n_iter']} iterations")

    # --------------------------------------------------------------------------- tables
    def rate(ess, s):
        return ess / s if s and np.isfinite(s) else np.nan

    summary = []
    jags_s, sized_s = same_iter["wall_s"], sized["wall_s"]
    if ours is not None:
        timed = (("nma_bayes warm", ours["warm_s"]), ("nma_bayes cold", ours.get("cold_s")))
        for label, s in timed:
            if s is None:
                continue
            summary.append(
                {
                    "run": label,
                    "iter": draws,
                    "wall_s": s,
                    "min_ess": ours["min_ess"],
                    "max_r_hat": ours["max_r_hat"],
                    "ess_per_s": rate(ours["min_ess"], s),
                    "over_same_iter": s / jags_s,
                    "over_same_ess": s / sized_s,
                }
            )
    for label, run in (("JAGS, same iterations", same_iter), ("JAGS, same min ESS", sized)):
        summary.append(
            {
                "run": label,
                "iter": run["n_iter"],
                "wall_s": run["wall_s"],
                "fits_s": run["fits_s"],
                "min_ess": run["min_ess_bulk"],
                "min_coda": run["min_ess_coda"],
                "max_r_hat": run["max_r_hat"],
                "ess_per_s": rate(run["min_ess_bulk"], run["wall_s"]),
            }
        )
    summary = pd.DataFrame(summary)
    if ours is not None:
        summary["ess_per_s_ours_over"] = (
            rate(ours["min_ess"], ours["warm_s"]) / summary["ess_per_s"]
        )
    print()
    print(
        markdown_table(
            summary,
            [
                ("run (7 fits x 4 chains)", "run", "s"),
                ("draws or iter / chain", "iter", "d"),
                ("wall s", "wall_s", ".2f"),
                ("JAGS fits s (in R)", "fits_s", ".2f"),
                ("min ESS (bulk)", "min_ess", ".0f"),
                ("min ESS (coda)", "min_coda", ".0f"),
                ("max R-hat", "max_r_hat", ".4f"),
                ("min ESS/s", "ess_per_s", ".0f"),
                ("time / JAGS same iter", "over_same_iter", ".2f"),
                ("time / JAGS same ESS", "over_same_ess", ".2f"),
                ("ESS/s warm / this", "ess_per_s_ours_over", ".2f"),
            ],
        )
    )
    if ours is not None:
        print(
            f"\nnma_bayes first call in this process (compiling): {ours['first_s']:.1f} s; "
            f"warm calls {', '.join(f'{w:.1f}' for w in ours['warm_walls'])} s; JAGS whole "
            f"processes, same iterations {', '.join(f'{w:.2f}' for w in same_iter['walls'])} s, "
            f"same ESS {', '.join(f'{w:.2f}' for w in sized['walls'])} s. JAGS iterations "
            f"tried for the ESS target {target:.0f}: {tried}."
        )

    split_rows = []
    for key in pairs:
        x, y = (int(v) for v in key.split(":"))
        js, jz = same_iter["splits"][key], sized["splits"][key]
        row = {"split": f"{ORDER[y - 1]} vs {ORDER[x - 1]}", "key": key}
        for q in QUANTITIES:
            row[f"jags_ess_{q}"] = js[f"ess_{q}"]
        row.update(
            jags_min_ess=js["min_ess"],
            jags_min_coda=js["min_coda"],
            jags_ess_per_s=rate(js["min_ess"], jags_s),
            jags_sized_min_ess=jz["min_ess"],
            jags_omega=jz["median_omega"],
            jags_omega_sd=jz["sd_omega"],
        )
        if ours is not None:
            t = ours["table"].loc[key]
            row.update(
                ours_min_ess=float(t["ess_bulk"]),
                ours_r_hat=float(t["r_hat"]),
                ours_ess_per_s=rate(float(t["ess_bulk"]), ours["warm_s"]),
                ours_omega=float(t["difference"]),
            )
            row["ess_per_s_ratio"] = row["ours_ess_per_s"] / row["jags_ess_per_s"]
            row["ours_minus_jags_sd"] = (row["ours_omega"] - row["jags_omega"]) / jz["sd_omega"]
        if key in published:
            row["published_omega"] = published[key][0]
            if ours is not None:
                row["ours_minus_pub_sd"] = (row["ours_omega"] - published[key][0]) / published[key][
                    1
                ]
            row["jags_minus_pub_sd"] = (row["jags_omega"] - published[key][0]) / published[key][1]
        split_rows.append(row)
    splits = pd.DataFrame(split_rows)
    print()
    print(
        f"Per split (ESS at the same iterations, 4 x {draws}; ESS/s = min ESS of the split / "
        "wall time of the whole analysis, warm for nma_bayes):"
    )
    print()
    print(
        markdown_table(
            splits,
            [
                ("split", "split", "s"),
                ("ours min ESS (dir/ind/omega)", "ours_min_ess", ".0f"),
                ("JAGS ESS direct", "jags_ess_direct", ".0f"),
                ("JAGS ESS indirect", "jags_ess_indirect", ".0f"),
                ("JAGS ESS omega", "jags_ess_omega", ".0f"),
                ("JAGS min (coda)", "jags_min_coda", ".0f"),
                ("ours ESS/s", "ours_ess_per_s", ".0f"),
                ("JAGS ESS/s", "jags_ess_per_s", ".0f"),
                ("ESS/s ours / JAGS", "ess_per_s_ratio", ".2f"),
            ],
        )
    )
    print()
    print(
        f"omega (inconsistency factor, direct - indirect, treatment vs comparator): medians of "
        f"nma_bayes (4 x {draws}), JAGS (4 x {sized['n_iter']}) and the published JAGS "
        "reference (jags_nodesplit.csv, multinma convention, 4 x 15000); differences in "
        "posterior SDs:"
    )
    print()
    print(
        markdown_table(
            splits,
            [
                ("split", "split", "s"),
                ("ours", "ours_omega", ".3f"),
                ("JAGS", "jags_omega", ".3f"),
                ("published", "published_omega", ".3f"),
                ("posterior SD", "jags_omega_sd", ".3f"),
                ("(ours - JAGS) / SD", "ours_minus_jags_sd", "+.3f"),
                ("(ours - pub.) / SD", "ours_minus_pub_sd", "+.3f"),
                ("(JAGS - pub.) / SD", "jags_minus_pub_sd", "+.3f"),
            ],
        )
    )
    if ours is not None:
        worst = splits["ours_minus_pub_sd"].abs().max()
        if np.isfinite(worst) and worst > 0.15:
            notes.append(f"nma_bayes's omega medians differ from the published by {worst:.2f} SD")
        if ours["convergence_warnings"]:
            notes.append(
                f"nma_bayes: {ours['convergence_warnings']} NMAConvergenceWarning(s) per call "
                "(tau; not a split quantity)"
            )
    if library_state()["source_sha256"] != state["source_sha256"]:
        notes.append("the nma_bayes sources changed during the run")
    print()
    for note in notes:
        print("NOTE:", note)
    cold_rss = ours.get("cold_rss_mb") if ours else None
    print(
        f"JAGS {same_iter['jags']}, rjags {same_iter['rjags']}, coda {same_iter['coda']}, "
        f"R {same_iter['R']}, glm module {same_iter['glm']}; JAGS adapt {args.jags_adapt}, "
        f"burn-in {args.jags_burnin}; peak RSS JAGS {sized['peak_rss_mb']:.0f} MB"
        + (f", nma_bayes cold {cold_rss:.0f} MB" if cold_rss is not None else "")
        + f"; load average {load_start:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    splits.insert(0, "date", datetime.now().isoformat(timespec="seconds"))
    for col in ("wall_s", "min_ess"):
        for rec in summary.to_dict("records"):
            splits[f"{rec['run']} {col}"] = rec[col]
    for key, value in state.items():
        splits[key] = value
    out.parent.mkdir(parents=True, exist_ok=True)
    splits.to_csv(out, index=False)
    print(f"results written to {out}")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
