r"""Survival NMA on grouped intervals: the piecewise-exponential model (gemtcPlus's PWE).

For arm ``a`` of study ``s`` and segment ``k`` of the time axis (cut at ``cutpoints``; an interval
belongs to the segment its start falls in, as gemtcPlus assigns them), the hazard is constant:

.. math::

    \log h_{s a k} = \mu_{s k} + \delta_{s a k}, \qquad
    \delta_{s a k} = d_{t_{sa} k} - d_{t_{s1} k}\ \ (\text{FE}), \quad
    \delta_{s a k} \sim N(d_{t_{sa} k} - d_{t_{s1} k}, \tau^2)\ \ (\text{RE}),

and each interval's events are ``Binomial(n.risk, 1 - exp(-h dt))`` (gemtcPlus; Jansen 2011;
Ouwens et al. 2010). A study's baseline ``mu_sk`` and its study effects are per segment;
``d_tk`` is the log hazard ratio of treatment ``t`` in segment ``k`` (proportional hazards:
one ``d_t`` for all segments).

**How it is fitted.** When the intervals of an arm within a segment have one width ``dt``, their
binomial likelihoods share ``p = 1 - exp(-h dt)`` and multiply to ``p^R (1 - p)^(N - R)`` with
``R`` and ``N`` the sums of their events and numbers at risk: one binomial observation with the
complementary log-log link and offset ``log dt`` (TSD2's cloglog model), up to the constant
``sum log C(n_i, r_i)``. So the model is the arm-level cloglog NMA of the *study x segment* units
(each with its own baseline and, for RE, its own study effects), with the segment as a
categorical study covariate whose treatment interactions are independent (TSD3): ``d_t`` is the
log HR in the first segment and ``d_t + beta_tk`` in segment ``k``. The posterior is gemtcPlus's
(``beta_tk`` has ``prior_d``, so segment ``k``'s effect has twice its prior variance: immaterial
for vague priors). Every summary of the arm-level machinery then applies; :func:`hazard_ratios`
reads the log HR at any time.

Jansen JP (2011). Network meta-analysis of survival data with fractional polynomials. BMC Med
Res Methodol 11:61. Ouwens MJNM, Philips Z, Jansen JP (2010). Network meta-analysis of
parametric survival curves. Res Synth Methods 1:258-271.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError, format_items
from ..data.survival import SEGMENT, check_cutpoints, segment_labels, survival_intervals
from ..models.priors import DEFAULT_PRIOR_D

__all__ = ["fit_survival", "interval_deviance_constant", "pwe_arms"]


def pwe_arms(grouped: pd.DataFrame, cutpoints, *, columns: dict | None = None):
    """Aggregate grouped intervals to one binomial observation per arm and segment.

    Returns
    -------
    arms : DataFrame
        ``study`` (``"<study> <segment>"``), ``treatment``, ``events``, ``n``, ``time`` (the
        segment's interval width ``dt``): one row per arm and segment with data, each unit's
        arms in the study's order.
    studies : DataFrame
        ``study`` (the units) and ``segment``.

    Raises
    ------
    ModelSpecError
        (``bad-option``) Intervals of one arm and segment with different widths (their
        likelihoods do not aggregate: group the data at equal widths), or bad ``cutpoints``.
    """
    table = survival_intervals(grouped, columns=columns)
    cuts = check_cutpoints(cutpoints)
    labels = segment_labels(cuts)
    table["segment"] = [labels[i] for i in np.searchsorted(cuts, table["t.start"], side="right")]
    table["dt"] = table["t.end"] - table["t.start"]
    keys = ["study", "segment", "treatment"]
    grouped_rows = table.groupby(keys, sort=False)
    uneven = [" / ".join(k) for k, g in grouped_rows if g["dt"].nunique() > 1]
    if uneven:
        raise ModelSpecError(
            f"The intervals of arms {format_items(uneven)} have different widths within a "
            "segment, so their binomial likelihoods do not aggregate exactly; regroup the data at "
            "equal widths (group_event_times for event times).",
            rule="bad-option",
        )
    agg = grouped_rows.agg(events=("n.event", "sum"), n=("n.risk", "sum"), time=("dt", "first"))
    agg = agg.reset_index()
    agg["unit"] = agg["study"] + " " + agg["segment"]
    studies = agg.drop_duplicates("unit")[["unit", "segment"]].rename(columns={"unit": "study"})
    arms = agg[["unit", "treatment", "events", "n", "time"]].rename(columns={"unit": "study"})
    return arms.reset_index(drop=True), studies.reset_index(drop=True)


def fit_survival(
    data: pd.DataFrame,
    *,
    cutpoints,
    model: str = "pwe",
    proportional_hazards: bool = False,
    prior_d=DEFAULT_PRIOR_D,
    columns: dict | None = None,
    **options,
):
    """Fit a survival NMA to grouped intervals (the piecewise-exponential model; module doc).

    Parameters
    ----------
    data : DataFrame
        Grouped intervals (:func:`~nma_bayes.data.survival.survival_intervals`; event times
        are grouped first with :func:`~nma_bayes.data.survival.group_event_times`).
    cutpoints : sequence of float
        Times that cut the time axis into segments, e.g. ``[3, 10]``.
    model : {"pwe"}
        The piecewise-exponential model (the only survival model built so far).
    proportional_hazards : bool
        One log HR per treatment for all segments (``True``), or one per segment (default).
    prior_d : Normal
        Prior of each log HR (and of each segment's departure from the first).
    columns : dict, optional
        Role to column name of the grouped table (:data:`~nma_bayes.data.survival.GROUPED_COLUMNS`).
    **options
        Options of :func:`~nma_bayes.fitting.fit.fit_network` (``reference``, ``effects``,
        ``prior_tau``, ``random_seed``, ``draws``, ...).

    Returns
    -------
    NetworkFit
        The arm-level cloglog fit of the study x segment units; with
        ``proportional_hazards=False`` the segment is its covariate. :func:`hazard_ratios`
        summarises it over time.
    """
    from .fit import fit_network

    if model != "pwe":
        raise ModelSpecError(
            f"model={model!r}: the survival model built so far is the piecewise-exponential "
            "model, model='pwe'.",
            rule="bad-option",
        )
    reserved = {"likelihood", "link", "events", "n", "time", "covariates", "studies",
                "interaction", "prior_beta"} & set(options)  # fmt: skip
    if reserved:
        raise ModelSpecError(
            f"fit_survival sets {format_items(sorted(reserved))} itself (the cloglog model of the "
            "study x segment units); remove them.",
            rule="bad-option",
        )
    arms, studies = pwe_arms(data, cutpoints, columns=columns)
    regression = {} if proportional_hazards else {
        "covariates": SEGMENT, "studies": studies, "interaction": "independent",
        "prior_beta": prior_d,
    }  # fmt: skip
    return fit_network(arms, likelihood="binomial", link="cloglog", time="time", prior_d=prior_d,
                       **regression, **options)  # fmt: skip


def interval_deviance_constant(data: pd.DataFrame, cutpoints, *, columns: dict | None = None):
    r"""Return the constant between a PWE fit's residual deviance and ``-2 log L`` of the data.

    gemtcPlus (and JAGS's ``dic.samples``) report the mean of ``-2 sum_i log Bin(r_i | n_i,
    p)`` over the intervals; :meth:`model_fit` reports the residual deviance of the aggregated
    binomial of each arm and segment (module docstring). They differ by
    ``-2 sum_units [R log(R/N) + (N - R) log(1 - R/N)] - 2 sum_i log C(n_i, r_i)``, the same for
    every draw, so ``resdev + constant`` is their mean deviance and ``DIC + constant`` their DIC
    (pD is unchanged).
    """
    from scipy.special import gammaln, xlogy

    table = survival_intervals(data, columns=columns)
    arms, _ = pwe_arms(data, cutpoints, columns=columns)
    r, n = arms["events"].to_numpy(float), arms["n"].to_numpy(float)
    saturated = xlogy(r, r / n) + xlogy(n - r, 1 - r / n)
    ri, ni = table["n.event"].to_numpy(float), table["n.risk"].to_numpy(float)
    log_coef = gammaln(ni + 1) - gammaln(ri + 1) - gammaln(ni - ri + 1)
    return float(-2.0 * saturated.sum() - 2.0 * log_coef.sum())
