"""Accuracy of the Laplace engine against long JAGS runs of the TSD2 arm-based models.

For every arm-level outcome case of ``tests/reference_helpers.ARM_CASES`` (and thrombolytics with
random effects) this fits::

    nb.fit_network(df, engine="laplace", random_seed=SEED, chains=4, draws=D,
                   prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5), **options)

(``options``: the case's likelihood, link, effects and reference; its NUTS ``draws``/``tune`` are
dropped) and compares the posterior of every relative effect ``d`` (vs the case's reference) and
of ``tau`` with the long JAGS runs stored in ``tests/engines/data/jags_long_arm.csv``. It prints
a Markdown table, one row per case, of the largest ``|ours - JAGS| / (JAGS posterior SD)`` over
the contrasts for the mean, SD, 2.5% and 97.5% quantiles, and of tau's median; the worst of them;
the Monte Carlo error of that comparison in the same unit; the engine's Pareto ``k`` and
importance-sampling ESS (``fit.idata["posterior"].attrs``); and the fit's wall time. A case the
engine refuses (``nb.ExactEngineError``) is a row that says so.

Monte Carlo error of a gap, in units of the JAGS posterior SD: ours has ``n_eff = 1 / (1 /
is_ess + 1 / n_draws)`` effective draws (importance sampling, then resampling to ``n_draws =
chains x draws``), JAGS its bulk ESS (mean, SD, median) and tail ESS (quantiles), so
``se(mean) = sqrt(1 / n_eff + 1 / ess_bulk)``, ``se(SD) = c_sd sqrt(1 / n_eff + 1 /
ess_bulk)`` and ``se(q_p) = c_p sqrt(1 / n_eff + 1 / ess)`` (``ess_tail`` for the 2.5% and 97.5%
quantiles, ``ess_bulk`` for tau's median), with ``c_sd = sqrt(kurtosis - 1) / 2`` and ``c_p =
sqrt(p (1 - p)) / (f(q_p) SD)`` estimated from our draws (normal posterior: ``c_sd = 0.71``,
``c_0.025 = 2.67``, ``c_0.5 = 1.25``; a long tail, e.g. certolizumab's Etanercept, gives more).
The ``max z`` column is the largest gap divided by its own standard error: a gap with ``z``
below about 3 is noise. (The ``n_eff`` of importance sampling is itself an estimate: repeat with
other ``--seed`` values to see the spread.)

``--make-jags-reference`` remakes the CSV: ``Rscript benchmarks/jags_arm.R`` (TSD2 programs 1(c),
1(d), 2(a), 2(b), 3(a), 3(b); see that file), called through ``bench_arm_vs_jags.run_jags_arm``
on the arms laid out by ``bench_arm_vs_jags.jags_table``, **without** JAGS's ``glm`` module
(its binomial sampler biases some of these models), 4 chains, 1,000 adaptation and 10,000
burn-in iterations, a fixed seed per case (``JAGS_SEEDS``). A pilot of ``--jags-pilot``
iterations per chain sets the run length (x 1.25 the iterations its minimum bulk ESS over ``d``
and ``tau`` says reach ``--jags-ess``); the whole run is redone, longer, until the minimum bulk
ESS is at least ``--jags-ess`` (20,000) and the largest R-hat at most 1.01. It also prints each
run's settings and a comparison of JAGS with the data sets' published reference rows
(``nb.datasets.reference_results``). See ``tests/engines/data/README.md``.

Usage::

    python benchmarks/laplace_accuracy.py                        # all cases, 4 x 10,000 draws
    python benchmarks/laplace_accuracy.py --keys smoking_re diabetes_re --draws 20000 --detail
    python benchmarks/laplace_accuracy.py --make-jags-reference  # JAGS runs (~35 min, 2.3 GB tmp)
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import arviz as az
import numpy as np
import pandas as pd

import nma_bayes as nb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_arm_vs_jags import ArmCase, jags_table, run_jags_arm  # noqa: E402
from reference_helpers import ARM_CASES  # noqa: E402

#: The long JAGS runs, relative to the repository root.
JAGS_CSV = ROOT / "tests" / "engines" / "data" / "jags_long_arm.csv"

#: key -> (data set, fit options): ARM_CASES, and thrombolytics with random effects.
CASES: dict[str, tuple[str, dict]] = {key: (v[0], v[1]) for key, v in ARM_CASES.items()}
CASES["thrombolytics_re"] = (
    "thrombolytics",
    {k: v for k, v in ARM_CASES["thrombolytics_fe"][1].items() if k != "effects"},
)
#: JAGS seed of each case (jags_arm.R seeds chain c with seed * 1000 + c).
JAGS_SEEDS = {key: 101 + i for i, key in enumerate(CASES)}
#: Published or independent reference rows the JAGS runs are compared with: key -> sources
#: (``reference_results``, with the case's model, FE or RE). ARM_CASES's source, TSD4's
#: thrombolytics FE, and for dietary fat both TSD2's table (fitted to TSD2's three-arm layout of
#: London Corn/Olive) and the data set's JAGS rows (fitted to arms.csv, as here).
REFERENCE_SOURCES = {
    "smoking_re": ["TSD4"],
    "thrombolytics_fe": ["TSD4"],
    "diabetes_fe": ["TSD2"],
    "diabetes_re": ["TSD2"],
    "dietary_fat_fe": ["tsd2_published", "jags_tsd2_FE"],
    "dietary_fat_re": ["tsd2_published", "jags_tsd2_RE"],
    "certolizumab_fe": ["jags_tsd2_FE"],
    "certolizumab_re": ["jags_tsd2_RE"],
    "statins_fe": ["jags_tsd2_FE"],
    "statins_re": ["jags_tsd2_RE"],
}
#: Smallest ESS of the data sets' own JAGS rows (``jags_*`` sources; their READMEs).
REFERENCE_JAGS_ESS = 4000

CHAINS = 4
JAGS_ADAPT = 1000
JAGS_BURNIN = 10000
RHAT_MAX = 1.01
GROWTH_MARGIN = 1.25
MAX_ATTEMPTS = 5
PRIOR_SD = 100.0  # d ~ N(0, 100^2) (and mu in JAGS)
TAU_UPPER = 5.0  # tau ~ U(0, 5)
#: Tail ESS: the smaller ESS of the 5% and 95% quantiles (Vehtari et al. 2021), not the
#: rcParams-dependent default of ArviZ 1.x.
TAIL_PROB = (0.05, 0.95)
#: MCSE of a median over that of the mean for a normal posterior (sqrt(pi / 2)); only for the
#: published reference rows, whose draws are not at hand.
MEDIAN_FACTOR = 1.25
COLUMNS = [
    "key",
    "treatment",
    "comparator",
    "quantity",
    "mean",
    "sd",
    "median",
    "lower95",
    "upper95",
    "ess_bulk",
    "ess_tail",
    "mcse_mean",
    "rhat",
]


def case_options(key: str) -> tuple[str, dict]:
    """The case's data set and ``fit_network`` options (without NUTS's draws and tune)."""
    dataset, options = CASES[key]
    return dataset, {k: v for k, v in options.items() if k not in ("draws", "tune")}


def arm_case(key: str) -> ArmCase:
    """``bench_arm_vs_jags.ArmCase`` of a case (the JAGS model and data columns)."""
    dataset, options = case_options(key)
    likelihood = options["likelihood"]
    link = options.get("link", {"binomial": "logit", "poisson": "log"}[likelihood])
    return ArmCase(
        key, dataset, options["reference"], likelihood, link, options.get("effects", "random")
    )


# ---------------------------------------------------------------------------------- JAGS
def summarise(key: str, draws: pd.DataFrame, treatments: list[str], diag: pd.DataFrame) -> list:
    """The CSV rows of one run: each non-reference ``d`` vs the reference, and ``tau``."""
    columns = {f"d[{k + 1}]": (t, "relative_effect") for k, t in enumerate(treatments) if k}
    if "tau" in draws:
        columns["tau"] = ("tau", "tau")
    chains = [g.sort_values("draw") for _, g in draws.groupby("chain")]
    rows = []
    for col, (treatment, quantity) in columns.items():
        x = np.stack([c[col].to_numpy() for c in chains])
        label = "tau" if quantity == "tau" else f"d[{treatment}]"
        rows.append(
            {
                "key": key,
                "treatment": treatment,
                "comparator": treatments[0],
                "quantity": quantity,
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)),
                "median": float(np.median(x)),
                "lower95": float(np.quantile(x, 0.025)),
                "upper95": float(np.quantile(x, 0.975)),
                "ess_bulk": float(diag.loc[label, "ess_bulk"]),
                "ess_tail": float(az.ess(x, method="tail", prob=TAIL_PROB)),
                "mcse_mean": float(diag.loc[label, "mcse_mean"]),
                "rhat": float(diag.loc[label, "r_hat"]),
            }
        )
    return rows


def reference_rows(key: str, draws: pd.DataFrame, treatments: list[str]) -> list[dict]:
    """JAGS vs the data set's reference rows (every published contrast and tau's median)."""
    dataset, _ = case_options(key)
    case = arm_case(key)
    model = "RE" if case.effects == "random" else "FE"
    table = nb.datasets.reference_results(dataset)
    chains = [g.sort_values("draw") for _, g in draws.groupby("chain")]

    def stacked(values: pd.Series) -> np.ndarray:
        return np.stack([values.loc[c.index].to_numpy() for c in chains])

    def d_of(t: str) -> pd.Series:
        k = treatments.index(t)
        return pd.Series(0.0, index=draws.index) if k == 0 else draws[f"d[{k + 1}]"]

    out = []
    for source in REFERENCE_SOURCES.get(key, []):
        ref = table[(table["source"] == source) & (table["model"] == model)]
        effects = ref[ref["quantity"].str.startswith("relative_effect")]
        # half a unit of the source's last published decimal
        decimals = max(len(f"{v:.6f}".rstrip("0").split(".")[1]) for v in effects["mean"].dropna())
        rounding = 0.5 * 10.0**-decimals
        items = [
            (
                f"mean {r.treatment} vs {r.comparator}",
                d_of(r.treatment) - d_of(r.comparator),
                "mean",
                r.mean,
                r.sd,
            )
            for r in effects.itertuples()
        ]
        tau = ref[ref["quantity"] == "tau"]
        if len(tau) and "tau" in draws:
            t = tau.iloc[0]
            items.append(("median tau", draws["tau"], "median", t["median"], t["sd"]))
        for label, values, stat, published, published_sd in items:
            x = stacked(values)
            if stat == "mean":
                got = float(x.mean())
                mcse = float(az.mcse(x, method="mean"))
            else:
                got = float(np.median(x))
                mcse = float(az.mcse(x, method="median"))
            ref_mcse = (
                MEDIAN_FACTOR ** (stat == "median") * published_sd / math.sqrt(REFERENCE_JAGS_ESS)
                if source.startswith("jags") and np.isfinite(published_sd)
                else 0.0
            )
            se = math.hypot(mcse, ref_mcse)
            diff = got - published
            out.append(
                {
                    "key": key,
                    "source": source,
                    "quantity": label,
                    "published": published,
                    "jags": got,
                    "diff": diff,
                    "se": se,
                    "rounding": rounding,
                    "within": abs(diff) <= 3 * se + rounding,
                    "published_sd": published_sd,
                    "jags_sd": float(x.std(ddof=1)),
                }
            )
    return out


def jags_case(key: str, args, tmpdir: Path) -> tuple[list, dict, list]:
    """Run JAGS for one case until the bar is met; CSV rows, run record, reference rows."""
    dataset, _ = case_options(key)
    case = arm_case(key)
    folder = tmpdir / dataset
    folder.mkdir(exist_ok=True)
    nb.datasets.load_dataset(dataset, "arms").to_csv(folder / case.file, index=False)
    arms, treatments = case.load(tmpdir)
    table = jags_table(arms, treatments, case)
    data_csv = tmpdir / f"{key}_jags.csv"
    table.to_csv(data_csv, index=False)
    settings = SimpleNamespace(
        rscript=args.rscript,
        jags_adapt=JAGS_ADAPT,
        jags_burnin=JAGS_BURNIN,
        chains=CHAINS,
        seed=JAGS_SEEDS[key],
        jags_no_glm=True,
    )
    n_iter, attempts = args.jags_pilot, []
    for _ in range(MAX_ATTEMPTS):
        run = run_jags_arm(data_csv, case, treatments, n_iter=n_iter, args=settings, tmpdir=tmpdir)
        attempts.append(run)
        met = run["min_ess_bulk"] >= args.jags_ess and run["max_r_hat"] <= RHAT_MAX
        print(
            f"  {key}: {n_iter} iterations x {CHAINS} chains, {run['wall_s']:.1f} s, min bulk "
            f"ESS {run['min_ess_bulk']:.0f} [{run['min_ess_param']}], max R-hat "
            f"{run['max_r_hat']:.4f}{'' if met else ': too short'}",
            flush=True,
        )
        if met:
            break
        needed = n_iter * GROWTH_MARGIN * args.jags_ess / max(run["min_ess_bulk"], 1.0)
        n_iter = int(math.ceil(max(needed, 1.5 * n_iter) / 1000.0) * 1000)
    else:
        raise RuntimeError(f"{key}: JAGS missed the bar after {MAX_ATTEMPTS} runs")
    draws = pd.read_csv(tmpdir / f"{key}_jags_draws.csv")
    rows = summarise(key, draws, treatments, run["diag"])
    record = {
        "key": key,
        "model": case.label,
        "studies": int(table["study"].max()),
        "arms": len(table),
        "treatments": len(treatments),
        "seed": JAGS_SEEDS[key],
        "adapt": JAGS_ADAPT,
        "burnin": JAGS_BURNIN,
        "iterations": n_iter,
        "tried": ", ".join(str(a["n_iter"]) for a in attempts),
        "min_ess_bulk": run["min_ess_bulk"],
        "min_ess_param": run["min_ess_param"],
        "max_rhat": run["max_r_hat"],
        "wall_s": run["wall_s"],
        "total_wall_s": sum(a["wall_s"] for a in attempts),
        "jags": run["jags"],
        "rjags": run["rjags"],
        "R": run["R"],
        "glm": run["glm"],
    }
    return rows, record, reference_rows(key, draws, treatments)


def write_case(key: str, rows: list[dict]) -> None:
    """Replace the case's rows of ``JAGS_CSV`` (kept in ``CASES`` order) with ``rows``."""
    new = pd.DataFrame(rows, columns=COLUMNS)
    if JAGS_CSV.exists():
        old = pd.read_csv(JAGS_CSV)
        new = pd.concat([old[old["key"] != key], new], ignore_index=True)
    for col in ("ess_bulk", "ess_tail"):
        new[col] = new[col].round().astype(int)
    order = {k: i for i, k in enumerate(CASES)}
    new = new.sort_values("key", key=lambda s: s.map(order), kind="stable")
    JAGS_CSV.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(JAGS_CSV, index=False, float_format="%.6g")


