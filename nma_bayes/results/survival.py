"""Hazard ratios over time of a piecewise-exponential survival fit.

A PWE fit (:func:`nma_bayes.fitting.survival.fit_survival`) has one log hazard ratio per
treatment and segment of the time axis: the relative effects at the segment covariate's level
(:meth:`~nma_bayes.results.record.FitRecord.relative_effects` with ``at=``). A proportional-hazards
fit has one for all times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..data.survival import SEGMENT, segment_bounds
from ..models.survival_basis import fp_basis
from ..models.survival_model import PH
from .survival_fit import SurvivalFit, log_cumulative_hazard

__all__ = ["cumulative_hazard", "hazard_ratios", "kaplan_meier", "rmst_rankings",
           "survival_summary"]


def _segments(fit) -> list[str] | None:
    cov = fit.network.covariates
    if cov is None:
        return None
    if SEGMENT not in cov.levels:
        raise ModelSpecError(
            "hazard_ratios() needs a survival fit (fit_survival); this fit's covariates are "
            f"{list(cov.levels) or cov.names}.",
            rule="bad-option",
        )
    return sorted(cov.levels[SEGMENT], key=segment_bounds)  # by time (the levels sort as text)


def _check_times(times) -> np.ndarray:
    values = np.atleast_1d(np.asarray(times, dtype=object))
    if values.ndim != 1 or not all(VA.is_real(t) and 0 <= float(t) < np.inf for t in values):
        raise ModelSpecError(
            f"times= must be finite times >= 0, e.g. [3, 6, 12, 24]; got {times!r}.",
            rule="bad-option",
        )
    return values.astype(float)


def hazard_ratios(fit, times, *, comparator: str | None = None, ci_prob: float = 0.95,
                  scale: str = "HR",
                  baseline_study: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Each treatment's hazard ratio against ``comparator`` at each of ``times``.

    Parameters
    ----------
    fit : NetworkFit or SurvivalFit
        A piecewise-exponential fit, or a fractional-polynomial or parametric one.
    times : sequence of float
        Times (in the data's units); a time on a cut point belongs to the segment it starts.
    comparator : str, optional
        Default: the fit's reference treatment.
    ci_prob : float
        Interval probability.
    scale : {"HR", "logHR"}
        Hazard ratios (quantiles mapped by ``exp``), or log hazard ratios.
    baseline_study : str, optional
        For models whose hazard ratio depends on the baseline (non-proportional parametric
        and AFT models): the study whose baseline defines it (default: the first study).

    Returns
    -------
    DataFrame
        ``time, segment`` (``segment`` for piecewise-exponential fits only) and the columns
        of ``relative_effects`` (``treatment, comparator, mean, sd, median, ci_lower,
        ci_upper``), one row per time and treatment.
    """
    times = _check_times(times)
    if scale not in ("HR", "logHR"):
        raise ModelSpecError(f"scale={scale!r}: use 'HR' or 'logHR'.", rule="bad-option")
    if isinstance(fit, SurvivalFit):
        return _model_hazard_ratios(fit, times, comparator=comparator, ci_prob=ci_prob,
                                    scale=scale, baseline_study=baseline_study)  # fmt: skip
    segments = _segments(fit)
    rows = []
    for t in times:
        at, label = None, "all times (proportional hazards)"
        if segments is not None:
            label = next(s for s in segments if segment_bounds(s)[0] <= t < segment_bounds(s)[1])
            at = {SEGMENT: label}
        table = fit.relative_effects(comparator, ci_prob=ci_prob, at=at,
                                     scale=None if scale == "logHR" else "HR")  # fmt: skip
        rows.append(table.assign(time=t, segment=label))
    out = pd.concat(rows, ignore_index=True)
    return out[["time", "segment", *[c for c in out if c not in ("time", "segment")]]]


