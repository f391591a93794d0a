"""Benchmark nma_bayes against JAGS (R ``rjags``) on the same networks, as whole processes.

For each network the same contrast data go to

* **JAGS**: ``Rscript benchmarks/jags_nma.R`` (the TSD2 contrast-based random-effects model, see
  that file), 4 chains run one after the other by rjags, ``--jags-adapt`` adaptation and
  ``--jags-burnin`` burn-in iterations, then ``n_iter`` kept iterations per chain, starting at
  ``--jags-iter``. Bulk ESS and R-hat are computed here with ArviZ from the saved draws (the
  definitions ``nma_bayes`` uses). While the bar (min bulk ESS >= 1000 over ``d`` and ``tau``,
  max R-hat <= 1.01) is missed, the whole run is redone with more iterations (scaled by
  1.2 x 1000 / min ESS, at least x 1.25, rounded up to 500). ``JAGS s`` is then the median wall
  time of ``--jags-repeats`` whole ``Rscript`` processes at the final iterations (R start-up,
  loading rjags, compiling + adapting, burn-in, sampling, writing the draws);
* **nma_bayes, PyMC/nutpie path** (default engine): ``bench_fit.run_case``: cold = median wall
  time of fresh ``python`` processes that import, fit once and exit; warm = median time of later
  fits in the benchmark's own process (model already compiled); draws grown as JAGS's
  iterations (x 1.2 x 1000 / min ESS, at least x 1.25) until the bar is met (4 runs at most);
* **nma_bayes, exact engine**: ``nb.fit_network(df, engine="exact", ...)``, timed in this
  process (median of ``--repeats`` calls after a first one). Skipped, with a note, while the
  library does not accept ``engine=`` (picked up automatically once it does).

JAGS is checked first on parkinsons against TSD2 (posterior means of ``d`` vs Placebo within
Monte Carlo error, and the median of ``tau``) with a long run. The script prints a Markdown table
with ratios and the targets met, and writes a CSV to ``benchmarks/results/``.

Usage::

    python benchmarks/bench_vs_jags.py                     # full run (5 networks)
    python benchmarks/bench_vs_jags.py --quick             # parkinsons and sim_60x10, no repeats
    python benchmarks/bench_vs_jags.py --networks sim_500x30 --skip-ours
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

import nma_bayes as nb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_fit import (  # noqa: E402
    CASES,
    ESS_BAR,
    PRIOR_D,
    PRIOR_TAU,
    QUICK,
    RHAT_BAR,
    Case,
    _fmt,
    library_state,
    run_case,
)

JAGS_SCRIPT = HERE / "jags_nma.R"
JAGS_TAG = "JAGS_JSON:"
MAX_JAGS_ATTEMPTS = 6
# NICE DSU TSD2, example 5 (Parkinson's, mean off-time reduction), random effects
TSD2_PARKINSONS = {
    "Pramipexole": -1.85,
    "Ropinirole": -0.50,
    "Bromocriptine": -0.53,
    "Cabergoline": -0.83,
}
TSD2_TAU_MEDIAN = 0.28
TSD2_ROUNDING = 0.005  # TSD2 reports two decimals

# Targets: (label, column, comparison, threshold)
WARM_TARGET = 1.0 / 3.0
EXACT_TARGET = 20.0
COLD_SLACK_S = 5.0
MEMORY_TARGET_MB = 1024.0
#: Issue 13: a fresh process after one that filled the disk cache, as a multiple of JAGS.
COLD_RATIO_TARGETS = {"parkinsons": 5.0, "social_anxiety": 2.0, "sim_500x30": 1.0}
BIG = "sim_500x30"


# ----------------------------------------------------------------------------------- data
def jags_data(df: pd.DataFrame, reference: str) -> tuple[pd.DataFrame, nb.Network]:
    """The network as nma_bayes reads it, one row per contrast, in jags_nma.R's layout.

    Studies are renumbered two-arm first, then multi-arm; ``var`` and ``cov`` are nma_bayes's
    own covariance parts (``seTE^2 - se_base^2`` and ``se_base^2`` for multi-arm studies).
    """
    net = nb.Network.from_contrasts(df, reference=reference)
    if np.any(net.cov_u != 0):
        raise NotImplementedError("jags_nma.R handles base-form covariances only (cov_u = 0)")
    order = sorted(range(net.n_studies), key=lambda i: (net.n_arms[i] > 2, i))
    ref = net.treatment_index(net.reference) + 1
    rows = []
    for s, i in enumerate(order, start=1):
        for k in np.flatnonzero(net.mask[i]):
            rows.append(
                (
                    s,
                    int(k) + 2,
                    int(net.arm[i, k]) + 1,
                    int(net.base[i]) + 1,
                    float(net.y[i, k]),
                    float(net.var[i, k]),
                    float(net.cov[i]),
                    ref,
                    net.n_treatments,
                )
            )
    cols = ["study", "arm", "t", "b", "y", "var", "cov", "ref", "nt"]
    return pd.DataFrame(rows, columns=cols), net


# ----------------------------------------------------------------------------------- JAGS
def _run_timed(cmd: list[str], timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``cmd``; return (wall s, completed process)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - t0, proc


def draws_diagnostics(draws: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """ArviZ bulk ESS, R-hat, mean, MCSE of the mean and of the median per parameter.

    ``names`` maps the draws' columns (``d[3]``, ``tau``) to labels.
    """
    chains = [g.sort_values("draw") for _, g in draws.groupby("chain")]
    ds = xr.Dataset(
        {
            label: (("chain", "draw"), np.stack([c[col].to_numpy() for c in chains]))
            for col, label in names.items()
        }
    )
    stats = {
        "ess_bulk": az.ess(ds, method="bulk"),
        "r_hat": az.rhat(ds),
        "mcse_mean": az.mcse(ds, method="mean"),
        "mcse_median": az.mcse(ds, method="median"),
    }
    rows = []
    for label in names.values():
        values = ds[label].values
        rows.append(
            {
                "parameter": label,
                "mean": float(values.mean()),
                "median": float(np.median(values)),
                **{k: float(v[label]) for k, v in stats.items()},
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def run_jags(data_csv: Path, net: nb.Network, *, n_iter: int, args, tmpdir: Path) -> dict:
    """One whole ``Rscript`` run; timings, peak RSS and ArviZ diagnostics of its draws."""
    draws_csv = tmpdir / "jags_draws.csv"
    cmd = [
        args.rscript,
        str(JAGS_SCRIPT),
        str(data_csv),
        str(draws_csv),
        str(args.jags_adapt),
        str(args.jags_burnin),
        str(n_iter),
        str(args.chains),
        str(args.seed),
        "0" if args.jags_no_glm else "1",
    ]
    wall, proc = _run_timed(cmd, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(JAGS_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"JAGS run failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len(JAGS_TAG) :])
    out["wall_s"] = wall
    if out["peak_rss_mb"] is None:
        out["peak_rss_mb"] = np.nan
    out["sampling_s"] = out["compile_adapt_s"] + out["burnin_s"] + out["sample_s"]
    draws = pd.read_csv(draws_csv)
    ref = net.treatment_index(net.reference)
    names = {f"d[{t + 1}]": f"d[{name}]" for t, name in enumerate(net.treatments) if t != ref}
    names["tau"] = "tau"
    diag = draws_diagnostics(draws, names)
    out.update(
        n_iter=n_iter,
        min_ess_bulk=float(diag["ess_bulk"].min()),
        min_ess_param=str(diag["ess_bulk"].idxmin()),
        max_r_hat=float(diag["r_hat"].max()),
        diag=diag,
    )
    return out


def _meets(d: dict) -> bool:
    return d["min_ess_bulk"] >= ESS_BAR and d["max_r_hat"] <= RHAT_BAR


def jags_case(data_csv: Path, net: nb.Network, args, tmpdir: Path) -> dict:
    """Increase the iterations until the bar is met, then time ``--jags-repeats`` runs."""
    n_iter = args.jags_iter
    attempts = []
    for _ in range(MAX_JAGS_ATTEMPTS):
        run = run_jags(data_csv, net, n_iter=n_iter, args=args, tmpdir=tmpdir)
        attempts.append(run)
        if _meets(run):
            break
        factor = max(1.25, 1.2 * ESS_BAR / max(run["min_ess_bulk"], 1.0))
        n_iter = int(np.ceil(n_iter * factor / 500.0) * 500)
    final = attempts[-1]
    runs = [final] + [
        run_jags(data_csv, net, n_iter=final["n_iter"], args=args, tmpdir=tmpdir)
        for _ in range(args.jags_repeats - 1)
    ]
    tried = " ".join(str(a["n_iter"]) for a in attempts)
    return jags_summary(final, runs, attempts=len(attempts), tried=tried)


def jags_summary(final: dict, runs: list[dict], *, attempts: int, tried: str) -> dict:
    """The JAGS columns of a result row: the final settings' runs (medians) and diagnostics."""
    walls = np.array([r["wall_s"] for r in runs])
    med = float(np.median(walls))
    return {
        "jags_iter": final["n_iter"],
        "jags_attempts": attempts,
        "jags_iter_tried": tried,
        "jags_bar_met": _meets(final),
        "jags_s": med,
        "jags_min_s": float(walls.min()),
        "jags_max_s": float(walls.max()),
        "jags_repeats": len(runs),
        "jags_load_s": float(np.median([r["load_s"] for r in runs])),
        "jags_compile_adapt_s": float(np.median([r["compile_adapt_s"] for r in runs])),
        "jags_burnin_s": float(np.median([r["burnin_s"] for r in runs])),
        "jags_sample_s": float(np.median([r["sample_s"] for r in runs])),
        "jags_sampling_s": float(np.median([r["sampling_s"] for r in runs])),
        "jags_min_ess_bulk": final["min_ess_bulk"],
        "jags_min_ess_param": final["min_ess_param"],
        "jags_max_r_hat": final["max_r_hat"],
        "jags_min_ess_per_s": final["min_ess_bulk"] / med,
        "jags_peak_rss_mb": float(max(r["peak_rss_mb"] for r in runs)),
        "jags_version": final["jags"],
        "rjags_version": final["rjags"],
        "R_version": final["R"],
        "jags_glm": final["glm"],
    }