def make_jags_reference(args) -> int:
    """Run JAGS for each case of ``--keys``; each finished case replaces its rows of the CSV."""
    records, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.keys:
            print(f"{key} ...", flush=True)
            case_rows, record, check = jags_case(key, args, Path(tmp))
            (Path(tmp) / f"{key}_jags_draws.csv").unlink()
            write_case(key, case_rows)
            print(f"  {key}: written to {JAGS_CSV.relative_to(ROOT)}; {record}", flush=True)
            records.append(record)
            checks += check
    print()
    print(
        "| key | model | studies | arms | seed | burn-in | iterations / chain (tried) | "
        "min bulk ESS (param) | max R-hat | JAGS s (all tries) |"
    )
    print("|---|---|---:|---:|---:|---:|---|---|---:|---:|")
    for r in records:
        print(
            f"| {r['key']} | {r['model']} | {r['studies']} | {r['arms']} | {r['seed']} | "
            f"{r['burnin']} | {r['iterations']} ({r['tried']}) | {r['min_ess_bulk']:.0f} "
            f"({r['min_ess_param']}) | {r['max_rhat']:.4f} | {r['wall_s']:.1f} "
            f"({r['total_wall_s']:.1f}) |"
        )
    versions = {(r["jags"], r["rjags"], r["R"], r["glm"]) for r in records}
    print(f"\nJAGS, rjags, R, glm module: {versions}\n")

    print(
        "| key | source | quantity | reference | JAGS | diff | 3 se + rounding | within | "
        "sd ref. | sd JAGS |"
    )
    print("|---|---|---|---:|---:|---:|---:|---|---:|---:|")
    for c in checks:
        print(
            f"| {c['key']} | {c['source']} | {c['quantity']} | {c['published']:g} | "
            f"{c['jags']:.4f} | {c['diff']:+.4f} | {3 * c['se'] + c['rounding']:.4f} | "
            f"{'yes' if c['within'] else 'NO'} | {c['published_sd']:g} | {c['jags_sd']:.4f} |"
        )
    return 0


