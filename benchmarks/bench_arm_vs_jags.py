"""Benchmark nma_bayes's arm-level likelihoods against JAGS (TSD2 arm-based models), as processes.

For each network (arm-level data from the shared validation folder, ``--data-dir``):

* **JAGS**: ``Rscript benchmarks/jags_arm.R`` (the NICE DSU TSD2 arm-based GLM: binomial logit,
  binomial cloglog with a ``log(time)`` offset, or Poisson log with a ``log(E)`` offset; fixed or
  random effects with TSD2's multi-arm correction; see that file), 4 chains run one after the
  other by rjags, ``--jags-adapt`` adaptation and ``--jags-burnin`` burn-in iterations, then
  ``n_iter`` kept iterations per chain, starting at ``--jags-iter``. Bulk ESS and R-hat come from
  ArviZ on the saved draws of ``d`` (non-reference) and ``tau`` (``bench_vs_jags.
  draws_diagnostics``). While the bar (min bulk ESS >= 1000, max R-hat <= 1.01) is missed the
  whole run is redone with more iterations (x 1.2 x 1000 / min ESS, at least x 1.25, rounded up
  to 500, as ``bench_vs_jags.jags_case`` does, but at most x 4 per try; a run that meets the
  bar at more than twice the ESS after growing is retried once scaled down the same way).
  ``JAGS s`` is then the median wall time of ``--jags-repeats`` whole ``Rscript`` processes at
  the final iterations (R start-up, loading rjags, compile + adapt, burn-in, sampling, writing
  the draws).
* **nma_bayes** (``nb.fit_network(arms, likelihood=..., link=..., effects=..., events="r",
  n="n" | time="time" | exposure="E", ...)``): cold = median wall time of ``--cold-repeats``
  fresh ``python`` processes that import, read the arms CSV, fit once (seed ``--seed``) and exit;
  warm = median time of ``--repeats`` later fits (seeds ``--seed + 1, ...``) in this process after
  a first one. Every in-process fit must reach the bar; if one misses, the draws are doubled once
  and the series redone (as ``bench_fit.run_case``). **Skipped, with a note**, while
  ``fit_network`` takes neither ``likelihood=`` nor ``**kwargs``, or its first call is rejected
  (``TypeError``, ``NotImplementedError`` or an input error: ``ModelSpecError``,
  ``MissingColumnError``, ...): the JAGS side and the reference check run anyway.

First, long JAGS runs (``--check-iter`` iterations x 4 chains) are checked against the published
posteriors: smoking RE (TSD4), thrombolytics FE (TSD4), diabetes cloglog FE and RE (TSD2
Example 3) and, for the Poisson code path, dietary fat RE in TSD2's three-arm layout (TSD2
Example 2). Each published mean of a relative effect (every published contrast, computed from the
draws of ``d``) and the median of ``tau`` must agree within ``max(--check-tol, 3 MCSE +
rounding)``; posterior SDs and the mean residual deviance are printed beside TSD's for
information.

Priors on both sides: ``mu_i ~ N(0, 100^2)`` (JAGS; nma_bayes's baseline prior is passed only if
``fit_network`` has a ``prior_mu``/``prior_baseline``/``prior_intercept`` parameter),
``d ~ N(0, 100^2)``, ``tau ~ U(0, 5)``.

Usage::

    python benchmarks/bench_arm_vs_jags.py                       # check + 3 networks
    python benchmarks/bench_arm_vs_jags.py --quick               # no repeats
    python benchmarks/bench_arm_vs_jags.py --check-only          # the JAGS reference check
    python benchmarks/bench_arm_vs_jags.py --skip-ours --networks diabetes
    python benchmarks/bench_arm_vs_jags.py --quick --skip-check --engine laplace
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
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
from bench_fit import CHILD_HEADER, ESS_BAR, RHAT_BAR, _fmt, library_state  # noqa: E402
from bench_vs_jags import (  # noqa: E402
    JAGS_TAG,
    MAX_JAGS_ATTEMPTS,
    _run_timed,
    draws_diagnostics,
    jags_summary,
    markdown_table,
    with_retries,
)

JAGS_SCRIPT = HERE / "jags_arm.R"
MAX_GROWTH = 4.0  # JAGS iterations grow at most 4x per try ...
SHRINK_ABOVE = 2.0  # ... and are cut back once if the bar is met with min ESS > 2x the bar
#: The bundled copies of the published data sets (override with NMA_SHARED_DATA).
BUNDLED = Path(__file__).resolve().parents[1] / "nma_bayes" / "datasets" / "data"
DATA_DIR = Path(os.environ.get("NMA_SHARED_DATA", BUNDLED))
JSON_TAG = "BENCH_ARM_JSON:"
PRIOR_SD = 100.0  # d (and mu) ~ N(0, 100^2)
TAU_UPPER = 5.0  # tau ~ U(0, 5)
BASELINE_PRIOR_NAMES = ("prior_mu", "prior_baseline", "prior_intercept")
# the keyword that names each column of our long table in nb.fit_network
COLUMN_KEYWORDS = {"r": "events", "n": "n", "E": "exposure", "time": "time"}


# ----------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ArmCase:
    """One arm-level network and model."""

    name: str
    folder: str
    reference: str
    likelihood: str  # binomial | poisson
    link: str  # logit | cloglog | log
    effects: str  # random | fixed
    file: str = "arms.csv"

    @property
    def label(self) -> str:
        return f"{self.likelihood} {self.link} {'RE' if self.effects == 'random' else 'FE'}"

    def load(self, data_dir: Path) -> tuple[pd.DataFrame, list[str]]:
        """The arms as a long table ``study, treatment, r, n|E[, time]``; treatments, ref first.

        Rows keep the file's order (each study's first row is its baseline arm). Treatments are
        ordered by ``treatment_code`` where the file has one, else by first appearance.
        """
        raw = pd.read_csv(data_dir / self.folder / self.file)
        raw = raw.rename(columns={"events": "r", "exposure": "E"})
        arms = pd.DataFrame({"study": raw["study"].astype(str), "treatment": raw["treatment"]})
        for col in ("r", "n", "E", "time"):
            if col in raw:
                arms[col] = raw[col]
        order = raw.drop_duplicates("treatment")
        if "treatment_code" in raw:
            order = order.sort_values("treatment_code", kind="stable")
        treatments = [t for t in order["treatment"] if t != self.reference]
        if len(treatments) == len(order):
            raise ValueError(f"{self.name}: reference {self.reference!r} not in the data")
        return arms, [self.reference, *treatments]

    def columns(self) -> list[str]:
        """The data columns this model uses."""
        if self.likelihood == "poisson":
            return ["r", "E"]
        return ["r", "n", "time"] if self.link == "cloglog" else ["r", "n"]


CASES = [
    ArmCase("smoking", "smoking", "No intervention", "binomial", "logit", "random"),
    ArmCase("thrombolytics", "thrombolytics", "SK", "binomial", "logit", "fixed"),
    ArmCase("diabetes", "diabetes", "Diuretic", "binomial", "cloglog", "random"),
]
#: More networks, run when named with --networks (the Laplace engine's acceptance set).
MORE_CASES = [
    ArmCase("diabetes_fe", "diabetes", "Diuretic", "binomial", "cloglog", "fixed"),
    ArmCase("dietary_fat_fe", "dietary_fat", "control", "poisson", "log", "fixed"),
    ArmCase("dietary_fat_re", "dietary_fat", "control", "poisson", "log", "random"),
    ArmCase("certolizumab_fe", "certolizumab", "Placebo", "binomial", "logit", "fixed"),
    ArmCase("certolizumab_re", "certolizumab", "Placebo", "binomial", "logit", "random"),
    ArmCase("statins_fe", "statins", "control", "binomial", "logit", "fixed"),
    ArmCase("statins_re", "statins", "control", "binomial", "logit", "random"),
]


@dataclass(frozen=True)
class Check:
    """A long JAGS run compared with published posterior summaries."""

    case: ArmCase
    source: str  # reference_results.csv: source and model
    model: str
    rounding: float  # half a unit of the published last decimal
    what: str


CHECKS = [
    Check(CASES[0], "TSD4", "RE", 0.005, "smoking RE (TSD4)"),
    Check(CASES[1], "TSD4", "FE", 0.0005, "thrombolytics FE (TSD4)"),
    Check(
        ArmCase("diabetes_fe", "diabetes", "Diuretic", "binomial", "cloglog", "fixed"),
        "TSD2",
        "FE",
        0.005,
        "diabetes cloglog FE (TSD2 Ex. 3)",
    ),
    Check(CASES[2], "TSD2", "RE", 0.005, "diabetes cloglog RE (TSD2 Ex. 3)"),
    Check(
        ArmCase(
            "dietary_fat_re",
            "dietary_fat",
            "control",
            "poisson",
            "log",
            "random",
            file="arms_tsd2_three_arm.csv",
        ),
        "tsd2_published",
        "RE",
        0.005,
        "dietary fat Poisson RE (TSD2 Ex. 2)",
    ),
]


def jags_table(arms: pd.DataFrame, treatments: list[str], case: ArmCase) -> pd.DataFrame:
    """``arms`` in jags_arm.R's layout: study 1..S, arm 1..na, t 1..T (reference 1), data, na."""
    index = {t: i + 1 for i, t in enumerate(treatments)}
    study = pd.factorize(arms["study"])[0] + 1
    out = pd.DataFrame({"study": study})
    out["arm"] = out.groupby("study").cumcount() + 1
    out["t"] = arms["treatment"].map(index).to_numpy()
    for col in case.columns():
        if col not in arms:
            raise ValueError(f"{case.name}: column {col!r} missing for {case.label}")
        out[col] = arms[col].to_numpy()
    out["na"] = out.groupby("study")["arm"].transform("size")
    return out.sort_values(["study", "arm"], kind="stable")