def check_parkinsons(args, tmpdir: Path) -> tuple[bool, list[str]]:
    """Long JAGS run on parkinsons vs TSD2: means of d vs Placebo and the median of tau."""
    df = nb.datasets.load_dataset("parkinsons")
    data, net = jags_data(df, "Placebo")
    path = tmpdir / "parkinsons_check.csv"
    data.to_csv(path, index=False)
    run = run_jags(path, net, n_iter=args.check_iter, args=args, tmpdir=tmpdir)
    diag = run["diag"]
    lines = [
        f"JAGS check on parkinsons vs TSD2 ({args.chains} x {args.check_iter} iterations, "
        f"{run['wall_s']:.1f} s; min bulk ESS {run['min_ess_bulk']:.0f}, max R-hat "
        f"{run['max_r_hat']:.4f}); pass if |JAGS - TSD2| <= 3 MCSE + {TSD2_ROUNDING} (rounding):",
        "| quantity | TSD2 | JAGS | JAGS - TSD2 | MCSE | ok |",
        "|---|---:|---:|---:|---:|---|",
    ]
    ok_all = True
    checks = [
        (f"mean d[{t}]", f"d[{t}]", "mean", "mcse_mean", v) for t, v in TSD2_PARKINSONS.items()
    ]
    checks.append(("median tau", "tau", "median", "mcse_median", TSD2_TAU_MEDIAN))
    for label, param, stat, mcse_col, ref in checks:
        got, mcse = diag.loc[param, stat], diag.loc[param, mcse_col]
        ok = abs(got - ref) <= 3 * mcse + TSD2_ROUNDING
        ok_all &= bool(ok)
        lines.append(
            f"| {label} | {ref:.2f} | {got:.3f} | {got - ref:+.3f} | {mcse:.3f} | "
            f"{'yes' if ok else 'NO'} |"
        )
    lines.append(f"JAGS model check: {'PASSED' if ok_all else 'FAILED'}")
    return ok_all, lines