# ----------------------------------------------------------------------------- accuracy
def quantile_factor(x: np.ndarray, p: float, scale: float) -> float:
    """MCSE of the ``p`` quantile of ``x`` per unit ``1 / sqrt(ESS)``, in units of ``scale``.

    ``sqrt(p (1 - p)) / f(q_p)``, the density ``f`` at the quantile from the spacing of the
    quantiles ``p -+ h``: 2.67 SDs at p = 0.025 and 1.25 at the median for a normal posterior,
    more in the long tail of a skewed one.
    """
    h = min(0.01, p / 2.0) if p != 0.5 else 0.05
    spacing = (np.quantile(x, p + h) - np.quantile(x, p - h)) / (2.0 * h)
    return float(math.sqrt(p * (1.0 - p)) * spacing / scale)


def sd_factor(x: np.ndarray, scale: float) -> float:
    """MCSE of the SD of ``x`` per unit ``1 / sqrt(ESS)``, in units of ``scale``.

    ``sqrt(kurtosis - 1) / 2`` SDs (``sqrt(1 / 2)`` for a normal posterior).
    """
    z = (x - x.mean()) / x.std()
    return float(math.sqrt(max(np.mean(z**4) - 1.0, 0.0)) / 2.0 * x.std() / scale)


def accuracy_case(key: str, jags: pd.DataFrame, args) -> tuple[dict, list[dict]]:
    """Fit one case with the Laplace engine; its summary row and per-quantity gaps."""
    dataset, options = case_options(key)
    row = {"key": key, "model": arm_case(key).label}
    df = nb.datasets.load_dataset(dataset, "arms")
    t0 = time.perf_counter()
    try:
        fit = nb.fit_network(
            df,
            engine="laplace",
            random_seed=args.seed,
            chains=CHAINS,
            draws=args.draws,
            prior_d=nb.Normal(0, PRIOR_SD),
            prior_tau=nb.Uniform(0, TAU_UPPER),
            **options,
        )
    except nb.ExactEngineError as exc:
        row["note"] = f"engine refused (ExactEngineError): {str(exc).strip()}"
        row["fit_s"] = time.perf_counter() - t0
        return row, []
    row["fit_s"] = time.perf_counter() - t0
    post = fit.idata["posterior"]
    attrs = post.attrs
    n_draws = post.sizes["chain"] * post.sizes["draw"]
    is_ess = float(attrs.get("is_ess", np.nan))
    n_eff = 1.0 / (1.0 / is_ess + 1.0 / n_draws) if np.isfinite(is_ess) else float(n_draws)
    row.update(pareto_k=float(attrs.get("pareto_k", np.nan)), is_ess=is_ess, n_eff=n_eff)

    gaps = []
    for r in jags[jags["key"] == key].itertuples():
        if r.quantity == "tau":
            x = post["tau"].values.ravel()
            checks = [
                ("tau median", np.median(x), r.median, quantile_factor(x, 0.5, r.sd), r.ess_bulk)
            ]
        else:
            x = post["d"].sel(treatment=r.treatment).values.ravel()
            checks = [
                ("mean", x.mean(), r.mean, 1.0, r.ess_bulk),
                ("sd", x.std(ddof=1), r.sd, sd_factor(x, r.sd), r.ess_bulk),
                (
                    "2.5%",
                    np.quantile(x, 0.025),
                    r.lower95,
                    quantile_factor(x, 0.025, r.sd),
                    r.ess_tail,
                ),
                (
                    "97.5%",
                    np.quantile(x, 0.975),
                    r.upper95,
                    quantile_factor(x, 0.975, r.sd),
                    r.ess_tail,
                ),
            ]
        for stat, ours, theirs, factor, ess in checks:
            gap = abs(float(ours) - theirs) / r.sd
            mcse = factor * math.sqrt(1.0 / n_eff + 1.0 / ess)
            gaps.append(
                {
                    "key": key,
                    "treatment": r.treatment,
                    "stat": stat,
                    "ours": float(ours),
                    "jags": theirs,
                    "jags_sd": r.sd,
                    "gap": gap,
                    "mcse": mcse,
                    "z": gap / mcse,
                }
            )
    g = pd.DataFrame(gaps)
    for stat in ("mean", "sd", "2.5%", "97.5%", "tau median"):
        sel = g[g["stat"] == stat]
        row[stat] = float(sel["gap"].max()) if len(sel) else np.nan
    worst = g.loc[g["gap"].idxmax()]
    row.update(
        max_gap=float(worst["gap"]),
        max_gap_at=f"{worst['stat']} {worst['treatment']}".replace("tau median tau", "tau"),
        mcse_mean=float(g.loc[g["stat"] == "mean", "mcse"].max()),
        mcse_q=float(g.loc[g["stat"].isin(["2.5%", "97.5%"]), "mcse"].max()),
        max_z=float(g["z"].max()),
        note="",
    )
    return row, gaps


