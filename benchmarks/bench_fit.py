"""Benchmark ``nma_bayes.fit_network``: cold (fresh process) and warm (compiled model reused) fits.

For each network the script measures

* **warm**: in this process, one fit (seed ``--seed``) compiles the model (``first_fit_s``), then
  ``--repeats`` fits with seeds ``--seed + 1, ...`` reuse the compiled model; ``warm s`` is their
  median time;
* **cold**: ``--cold-repeats`` fresh ``python -c`` processes, each importing ``nma_bayes``,
  loading the data, fitting once (seed ``--seed``) and printing its timings, diagnostics and peak
  RSS as JSON. ``cold s`` is the median wall time of the whole process (interpreter start-up
  included). They run after the in-process fits, so they find the compiled model in the disk
  cache (``nma_bayes.engines.compiled_cache``): a new process after one that filled the cache;
* **empty cache**: one more fresh process whose caches are empty and private (a new
  ``NMA_BAYES_CACHE_DIR`` and PyTensor ``base_compiledir``): the first-ever process of a new
  installation (``empty s``).

Sampler settings start at ``--draws``/``--tune`` per chain and ``--chains`` chains. Every
in-process fit must reach the bar (min bulk ESS >= 1000 over ``d`` and ``tau``, max R-hat <=
1.01); nutpie is deterministic given the seed, so the seed-``--seed`` fit's draws are the cold
runs' (checked). If any misses, the draws grow as JAGS's iterations do in ``bench_vs_jags.py``
(x 1.2 x 1000 / min ESS, at least x 1.25, rounded up to 100), all in-process fits are redone
(now warm), up to 4 runs, and the growth is reported. The table's ESS and R-hat are the worst
over the in-process fits at the final settings, divergences their total; the CSV has the cold
runs' too.

Reference timings of JAGS (via R ``rjags``) and ``gemtc`` for comparable networks are printed for
orientation; they come from a note, not from this machine.

Usage::

    python benchmarks/bench_fit.py            # full run (5 networks)
    python benchmarks/bench_fit.py --quick    # smoke run (2 small networks, no repeats)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import nma_bayes as nb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from simulate import simulate_network  # noqa: E402

ESS_BAR = 1000.0
#: Runs of the whole in-process series at growing draws before giving up on the bar.
MAX_TRIES = 4
RHAT_BAR = 1.01
PRIOR_D = nb.Normal(0, 100)
PRIOR_TAU = nb.Uniform(0, 5)
JSON_TAG = "BENCH_JSON:"


@dataclass(frozen=True)
class Case:
    """One benchmarked network."""

    name: str
    dataset: str | None = None  # bundled data set, or None for a simulated network
    n_studies: int = 0
    n_treatments: int = 0
    sim_seed: int = 0
    jags_s: float | None = None  # reference whole-fit times (from the note, not measured here)
    gemtc_s: float | None = None

    def load(self) -> tuple[pd.DataFrame, str]:
        if self.dataset is not None:
            return nb.datasets.load_dataset(self.dataset), nb.datasets.DATASETS[
                self.dataset
            ].reference
        df = simulate_network(self.n_studies, self.n_treatments, seed=self.sim_seed)
        return df, "T01"


CASES = [
    Case("parkinsons", dataset="parkinsons", jags_s=0.5, gemtc_s=1.0),
    Case("therapy_formats", dataset="therapy_formats"),
    Case("social_anxiety", dataset="social_anxiety"),
    Case("sim_60x10", n_studies=60, n_treatments=10, sim_seed=60, jags_s=3.0, gemtc_s=8.0),
    Case("sim_500x30", n_studies=500, n_treatments=30, sim_seed=500, jags_s=31.0, gemtc_s=88.0),
]
QUICK = ("parkinsons", "sim_60x10")

# Runs in a fresh interpreter: argv[1] is a JSON config. Prints one tagged JSON line.
#: Opening of every fresh-process script: the start time and the process's own peak memory.
CHILD_HEADER = r"""
import time
_t0 = time.perf_counter()
import json, resource, sys, warnings

def peak_rss_mb():
    # VmHWM: this process's own peak. getrusage's ru_maxrss would also count the parent's
    # memory at fork (it survives exec): the benchmark process's, hundreds of MB.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
"""

CHILD = (
    CHILD_HEADER
    + r"""
cfg = json.loads(sys.argv[1])
import nma_bayes as nb
_t1 = time.perf_counter()
if cfg["dataset"] is not None:
    df = nb.datasets.load_dataset(cfg["dataset"])
else:
    import pandas as pd
    df = pd.read_csv(cfg["csv"])