# ---------------------------------------------------------------------------- exact engine
def exact_case(df: pd.DataFrame, reference: str, args) -> dict:
    """Time ``engine="exact"`` in this process, or say why it was skipped."""
    kw = dict(reference=reference, prior_d=PRIOR_D, prior_tau=PRIOR_TAU, engine="exact")

    def once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            fit = nb.fit_network(df, **kw)
            return time.perf_counter() - t0, fit

    try:
        first_s, fit = once()
    except (TypeError, nb.ModelSpecError, NotImplementedError) as exc:
        return {"exact_s": np.nan, "exact_note": f"skipped: {type(exc).__name__}: {exc}"[:300]}
    times = [once()[0] for _ in range(args.repeats)]
    out = {
        "exact_first_s": first_s,
        "exact_s": float(np.median(times)),
        "exact_note": "",
        "exact_min_ess_bulk": np.nan,
    }
    try:  # an exact engine may have i.i.d. draws with diagnostics, or no draws at all
        diag = fit.diagnostics()
        out["exact_min_ess_bulk"] = float(diag["ess_bulk"].min())
    except Exception as exc:  # noqa: BLE001 - any failure just means "no ESS"
        out["exact_note"] = f"no diagnostics ({type(exc).__name__})"
    out["exact_min_ess_per_s"] = out["exact_min_ess_bulk"] / out["exact_s"]
    return out