def _f(value, fmt: str) -> str:
    return (
        "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:{fmt}}"
    )


def accuracy(args) -> int:
    """Fit every case with the Laplace engine and print the comparison with JAGS."""
    jags = pd.read_csv(JAGS_CSV)
    missing = [k for k in args.keys if k not in set(jags["key"])]
    if missing:
        raise SystemExit(f"no JAGS rows for {missing} in {JAGS_CSV.relative_to(ROOT)}")
    print(
        f"Laplace engine vs long JAGS runs ({JAGS_CSV.relative_to(ROOT)}): |ours - JAGS| / JAGS "
        f"posterior SD; {CHAINS} x {args.draws} draws, seed {args.seed}, nma_bayes "
        f"{nb.__version__}\n",
        flush=True,
    )
    rows, gaps = [], []
    for key in args.keys:
        row, case_gaps = accuracy_case(key, jags, args)
        rows.append(row)
        gaps += case_gaps
        print(
            f"  {key}: {row['fit_s']:.1f} s{', ' + row['note'] if row['note'] else ''}",
            file=sys.stderr,
            flush=True,
        )

    print(
        "| key | model | mean | sd | 2.5% | 97.5% | tau median | max (where) | MC se mean | "
        "MC se 2.5/97.5% | max z | pareto k | IS ESS | fit s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if r["note"]:
            print(f"| {r['key']} | {r['model']} | {r['note']} ||||||||||| {r['fit_s']:.1f} |")
            continue
        print(
            f"| {r['key']} | {r['model']} | {r['mean']:.3f} | {r['sd']:.3f} | {r['2.5%']:.3f} | "
            f"{r['97.5%']:.3f} | {_f(r['tau median'], '.3f')} | {r['max_gap']:.3f} "
            f"({r['max_gap_at']}) | {r['mcse_mean']:.3f} | {r['mcse_q']:.3f} | "
            f"{r['max_z']:.1f} | {r['pareto_k']:.2f} | {r['is_ess']:.0f} | {r['fit_s']:.1f} |"
        )
    fitted = [r for r in rows if not r["note"]]
    if fitted:
        worst = max(fitted, key=lambda r: r["max_gap"])
        over = [r["key"] for r in fitted if r["max_gap"] > args.tol]
        print(
            f"\noverall max |ours - JAGS| / sd: {worst['max_gap']:.3f} ({worst['key']}: "
            f"{worst['max_gap_at']}); cases above {args.tol}: {', '.join(over) or 'none'}"
        )
    refused = [r["key"] for r in rows if r["note"]]
    if refused:
        print(f"refused by the engine: {', '.join(refused)}")
    print(
        "MC se: standard error of a gap from Monte Carlo error alone (ours n_eff = 1 / (1 / "
        "is_ess + 1 / n_draws), JAGS its ESS), in JAGS posterior SDs; max z = the largest gap "
        "over its MC se (below ~3: noise)."
    )
    if args.detail and gaps:
        print("\n| key | treatment | stat | ours | JAGS | JAGS sd | gap / sd | MC se | z |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for g in gaps:
            print(
                f"| {g['key']} | {g['treatment']} | {g['stat']} | {g['ours']:.4f} | "
                f"{g['jags']:.4f} | {g['jags_sd']:.4f} | {g['gap']:.3f} | {g['mcse']:.3f} | "
                f"{g['z']:.1f} |"
            )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keys", nargs="+", choices=list(CASES), default=list(CASES), help="cases (default: all)"
    )
    parser.add_argument("--draws", type=int, default=10000, help="Laplace draws per chain")
    parser.add_argument("--seed", type=int, default=20261207, help="random_seed of the fits")
    parser.add_argument(
        "--tol", type=float, default=0.05, help="target |ours - JAGS| / sd (for the summary line)"
    )
    parser.add_argument("--detail", action="store_true", help="also print every gap")
    parser.add_argument(
        "--make-jags-reference",
        action="store_true",
        help=f"run JAGS and (re)write {JAGS_CSV.relative_to(ROOT)}",
    )
    parser.add_argument(
        "--jags-ess", type=float, default=20000.0, help="JAGS bar: min bulk ESS over d and tau"
    )
    parser.add_argument(
        "--jags-pilot", type=int, default=10000, help="JAGS iterations per chain of the first run"
    )
    parser.add_argument("--rscript", default=shutil.which("Rscript") or "Rscript")
    args = parser.parse_args(argv)
    if args.make_jags_reference:
        return make_jags_reference(args)
    return accuracy(args)


if __name__ == "__main__":
    raise SystemExit(main())
