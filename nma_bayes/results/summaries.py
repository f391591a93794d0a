"""Posterior summaries of relative effects and rankings, as tidy DataFrames.

Pure functions of posterior draws (``xarray.DataArray`` with dims ``chain, draw, treatment``): no
sampling and no plotting here. Intervals are equal-tailed credible intervals.

References
----------
Salanti G, Ades AE, Ioannidis JPA (2011). Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 64:163-171 (rankograms, SUCRA).
Rücker G, Schwarzer G (2015). Ranking treatments in frequentist network meta-analysis works without
resampling methods. BMC Med Res Methodol 15:58 (SUCRA as the scaled mean rank).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..base import validate
from ..base.errors import ModelSpecError

__all__ = [
    "check_ci_prob",
    "flat_draws",
    "describe_draws",
    "interval_row",
    "ratio_moments",
    "relative_effect_draws",
    "relative_effects_table",
    "league_table",
    "rank_draws",
    "rank_probabilities_table",
    "sucra_table",
]

SAMPLE_DIMS = ("chain", "draw")


def check_ci_prob(ci_prob: float) -> float:
    """Validate a credible-interval probability (:func:`nma_bayes.base.validate.check_ci_prob`)."""
    return validate.check_ci_prob(ci_prob)


def flat_draws(draws: xr.DataArray) -> np.ndarray:
    """Stack chains and draws into one leading sample axis."""
    extra = [d for d in draws.dims if d not in SAMPLE_DIMS]
    values = draws.transpose(*SAMPLE_DIMS, *extra).values
    return values.reshape(-1, *values.shape[2:])


def describe_draws(samples: np.ndarray, ci_prob: float) -> dict[str, np.ndarray]:
    """Mean, SD, median and equal-tailed interval of draws along axis 0.

    Parameters
    ----------
    samples : ndarray (n_draws, ...)
        Posterior draws.
    ci_prob : float
        Probability mass of the interval.

    Returns
    -------
    dict of str to ndarray
        ``mean, sd, median, ci_lower, ci_upper``.
    """
    alpha = (1 - check_ci_prob(ci_prob)) / 2
    lo, med, hi = np.quantile(samples, [alpha, 0.5, 1 - alpha], axis=0)
    return {
        "mean": samples.mean(axis=0),
        "sd": samples.std(axis=0, ddof=1),
        "median": med,
        "ci_lower": lo,
        "ci_upper": hi,
    }


def interval_row(
    parts: dict, ci_prob: float, *, test: str, converge, ess_cap: float = float("inf")
) -> dict:
    """Medians, equal-tailed intervals, a Bayesian p-value and convergence of a few quantities.

    Parameters
    ----------
    parts : dict of str to DataArray
        Draws with ``chain`` and ``draw`` dimensions, by name.
    ci_prob : float
        Interval probability.
    test : str
        The part whose two-sided Bayesian p-value ``2 min(P(x > 0), P(x < 0))`` is reported
        (multinma's node-split p-value).
    converge : sequence of str
        Parts whose smallest bulk ESS (``ess_bulk``) and largest R-hat (``r_hat``) are reported
        (Vehtari et al. 2021), so that a table can be checked, and compared with a reference
        within Monte Carlo error, without the fits.
    ess_cap : float
        Upper bound of the reported ESS: the effective size of resampled importance draws
        (:func:`~nma_bayes.results.convergence.effective_draws`), which ArviZ would overstate.

    Returns
    -------
    dict
        ``name, name_lower, name_upper`` per part, ``p_value``, ``ess_bulk``, ``r_hat``.
    """
    import arviz_stats as az  # lazy: arviz_stats alone

    alpha = (1 - ci_prob) / 2
    row = {}
    for name, x in parts.items():
        lo, med, hi = np.quantile(flat_draws(x), [alpha, 0.5, 1 - alpha])
        row |= {name: med, f"{name}_lower": lo, f"{name}_upper": hi}
    x = flat_draws(parts[test])
    row["p_value"] = 2 * min((x > 0).mean(), (x < 0).mean())
    own = xr.Dataset({k: parts[k].transpose(*SAMPLE_DIMS).drop_vars(
        [c for c in parts[k].coords if c not in SAMPLE_DIMS]) for k in converge})  # fmt: skip
    row["ess_bulk"] = min(min(float(v) for v in az.ess(own, method="bulk").values()), ess_cap)
    row["r_hat"] = max(float(v) for v in az.rhat(own).values())
    return row


def ratio_moments(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (``ddof=1``) of ``exp(samples)`` along axis 0 (a ratio from log-ratio draws).

    Overflow to infinity is left to the NaN guard of the tables (``tables.finite``).
    """
    with np.errstate(over="ignore"):
        ratios = np.exp(samples)
        return ratios.mean(axis=0), ratios.std(axis=0, ddof=1)


def relative_effect_draws(d_full: xr.DataArray, reference: str) -> xr.DataArray:
    """Draws of every treatment's effect relative to ``reference`` (``d_t - d_reference``)."""
    return d_full - d_full.sel(treatment=reference)


def comparison_pairs(n: int, reference: int, *, all_pairs: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(treatment, comparator)`` of the comparisons a relative-effects table lists.

    Parameters
    ----------
    n : int
        Number of treatments.
    reference : int
        Position of the comparator when ``all_pairs`` is false.
    all_pairs : bool
        Every unordered pair once: ``treatment`` after ``comparator`` in the treatment order
        (comparator-major order).

    Returns
    -------
    tuple of ndarray of int
    """
    if all_pairs:
        idx_c, idx_t = np.triu_indices(n, k=1)  # rows: comparator j, columns: treatment i > j
        return idx_t.astype(int), idx_c.astype(int)
    idx_t = np.array([i for i in range(n) if i != reference], dtype=int)
    return idx_t, np.full(idx_t.size, reference, dtype=int)


def relative_effects_table(
    d_full: xr.DataArray, reference: str, *, all_pairs: bool, ci_prob: float
) -> pd.DataFrame:
    """Tidy table of relative effects.

    Parameters
    ----------
    d_full : DataArray (chain, draw, treatment)
        Effects of all treatments relative to the model's reference (0 for it).
    reference : str
        Comparator when ``all_pairs`` is false.
    all_pairs : bool
        If true, every unordered pair once: ``treatment`` vs ``comparator`` where the comparator
        comes earlier in the treatment order.
    ci_prob : float
        Interval probability.

    Returns
    -------
    DataFrame
        ``treatment, comparator, mean, sd, median, ci_lower, ci_upper``.
    """
    names = [str(t) for t in d_full["treatment"].values]
    flat = flat_draws(d_full)
    idx_t, idx_c = comparison_pairs(len(names), names.index(reference), all_pairs=all_pairs)
    stats = describe_draws(flat[:, idx_t] - flat[:, idx_c], ci_prob)
    table = pd.DataFrame(
        {"treatment": [names[i] for i in idx_t], "comparator": [names[j] for j in idx_c], **stats}
    )
    return table


def league_table(d_full: xr.DataArray, *, ci_prob: float, digits: int, stat: str) -> pd.DataFrame:
    """Square league table: cell (row, column) is the effect of the row vs the column treatment.

    Parameters
    ----------
    d_full : DataArray (chain, draw, treatment)
        Effects relative to the model's reference.
    ci_prob : float
        Interval probability.
    digits : int
        Decimals shown.
    stat : {"median", "mean"}
        Point estimate shown.

    Returns
    -------
    DataFrame
        Strings ``"est (lower, upper)"``; the diagonal holds the treatment names (netmeta layout).
    """
    names = [str(t) for t in d_full["treatment"].values]
    pairs = relative_effects_table(d_full, names[0], all_pairs=True, ci_prob=ci_prob)
    return league_table_from_pairs(pairs, names, digits=digits, stat=stat)


def league_matrices(
    pairs: pd.DataFrame, names: list[str], reverse: pd.DataFrame | None = None
) -> dict[str, np.ndarray]:
    """Square matrices of every pairwise summary from an all-pairs relative-effects table.

    Cell ``(i, j)`` is treatment ``i`` vs ``j``; the reverse comparison of a pair is its negation,
    so ``mean`` and ``median`` change sign and the interval ends swap. On a ratio scale the
    reverse is not a negation (the mean of ``1/R`` is not ``1/mean(R)``): pass the reverse
    comparisons' own summaries as ``reverse``. The diagonal is NaN.

    Parameters
    ----------
    pairs : DataFrame
        ``relative_effects(all_pairs=True)``: ``treatment, comparator, mean, median, ci_lower,
        ci_upper``.
    names : list of str
        Row and column order.
    reverse : DataFrame, optional
        The same comparisons with ``treatment`` and ``comparator`` swapped (any row order).

    Returns
    -------
    dict of str to ndarray (T, T)
        ``mean, median, ci_lower, ci_upper``.
    """
    pos = {t: i for i, t in enumerate(names)}

    def index(table):
        i = np.array([pos[str(t)] for t in table["treatment"]], dtype=int)
        return i, np.array([pos[str(t)] for t in table["comparator"]], dtype=int)

    i, j = index(pairs)
    out = {}
    for key, flipped in (("mean", "mean"), ("median", "median"),
                         ("ci_lower", "ci_upper"), ("ci_upper", "ci_lower")):  # fmt: skip
        m = np.full((len(names), len(names)), np.nan)
        m[i, j] = pairs[key].to_numpy(dtype=float)
        if reverse is None:
            m[j, i] = -pairs[flipped].to_numpy(dtype=float)
        else:
            m[index(reverse)] = reverse[key].to_numpy(dtype=float)
        out[key] = m
    return out


def league_table_from_pairs(
    pairs: pd.DataFrame,
    names: list[str],
    *,
    digits: int,
    stat: str,
    reverse: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Format :func:`league_matrices` as the netmeta-style league table of strings.

    ``reverse``: the reverse comparisons' summaries, on a ratio scale (:func:`league_matrices`).

    Returns
    -------
    DataFrame
        ``"est (lower, upper)"`` strings, row treatment vs column treatment; the diagonal holds
        the treatment names.
    """
    if stat not in ("median", "mean"):
        raise ModelSpecError(f"stat={stat!r}: use 'median' or 'mean'.", rule="bad-option")
    m = league_matrices(pairs, names, reverse)
    fmt = f"{{:.{int(digits)}f}}"
    cells = np.empty((len(names), len(names)), dtype=object)
    for i, row in enumerate(names):
        for j in range(len(names)):
            if i == j:
                cells[i, j] = row
            else:
                est, lo, hi = (fmt.format(m[k][i, j]) for k in (stat, "ci_lower", "ci_upper"))
                cells[i, j] = f"{est} ({lo}, {hi})"
    out = pd.DataFrame(cells, index=pd.Index(names, name="treatment"), columns=names)
    out.columns.name = "comparator"
    return out


def rank_draws(d_full: xr.DataArray, *, lower_is_better: bool) -> np.ndarray:
    """Rank of every treatment in every draw (1 = best).

    Exact ties (e.g. the treatments of one class under the common class model) are broken at
    random with a fixed seed, so tied treatments share the rank probabilities equally and the
    result does not depend on the treatment order.

    Parameters
    ----------
    d_full : DataArray (chain, draw, treatment)
        Effects (any common reference; ranks do not depend on it).
    lower_is_better : bool
        Whether smaller effects are better (e.g. symptom scores, SMD of harm).

    Returns
    -------
    ndarray (n_draws, n_treatments) of int
    """
    flat = flat_draws(d_full)
    key = flat if lower_is_better else -flat
    tiebreak = np.random.default_rng(0).random(key.shape)
    order = np.lexsort((tiebreak, key), axis=-1)
    ranks = np.empty_like(order)
    rows = np.arange(flat.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, flat.shape[1] + 1)
    return ranks


def rank_probabilities_table(
    d_full: xr.DataArray, *, lower_is_better: bool, cumulative: bool = False
) -> pd.DataFrame:
    """Posterior probability of each rank for each treatment (rankogram data).

    With ``cumulative``, the probability of each rank or better, ``P(rank <= k)``: the
    cumulative ranking curve of Salanti et al. (2011), whose mean over the first ``T - 1`` ranks
    is SUCRA. Each entry is the share of draws with ``rank <= k`` (not a cumulative sum of
    rounded shares), so the last rank's is exactly 1.

    Returns
    -------
    DataFrame
        Index ``treatment``, columns ranks ``1..T`` (rank 1 = best); rows and columns sum to 1
        (cumulative: rows rise to 1 at rank ``T``).
    """
    ranks = rank_draws(d_full, lower_is_better=lower_is_better)
    n_t = ranks.shape[1]
    hit = np.less_equal if cumulative else np.equal
    probs = np.stack([hit(ranks, r).mean(axis=0) for r in range(1, n_t + 1)], axis=1)
    names = [str(t) for t in d_full["treatment"].values]
    out = pd.DataFrame(probs, index=pd.Index(names, name="treatment"), columns=range(1, n_t + 1))
    out.columns.name = "rank"
    return out


def sucra_table(d_full: xr.DataArray, *, lower_is_better: bool, ci_prob: float) -> pd.DataFrame:
    """SUCRA with its uncertainty, mean rank and probability of being best.

    SUCRA is the posterior mean of the scaled rank ``(T - rank) / (T - 1)`` (Rücker & Schwarzer
    2015), equal to the area under the cumulative ranking curve (Salanti et al. 2011). The interval
    is the equal-tailed interval of the per-draw scaled rank, so SUCRA carries its uncertainty.

    Returns
    -------
    DataFrame
        ``treatment, sucra, mean_rank, ci_lower, ci_upper, p_best``, in treatment order.
    """
    ranks = rank_draws(d_full, lower_is_better=lower_is_better)
    n_t = ranks.shape[1]
    scaled = (n_t - ranks) / (n_t - 1)
    s = describe_draws(scaled, ci_prob)
    names = [str(t) for t in d_full["treatment"].values]
    return pd.DataFrame(
        {
            "treatment": names,
            "sucra": s["mean"],
            "mean_rank": ranks.mean(axis=0),
            "ci_lower": s["ci_lower"],
            "ci_upper": s["ci_upper"],
            "p_best": (ranks == 1).mean(axis=0),
        }
    )