_t2 = time.perf_counter()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", nb.NMAConvergenceWarning)
    fit = nb.fit_network(
        df, reference=cfg["reference"], random_seed=cfg["seed"], draws=cfg["draws"],
        tune=cfg["tune"], chains=cfg["chains"], prior_d=nb.Normal(0, 100),
        prior_tau=nb.Uniform(0, 5),
    )
_t3 = time.perf_counter()
diag = fit.diagnostics()
out = {
    "import_s": _t1 - _t0, "load_s": _t2 - _t1, "fit_s": _t3 - _t2, "in_process_s": _t3 - _t0,
    "min_ess_bulk": float(diag["ess_bulk"].min()), "max_r_hat": float(diag["r_hat"].max()),
    "divergences": int(diag.attrs["divergences"]),
    "convergence_warnings": sum(isinstance(w.message, nb.NMAConvergenceWarning) for w in caught),
    "peak_rss_mb": peak_rss_mb(),
}
print(__TAG__ + json.dumps(out), flush=True)
""".replace("__TAG__", repr(JSON_TAG))
)


def _fit(df, reference, *, seed, draws, tune, chains):
    """Fit in this process; return (seconds, diagnostics summary)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nb.NMAConvergenceWarning)
        t0 = time.perf_counter()
        fit = nb.fit_network(
            df,
            reference=reference,
            random_seed=seed,
            draws=draws,
            tune=tune,
            chains=chains,
            prior_d=PRIOR_D,
            prior_tau=PRIOR_TAU,
        )
        seconds = time.perf_counter() - t0
    diag = fit.diagnostics()
    worst = diag.loc[diag["ess_bulk"].idxmin(), "parameter"]
    return seconds, {
        "min_ess_bulk": float(diag["ess_bulk"].min()),
        "min_ess_param": str(worst),
        "max_r_hat": float(diag["r_hat"].max()),
        "divergences": int(diag.attrs["divergences"]),
        "convergence_warnings": sum(
            isinstance(w.message, nb.NMAConvergenceWarning) for w in caught
        ),
        "n_treatments": fit.network.n_treatments,
    }


def _meets_bar(d: dict) -> bool:
    return d["min_ess_bulk"] >= ESS_BAR and d["max_r_hat"] <= RHAT_BAR