# ---------------------------------------------------------------------------------- table
TABLE = [
    ("network", "network", "s"),
    ("studies", "studies", "d"),
    ("treatments", "treatments", "d"),
    ("JAGS iter", "jags_iter", "d"),
    ("JAGS s", "jags_s", ".2f"),
    ("JAGS sampling s", "jags_sampling_s", ".2f"),
    ("ours draws", "draws", "d"),
    ("ours cold s", "cold_s", ".1f"),
    ("ours empty-cache s", "empty_s", ".1f"),
    ("ours warm s", "warm_s", ".2f"),
    ("exact s", "exact_s", ".3f"),
    ("warm/JAGS", "warm_over_jags", ".2f"),
    ("cold/JAGS", "cold_over_jags", ".2f"),
    ("empty/JAGS", "empty_over_jags", ".1f"),
    ("JAGS/exact", "jags_over_exact", ".0f"),
    ("ESS/s JAGS", "jags_min_ess_per_s", ".0f"),
    ("ESS/s cold", "cold_min_ess_per_s", ".0f"),
    ("ESS/s warm", "min_ess_per_s", ".0f"),
    ("ESS/s exact", "exact_min_ess_per_s", ".0f"),
    ("RSS MB JAGS", "jags_peak_rss_mb", ".0f"),
    ("RSS MB cold", "peak_rss_mb", ".0f"),
    ("RSS MB warm", "warm_peak_rss_mb", ".0f"),
]


