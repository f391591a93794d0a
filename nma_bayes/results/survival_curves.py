"""Survival curves of a fractional-polynomial or parametric fit in a population.

Each posterior draw's cumulative hazard ``H(t)`` of every treatment in a study's population (its
baseline ``mu`` and auxiliary parameters, each treatment's mean effect against the study's base
arm, and, with a meta-regression, the interactions at the study's covariate values) or in an
external one (:class:`ExternalBaseline`: multinma's ``predict(baseline=, aux=)``). The
summaries of :mod:`~nma_bayes.results.survival` read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.errors import ModelSpecError
from ..models.ordered_likelihood import log_cdf, softplus
from ..models.priors import Normal
from ..models.survival_basis import fp_basis, mspline_basis
from ..models.survival_model import AUX_NAME, POSITIVE_AUX
from .survival_fit import SurvivalFit, arm_aux, posterior_draws, study_index

__all__ = ["ExternalBaseline", "check_external_baseline", "log_cumulative_hazard",
           "population_terms", "population_treatments"]


@dataclass(frozen=True)
class ExternalBaseline:
    """An external population for survival curves (multinma's ``predict(baseline=, aux=)``).

    Parameters
    ----------
    mu : Normal
        The intercept of ``treatment`` in that population, on the linear predictor's scale: the
        log hazard scale ``eta`` of a PH model (exponential: log rate; Weibull: ``log lambda``
        with ``H = lambda t^a``), the location of ``log T`` of an AFT model. Each posterior draw
        gets one draw of it.
    treatment : str, optional
        The treatment ``mu`` belongs to (default: the fit's reference).
    aux : Normal, optional
        The auxiliary parameter of ``treatment`` in that population: on the log scale for a
        Weibull or log-logistic shape and a log-normal SD, as it is for the Gompertz rate.
        Default: the baseline study's posterior draws (M-spline coefficients always come from
        the baseline study, with its knots).
    at : dict, optional
        Meta-regression fits: the population's covariate values ``{covariate: value}`` (default:
        the centres, where ``d`` are defined).

    Notes
    -----
    The draws of ``mu`` and ``aux`` come from ``SeedSequence([fit.seed, BASELINE_STREAM])``
    (:data:`~nma_bayes.results.absolute.BASELINE_STREAM`), one each per posterior draw in
    (chain, draw) order: the same fit gives the same curves.
    """

    mu: Normal
    treatment: str | None = None
    aux: Normal | None = None
    at: dict | None = None

    def __post_init__(self):
        for name in ("mu", "aux"):
            value = getattr(self, name)
            if not (isinstance(value, Normal) or (name == "aux" and value is None)):
                raise ModelSpecError(
                    f"ExternalBaseline({name}=...) must be a Normal(mean, sd), e.g. "
                    f"Normal(-2.0, 0.1); got {value!r}.",
                    rule="bad-option",
                )


def check_external_baseline(fit: SurvivalFit, baseline) -> None:
    """Raise ``bad-option`` unless ``baseline`` (an ExternalBaseline) suits ``fit``'s model."""
    if not isinstance(baseline, ExternalBaseline):
        raise ModelSpecError(
            f"baseline= must be an ExternalBaseline(mu=Normal(...), ...); got {baseline!r}.",
            rule="bad-option",
        )
    model = fit.spec.model
    fit._treatment(baseline.treatment)
    if baseline.at is not None and fit.design.regression is None:
        raise ModelSpecError("ExternalBaseline(at=...) needs a meta-regression fit (covariates=).",
                             rule="bad-option")  # fmt: skip
    population_terms(fit, None, baseline)  # checks at=
    if model == "fp" or (baseline.aux is not None and model in ("mspline", "exponential")):
        what = "an auxiliary parameter" if model != "fp" else "a baseline"
        raise ModelSpecError(
            f"an external {what} is not available for model={model!r} (fractional "
            "polynomials have several correlated baseline coefficients; M-spline coefficients "
            "belong to a study's knots; the exponential model has no auxiliary parameter): "
            "use baseline_study= for the population, or drop ExternalBaseline(aux=...).",
            rule="bad-option",
        )


def _external_draws(fit: SurvivalFit, baseline: ExternalBaseline, draws: dict) -> dict:
    """Draws of an external baseline (class docstring), checked against the fit's model."""
    from .absolute import BASELINE_STREAM

    check_external_baseline(fit, baseline)
    model = fit.spec.model
    n = draws["d"].shape[0]
    rng = np.random.default_rng(np.random.SeedSequence([int(fit.seed), BASELINE_STREAM]))
    out = {"mu": rng.normal(baseline.mu.mean, baseline.mu.sd, size=n),
           "treatment": fit.treatments.index(fit._treatment(baseline.treatment)),
           "x": population_terms(fit, None, baseline)}  # fmt: skip
    if baseline.aux is not None:
        aux = rng.normal(baseline.aux.mean, baseline.aux.sd, size=n)
        out["aux"] = np.exp(aux) if model in POSITIVE_AUX else aux
    return out


