"""Convergence diagnostics of a fit, through ArviZ (rank-normalised R-hat, bulk and tail ESS).

Thresholds follow Vehtari et al. (2021), "Rank-normalization, folding, and localization: an
improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16:667-718: R-hat <= 1.01 and
bulk ESS >= 400 (100 per chain for 4 chains); any divergent transition is a problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "RHAT_MAX",
    "ESS_MIN",
    "diagnostics_table",
    "convergence_problems",
    "n_divergences",
    "compare_with_exact",
]

RHAT_MAX = 1.01
ESS_MIN = 400


def n_divergences(idata) -> int:
    """Count the divergent transitions after warm-up."""
    if "sample_stats" not in idata.children or "diverging" not in idata["sample_stats"]:
        return 0
    return int(np.asarray(idata["sample_stats"]["diverging"]).sum())


#: Parameters diagnosed: relative effects, heterogeneity, class model, and the free
#: meta-regression interactions (``beta_group``, shown as ``beta[group, term]``; per-treatment
#: ``beta`` only when it is itself free, i.e. exchangeable interactions).
DIAGNOSED = ("d", "tau", "class_mean", "class_sd", "beta_group", "beta_mean", "beta_sd")


def diagnostics_table(idata, var_names=DIAGNOSED) -> pd.DataFrame:
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
    import arviz_stats as az  # lazy; arviz_stats alone, not arviz_plots and matplotlib

    post = idata["posterior"].to_dataset()
    names = [v for v in var_names if v in post]
    if "beta" in post and "beta_group" not in post:  # exchangeable: beta_k are free
        names.append("beta")
    post = _drop_constant(post[names])
    names = [v for v in names if v in post]
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
        shown = "beta" if name == "beta_group" else name
        if extra:  # one label per entry, several dimensions joined ("beta[shared, x]")
            grid = np.meshgrid(*[da[e].values for e in extra], indexing="ij")
            cells = zip(*[g.reshape(-1) for g in grid], strict=True)
            labels = [f"{shown}[{', '.join(str(c) for c in cell)}]" for cell in cells]
        else:
            labels = [shown]
        values = {k: np.asarray(v[name]).reshape(-1) for k, v in stats.items()}
        for i, label in enumerate(labels):
            rows.append({"parameter": label, **{k: float(v[i]) for k, v in values.items()}})
    table = pd.DataFrame(rows, columns=["parameter", "r_hat", "ess_bulk", "ess_tail", "mcse_mean"])
    table.attrs["divergences"] = n_divergences(idata)
    return _importance_capped(table, idata["posterior"].attrs)


def effective_draws(attrs) -> float:
    """Return the effective size of resampled importance draws (Laplace engine), else infinity.

    ArviZ counts the repeated proposals of a resample as separate draws; ``n`` draws resampled
    from weights of effective size ``E`` carry about ``1 / (1 / E + 1 / n)`` (Kish's ESS of the
    weights, then the resampling's own noise). ``attrs``: the posterior group's.
    """
    if attrs.get("engine") != "laplace" or "is_ess" not in attrs or "n_draws" not in attrs:
        return float("inf")
    return 1.0 / (1.0 / float(attrs["is_ess"]) + 1.0 / float(attrs["n_draws"]))


def _importance_capped(table: pd.DataFrame, attrs) -> pd.DataFrame:
    """Cap the ESS of resampled importance draws at :func:`effective_draws`.

    The MCSE of the mean is scaled up to match.
    """
    cap = effective_draws(attrs)
    if not np.isfinite(cap):
        return table
    table = table.copy()
    scale = np.sqrt(np.maximum(table["ess_bulk"] / cap, 1.0))
    table["mcse_mean"] = table["mcse_mean"] * scale
    for col in ("ess_bulk", "ess_tail"):
        table[col] = np.minimum(table[col], cap)
    return table


def _drop_constant(post):
    """Remove parameters fixed by the model, whose R-hat and ESS are undefined.

    E.g. treatments tied to the reference by the common class model: constant, not unconverged.
    """
    out = {}
    for name, da in post.data_vars.items():
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        varies = da.std(("chain", "draw")) > 0
        if extra:  # entries of the first dimension that vary anywhere along the others
            keep = varies.any(extra[1:]).values if len(extra) > 1 else varies.values
            if keep.any():
                out[name] = da.isel({extra[0]: np.nonzero(keep)[0]})
        elif bool(varies):
            out[name] = da
    return post.__class__(out)


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


def compare_with_exact(fit, *, ci_prob: float) -> pd.DataFrame:
    """Differences between a fit's draws and its exact posterior, in MCSE units.

    Parameters
    ----------
    fit : NetworkFit
        Any fit of a normal-likelihood model.
    ci_prob : float
        Interval whose ends are compared.

    Returns
    -------
    DataFrame
        ``parameter, stat, mcmc, exact, mcse, z`` with ``z = (mcmc - exact) / mcse``.
    """
    import arviz_stats as az  # lazy; arviz_stats alone, not arviz_plots and matplotlib

    post = fit.idata["posterior"].to_dataset()
    exact = fit.exact
    alpha = (1 - ci_prob) / 2
    probs = {"median": 0.5, "ci_lower": alpha, "ci_upper": 1 - alpha}
    n_theta = exact.means.shape[1]  # d, then any free meta-regression interactions
    ex_d = exact.linear_summary(np.eye(n_theta)[: len(exact.treatments)], ci_prob)
    rows = []

    def add(label, draws_da, ex_stats):
        flat = np.asarray(draws_da).reshape(-1)
        ds = draws_da.to_dataset(name="x")
        mcse = float(az.mcse(ds, method="mean")["x"])
        rows.append((label, "mean", flat.mean(), ex_stats["mean"], mcse))
        for stat, q in probs.items():
            mcse_q = float(az.mcse(ds, method="quantile", prob=q)["x"])
            rows.append((label, stat, np.quantile(flat, q), ex_stats[stat], mcse_q))

    for i, t in enumerate(exact.treatments):
        add(f"d[{t}]", post["d"].sel(treatment=t), {k: v[i] for k, v in ex_d.items()})
    if "beta_group" in post:  # free interactions: the parameters after d, group-major
        n_d, beta = len(exact.treatments), post["beta_group"]
        cells = [(g, t) for g in beta["interaction_group"].values for t in beta["term"].values]
        ex_b = exact.linear_summary(np.eye(n_theta)[n_d:], ci_prob)
        for j, (g, t) in enumerate(cells):
            draws = beta.sel(interaction_group=g, term=t)
            add(f"beta[{g}, {t}]", draws, {k: v[j] for k, v in ex_b.items()})
    if fit.spec.random:
        add("tau", post["tau"], exact.tau_summary(ci_prob))
    table = pd.DataFrame(rows, columns=["parameter", "stat", "mcmc", "exact", "mcse"])
    table["z"] = (table["mcmc"] - table["exact"]) / table["mcse"]
    return table