def markdown_table(results: pd.DataFrame, table=TABLE) -> str:
    lines = [
        "| " + " | ".join(h for h, _, _ in table) + " |",
        "|" + "|".join("---" if f == "s" else "---:" for _, _, f in table) + "|",
    ]
    for rec in results.to_dict("records"):
        cells = []
        for _, col, spec in table:
            value = rec.get(col)
            if spec == "d" and value is not None and np.isfinite(value):
                value = int(value)
            cells.append(_fmt(value, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results: pd.DataFrame) -> list[str]:
    """One line per target: met / missed, with the ratios behind it."""

    def verdict(flags) -> str:
        flags = [f for f in flags if f is not None]
        if not flags:
            return "not measured"
        return "MET" if all(flags) else "MISSED"

    def ok(value, bound, *, le=True):
        if value is None or not np.isfinite(value):
            return None
        return bool(value <= bound if le else value >= bound)

    recs = results.to_dict("records")
    lines = []
    parts = [f"{r['network']} {_fmt(r.get('warm_over_jags'), '.2f')}" for r in recs]
    flags = [ok(r.get("warm_over_jags"), WARM_TARGET) for r in recs]
    lines.append(
        f"PyMC warm <= 1/3 JAGS everywhere: {verdict(flags)} (warm/JAGS: {', '.join(parts)})"
    )
    flags, parts = [], []
    for r in recs:
        cold, jags = r.get("cold_s", np.nan), r.get("jags_s", np.nan)
        if r["network"] == BIG:
            flags.append(ok(cold, jags))
            parts.append(f"{r['network']} {cold:.1f} vs <= {jags:.1f}")
        else:
            flags.append(ok(cold, jags + COLD_SLACK_S))
            parts.append(f"{r['network']} {cold:.1f} vs <= {jags + COLD_SLACK_S:.1f}")
    lines.append(
        f"PyMC first fit in a fresh process <= JAGS ({BIG}), <= JAGS + {COLD_SLACK_S:.0f} s "
        f"(others): {verdict(flags)} ({'; '.join(parts)})"
    )
    measured = [r for r in recs if r["network"] in COLD_RATIO_TARGETS]
    flags = [ok(r.get("cold_s", np.nan) / r["jags_s"], COLD_RATIO_TARGETS[r["network"]])
             for r in measured]  # fmt: skip
    parts = [f"{r['network']} {r.get('cold_s', np.nan) / r['jags_s']:.2f} <= "
             f"{COLD_RATIO_TARGETS[r['network']]:g}" for r in measured]  # fmt: skip
    lines.append(
        f"fresh process with a warm disk cache, as a multiple of JAGS: {verdict(flags)} "
        f"({'; '.join(parts)})"
    )
    parts = [f"{r['network']} {_fmt(r.get('jags_over_exact'), '.0f')}x" for r in recs]
    flags = [ok(r.get("jags_over_exact"), EXACT_TARGET, le=False) for r in recs]
    lines.append(
        f"exact >= {EXACT_TARGET:.0f}x faster than JAGS everywhere: {verdict(flags)} "
        f"(JAGS/exact: {', '.join(parts)})"
    )
    big = [r for r in recs if r["network"] == BIG]
    if big:
        r = big[0]
        mems = {
            "ours cold": r.get("peak_rss_mb"),
            "ours warm (benchmark process, cumulative)": r.get("warm_peak_rss_mb"),
            "JAGS": r.get("jags_peak_rss_mb"),
        }
        flags = [ok(mems["ours cold"], MEMORY_TARGET_MB)]
        desc = ", ".join(f"{k} {_fmt(v, '.0f')} MB" for k, v in mems.items())
        lines.append(
            f"peak memory <= 1 GB at 500x30 (fresh nma_bayes process): {verdict(flags)} ({desc})"
        )
    return lines


# ----------------------------------------------------------------------------------- main
def with_retries(label: str, func, *, tries: int = 4, wait_s: float = 30.0):
    """Call ``func()``; retry after ``wait_s`` if it fails (the library may be mid-edit)."""
    for attempt in range(1, tries + 1):
        try:
            return func()
        except (RuntimeError, TypeError, ImportError, AttributeError, NameError) as exc:
            if attempt == tries:
                raise
            print(
                f"  {label} failed ({type(exc).__name__}: {str(exc).strip().splitlines()[-1]}); "
                f"retrying in {wait_s:.0f} s",
                flush=True,
            )
            time.sleep(wait_s)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument(
        "--networks", nargs="+", choices=[c.name for c in CASES], help="networks to run"
    )
    parser.add_argument("--draws", type=int, default=1000, help="nma_bayes draws/chain (start)")
    parser.add_argument("--tune", type=int, default=1000, help="nma_bayes warm-up draws/chain")
    parser.add_argument("--chains", type=int, default=4, help="chains (both samplers)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="warm / exact fits (default 3)")
    parser.add_argument("--cold-repeats", type=int, default=None, help="fresh processes (3)")
    parser.add_argument("--jags-repeats", type=int, default=None, help="timed Rscript runs (3)")
    parser.add_argument("--jags-adapt", type=int, default=1000, help="JAGS adaptation iter.")
    parser.add_argument("--jags-burnin", type=int, default=1000, help="JAGS burn-in iterations")
    parser.add_argument("--jags-iter", type=int, default=1000, help="JAGS kept iter. (start)")
    parser.add_argument("--jags-no-glm", action="store_true", help="don't load JAGS's glm module")
    parser.add_argument(
        "--check-iter", type=int, default=25000, help="JAGS iterations of the parkinsons check"
    )
    parser.add_argument("--skip-ours", action="store_true", help="JAGS (and exact) only")
    parser.add_argument("--skip-cold", action="store_true", help="no fresh nma_bayes processes")
    parser.add_argument(
        "--no-empty-cache",
        dest="empty_cache",
        action="store_false",
        help="skip the fresh nma_bayes process with empty caches (first-ever process)",
    )
    parser.add_argument("--rscript", default=shutil.which("Rscript") or "Rscript")
    parser.add_argument("--out", type=Path, default=None, help="CSV file")
    args = parser.parse_args(argv)

    default_repeats = 1 if args.quick else 3
    args.repeats = args.repeats or default_repeats
    args.cold_repeats = args.cold_repeats or default_repeats
    args.jags_repeats = args.jags_repeats or default_repeats
    names = args.networks or ([*QUICK] if args.quick else [c.name for c in CASES])
    cases: list[Case] = [c for c in CASES if c.name in names]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or HERE / "results" / f"bench_vs_jags_{stamp}.csv"
    load_start = os.getloadavg()[0]
    partial = out.with_name(out.stem + "_partial.csv")

    state = library_state()
    print(
        f"nma_bayes {state['nma_bayes']} (git {state['git_commit'] or '?'}, uncommitted changes: "
        f"{state['git_dirty'] or '?'}, sources {state['source_sha256']}), nutpie "
        f"{state['nutpie']}, pymc {state['pymc']}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}",
        flush=True,
    )
    t_start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        check_ok, check_lines = check_parkinsons(args, tmpdir)
        print("\n".join(check_lines), flush=True)
        for case in cases:
            t0 = time.perf_counter()
            print(f"{case.name} ...", flush=True)
            df, reference = case.load()
            data, net = jags_data(df, reference)
            data_csv = tmpdir / f"{case.name}_jags.csv"
            data.to_csv(data_csv, index=False)
            row = {
                "network": case.name,
                "studies": net.n_studies,
                "treatments": net.n_treatments,
                "multi_arm_studies": int((net.n_arms > 2).sum()),
            }
            row.update(jags_case(data_csv, net, args, tmpdir))
            print(
                f"  JAGS: {row['jags_iter']} iterations ({row['jags_attempts']} tries: "
                f"{row['jags_iter_tried']}), {row['jags_s']:.2f} s, min ESS "
                f"{row['jags_min_ess_bulk']:.0f} [{row['jags_min_ess_param']}]",
                flush=True,
            )
            if not args.skip_ours:
                ours = with_retries(
                    f"nma_bayes on {case.name}", lambda case=case: run_case(case, args, tmpdir)
                )
                for key in ("jags_s", "gemtc_s", "warm_over_jags", "cold_over_jags"):
                    ours.pop(key, None)  # bench_fit's reference figures, not measured
                ours.pop("network")
                ours.pop("studies")
                ours.pop("treatments")
                row.update(ours)
                row["warm_peak_rss_mb"] = (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
                )
                row["cold_min_ess_per_s"] = row.get("cold_min_ess_bulk", np.nan) / row["cold_s"]
                print(
                    f"  nma_bayes: cold {row['cold_s']:.1f} s, warm {row['warm_s']:.2f} s",
                    flush=True,
                )
            row.update(exact_case(df, reference, args))
            rows.append(row)
            partial.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(partial, index=False)  # kept if a later network fails
            print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)

    results = pd.DataFrame(rows)
    for col in ("warm_s", "cold_s", "exact_s", "exact_min_ess_per_s"):
        if col not in results:
            results[col] = np.nan
    results["warm_over_jags"] = results["warm_s"] / results["jags_s"]
    results["cold_over_jags"] = results["cold_s"] / results["jags_s"]
    if "empty_s" in results:
        results["empty_over_jags"] = results["empty_s"] / results["jags_s"]
    results["jags_over_exact"] = results["jags_s"] / results["exact_s"]
    results.insert(0, "date", datetime.now().isoformat(timespec="seconds"))
    results["cpus"] = os.cpu_count()
    results["loadavg_1min_start"] = load_start
    results["loadavg_1min_end"] = os.getloadavg()[0]
    results["jags_check_passed"] = check_ok
    for key, value in state.items():
        results[key] = value

    print()
    print(markdown_table(results))
    print()
    for line in targets(results):
        print("TARGET:", line)
    notes = []
    for rec in results.to_dict("records"):
        if not rec["jags_bar_met"]:
            notes.append(f"{rec['network']}: JAGS missed the bar at {rec['jags_iter']} iterations")
        if rec.get("retried"):
            notes.append(f"{rec['network']}: nma_bayes draws grown: {rec.get('tries')}")
        if rec.get("bar_met") is False:
            notes.append(f"{rec['network']}: nma_bayes missed the bar")
        if rec.get("exact_note"):
            notes.append(f"{rec['network']}: exact engine {rec['exact_note']}")
    if library_state()["source_sha256"] != state["source_sha256"]:
        notes.append("the nma_bayes sources changed during the run: cold runs may differ")
    for note in dict.fromkeys(notes):
        print("NOTE:", note)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    partial.unlink(missing_ok=True)
    print(f"total {time.perf_counter() - t_start:.0f} s; results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