# ----------------------------------------------------------------------------------- JAGS
def run_jags_arm(
    data_csv: Path,
    case: ArmCase,
    treatments: list[str],
    *,
    n_iter: int,
    args,
    tmpdir: Path,
    resdev: bool = False,
    extra: dict[str, tuple[str, str]] | None = None,
) -> dict:
    """One whole ``Rscript jags_arm.R`` run: timings, peak RSS, ArviZ diagnostics, draws.

    ``extra`` adds derived quantities to the diagnostics: label -> (treatment, comparator),
    the draws of ``d[treatment] - d[comparator]``.
    """
    draws_csv = tmpdir / f"{case.name}_jags_draws.csv"
    cmd = [
        args.rscript,
        str(JAGS_SCRIPT),
        str(data_csv),
        str(draws_csv),
        case.likelihood,
        case.link,
        case.effects,
        str(args.jags_adapt),
        str(args.jags_burnin),
        str(n_iter),
        str(args.chains),
        str(args.seed),
        "0" if args.jags_no_glm else "1",
        "1" if resdev else "0",
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
    names = {f"d[{k + 1}]": f"d[{t}]" for k, t in enumerate(treatments) if k > 0}
    if case.effects == "random":
        names["tau"] = "tau"
    bar_params = list(names.values())  # the bar is over d and tau only

    def d_of(t: str) -> np.ndarray:
        k = treatments.index(t)
        return np.zeros(len(draws)) if k == 0 else draws[f"d[{k + 1}]"].to_numpy()

    for label, (t, c) in (extra or {}).items():
        if label not in names.values():
            draws[label] = d_of(t) - d_of(c)
            names[label] = label
    if resdev:
        names["totresdev"] = "resdev"
    diag = draws_diagnostics(draws, names)
    diag["sd"] = [float(draws[col].std(ddof=1)) for col in names]
    bar = diag.loc[bar_params]
    out.update(
        n_iter=n_iter,
        min_ess_bulk=float(bar["ess_bulk"].min()),
        min_ess_param=str(bar["ess_bulk"].idxmin()),
        max_r_hat=float(bar["r_hat"].max()),
        diag=diag,
    )
    return out


def _meets(d: dict) -> bool:
    return d["min_ess_bulk"] >= ESS_BAR and d["max_r_hat"] <= RHAT_BAR


def jags_arm_case(data_csv: Path, case: ArmCase, treatments: list[str], args, tmpdir) -> dict:
    """Grow the iterations until the bar is met, then time ``--jags-repeats`` runs.

    ``bench_vs_jags.jags_case``'s schedule (x 1.2 x 1000 / min ESS, at least x 1.25, rounded up
    to 500), with two changes against overshooting: at most x ``MAX_GROWTH`` per try, and if the
    bar is met with min ESS > ``SHRINK_ABOVE`` x 1000 after growing, one more try scaled down
    the same way (kept if it meets the bar).
    """

    def run(n_iter: int) -> dict:
        return run_jags_arm(data_csv, case, treatments, n_iter=n_iter, args=args, tmpdir=tmpdir)

    def scaled(n_iter: int, ess: float) -> int:
        factor = 1.2 * ESS_BAR / max(ess, 1.0)
        return int(np.ceil(n_iter * factor / 500.0) * 500)

    n_iter = args.jags_iter
    attempts = []
    for _ in range(MAX_JAGS_ATTEMPTS):
        attempts.append(run(n_iter))
        if _meets(attempts[-1]):
            break
        # at most x MAX_GROWTH per step: an ESS of a few dozen extrapolates badly
        new = scaled(n_iter, attempts[-1]["min_ess_bulk"])
        n_iter = int(min(max(new, 1.25 * n_iter), MAX_GROWTH * n_iter))
    final = attempts[-1]
    if _meets(final) and final["min_ess_bulk"] > SHRINK_ABOVE * ESS_BAR and len(attempts) > 1:
        # overshot: one try with the iterations the final ESS says are enough
        smaller = scaled(final["n_iter"], final["min_ess_bulk"])
        if smaller < final["n_iter"]:
            attempts.append(run(smaller))
            if _meets(attempts[-1]):
                final = attempts[-1]
    runs = [final] + [run(final["n_iter"]) for _ in range(args.jags_repeats - 1)]
    tried = ", ".join(f"{a['n_iter']} (ESS {a['min_ess_bulk']:.0f})" for a in attempts)
    return jags_summary(final, runs, attempts=len(attempts), tried=tried)


# ------------------------------------------------------------------------ reference check
def check_references(args, tmpdir: Path) -> tuple[bool, list[str], list[dict]]:
    """Long JAGS runs vs the published TSD2/TSD4 posteriors (see the module docstring)."""
    lines = [
        f"JAGS check vs published results ({args.chains} x {args.check_iter} iterations each); "
        f"pass if |JAGS - published| <= max({args.check_tol}, 3 MCSE + rounding):",
        "",
        "| model | quantity | published | JAGS | JAGS - pub. | MCSE | within 3 MCSE + rnd | "
        "sd pub. | sd JAGS | ok |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    ok_all, records, runs = True, [], []
    for check in CHECKS:
        case = check.case
        arms, treatments = case.load(args.data_dir)
        path = tmpdir / f"{case.name}_check.csv"
        jags_table(arms, treatments, case).to_csv(path, index=False)
        ref = pd.read_csv(args.data_dir / case.folder / "reference_results.csv")
        ref = ref[(ref["source"] == check.source) & (ref["model"] == check.model)]
        effects = ref[ref["quantity"].str.startswith("relative_effect")]
        extra = {  # contrasts not against the reference: from the draws of d
            f"{r.treatment} vs {r.comparator}": (r.treatment, r.comparator)
            for r in effects.itertuples()
            if r.comparator != case.reference
        }
        run = run_jags_arm(
            path,
            case,
            treatments,
            n_iter=args.check_iter,
            args=args,
            tmpdir=tmpdir,
            resdev=True,
            extra=extra,
        )
        runs.append(
            f"{check.what}: {run['wall_s']:.1f} s, min bulk ESS {run['min_ess_bulk']:.0f} "
            f"[{run['min_ess_param']}], max R-hat {run['max_r_hat']:.4f}"
        )
        diag = run["diag"]
        items = []
        for r in effects.itertuples():
            label = f"{r.treatment} vs {r.comparator}"
            param = f"d[{r.treatment}]" if r.comparator == case.reference else label
            items.append((f"mean {label}", param, "mean", "mcse_mean", r.mean, r.sd))
        tau = ref[ref["quantity"] == "tau"]
        if len(tau):
            t = tau.iloc[0]
            items.append(("median tau", "tau", "median", "mcse_median", t["median"], t["sd"]))
        for label, param, stat, mcse_col, pub, pub_sd in items:
            got, mcse = float(diag.loc[param, stat]), float(diag.loc[param, mcse_col])
            diff = got - pub
            tight = abs(diff) <= 3 * mcse + check.rounding
            ok = abs(diff) <= max(args.check_tol, 3 * mcse + check.rounding)
            ok_all &= bool(ok)
            records.append(
                dict(
                    check=check.what,
                    quantity=label,
                    published=pub,
                    jags=got,
                    diff=diff,
                    mcse=mcse,
                    within_3mcse=tight,
                    published_sd=pub_sd,
                    jags_sd=float(diag.loc[param, "sd"]),
                    ok=ok,
                )
            )
            lines.append(
                f"| {check.what} | {label} | {pub:g} | {got:.3f} | {diff:+.3f} | {mcse:.3f} | "
                f"{'yes' if tight else 'no'} | {_fmt(pub_sd, 'g')} | "
                f"{diag.loc[param, 'sd']:.3f} | {'yes' if ok else 'NO'} |"
            )
        resdev = ref[ref["quantity"] == "resdev"]
        if len(resdev):
            pub = float(resdev["value"].iloc[0])
            got = float(diag.loc["resdev", "mean"])
            lines.append(
                f"| {check.what} | mean resdev (info) | {pub:g} | {got:.1f} | {got - pub:+.1f} | "
                f"{diag.loc['resdev', 'mcse_mean']:.2f} | | | | info |"
            )
    diffs = pd.DataFrame(records)
    lines += ["", *runs]
    lines.append(
        f"largest |JAGS - published|: {diffs['diff'].abs().max():.3f}; within 3 MCSE + rounding: "
        f"{int(diffs['within_3mcse'].sum())} of {len(diffs)}"
    )
    lines.append(f"JAGS arm-based model check: {'PASSED' if ok_all else 'FAILED'}")
    return ok_all, lines, records


# ------------------------------------------------------------------------------ nma_bayes
# Runs in a fresh interpreter: argv[1] is a JSON config. Prints one tagged JSON line.
CHILD = (
    CHILD_HEADER
    + r"""
cfg = json.loads(sys.argv[1])
import nma_bayes as nb
import pandas as pd
_t1 = time.perf_counter()
df = pd.read_csv(cfg["csv"])
kw = dict(cfg["kwargs"])
for name, (lo, hi) in cfg["normal_priors"].items():
    kw[name] = nb.Normal(lo, hi)
for name, (lo, hi) in cfg["uniform_priors"].items():
    kw[name] = nb.Uniform(lo, hi)
_t2 = time.perf_counter()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", nb.NMAConvergenceWarning)
    fit = nb.fit_network(df, **kw)
_t3 = time.perf_counter()
diag = fit.diagnostics()
divergences = int(diag.attrs.get("divergences", -1))
if "parameter" in diag:
    sel = diag[diag["parameter"].astype(str).str.match(r"^(d\[|tau$)")]
    diag = sel if len(sel) else diag
out = {
    "import_s": _t1 - _t0, "load_s": _t2 - _t1, "fit_s": _t3 - _t2, "in_process_s": _t3 - _t0,
    "min_ess_bulk": float(diag["ess_bulk"].min()), "max_r_hat": float(diag["r_hat"].max()),
    "divergences": divergences,
    "convergence_warnings": sum(isinstance(w.message, nb.NMAConvergenceWarning) for w in caught),
    "peak_rss_mb": peak_rss_mb(),
}
print(__TAG__ + json.dumps(out), flush=True)
""".replace("__TAG__", repr(JSON_TAG))
)


def api_note() -> str:
    """Empty if ``fit_network`` looks like it takes arm-level likelihoods, else why not."""
    try:
        params = inspect.signature(nb.fit_network).parameters
    except (TypeError, ValueError):
        return ""
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if "likelihood" not in params and not takes_any:
        return "skipped: nb.fit_network has no likelihood= parameter yet"
    return ""  # a **kwargs catch-all may take it: the first fit tells (see ours_case)


def fit_config(case: ArmCase, args, *, seed: int, draws: int) -> dict:
    """JSON-able keyword arguments of ``nb.fit_network`` (priors by name, built by the caller)."""
    kwargs = dict(
        likelihood=case.likelihood,
        link=case.link,
        effects=case.effects,
        reference=case.reference,
        random_seed=seed,
        draws=draws,
        tune=args.tune,
        chains=args.chains,
        engine=args.engine,
    )
    for col in case.columns():
        kwargs[COLUMN_KEYWORDS[col]] = col
    normal = {"prior_d": (0.0, PRIOR_SD)}
    params = inspect.signature(nb.fit_network).parameters
    normal.update({name: (0.0, PRIOR_SD) for name in BASELINE_PRIOR_NAMES if name in params})
    uniform = {"prior_tau": (0.0, TAU_UPPER)} if case.effects == "random" else {}
    return {"kwargs": kwargs, "normal_priors": normal, "uniform_priors": uniform}


def _kwargs(cfg: dict) -> dict:
    kw = dict(cfg["kwargs"])
    kw.update({k: nb.Normal(*v) for k, v in cfg["normal_priors"].items()})
    kw.update({k: nb.Uniform(*v) for k, v in cfg["uniform_priors"].items()})
    return kw


def _fit(arms: pd.DataFrame, cfg: dict) -> tuple[float, dict]:
    """Fit in this process; return (seconds, diagnostics summary over d and tau)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nb.NMAConvergenceWarning)
        t0 = time.perf_counter()
        fit = nb.fit_network(arms, **_kwargs(cfg))
        seconds = time.perf_counter() - t0
    diag = fit.diagnostics()
    divergences = int(diag.attrs.get("divergences", -1))
    if "parameter" in diag:
        sel = diag[diag["parameter"].astype(str).str.match(r"^(d\[|tau$)")]
        diag = (sel if len(sel) else diag).set_index("parameter")
    return seconds, {
        "min_ess_bulk": float(diag["ess_bulk"].min()),
        "min_ess_param": str(diag["ess_bulk"].idxmin()),
        "max_r_hat": float(diag["r_hat"].max()),
        "divergences": divergences,
        "convergence_warnings": sum(
            isinstance(w.message, nb.NMAConvergenceWarning) for w in caught
        ),
    }


def _cold(csv: Path, cfg: dict) -> dict:
    cfg = {**cfg, "csv": str(csv)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(JSON_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold run failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len(JSON_TAG) :])
    out["wall_s"] = wall
    return out


def ours_case(case: ArmCase, arms: pd.DataFrame, args, tmpdir: Path) -> dict:
    """Warm and cold nma_bayes fits (``bench_fit.run_case``'s scheme), or a note why not."""
    note = api_note()
    if note:
        return {"ours_note": note}
    draws = args.draws

    def series(draws: int):
        first = _fit(arms, fit_config(case, args, seed=args.seed, draws=draws))
        warm = [
            _fit(arms, fit_config(case, args, seed=args.seed + 1 + i, draws=draws))
            for i in range(args.repeats)
        ]
        return first, warm

    try:
        (first_s, first), warm = series(draws)
    except (TypeError, NotImplementedError, nb.NMAInputError) as exc:  # ModelSpecError & co.
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        return {"ours_note": f"skipped: {type(exc).__name__}: {msg}"[:300]}
    diags = [first] + [d for _, d in warm]
    row = {
        "ours_note": "",
        "initial_min_ess_bulk": min(d["min_ess_bulk"] for d in diags),
        "initial_max_r_hat": max(d["max_r_hat"] for d in diags),
        "retried": False,
    }
    if not all(_meets(d) for d in diags):
        row["retried"] = True
        worst = min(diags, key=lambda d: d["min_ess_bulk"])
        print(
            f"  {case.name}: bar missed at draws={draws} (min ESS {worst['min_ess_bulk']:.0f} "
            f"[{worst['min_ess_param']}]); retrying with draws={2 * draws}",
            flush=True,
        )
        draws *= 2
        (_, first), warm = series(draws)
        diags = [first] + [d for _, d in warm]
    times = np.array([t for t, _ in warm])
    worst = min(diags, key=lambda d: d["min_ess_bulk"])
    row.update(
        draws=draws,
        bar_met=all(_meets(d) for d in diags),
        first_fit_s=first_s,
        warm_s=float(np.median(times)),
        warm_min_s=float(times.min()),
        warm_max_s=float(times.max()),
        min_ess_bulk=worst["min_ess_bulk"],
        min_ess_param=worst["min_ess_param"],
        max_r_hat=max(d["max_r_hat"] for d in diags),
        divergences=sum(d["divergences"] for d in diags),
        min_ess_per_s=float(np.median([d["min_ess_bulk"] / t for t, d in warm])),
    )
    if not args.skip_cold:
        csv = tmpdir / f"{case.name}_arms.csv"
        arms.to_csv(csv, index=False)
        cfg = fit_config(case, args, seed=args.seed, draws=draws)
        colds = [_cold(csv, cfg) for _ in range(args.cold_repeats)]
        walls = np.array([c["wall_s"] for c in colds])
        row.update(
            cold_s=float(np.median(walls)),
            cold_import_s=float(np.median([c["import_s"] for c in colds])),
            cold_fit_s=float(np.median([c["fit_s"] for c in colds])),
            cold_min_ess_bulk=colds[-1]["min_ess_bulk"],
            cold_max_r_hat=colds[-1]["max_r_hat"],
            cold_min_ess_per_s=colds[-1]["min_ess_bulk"] / float(np.median(walls)),
            peak_rss_mb=float(max(c["peak_rss_mb"] for c in colds)),
        )
    return row


# ---------------------------------------------------------------------------------- table
TABLE = [
    ("network", "network", "s"),
    ("model", "model", "s"),
    ("studies", "studies", "d"),
    ("treatments", "treatments", "d"),
    ("arms", "arms", "d"),
    ("JAGS iter", "jags_iter", "d"),
    ("JAGS s", "jags_s", ".2f"),
    ("JAGS sampling s", "jags_sampling_s", ".2f"),
    ("JAGS min ESS", "jags_min_ess_bulk", ".0f"),
    ("ours draws", "draws", "d"),
    ("ours cold s", "cold_s", ".1f"),
    ("ours warm s", "warm_s", ".2f"),
    ("warm/JAGS", "warm_over_jags", ".2f"),
    ("cold/JAGS", "cold_over_jags", ".2f"),
    ("ESS/s JAGS", "jags_min_ess_per_s", ".0f"),
    ("ESS/s cold", "cold_min_ess_per_s", ".0f"),
    ("ESS/s warm", "min_ess_per_s", ".0f"),
    ("RSS MB JAGS", "jags_peak_rss_mb", ".0f"),
    ("RSS MB cold", "peak_rss_mb", ".0f"),
]


# ----------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no repeats (1 of each)")
    parser.add_argument(
        "--networks",
        nargs="+",
        choices=[c.name for c in CASES + MORE_CASES],
        help="networks to run (default: the first three)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="data folder (default: bundled copies)"
    )
    parser.add_argument("--draws", type=int, default=1000, help="nma_bayes draws/chain (start)")
    parser.add_argument("--tune", type=int, default=1000, help="nma_bayes warm-up draws/chain")
    parser.add_argument("--chains", type=int, default=4, help="chains (both samplers)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--engine",
        default="pymc",
        choices=("pymc", "laplace"),
        help="nma_bayes engine (laplace: no MCMC; tune is unused)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="warm fits (default 3)")
    parser.add_argument("--cold-repeats", type=int, default=None, help="fresh processes (3)")
    parser.add_argument("--jags-repeats", type=int, default=None, help="timed Rscript runs (3)")
    parser.add_argument("--jags-adapt", type=int, default=1000, help="JAGS adaptation iter.")
    parser.add_argument("--jags-burnin", type=int, default=1000, help="JAGS burn-in iterations")
    parser.add_argument("--jags-iter", type=int, default=1000, help="JAGS kept iter. (start)")
    parser.add_argument("--jags-no-glm", action="store_true", help="don't load JAGS's glm module")
    parser.add_argument(
        "--check-iter", type=int, default=20000, help="JAGS iterations of the reference check"
    )
    parser.add_argument(
        "--check-tol", type=float, default=0.05, help="absolute tolerance of the check"
    )
    parser.add_argument("--skip-check", action="store_true", help="no reference check")
    parser.add_argument("--check-only", action="store_true", help="only the reference check")
    parser.add_argument("--skip-ours", action="store_true", help="JAGS side only")
    parser.add_argument("--skip-cold", action="store_true", help="no fresh nma_bayes processes")
    parser.add_argument("--rscript", default=shutil.which("Rscript") or "Rscript")
    parser.add_argument("--out", type=Path, default=None, help="CSV file")
    args = parser.parse_args(argv)

    default_repeats = 1 if args.quick else 3
    args.repeats = args.repeats or default_repeats
    args.cold_repeats = args.cold_repeats or default_repeats
    args.jags_repeats = args.jags_repeats or default_repeats
    names = args.networks or [c.name for c in CASES]
    cases = [] if args.check_only else [c for c in CASES + MORE_CASES if c.name in names]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or HERE / "results" / f"bench_arm_vs_jags_{stamp}.csv"
    load_start = os.getloadavg()[0]

    state = library_state()
    print(
        f"nma_bayes {state['nma_bayes']} (git {state['git_commit'] or '?'}, uncommitted changes: "
        f"{state['git_dirty'] or '?'}, sources {state['source_sha256']}), Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}",
        flush=True,
    )
    t_start = time.perf_counter()
    check_ok = None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if not args.skip_check:
            check_ok, check_lines, check_records = check_references(args, tmpdir)
            print("\n".join(check_lines), flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(check_records).to_csv(out.with_name(out.stem + "_check.csv"), index=False)
        for case in cases:
            t0 = time.perf_counter()
            print(f"{case.name} ({case.label}) ...", flush=True)
            arms, treatments = case.load(args.data_dir)
            table = jags_table(arms, treatments, case)
            data_csv = tmpdir / f"{case.name}_jags.csv"
            table.to_csv(data_csv, index=False)
            row = {
                "network": case.name,
                "model": case.label,
                "studies": int(table["study"].max()),
                "treatments": len(treatments),
                "arms": len(table),
                "multi_arm_studies": int((table.groupby("study").size() > 2).sum()),
            }
            row.update(jags_arm_case(data_csv, case, treatments, args, tmpdir))
            print(
                f"  JAGS: {row['jags_iter']} iterations ({row['jags_attempts']} tries: "
                f"{row['jags_iter_tried']}), {row['jags_s']:.2f} s, min ESS "
                f"{row['jags_min_ess_bulk']:.0f} [{row['jags_min_ess_param']}], max R-hat "
                f"{row['jags_max_r_hat']:.4f}",
                flush=True,
            )
            if args.skip_ours:
                row["ours_note"] = "skipped: --skip-ours"
            else:
                row.update(
                    with_retries(
                        f"nma_bayes on {case.name}",
                        lambda case=case, arms=arms: ours_case(case, arms, args, tmpdir),
                    )
                )
                if row["ours_note"]:
                    print(f"  nma_bayes: {row['ours_note']}", flush=True)
                else:
                    print(
                        f"  nma_bayes: cold {_fmt(row.get('cold_s'), '.1f')} s, warm "
                        f"{row['warm_s']:.2f} s, draws {row['draws']}, min ESS "
                        f"{row['min_ess_bulk']:.0f}",
                        flush=True,
                    )
            rows.append(row)
            print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)

    if rows:
        results = pd.DataFrame(rows)
        for col in ("warm_s", "cold_s"):
            if col not in results:
                results[col] = np.nan
        results["warm_over_jags"] = results["warm_s"] / results["jags_s"]
        results["cold_over_jags"] = results["cold_s"] / results["jags_s"]
        results.insert(0, "date", datetime.now().isoformat(timespec="seconds"))
        results["cpus"] = os.cpu_count()
        results["loadavg_1min_start"] = load_start
        results["loadavg_1min_end"] = os.getloadavg()[0]
        results["jags_check_passed"] = check_ok
        for key, value in state.items():
            results[key] = value
        print()
        print(markdown_table(results, TABLE))
        print()
        notes = []
        for rec in results.to_dict("records"):
            if not rec["jags_bar_met"]:
                notes.append(f"{rec['network']}: JAGS missed the bar at {rec['jags_iter']} iter.")
            if rec.get("ours_note"):
                notes.append(f"{rec['network']}: nma_bayes {rec['ours_note']}")
            if rec.get("retried") is True:
                notes.append(f"{rec['network']}: nma_bayes draws doubled to {rec['draws']}")
            if rec.get("bar_met") is False:
                notes.append(f"{rec['network']}: nma_bayes missed the bar")
        if library_state()["source_sha256"] != state["source_sha256"]:
            notes.append("the nma_bayes sources changed during the run: cold runs may differ")
        for note in dict.fromkeys(notes):
            print("NOTE:", note)
        out.parent.mkdir(parents=True, exist_ok=True)
        results.to_csv(out, index=False)
        print(f"results written to {out}")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0 if check_ok is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())