def _arm_params(fit: SurvivalFit, study: int, treatment: int, draws: dict,
                external: dict | None = None) -> dict:  # fmt: skip
    """Draws of the linear predictor (or FP coefficients) and aux of ``treatment`` in ``study``.

    ``external`` (:func:`_external_draws`) replaces the study's intercept ``mu`` (and, with
    ``"aux"``, its auxiliary parameter) by an external population's draws.
    """
    base = int(fit.design.arm_base[np.flatnonzero(fit.design.arm_study == study)[0]])
    d = draws["d"]
    if external is None:
        out = {"eta": draws["mu"][:, study] + d[:, treatment] - d[:, base]}
    else:
        out = {"eta": external["mu"] + d[:, treatment] - d[:, external["treatment"]]}
    if "beta" in draws:  # meta-regression: the interactions at the population's covariates
        ref = base if external is None else external["treatment"]
        x = fit.design.regression.x[study] if external is None else external["x"]
        out["eta"] = out["eta"] + (draws["beta"][:, treatment] - draws["beta"][:, ref]) @ x
    if external is not None and "aux" in external:
        aux = arm_aux(fit, {**draws, AUX_NAME[fit.spec.model]: external["aux"][:, None]}, 0,
                      treatment, external["treatment"])  # fmt: skip
    else:
        aux = arm_aux(fit, draws, study, treatment, base)
    if aux is not None:
        out["aux"] = aux
    if fit.spec.model == "mspline":
        out["coef"] = draws["spline_coef"][:, _spline_unit(fit, study, treatment)]
    return out


def population_terms(fit: SurvivalFit, study: str | None,
                     baseline: ExternalBaseline | None) -> np.ndarray | None:  # fmt: skip
    """Centred covariate terms of a population (None without a meta-regression).

    An external baseline's ``at`` (default: the centres), else ``study``'s own values, else (no
    study named) the centres, where ``d`` are defined.
    """
    reg = fit.design.regression
    if reg is None:
        return None
    if baseline is not None:
        return reg.term_values(reg.check_at(baseline.at))
    if study is None:
        return np.zeros(reg.n_terms)
    return reg.x[study_index(fit, study)]


def _spline_unit(fit: SurvivalFit, study, treatment):
    """Index of the spline coefficients of ``treatment`` in ``study``: per study, or per arm."""
    if not fit.spec.shape_by_treatment:
        return study
    des = fit.design
    return np.flatnonzero((des.arm_study == study) & (des.arm_treatment == treatment))[0]


def population_treatments(fit: SurvivalFit, study: str | None) -> list[int]:
    """Return the indices of the treatments with curves in ``study``'s population.

    Every treatment, except under a non-proportional M-spline model: its spline coefficients
    belong to the study's arms, so only the study's own treatments have curves (as multinma's
    ``aux_by = c(".study", ".trt")`` predictions).
    """
    if not (fit.spec.model == "mspline" and fit.spec.shape_by_treatment):
        return list(range(len(fit.treatments)))
    des, s = fit.design, study_index(fit, study)
    return sorted(int(t) for t in des.arm_treatment[des.arm_study == s])


def log_cumulative_hazard(fit: SurvivalFit, study: str | None, times: np.ndarray, *,
                          baseline: ExternalBaseline | None = None) -> np.ndarray:  # fmt: skip
    """Draws of ``log H(t)`` of each treatment in a population, shape (N, T, n).

    The population is ``study``'s baseline (its ``mu`` and auxiliary parameters) with each
    treatment's mean effect against the study's base arm (random effects: the mean ``d``), or
    an external ``baseline`` (:class:`ExternalBaseline`; the study then gives only what the
    external one leaves out: the auxiliary parameter, the spline coefficients and knots).
    Treatments: :func:`population_treatments`, in network order. Fractional polynomials use the
    hazard as fitted, constant on cells of the data's interval width at each cell's midpoint.
    """
    s = study_index(fit, study)
    draws = posterior_draws(fit)
    external = None if baseline is None else _external_draws(fit, baseline, draws)
    out = []
    for k in population_treatments(fit, study):
        p = _arm_params(fit, s, k, draws, external)
        out.append(_log_cum(fit, s, p, np.asarray(times, dtype=float)))
    return np.stack(out, axis=1)


def _log_cum(fit: SurvivalFit, s: int, p: dict, t: np.ndarray) -> np.ndarray:
    model, eta = fit.spec.model, p["eta"][:, None]
    log_t = np.log(np.maximum(t, 1e-300))[None, :]
    if model == "exponential":
        return eta + log_t
    if model == "weibull":
        return eta + p["aux"][:, None] * log_t
    if model == "gompertz":
        g = np.where(np.abs(p["aux"]) < 1e-9, 1e-9, p["aux"])[:, None]
        return eta + np.log(np.expm1(g * t[None, :]) / g)
    if model == "mspline":
        _, ibasis = mspline_basis(t, fit.design.knots[s])
        return eta + np.log(p["coef"] @ ibasis.T)
    if model == "lognormal":  # H = -log Phi(-(log t - eta) / sigma)
        return np.log(-log_cdf(np, -(log_t - eta) / p["aux"][:, None], "probit"))
    if model == "loglogistic":
        return np.log(softplus(np, p["aux"][:, None] * (log_t - eta)))
    return np.log(_fp_cumulative(fit, p["eta"], t))


def _fp_cumulative(fit: SurvivalFit, coef: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Return ``H(t)`` of a fractional polynomial as the model was fitted (coef (N, P)).

    Constant hazards on cells of the data's interval width, each at its cell's midpoint
    (gemtcPlus's midpoint convention; an exact integral diverges at 0 for a log-t coefficient
    below -1).
    """
    width = float(np.median(fit.design.arrays["width"]))
    n_cells = int(np.ceil(t.max() / width))
    mids = (np.arange(n_cells) + 0.5) * width
    h = np.exp(coef @ fp_basis(mids, fit.spec.powers).T)  # (N, cells)
    before = np.concatenate([np.zeros((coef.shape[0], 1)), np.cumsum(h, axis=1) * width], 1)
    k = np.minimum((t // width).astype(int), n_cells - 1)
    return before[:, k] + h[:, k] * (t - k * width)[None, :]