def _cold(
    case: Case, df, reference, *, seed, draws, tune, chains, tmpdir: Path, empty: bool = False
) -> dict:
    cfg = {
        "dataset": case.dataset,
        "csv": None,
        "reference": reference,
        "seed": seed,
        "draws": draws,
        "tune": tune,
        "chains": chains,
    }
    if case.dataset is None:
        path = tmpdir / f"{case.name}.csv"
        df.to_csv(path, index=False)
        cfg["csv"] = str(path)
    env = dict(os.environ)
    if empty:  # the first process of a new installation: no compiled model, no PyTensor kernels
        fresh = Path(tempfile.mkdtemp(dir=tmpdir, prefix="empty-cache-"))
        env["NMA_BAYES_CACHE_DIR"] = str(fresh / "nma_bayes")
        env["PYTENSOR_FLAGS"] = f"base_compiledir={fresh / 'pytensor'}"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(JSON_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"cold run of {case.name} failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    out = json.loads(lines[-1][len(JSON_TAG) :])
    out["wall_s"] = wall
    return out


def run_case(case: Case, args, tmpdir: Path) -> dict:
    df, reference = case.load()
    row: dict = {
        "network": case.name,
        "studies": int(df["study"].nunique()),
        "contrasts": len(df),
    }
    draws, tune, chains = args.draws, args.tune, args.chains

    def series(draws: int):
        """Seed-``args.seed`` fit (the cold run's draws), then ``args.repeats`` warm fits."""
        kw = dict(draws=draws, tune=tune, chains=chains)
        first = _fit(df, reference, seed=args.seed, **kw)
        warm = [_fit(df, reference, seed=args.seed + 1 + i, **kw) for i in range(args.repeats)]
        return first, warm

    # the first fit compiles the model; every later fit reuses it. All fits must meet the bar,
    # otherwise the draws grow as JAGS's iterations do in bench_vs_jags (x 1.2 x 1000 / min ESS,
    # at least x 1.25, rounded up to 100) and the whole series is redone, up to MAX_TRIES runs.
    (first_s, first), warm = series(draws)
    row["treatments"] = first["n_treatments"]
    diags = [first] + [d for _, d in warm]
    row.update(
        initial_min_ess_bulk=min(d["min_ess_bulk"] for d in diags),
        initial_max_r_hat=max(d["max_r_hat"] for d in diags),
    )
    tries = [draws]
    while not all(_meets_bar(d) for d in diags) and len(tries) < MAX_TRIES:
        worst = min(diags, key=lambda d: d["min_ess_bulk"])
        factor = max(1.25, 1.2 * ESS_BAR / max(worst["min_ess_bulk"], 1.0))
        new = int(100 * math.ceil(draws * factor / 100))
        print(
            f"  {case.name}: bar missed at draws={draws} (min ESS {worst['min_ess_bulk']:.0f} "
            f"[{worst['min_ess_param']}], max R-hat "
            f"{max(d['max_r_hat'] for d in diags):.4f}); retrying with draws={new}",
            flush=True,
        )
        draws = new
        tries.append(draws)
        (_, first), warm = series(draws)
        diags = [first] + [d for _, d in warm]
    retried = len(tries) > 1
    row["tries"] = " ".join(map(str, tries))

    warm_times = np.array([t for t, _ in warm])
    worst = min(diags, key=lambda d: d["min_ess_bulk"])
    row.update(
        draws=draws,
        tune=tune,
        chains=chains,
        retried=retried,
        bar_met=all(_meets_bar(d) for d in diags),
        first_fit_s=first_s,
        warm_s=float(np.median(warm_times)),
        warm_min_s=float(warm_times.min()),
        warm_max_s=float(warm_times.max()),
        warm_repeats=len(warm),
        min_ess_bulk=worst["min_ess_bulk"],
        min_ess_param=worst["min_ess_param"],
        max_r_hat=max(d["max_r_hat"] for d in diags),
        divergences=sum(d["divergences"] for d in diags),
        convergence_warnings=sum(d["convergence_warnings"] for d in diags),
        min_ess_per_s=float(np.median([d["min_ess_bulk"] / t for t, d in warm])),
    )

    if not args.skip_cold:
        colds = [
            _cold(
                case,
                df,
                reference,
                seed=args.seed,
                draws=draws,
                tune=tune,
                chains=chains,
                tmpdir=tmpdir,
            )
            for _ in range(args.cold_repeats)
        ]
        walls = np.array([c["wall_s"] for c in colds])
        cold = colds[-1]
        row.update(
            cold_s=float(np.median(walls)),
            cold_min_s=float(walls.min()),
            cold_max_s=float(walls.max()),
            cold_repeats=len(colds),
            cold_import_s=float(np.median([c["import_s"] for c in colds])),
            cold_fit_s=float(np.median([c["fit_s"] for c in colds])),
            cold_startup_s=float(np.median([c["wall_s"] - c["in_process_s"] for c in colds])),
            cold_min_ess_bulk=cold["min_ess_bulk"],
            cold_max_r_hat=cold["max_r_hat"],
            cold_divergences=cold["divergences"],
            # nutpie is deterministic given the seed: the cold draws are the seed-1 fit's
            cold_matches_warm_seed=all(
                abs(c["min_ess_bulk"] - first["min_ess_bulk"]) < 1e-6 for c in colds
            ),
            peak_rss_mb=float(max(c["peak_rss_mb"] for c in colds)),
        )
        if args.empty_cache:
            empty = _cold(case, df, reference, seed=args.seed, draws=draws, tune=tune,
                          chains=chains, tmpdir=tmpdir, empty=True)  # fmt: skip
            row.update(empty_s=empty["wall_s"], empty_peak_rss_mb=empty["peak_rss_mb"])
    else:
        row.update(cold_s=np.nan, peak_rss_mb=np.nan)

    row.update(
        jags_s=case.jags_s if case.jags_s is not None else np.nan,
        gemtc_s=case.gemtc_s if case.gemtc_s is not None else np.nan,
    )
    row["warm_over_jags"] = row["warm_s"] / row["jags_s"]
    row["cold_over_jags"] = row["cold_s"] / row["jags_s"]
    return row


def library_state() -> dict:
    """Versions, git commit and a hash of the imported library's sources (it may be edited)."""
    import nutpie
    import pymc

    src = Path(nb.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*.py")):
        digest.update(path.relative_to(src).as_posix().encode())
        digest.update(path.read_bytes())
    state = {
        "nma_bayes": nb.__version__,
        "nutpie": nutpie.__version__,
        "pymc": pymc.__version__,
        "source_sha256": digest.hexdigest()[:12],
        "git_commit": "",
        "git_dirty": "",
    }
    try:
        git = ["git", "-C", str(src)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        )
        state["git_commit"] = commit.stdout.strip()
        state["git_dirty"] = "yes" if dirty.stdout.strip() else "no"
    except (OSError, subprocess.CalledProcessError):
        pass
    return state


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, spec)


TABLE = [
    # (header, column, format)
    ("network", "network", "s"),
    ("studies", "studies", "d"),
    ("treatments", "treatments", "d"),
    ("draws", "draws", "d"),
    ("cold s", "cold_s", ".1f"),
    ("empty-cache s", "empty_s", ".1f"),
    ("warm s", "warm_s", ".2f"),
    ("min bulk ESS", "min_ess_bulk", ".0f"),
    ("max R-hat", "max_r_hat", ".4f"),
    ("div.", "divergences", "d"),
    ("min ESS/s (warm)", "min_ess_per_s", ".0f"),
    ("peak RSS MB (cold)", "peak_rss_mb", ".0f"),
    ("JAGS s", "jags_s", ".1f"),
    ("gemtc s", "gemtc_s", ".0f"),
    ("warm/JAGS", "warm_over_jags", ".2f"),
    ("cold/JAGS", "cold_over_jags", ".1f"),
]


def markdown_table(results: pd.DataFrame) -> str:
    lines = [
        "| " + " | ".join(h for h, _, _ in TABLE) + " |",
        "|" + "|".join("---" if f == "s" else "---:" for _, _, f in TABLE) + "|",
    ]
    for rec in results.to_dict("records"):
        cells = []
        for _, col, spec in TABLE:
            value = rec.get(col)
            if spec == "d" and value is not None and np.isfinite(value):
                value = int(value)
            cells.append(_fmt(value, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument(
        "--networks", nargs="+", choices=[c.name for c in CASES], help="networks to run"
    )
    parser.add_argument("--draws", type=int, default=1000, help="kept draws per chain (start)")
    parser.add_argument("--tune", type=int, default=1000, help="warm-up draws per chain")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first fit")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed warm fits per network (default 3; 1 quick)"
    )
    parser.add_argument(
        "--cold-repeats",
        type=int,
        default=None,
        help="fresh-process fits per network (default 3; 1 with --quick)",
    )
    parser.add_argument("--skip-cold", action="store_true", help="no fresh-process runs")
    parser.add_argument(
        "--no-empty-cache",
        dest="empty_cache",
        action="store_false",
        help="skip the fresh process with empty caches (first-ever process)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV file (default: benchmarks/results/bench_fit_<timestamp>.csv)",
    )
    args = parser.parse_args(argv)

    default_repeats = 1 if args.quick else 3
    args.repeats = args.repeats or default_repeats
    args.cold_repeats = args.cold_repeats or default_repeats
    names = args.networks or ([*QUICK] if args.quick else [c.name for c in CASES])
    cases = [c for c in CASES if c.name in names]
    load_start = os.getloadavg()[0]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or HERE / "results" / f"bench_fit_{stamp}.csv"

    state = library_state()
    print(
        f"nma_bayes {state['nma_bayes']} (git {state['git_commit'] or '?'}, uncommitted changes: "
        f"{state['git_dirty'] or '?'}, sources {state['source_sha256']}), nutpie "
        f"{state['nutpie']}, pymc {state['pymc']}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}",
        flush=True,
    )
    rows = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            t0 = time.perf_counter()
            print(f"{case.name} ...", flush=True)
            rows.append(run_case(case, args, Path(tmp)))
            print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    results = pd.DataFrame(rows)
    results.insert(0, "date", datetime.now().isoformat(timespec="seconds"))
    results["cpus"] = os.cpu_count()
    results["loadavg_1min_start"] = load_start
    results["loadavg_1min_end"] = os.getloadavg()[0]
    results["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    for key, value in state.items():
        results[key] = value

    print()
    print(markdown_table(results))
    print()
    notes = []
    for rec in results.to_dict("records"):
        if rec["retried"]:
            notes.append(f"{rec['network']}: draws grown ({rec['tries']}) to reach the bar")
        if not rec["bar_met"]:
            notes.append(
                f"{rec['network']}: bar NOT met (min ESS {rec['min_ess_bulk']:.0f} "
                f"[{rec['min_ess_param']}], max R-hat {rec['max_r_hat']:.4f})"
            )
        if rec["divergences"]:
            notes.append(f"{rec['network']}: {rec['divergences']} divergences (in-process fits)")
        if rec.get("cold_matches_warm_seed") is False:
            notes.append(f"{rec['network']}: cold draws differ from the same-seed warm fit")
        if rec.get("cold_divergences"):
            notes.append(f"{rec['network']}: {rec['cold_divergences']} divergences (cold)")
    if library_state()["source_sha256"] != state["source_sha256"]:
        notes.append("the nma_bayes sources changed during the run: cold runs may differ")
    for note in notes:
        print("NOTE:", note)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    print(f"total {time.perf_counter() - t_start:.0f} s; results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
