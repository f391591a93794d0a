"""A small simulated binomial network with high baseline risks, for the log link (risk ratios).

Writes ``tests/models/data/log_link_high_risk.csv`` (columns ``study, treatment, r, n``, one row
per arm, the first row of each study its base arm: A where the study has A). Deterministic:
``numpy.random.default_rng(20261207)``.

Design: 10 studies of treatments A (reference), B, C, D: six two-arm studies against A (two each
of A-B, A-C, A-D), two three-arm studies (A-B-C, A-C-D) and two without A (B-D, C-D). For each
study:

* baseline risk on A, ``pA ~ U(0.45, 0.85)`` (also for the studies without A: their arms are
  ``pA`` times the risk ratios, as if A had been there);
* true log risk ratios against A: ``d = (A 0, B 0.10, C 0.20, D -0.25)``;
* random effects, ``tau = 0.08``: the study's log risk ratio of arm k against its base arm b is
  ``d[k] - d[b] + u[k] - u[b]`` with ``u ~ N(0, tau^2 / 2)`` independently per arm, i.e.
  ``N(d[k] - d[b], tau^2)`` with covariance ``tau^2 / 2`` between the arms of a multi-arm study
  (the consistency model's random effects);
* risk of arm k (base arm b): ``p[k] = min(exp(log(pA) + d[b] + (d[k] - d[b] + u[k] - u[b])),
  0.99)`` (for k = b the bracket is 0);
* arm size ``n ~ U{40, ..., 200}``, events ``r ~ Bin(n, p[k])``.

High baseline risks with C's risk ratio exp(0.2) = 1.22 put some arm risks at the 0.99 cap; the
script draws whole networks one after another from the one generator and keeps the first that
has at least one arm with ``r == n`` (all events).

``--jags-reference`` then also builds the long-JAGS reference ``tests/models/data/
log_link_jags.csv`` from this network with ``benchmarks/jags_arm.R`` (binomial log link, fixed
and random effects; see ``tests/models/data/README.md``): the two fits run as two parallel
``Rscript`` processes, the summaries come from ArviZ, and the raw draws are deleted.

Usage::

    python benchmarks/simulate_log_link.py                    # the network only
    python benchmarks/simulate_log_link.py --jags-reference   # and the JAGS reference
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "tests" / "models" / "data"
NETWORK_CSV = DATA_DIR / "log_link_high_risk.csv"
REFERENCE_CSV = DATA_DIR / "log_link_jags.csv"
JAGS_ARM = ROOT / "benchmarks" / "jags_arm.R"

SEED = 20261207
TREATMENTS = ("A", "B", "C", "D")
TRUE_D = {"A": 0.0, "B": 0.10, "C": 0.20, "D": -0.25}  # log risk ratios against A
TAU = 0.08
P_CAP = 0.99
DESIGN = (
    ("A", "B"),
    ("A", "B"),
    ("A", "C"),
    ("A", "C"),
    ("A", "D"),
    ("A", "D"),
    ("A", "B", "C"),
    ("A", "C", "D"),
    ("B", "D"),
    ("C", "D"),
)

# Long JAGS runs (per model: adaptation, burn-in, kept iterations per chain; no thinning).
# jags_arm.R seeds chain ch with JAGS_SEED * 1000 + ch (an R integer: JAGS_SEED < 2 * 10^6).
JAGS_CHAINS = 4
JAGS_SEED = 1207
JAGS_RUNS = {
    "FE": {"effects": "fixed", "adapt": 2000, "burnin": 20000, "iter": 200000},
    "RE": {"effects": "random", "adapt": 2000, "burnin": 20000, "iter": 600000},
}


def _draw_network(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for study, arms in enumerate(DESIGN, start=1):
        p_a = rng.uniform(0.45, 0.85)
        u = rng.normal(0.0, TAU / np.sqrt(2.0), size=len(arms))
        base = arms[0]
        for k, trt in enumerate(arms):
            rel = 0.0 if k == 0 else TRUE_D[trt] - TRUE_D[base] + u[k] - u[0]
            p = min(float(np.exp(np.log(p_a) + TRUE_D[base] + rel)), P_CAP)
            n = int(rng.integers(40, 201))
            r = int(rng.binomial(n, p))
            rows.append({"study": study, "treatment": trt, "r": r, "n": n})
    return pd.DataFrame(rows, columns=["study", "treatment", "r", "n"])


def simulate(seed: int = SEED, max_tries: int = 1000) -> pd.DataFrame:
    """The network, one row per arm (study, treatment, r, n); base arm first.

    Whole networks are drawn one after another from one generator until one has an arm with
    ``r == n`` (deterministic: the first such network of the stream)."""
    rng = np.random.default_rng(seed)
    for attempt in range(1, max_tries + 1):
        arms_df = _draw_network(rng)
        if (arms_df["r"] == arms_df["n"]).any():
            print(f"network draw {attempt} has an arm with r == n")
            return arms_df
    raise RuntimeError(f"no network with an arm with r == n in {max_tries} draws")


def to_jags(arms_df: pd.DataFrame) -> pd.DataFrame:
    """The layout of benchmarks/jags_arm.R: study, arm, t (A = 1), r, n, na."""
    out = arms_df.copy()
    out["arm"] = out.groupby("study").cumcount() + 1
    out["t"] = out["treatment"].map({t: i + 1 for i, t in enumerate(TREATMENTS)})
    out["na"] = out.groupby("study")["arm"].transform("size")
    return out[["study", "arm", "t", "r", "n", "na"]]


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def summarise(draws: pd.DataFrame, model: str) -> list[dict]:
    """One row per d[2..T] (and tau): ArviZ bulk ESS, MCSE of the mean, rank R-hat."""
    import arviz as az

    rows = []
    params = [f"d[{i + 1}]" for i in range(1, len(TREATMENTS))]
    if "tau" in draws.columns:
        params.append("tau")
    for param in params:
        wide = draws.pivot(index="chain", columns="draw", values=param).to_numpy()
        x = wide.ravel()
        lo, hi = np.quantile(x, [0.025, 0.975])
        is_tau = param == "tau"
        rows.append(
            {
                "model": model,
                "treatment": "tau" if is_tau else TREATMENTS[int(param[2:-1]) - 1],
                "comparator": "" if is_tau else "A",
                "quantity": "tau" if is_tau else "relative_effect",
                "mean": _sig(x.mean()),
                "sd": _sig(x.std(ddof=1)),
                "median": _sig(np.median(x)),
                "lower95": _sig(lo),
                "upper95": _sig(hi),
                "ess_bulk": _sig(float(az.ess(wide, method="bulk"))),
                "mcse_mean": _sig(float(az.mcse(wide, method="mean"))),
                "rhat": _sig(float(az.rhat(wide, method="rank"))),
                "n_draws": x.size,
            }
        )
    return rows


def jags_reference(arms_df: pd.DataFrame) -> pd.DataFrame:
    """Run the FE and RE fits in parallel, summarise, delete the draws."""
    with tempfile.TemporaryDirectory(prefix="log_link_jags_") as tmp:
        tmp = Path(tmp)
        data_csv = tmp / "arms.csv"
        to_jags(arms_df).to_csv(data_csv, index=False)
        procs = {}
        for model, run in JAGS_RUNS.items():
            draws_csv = tmp / f"draws_{model}.csv"
            cmd = [
                "Rscript", str(JAGS_ARM), str(data_csv), str(draws_csv),
                "binomial", "log", run["effects"], str(run["adapt"]), str(run["burnin"]),
                str(run["iter"]), str(JAGS_CHAINS), str(JAGS_SEED), "0",
            ]  # fmt: skip
            print(" ".join(cmd), flush=True)
            procs[model] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True),
                            time.perf_counter(), draws_csv)  # fmt: skip
        rows = []
        for model, (proc, t0, draws_csv) in procs.items():
            stdout, _ = proc.communicate()
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"JAGS {model} failed (exit {proc.returncode})")
            info = json.loads(stdout.split("JAGS_JSON:", 1)[1].strip())
            print(f"{model}: wall {wall:.1f} s, JAGS {json.dumps(info)}", flush=True)
            draws = pd.read_csv(draws_csv)
            rows += summarise(draws, model)
            draws_csv.unlink()
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jags-reference", action="store_true",
                        help="also run the long JAGS fits and write log_link_jags.csv")  # fmt: skip
    args = parser.parse_args()
    arms_df = simulate()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    arms_df.to_csv(NETWORK_CSV, index=False)
    print(f"wrote {NETWORK_CSV.relative_to(ROOT)}")
    print(arms_df.assign(p_hat=(arms_df["r"] / arms_df["n"]).round(3)).to_string(index=False))
    if args.jags_reference:
        ref = jags_reference(arms_df)
        print(ref.to_string(index=False))
        ref.drop(columns="n_draws").to_csv(REFERENCE_CSV, index=False)
        print(f"wrote {REFERENCE_CSV.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
