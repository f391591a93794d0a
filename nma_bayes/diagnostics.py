"""Convergence diagnostics of a fit, through ArviZ (rank-normalised R-hat, bulk and tail ESS).

Thresholds follow Vehtari et al. (2021), "Rank-normalization, folding, and localization: an
improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16:667-718: R-hat <= 1.01 and
bulk ESS >= 400 (100 per chain for 4 chains); any divergent transition is a problem.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

__all__ = ["RHAT_MAX", "ESS_MIN", "diagnostics_table", "convergence_problems", "n_divergences"]

RHAT_MAX = 1.01
ESS_MIN = 400


def n_divergences(idata) -> int:
    """Count the divergent transitions after warm-up."""
    if "sample_stats" not in idata.children or "diverging" not in idata["sample_stats"]:
        return 0
    return int(np.asarray(idata["sample_stats"]["diverging"]).sum())


def diagnostics_table(idata, var_names=("d", "tau")) -> pd.DataFrame:
    """R-hat, bulk and tail ESS and Monte Carlo SE of the mean, per scalar parameter.

    Parameters
    ----------
    idata : xarray.DataTree
        The fit's ArviZ data with a ``posterior`` group.
    var_names : sequence of str
        Parameters to diagnose (those absent are skipped).

    Returns
    -------
    DataFrame
        ``parameter, r_hat, ess_bulk, ess_tail, mcse_mean``; ``attrs["divergences"]`` holds the
        number of divergent transitions.
    """
    post = idata["posterior"].to_dataset()
    names = [v for v in var_names if v in post]
    post = post[names]
    stats = {
        "r_hat": az.rhat(post),
        "ess_bulk": az.ess(post, method="bulk"),
        "ess_tail": az.ess(post, method="tail"),
        "mcse_mean": az.mcse(post, method="mean"),
    }
    rows = []
    for name in names:
        da = post[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        labels = [f"{name}[{c}]" for c in da[extra[0]].values] if extra else [name]
        values = {k: np.atleast_1d(np.asarray(v[name])) for k, v in stats.items()}
        for i, label in enumerate(labels):
            rows.append({"parameter": label, **{k: float(v[i]) for k, v in values.items()}})
    table = pd.DataFrame(rows, columns=["parameter", "r_hat", "ess_bulk", "ess_tail", "mcse_mean"])
    table.attrs["divergences"] = n_divergences(idata)
    return table


def convergence_problems(table: pd.DataFrame) -> list[str]:
    """Describe each problem in a diagnostics table (empty list when none).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`diagnostics_table`.

    Returns
    -------
    list of str
    """
    problems = []
    bad = table.loc[~(table["r_hat"] <= RHAT_MAX), "parameter"].tolist()
    if bad:
        problems.append(f"R-hat > {RHAT_MAX} for {', '.join(bad[:5])}")
    low = table.loc[~(table["ess_bulk"] >= ESS_MIN), "parameter"].tolist()
    if low:
        problems.append(f"bulk ESS < {ESS_MIN} for {', '.join(low[:5])}")
    n_div = int(table.attrs.get("divergences", 0))
    if n_div:
        problems.append(f"{n_div} divergent transitions")
    return problems
