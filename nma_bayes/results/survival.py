"""Hazard ratios, survival curves, median, RMST and RMST rankings of survival fits.

A piecewise-exponential (PWE) fit (:func:`nma_bayes.fitting.survival.fit_survival`) has one
log hazard ratio per treatment and segment of the time axis: the relative effects at the segment
covariate's level (:meth:`~nma_bayes.results.record.FitRecord.relative_effects` with ``at=``). A
fractional-polynomial or parametric fit (:class:`~nma_bayes.results.survival_fit.SurvivalFit`)
gives each draw's cumulative hazard in a population (a study's, or an external one), from which
the curves, medians and RMSTs follow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..data.survival import SEGMENT, segment_bounds
from ..models.survival_basis import fp_basis
from ..models.survival_model import PH
from .survival_curves import (
    ExternalBaseline,
    check_external_baseline,
    log_cumulative_hazard,
    population_terms,
    population_treatments,
)
from .survival_fit import SurvivalFit, beta_full

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
                  scale: str = "HR", baseline_study: str | None = None,
                  baseline: ExternalBaseline | None = None) -> pd.DataFrame:  # fmt: skip
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
        Under a non-proportional M-spline model only the study's treatments have hazards.
        With a meta-regression, the HRs are at this study's covariate values (at the centres
        when no study or external baseline is named).
    baseline : ExternalBaseline, optional
        An external population instead of the study's (parametric and M-spline fits).

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
        if baseline is not None:
            check_external_baseline(fit, baseline)
        return _model_hazard_ratios(fit, times, comparator=comparator, ci_prob=ci_prob,
                                    scale=scale, population=(baseline_study, baseline))
    _refuse_external(baseline)
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


def _refuse_external(baseline) -> None:
    if baseline is not None:
        raise ModelSpecError(
            "an external baseline needs a parametric or M-spline fit; a piecewise-exponential "
            "fit has one baseline hazard per segment: use baseline_study=.",
            rule="bad-option",
        )


def _model_hazard_ratios(fit: SurvivalFit, times: np.ndarray, *, comparator, ci_prob: float,
                         scale: str, population: tuple) -> pd.DataFrame:  # fmt: skip
    """Hazard ratios of a fractional-polynomial or parametric fit at ``times``.

    Fractional polynomials: ``log HR(t) = sum_j f_j(t) (d_Xj - d_Cj)``; proportional hazards:
    ``d_X - d_C`` (plus ``(beta_X - beta_C) (x - x_bar)`` at the population's covariates,
    :func:`~nma_bayes.results.survival_curves.population_terms`); other parametric models:
    ``log h_X(t) - log h_C(t)`` in the baseline study, each hazard the central difference of
    the exact cumulative hazard (relative step 1e-5).
    """
    from .summaries import describe_draws, flat_draws

    comparator = fit._treatment(comparator)
    shown = population_treatments(fit, population[0])
    if fit.treatments.index(comparator) not in shown:
        raise ModelSpecError(
            f"comparator={comparator!r} has no arm in baseline_study={population[0]!r}; under "
            "a non-proportional M-spline model hazards exist only for a study's own arms: "
            f"choose one of {[fit.treatments[k] for k in shown]}.",
            rule="bad-option",
        )
    c = shown.index(fit.treatments.index(comparator))
    if fit.spec.model == "fp" or (fit.spec.model in PH and not fit.spec.shape_by_treatment):
        full = flat_draws(fit.d_full())  # (N, T[, P])
        x = population_terms(fit, *population)
        if x is not None:  # meta-regression: at the population's covariate values
            full = full + beta_full(fit) @ x
        diff = full - full[:, [c]]
        if fit.spec.model == "fp":
            log_hr = np.einsum("ntp,kp->ntk", diff, fp_basis(times, fit.spec.powers))
        else:
            log_hr = np.repeat(diff[:, :, None], times.size, axis=2)
    else:
        step = 1e-5 * np.maximum(times, 1e-3)
        study, baseline = population
        both = log_cumulative_hazard(fit, study, np.r_[times + step, np.maximum(times - step,
                                                                                1e-12)],
                                     baseline=baseline)  # one pass: t + e, then t - e
        up, down = both[..., :times.size], both[..., times.size:]
        log_h = up + np.log(-np.expm1(down - up))  # log(H(t+e) - H(t-e)); the 2e cancels
        log_hr = log_h - log_h[:, [c]]
    keep = [i for i in range(log_hr.shape[1]) if i != c]
    names = [fit.treatments[shown[i]] for i in keep]
    rows = []
    for k, t in enumerate(times):
        x = log_hr[:, keep, k]
        stats = describe_draws(x, ci_prob)
        if scale == "HR":
            stats = describe_draws(np.exp(x), ci_prob)
        rows.append(pd.DataFrame({"time": t, "treatment": names,
                                  "comparator": comparator, **stats}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _model_hazards(fit: SurvivalFit, population: tuple, times: np.ndarray, horizon: float):
    """Return a fine piecewise-constant version of a model fit's hazards.

    The form of ``_segment_hazards``.

    Cells of a grid from 0 to the last of ``times``, ``horizon`` and the data's follow-up (800
    cells plus the requested times) get the hazard ``(H(b) - H(a)) / (b - a)``, so the cumulative
    hazard is exact at every grid point and the median and RMST are accurate to the cell width.
    """
    end = max(float(times.max()), horizon, fit.design.follow_up)
    grid = np.unique(np.concatenate([np.linspace(0.0, end, 801), times, [horizon]]))
    study, baseline = population
    log_cum = log_cumulative_hazard(fit, study, grid[1:], baseline=baseline)  # (N, T, n)
    cum = np.concatenate([np.zeros(log_cum.shape[:2] + (1,)), np.exp(log_cum)], axis=2)
    with np.errstate(divide="ignore"):
        log_h = np.log(np.maximum(np.diff(cum, axis=2), 0.0) / np.diff(grid))
    names = [fit.treatments[k] for k in population_treatments(fit, study)]
    return log_h, grid[:-1], names, end


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


def survival_summary(fit, times, *, baseline_study: str | None = None,
                     baseline: ExternalBaseline | None = None, horizon: float | None = None,
                     ci_prob: float = 0.95, rankings: bool = False) -> dict[str, pd.DataFrame]:
    """Survival curves, median survival and RMST per treatment in a population.

    Each posterior draw gives each treatment's hazard in ``baseline_study``'s population (its
    baselines plus the treatment's effects against its base arm) or in an external one
    (``baseline``), hence ``S(t) = exp(-H(t))``; the median (``S = 1/2``) and the restricted
    mean survival time to ``horizon`` are exact for piecewise-constant hazards (a model's
    hazards are made piecewise constant on a fine grid first, :func:`_model_hazards`).

    Parameters
    ----------
    fit : NetworkFit or SurvivalFit
        A survival fit (:func:`~nma_bayes.fitting.survival.fit_survival`).
    times : sequence of float
        Times of the survival curves.
    baseline_study : str, optional
        The study whose baseline defines the population (gemtcPlus's ``ref.std``); required
        for piecewise-exponential fits, else default the first study. With ``baseline``, it
        gives what the external baseline leaves out (auxiliary parameter, spline).
    baseline : ExternalBaseline, optional
        An external population (parametric and M-spline fits; multinma's ``baseline``).
    horizon : float, optional
        RMST horizon (default: the largest of ``times``).
    ci_prob : float
        Interval probability.
    rankings : bool
        Also rank the treatments by RMST (:func:`rmst_rankings`) from the same draws.

    Returns
    -------
    dict of DataFrame
        ``"survival"`` (``treatment, time, mean, sd, median, ci_lower, ci_upper``),
        ``"median"`` and ``"rmst"`` (``treatment, mean, ...``; a median beyond the data's
        last segment is infinite in the draws where survival stays above 1/2, and the
        ``share_reached`` column says in how many it is reached); with ``rankings``, also
        ``"sucra"`` and ``"rank_probabilities"``.
    """
    from .summaries import describe_draws

    times = _check_times(times)
    ci_prob = VA.check_ci_prob(ci_prob)
    horizon = float(times.max()) if horizon is None else float(_check_times([horizon])[0])
    log_h, starts, treatments, end = _hazards(fit, (baseline_study, baseline), times, horizon)
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
    area = _rmst(log_h, starts, horizon)
    rmst = pd.DataFrame({"treatment": treatments, "horizon": horizon,
                         **describe_draws(area, ci_prob)})  # fmt: skip
    out = {"survival": curves, "median": median, "rmst": rmst}
    if VA.check_bool(rankings, "rankings"):
        out.update(_rank_by_rmst(area, treatments, ci_prob=ci_prob, cumulative=False))
    return out


def _hazards(fit, population: tuple, times: np.ndarray, horizon: float):
    """``(log_h, starts, treatments, end)`` of a population: a model's grid, or PWE segments."""
    if isinstance(fit, SurvivalFit):
        return _model_hazards(fit, population, times, horizon)
    _refuse_external(population[1])
    return (*_segment_hazards(fit, population[0]), np.inf)


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


def rmst_rankings(fit, horizon: float, *, baseline_study: str | None = None,
                  baseline: ExternalBaseline | None = None, ci_prob: float = 0.95,
                  cumulative: bool = False) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Rank the treatments by their restricted mean survival time to ``horizon``.

    Each draw's RMST of every treatment in the population of ``baseline_study`` (or of an
    external ``baseline``; as :func:`survival_summary`) ranks the treatments, longer first; a
    summary that does not assume proportional hazards, so it ranks non-PH models too.

    Returns
    -------
    dict of DataFrame
        ``"sucra"`` (``treatment, sucra, mean_rank, ci_lower, ci_upper, p_best``) and
        ``"rank_probabilities"`` (treatments x ranks; with ``cumulative``, ``P(rank <= k)``).
    """
    horizon = float(_check_times([horizon])[0])
    ci_prob = VA.check_ci_prob(ci_prob)
    log_h, starts, treatments, _ = _hazards(fit, (baseline_study, baseline),
                                            np.array([horizon]), horizon)  # fmt: skip
    return _rank_by_rmst(_rmst(log_h, starts, horizon), treatments, ci_prob=ci_prob,
                         cumulative=VA.check_bool(cumulative, "cumulative"))  # fmt: skip


def _rank_by_rmst(area: np.ndarray, treatments: list[str], *, ci_prob: float,
                  cumulative: bool) -> dict[str, pd.DataFrame]:  # fmt: skip
    """SUCRA and rank probabilities of per-draw RMSTs ``area`` (N, T), longer first."""
    import xarray as xr

    from .summaries import rank_probabilities_table, sucra_table

    draws = xr.DataArray(area[None], dims=("chain", "draw", "treatment"),
                         coords={"treatment": treatments})  # fmt: skip
    return {"sucra": sucra_table(draws, lower_is_better=False, ci_prob=ci_prob),
            "rank_probabilities": rank_probabilities_table(draws, lower_is_better=False,
                                                           cumulative=cumulative)}  # fmt: skip