def _model_hazard_ratios(fit: SurvivalFit, times: np.ndarray, *, comparator, ci_prob: float,
                         scale: str, baseline_study) -> pd.DataFrame:  # fmt: skip
    """Hazard ratios of a fractional-polynomial or parametric fit at ``times``.

    Fractional polynomials: ``log HR(t) = sum_j f_j(t) (d_Xj - d_Cj)``; proportional hazards:
    ``d_X - d_C``; other parametric models: ``log h_X(t) - log h_C(t)`` in the baseline study,
    each hazard the central difference of the exact cumulative hazard (relative step 1e-5).
    """
    from .summaries import describe_draws, flat_draws

    comparator = fit._treatment(comparator)
    c = fit.treatments.index(comparator)
    if fit.spec.model == "fp" or (fit.spec.model in PH and not fit.spec.shape_by_treatment):
        full = flat_draws(fit.d_full())  # (N, T[, P])
        diff = full - full[:, [c]]
        if fit.spec.model == "fp":
            log_hr = np.einsum("ntp,kp->ntk", diff, fp_basis(times, fit.spec.powers))
        else:
            log_hr = np.repeat(diff[:, :, None], times.size, axis=2)
    else:
        step = 1e-5 * np.maximum(times, 1e-3)
        up = log_cumulative_hazard(fit, baseline_study, times + step)
        down = log_cumulative_hazard(fit, baseline_study, np.maximum(times - step, 1e-12))
        log_h = up + np.log(-np.expm1(down - up))  # log(H(t+e) - H(t-e)); the 2e cancels
        log_hr = log_h - log_h[:, [c]]
    keep = [i for i in range(len(fit.treatments)) if i != c]
    rows = []
    for k, t in enumerate(times):
        x = log_hr[:, keep, k]
        stats = describe_draws(x, ci_prob)
        if scale == "HR":
            stats = describe_draws(np.exp(x), ci_prob)
        rows.append(pd.DataFrame({"time": t, "treatment": [fit.treatments[i] for i in keep],
                                  "comparator": comparator, **stats}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _model_hazards(fit: SurvivalFit, baseline_study, times: np.ndarray, horizon: float):
    """Return a fine piecewise-constant version of a model fit's hazards.

    The form of ``_segment_hazards``.

    Cells of a grid from 0 to the last of ``times``, ``horizon`` and the data's follow-up (800
    cells plus the requested times) get the hazard ``(H(b) - H(a)) / (b - a)``, so the cumulative
    hazard is exact at every grid point and the median and RMST are accurate to the cell width.
    """
    end = max(float(times.max()), horizon, fit.design.follow_up)
    grid = np.unique(np.concatenate([np.linspace(0.0, end, 801), times, [horizon]]))
    log_cum = log_cumulative_hazard(fit, baseline_study, grid[1:])  # (N, T, n)
    cum = np.concatenate([np.zeros(log_cum.shape[:2] + (1,)), np.exp(log_cum)], axis=2)
    with np.errstate(divide="ignore"):
        log_h = np.log(np.maximum(np.diff(cum, axis=2), 0.0) / np.diff(grid))
    return log_h, grid[:-1], list(fit.treatments), end


def _segment_hazards(fit, baseline_study: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Draws of each treatment's log hazard per segment in ``baseline_study``'s population.

    Returns ``(log_h (N, T, K), starts (K,), treatments)``: the study's baseline of each segment
    (its base arm's log hazard, ``mu``) plus each treatment's effect against that base arm.
    """
    from .summaries import flat_draws

    segmented = _segments(fit)
    segments = segmented or ["[0,Inf)"]
    post = fit.idata["posterior"]
    units = [f"{baseline_study} {s}" for s in segments]
    known = set(post["mu"].coords["outcome_study"].values.tolist())
    if not all(u in known for u in units):
        studies = sorted({str(u).rsplit(" ", 1)[0] for u in known})
        raise ModelSpecError(
            f"baseline_study={baseline_study!r} is not a study of this fit with data in every "
            f"segment; studies: {', '.join(studies[:12])}.",
            rule="bad-option",
        )
    net = fit.network
    log_h = []
    for segment, unit in zip(segments, units, strict=True):
        at = None if segmented is None else {SEGMENT: segment}
        d = flat_draws(fit.posterior.at(at).d_full())  # (N, T), network order
        mu = np.asarray(post["mu"].sel(outcome_study=unit)).reshape(-1)
        base = net.treatments[net.base[net.studies.index(unit)]]
        log_h.append(mu[:, None] + d - d[:, [net.treatments.index(base)]])
    starts = np.array([segment_bounds(s)[0] for s in segments])
    return np.stack(log_h, axis=2), starts, list(net.treatments)


def cumulative_hazard(log_h: np.ndarray, starts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``H(t) = sum_k h_k |[s_k, s_{k+1}) n [0, t)|`` for each time (..., K) -> (..., n_times)."""
    ends = np.append(starts[1:], np.inf)
    # time spent in each segment before t: clip(t - s_k, 0, s_{k+1} - s_k)
    spent = np.clip(times[:, None] - starts[None, :], 0.0, (ends - starts)[None, :])
    return np.exp(log_h) @ spent.T


def _median(log_h: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Time at which S = 1/2, exactly for piecewise-constant hazards (inf if never)."""
    h = np.exp(log_h)
    ends = np.append(starts[1:], np.inf)
    width = ends - starts
    with np.errstate(invalid="ignore"):  # inf widths times 0 hazards
        full = np.where(np.isinf(width), np.inf, h * np.where(np.isinf(width), 0.0, width))
    before = np.concatenate([np.zeros(h.shape[:-1] + (1,)), np.cumsum(full, axis=-1)[..., :-1]], -1)
    target = np.log(2.0)
    # the segment where the cumulative hazard crosses log 2, and the time within it
    inside = (before <= target) & (before + full > target)
    k = np.argmax(inside, axis=-1)
    found = inside.any(axis=-1)
    hk = np.take_along_axis(h, k[..., None], -1)[..., 0]
    bk = np.take_along_axis(before, k[..., None], -1)[..., 0]
    return np.where(found, starts[k] + (target - bk) / hk, np.inf)


def _rmst(log_h: np.ndarray, starts: np.ndarray, horizon: float) -> np.ndarray:
    """``int_0^horizon S(t) dt``, exactly: ``sum_k S(s_k) (1 - e^{-h_k L_k}) / h_k``."""
    h = np.exp(log_h)
    ends = np.minimum(np.append(starts[1:], np.inf), horizon)
    length = np.clip(ends - starts, 0.0, None)
    surv_start = np.exp(-cumulative_hazard(log_h, starts, np.minimum(starts, horizon)))
    return (surv_start * -np.expm1(-h * length) / h).sum(axis=-1)


def survival_summary(fit, times, *, baseline_study: str, horizon: float | None = None,
                     ci_prob: float = 0.95) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Survival curves, median survival and RMST per treatment in a study's population.

    Each posterior draw gives each treatment's piecewise-constant hazard in ``baseline_study``
    (its segment baselines ``mu`` plus the treatment's effects against its base arm), hence
    ``S(t) = exp(-H(t))``; the median (``S = 1/2``) and the restricted mean survival time to
    ``horizon`` are exact for piecewise-constant hazards.

    Parameters
    ----------
    fit : NetworkFit
        A piecewise-exponential fit (:func:`~nma_bayes.fitting.survival.fit_survival`).
    times : sequence of float
        Times of the survival curves.
    baseline_study : str
        The study whose baseline hazards define the population (gemtcPlus's ``ref.std``).
    horizon : float, optional
        RMST horizon (default: the largest of ``times``).
    ci_prob : float
        Interval probability.

    Returns
    -------
    dict of DataFrame
        ``"survival"`` (``treatment, time, mean, sd, median, ci_lower, ci_upper``),
        ``"median"`` and ``"rmst"`` (``treatment, mean, ...``; a median beyond the data's
        last segment is infinite in the draws where survival stays above 1/2, and the
        ``share_reached`` column says in how many it is reached).
    """
    from .summaries import describe_draws

    times = _check_times(times)
    ci_prob = VA.check_ci_prob(ci_prob)
    horizon = float(times.max()) if horizon is None else float(_check_times([horizon])[0])
    end = np.inf
    if isinstance(fit, SurvivalFit):
        log_h, starts, treatments, end = _model_hazards(fit, baseline_study, times, horizon)
    else:
        log_h, starts, treatments = _segment_hazards(fit, baseline_study)
    surv = np.exp(-cumulative_hazard(log_h, starts, times))  # (N, T, n_times)
    stats = describe_draws(surv.reshape(surv.shape[0], -1), ci_prob)
    curves = pd.DataFrame({"treatment": np.repeat(treatments, len(times)),
                           "time": np.tile(times, len(treatments)), **stats})  # fmt: skip
    medians = _median(log_h, starts)
    medians = np.where(medians <= end, medians, np.inf)  # a model's curve is not extrapolated
    reached = np.isfinite(medians)
    med = describe_draws(np.where(reached, medians, 0.0), ci_prob)
    # quantiles of draws that never reach 1/2 are infinite where they fall; no mean or SD then
    alpha = (1 - ci_prob) / 2
    med["ci_lower"], med["median"], med["ci_upper"] = np.quantile(medians, [alpha, 0.5, 1 - alpha],
                                                                 axis=0)  # fmt: skip
    for key in ("mean", "sd"):
        med[key] = np.where(reached.all(axis=0), med[key], np.nan)
    median = pd.DataFrame({"treatment": treatments, **med, "share_reached": reached.mean(axis=0)})
    rmst = pd.DataFrame({"treatment": treatments, "horizon": horizon,
                         **describe_draws(_rmst(log_h, starts, horizon), ci_prob)})  # fmt: skip
    return {"survival": curves, "median": median, "rmst": rmst}


def kaplan_meier(data: pd.DataFrame, *, study: str, columns: dict | None = None) -> pd.DataFrame:
    """Return the observed survival of each arm of ``study`` (Kaplan-Meier steps).

    For overlaying on model curves (:func:`~nma_bayes.plots.survival.plot_survival`).

    Event times (``study, treatment, time, status``): the product-limit estimate
    ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` (Kaplan & Meier 1958). Grouped intervals: the same
    product over intervals, ``S(t.end) = prod (1 - n.event / n.risk)`` (the life-table form the
    digitised curves came from).

    Returns
    -------
    DataFrame
        ``treatment, time, survival``, starting at ``(0, 1)`` for each arm.
    """
    from ..data.survival import check_event_times, survival_intervals

    names = dict(columns or {})
    if names.get("t.start", "t.start") in data.columns:
        table = survival_intervals(data, columns=columns)
        table = table[table["study"] == study]
        pieces = {t: (g["t.end"].to_numpy(float), g["n.event"].to_numpy(float),
                      g["n.risk"].to_numpy(float)) for t, g in table.groupby("treatment",
                                                                              sort=False)}
    else:
        table = check_event_times(data, columns=columns)
        table = table[table["study"] == study]
        pieces = {}
        for t, g in table.groupby("treatment", sort=False):
            times = np.sort(g["time"].to_numpy(float))
            status = g.sort_values("time")["status"].to_numpy(float)
            at = np.unique(times[status == 1])
            deaths = np.array([status[times == x].sum() for x in at])
            at_risk = np.array([(times >= x).sum() for x in at], dtype=float)
            pieces[t] = (at, deaths, at_risk)
    if not pieces:
        raise ModelSpecError(f"study={study!r} is not in the data.", rule="bad-option")
    rows = [pd.DataFrame({"treatment": t, "time": np.r_[0.0, end],
                          "survival": np.r_[1.0, np.cumprod(1 - dead / risk)]})
            for t, (end, dead, risk) in pieces.items()]  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def rmst_rankings(fit, horizon: float, *, baseline_study: str, ci_prob: float = 0.95,
                  cumulative: bool = False) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Rank the treatments by their restricted mean survival time to ``horizon``.

    Each draw's RMST of every treatment in ``baseline_study``'s population (as
    :func:`survival_summary`) ranks the treatments, longer first; a summary that does not assume
    proportional hazards, so it ranks non-PH models too.

    Returns
    -------
    dict of DataFrame
        ``"sucra"`` (``treatment, sucra, mean_rank, ci_lower, ci_upper, p_best``) and
        ``"rank_probabilities"`` (treatments x ranks; with ``cumulative``, ``P(rank <= k)``).
    """
    import xarray as xr

    from .summaries import rank_probabilities_table, sucra_table

    horizon = float(_check_times([horizon])[0])
    if isinstance(fit, SurvivalFit):
        log_h, starts, treatments, _ = _model_hazards(fit, baseline_study, np.array([horizon]),
                                                      horizon)  # fmt: skip
    else:
        log_h, starts, treatments = _segment_hazards(fit, baseline_study)
    area = _rmst(log_h, starts, horizon)  # (N, T)
    draws = xr.DataArray(area[None], dims=("chain", "draw", "treatment"),
                         coords={"treatment": treatments})  # fmt: skip
    return {"sucra": sucra_table(draws, lower_is_better=False, ci_prob=ci_prob),
            "rank_probabilities": rank_probabilities_table(draws, lower_is_better=False,
                                                           cumulative=cumulative)}  # fmt: skip
