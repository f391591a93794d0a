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

from dataclasses import replace

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
    model: str = "pwe",
    cutpoints=None,
    powers=(0,),
    proportional_hazards: bool = False,
    shape_by_treatment: bool = False,
    n_knots: int = 7,
    prior_d=DEFAULT_PRIOR_D,
    prior_aux=None,
    columns: dict | None = None,
    **options,
):
    """Fit a survival NMA: piecewise-exponential, fractional-polynomial or parametric.

    Parameters
    ----------
    data : DataFrame
        Grouped intervals (``pwe``, ``fp``; :func:`~nma_bayes.data.survival.survival_intervals`)
        or event times ``study, treatment, time, status`` (the parametric models and
        ``mspline``; reconstructed pseudo-IPD).
    model : {"pwe", "fp", "exponential", "weibull", "gompertz", "lognormal", "loglogistic", \
"mspline"}
        The piecewise-exponential model (module docstring), the fractional polynomial of
        ``powers`` (Jansen 2011), or a parametric model of event times
        (:mod:`~nma_bayes.models.survival_model`).
    cutpoints : sequence of float
        ``pwe`` only: times that cut the time axis into segments, e.g. ``[3, 10]``.
    powers : sequence of float
        ``fp`` only: the powers, e.g. ``(0,)`` (first order) or ``(0, 1)`` (second order).
    proportional_hazards : bool
        ``pwe`` only: one log HR per treatment for all segments (``True``), or one per segment.
    shape_by_treatment : bool
        Weibull, Gompertz, log-normal, log-logistic: treatment contrasts on the auxiliary
        parameter too (non-proportional hazards). M-spline: spline coefficients (and their
        random-walk SD) per arm rather than per study (multinma's ``aux_by = c(".study",
        ".trt")``); ``d`` then shifts the log hazard without being a hazard ratio at every
        time, and curves exist only for each study's own arms.
    n_knots : int
        ``mspline`` only: internal knots per study (multinma's default 7).
    prior_d : Normal
        Prior of each treatment contrast (each coefficient's, for ``fp``).
    prior_aux : Prior, optional
        Prior of each study's auxiliary parameter (:class:`~nma_bayes.models.survival_model.
        SurvivalSpec`).
    columns : dict, optional
        Role to column name (grouped: :data:`~nma_bayes.data.survival.GROUPED_COLUMNS`; event
        times: ``study, treatment, time, status``).
    **options
        ``pwe``: the options of :func:`~nma_bayes.fitting.fit.fit_network`. The other models:
        ``reference, effects, prior_tau, prior_baseline, random_seed, draws, tune, chains,
        cores, target_accept, progressbar``. ``effects`` defaults to ``"fixed"`` for every
        model (gemtcPlus's examples); ``fit_network(likelihood="survival")`` keeps its own
        default, ``"random"``.

    Returns
    -------
    NetworkFit or SurvivalFit
        ``pwe``: the arm-level cloglog fit of the study x segment units; the other models a
        :class:`~nma_bayes.results.survival_fit.SurvivalFit`. :func:`hazard_ratios` and
        :func:`survival_summary` summarise both over time.
    """
    from ..models.survival_model import check_survival_model

    grouped = _is_grouped(data, columns)
    check_survival_model(model, grouped=grouped)
    if model != "pwe":
        if cutpoints is not None:
            raise ModelSpecError("cutpoints= is for model='pwe' (its segments).",
                                 rule="option-not-applicable")  # fmt: skip
        return _fit_model(data, model=model, powers=powers, shape_by_treatment=shape_by_treatment,
                          n_knots=n_knots, prior_d=prior_d, prior_aux=prior_aux,
                          columns=columns, options=options)  # fmt: skip
    reserved = {"likelihood", "link", "events", "n", "time", "covariates", "studies",
                "interaction", "prior_beta"} & set(options)  # fmt: skip
    if reserved:
        raise ModelSpecError(
            f"fit_survival sets {format_items(sorted(reserved))} itself (the cloglog model of the "
            "study x segment units); remove them.",
            rule="bad-option",
        )
    options.setdefault("effects", "fixed")  # every survival model's default (gemtcPlus's)
    arms, studies = pwe_arms(data, cutpoints, columns=columns)
    regression = {} if proportional_hazards else {
        "covariates": SEGMENT, "studies": studies, "interaction": "independent",
        "prior_beta": prior_d,
    }  # fmt: skip
    from .fit import fit_network

    return fit_network(arms, likelihood="binomial", link="cloglog", time="time", prior_d=prior_d,
                       **regression, **options)  # fmt: skip


