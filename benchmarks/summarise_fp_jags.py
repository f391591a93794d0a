"""Summarise draws of ``jags_survival.R``'s fractional-polynomial models into a tidy reference CSV.

    python benchmarks/summarise_fp_jags.py MODEL DRAWS.csv [MODEL DRAWS.csv ...] --out FILE.csv

For each ``MODEL`` (a label such as ``FP1_REINT_LNvar``) and its draws (with the companion
``DRAWS.dic.csv`` when it exists), writes rows ``model, quantity, treatment, comparator, mean,
sd, median, lower95, upper95, ess_bulk, rhat``: ``d_0``, ``d_1`` (``d_2``) of each treatment vs
B, ``HR_month_m`` (m = 3, 6, ..., 24: the HR of each treatment vs B, ``exp(sum_j f_j(m) d_j)``
with ``f = (1, log m[, m])``, summarised as an HR), ``tau`` (random effects), and
``mean_deviance``, ``pD``, ``DIC`` (in ``mean``). ESS and R-hat: ArviZ, bulk. Treatment indices
are those of the data layout (1 = B, 2 = A, 3 = C, 4 = D, 5 = E, 6 = F; see
``tests/fitting/data/README.md``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import arviz_stats as az
import numpy as np
import pandas as pd
import xarray as xr

TREATMENTS = {2: "A", 3: "C", 4: "D", 5: "E", 6: "F"}
MONTHS = (3, 6, 9, 12, 15, 18, 21, 24)


def _chains(draws: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    chain = draws["chain"].to_numpy()
    return np.stack([values[chain == c] for c in sorted(np.unique(chain))])


def _row(model, quantity, treatment, x: np.ndarray) -> dict:
    """x: (chain, draw)."""
    ds = xr.Dataset({"x": (("chain", "draw"), x)})
    flat = x.reshape(-1)
    lo, med, hi = np.quantile(flat, [0.025, 0.5, 0.975])
    return {"model": model, "quantity": quantity, "treatment": treatment,
            "comparator": "B" if treatment else "", "mean": flat.mean(), "sd": flat.std(ddof=1),
            "median": med, "lower95": lo, "upper95": hi,
            "ess_bulk": float(az.ess(ds, method="bulk")["x"]),
            "rhat": float(az.rhat(ds)["x"])}  # fmt: skip


def summarise(model: str, path: Path) -> list[dict]:
    draws = pd.read_csv(path)
    n_coef = sum(c.startswith("d[2,") for c in draws.columns)
    rows = []
    for j, name in TREATMENTS.items():
        coef = [draws[f"d[{j},{q + 1}]"].to_numpy() for q in range(n_coef)]
        rows += [_row(model, f"d_{q}", name, _chains(draws, c)) for q, c in enumerate(coef)]
        for m in MONTHS:
            basis = [1.0, np.log(m), float(m)][:n_coef]
            hr = np.exp(sum(b * c for b, c in zip(basis, coef, strict=True)))
            rows.append(_row(model, f"HR_month_{m}", name, _chains(draws, hr)))
    if "tau" in draws:
        rows.append(_row(model, "tau", "", _chains(draws, draws["tau"].to_numpy())))
    dic = path.with_name(path.name.removesuffix(".csv") + ".dic.csv")
    if dic.exists():
        values = pd.read_csv(dic).iloc[0]
        rows += [{"model": model, "quantity": k, "treatment": "", "comparator": "",
                  "mean": float(values[k])} for k in ("mean_deviance", "pD", "DIC")]  # fmt: skip
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="MODEL DRAWS.csv pairs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error("give MODEL DRAWS.csv pairs")
    rows = []
    for model, path in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        rows += summarise(model, Path(path))
    pd.DataFrame(rows).to_csv(args.out, index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