#: Class model and meta-regression of the parametric models (fit_network's names and meaning).
_STRUCTURE_OPTIONS = ("covariates", "studies", "interaction", "prior_beta", "prior_beta_sd",
                      "center", "classes", "class_model", "class_sd", "prior_class_mean",
                      "prior_class_sd")  # fmt: skip
_MODEL_OPTIONS = ("reference", "effects", "prior_tau", "prior_baseline", "random_seed", "draws",
                  "tune", "chains", "cores", "target_accept", "progressbar",
                  *_STRUCTURE_OPTIONS)  # fmt: skip


def _is_grouped(data, columns: dict | None) -> bool:
    """Tell grouped intervals (``t.start`` ...) from event times (``time, status``)."""
    names = dict(columns or {})
    return names.get("t.start", "t.start") in getattr(data, "columns", ())


def _fit_model(data, *, model, powers, shape_by_treatment, n_knots, prior_d, prior_aux,
               columns, options):  # fmt: skip
    """Validate, build the design once, sample, and return a :class:`SurvivalFit`."""
    from ..base import validate as VA
    from ..data.survival import check_event_times
    from ..engines.nuts import SamplerSettings
    from ..engines.survival import sample_survival
    from ..models.spec import EFFECTS
    from ..models.survival_model import SurvivalDesign, SurvivalSpec
    from ..results.survival_fit import SurvivalFit
    from .fit import resolve_seed

    VA.check_keywords(options, _MODEL_OPTIONS, "fit_survival")
    effects = options.get("effects", "fixed")
    if effects not in EFFECTS:
        raise ModelSpecError(f"effects={effects!r}: use 'random' or 'fixed'.", rule="bad-option")
    spec_options = {k: options[k] for k in ("prior_tau", "prior_baseline") if k in options}
    spec = SurvivalSpec(model, random=effects == "random", powers=_check_powers(powers, model),
                        shape_by_treatment=VA.check_bool(shape_by_treatment,
                                                         "shape_by_treatment"),
                        n_knots=VA.check_int(n_knots, "n_knots", minimum=1), prior_d=prior_d,
                        prior_aux=prior_aux, **spec_options)  # fmt: skip
    if shape_by_treatment and model not in ("weibull", "gompertz", "lognormal", "loglogistic",
                                            "mspline"):  # fmt: skip
        raise ModelSpecError(
            f"shape_by_treatment=True needs a model with a shape or spline (weibull, gompertz, "
            f"lognormal, loglogistic, mspline); model={model!r}.",
            rule="option-not-applicable",
        )
    reference = options.get("reference")
    if model == "fp":
        table = survival_intervals(data, columns=columns)
        design = SurvivalDesign.from_grouped(table, powers=spec.powers, reference=reference)
    else:
        table = check_event_times(data, columns=columns)
        design = SurvivalDesign.from_event_times(table, model=model, reference=reference,
                                                 n_knots=spec.n_knots)  # fmt: skip
    treatment_model, design = _treatment_structures(data, table, design, model, options)
    if treatment_model is not None:
        spec = replace(spec, treatment_model=treatment_model)
    settings = SamplerSettings(**{k: options[k] for k in
                                  ("draws", "tune", "chains", "cores", "target_accept",
                                   "progressbar") if k in options})  # fmt: skip
    seed = resolve_seed(options.get("random_seed"))
    fit = SurvivalFit(design, spec, sample_survival(design, spec, settings, seed), seed)
    _warn_convergence(fit)
    return fit


def _treatment_structures(data, table: pd.DataFrame, design, model: str, options: dict):
    """Return ``(ModelSpec or None, design)``: the class model and meta-regression, if asked.

    The arms (with their covariate and class columns) are read into a
    :class:`~nma_bayes.data.network.Network` in the design's treatment and study order, so the
    covariates, classes and their options get ``fit_network``'s validation, catalogue rules and
    structures (:class:`~nma_bayes.models.regression.RegressionDesign`,
    :class:`~nma_bayes.models.classes.ClassStructure`).
    """
    from ..data.network import Network
    from ..models.classes import ClassStructure, normalise_class_sd
    from ..models.regression import RegressionDesign, warn_unidentified
    from ..models.spec import ModelSpec
    from .fit import check_regression_options

    given = {k: options[k] for k in _STRUCTURE_OPTIONS if options.get(k) is not None}
    if not given:
        return None, design
    if model == "fp":
        raise ModelSpecError(
            f"{format_items(sorted(given))}: classes and meta-regression are for the parametric "
            "models of event times; a fractional polynomial's effect is several coefficients "
            "per treatment, with no published class or regression model of them (gemtcPlus has "
            "none). Fit a parametric model, or model='pwe' (classes via fit_network's options).",
            rule="option-not-applicable",
        )
    covariates = given.get("covariates")
    if covariates is not None and "baseline_risk" in np.atleast_1d(covariates):
        raise ModelSpecError(
            "covariates='baseline_risk' is for arm-level outcome fits (fit_network); a survival "
            "baseline is a whole hazard curve. Give a study-level covariate column.",
            rule="bad-option",
        )
    if "class_model" in given and "classes" not in given:
        raise ModelSpecError(
            f"class_model={given['class_model']!r} needs classes= (a column of the data or a "
            "dict {treatment: class}).",
            rule="bad-option",
        )
    keys = ("interaction", "prior_beta", "prior_beta_sd", "center", "class_model",
            "prior_class_mean", "prior_class_sd")  # fmt: skip
    treatment_model = ModelSpec(class_sd=normalise_class_sd(given.get("class_sd")),
                                **{k: given[k] for k in keys if k in given})  # fmt: skip
    arms = _arm_rows(data, table, [*np.atleast_1d(covariates if covariates is not None else []),
                                   *([given["classes"]] if isinstance(given.get("classes"), str)
                                     else [])])  # fmt: skip
    network = Network.from_data(arms=arms, likelihood="binomial", events="_e", n="_n",
                                treatments=list(design.treatments), reference=design.treatments[0],
                                classes=given.get("classes"), covariates=covariates,
                                studies=given.get("studies"))  # fmt: skip
    check_regression_options(network, {k: given.get(k) for k in
                                       ("interaction", "center", "prior_beta", "prior_beta_sd")})
    regression = RegressionDesign.from_network(network, treatment_model)
    warn_unidentified(regression, network)
    classes = None
    if treatment_model.class_model is not None:
        classes = ClassStructure.from_network(network, treatment_model)
    return treatment_model, replace(design, regression=regression, class_structure=classes)


def _arm_rows(data: pd.DataFrame, table: pd.DataFrame, names: list) -> pd.DataFrame:
    """Return one row per arm: labels, the columns ``names`` of ``data``, placeholder outcomes.

    The outcomes only let a Network validate the columns; it is never fitted.

    Raises ``covariate-not-constant`` when a column varies within an arm (a patient-level
    value: these models take study-level covariates and one class per treatment).
    """
    from ..base.errors import InvalidValueError

    present = [n for n in dict.fromkeys(map(str, names)) if n in data.columns]
    rows = table[["study", "treatment"]].assign(**{n: data[n].to_numpy() for n in present})
    rows = rows.drop_duplicates()
    varying = rows.duplicated(["study", "treatment"], keep=False)
    if varying.any():
        studies = list(dict.fromkeys(rows.loc[varying, "study"]))
        raise InvalidValueError(
            f"Columns {format_items(present)} must be constant within each study (a study-level "
            f"covariate) and each treatment (a class), but they vary within arms of studies "
            f"{format_items(studies)}. Give each study one value (patient-level covariates "
            "are not modelled), or give study covariates in a studies= table.",
            rule="covariate-not-constant",
        )
    return rows.assign(_e=1, _n=2)


def _check_powers(powers, model: str) -> tuple[float, ...]:
    from ..models.survival_basis import FP_POWERS

    if model != "fp":
        return ()
    values = tuple(powers) if isinstance(powers, (list, tuple)) else None
    if not values or len(values) > 2 or any(p not in FP_POWERS for p in values):
        raise ModelSpecError(
            f"powers={powers!r}: give one or two fractional-polynomial powers from "
            f"{FP_POWERS} (0 is log t), e.g. (0,) or (0, 1).",
            rule="bad-option",
        )
    return tuple(float(p) for p in sorted(values))


def _warn_convergence(fit) -> None:
    import warnings

    from ..base.errors import NMAConvergenceWarning

    problems = fit.convergence_problems()
    if problems:
        warnings.warn(NMAConvergenceWarning(
            f"The survival fit may not have converged: {'; '.join(problems)}. Draw more "
            "(draws=, tune=) or check the model."), stacklevel=3)  # fmt: skip


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
