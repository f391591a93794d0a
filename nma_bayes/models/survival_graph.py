"""The PyMC graph of the survival models of :mod:`~nma_bayes.models.survival_model`.

Every array of the design and every prior number is a data node, so a compiled model refits any
data set of the same structure (:meth:`SurvivalDesign.structure_key`) with ``with_data``.
Random study effects are non-centred: ``delta = m + tau L z`` with ``L`` the block Cholesky
factor of the multi-arm correlation and ``z`` standard normal.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import ModelSpecError
from .pymc_graph import class_effect_variables, interaction_variables, positive_variable
from .survival_model import (
    AUX_NAME,
    POSITIVE_AUX,
    SurvivalDesign,
    SurvivalSpec,
    event_loglik,
    grouped_loglik,
)

__all__ = ["build_survival_model", "survival_prior_data"]


def survival_prior_data(spec: SurvivalSpec) -> dict[str, float]:
    """Numeric prior parameters, named as the graph's data nodes."""
    out = {f"prior_d_{k}": v for k, v in spec.prior_d.params().items()}
    out.update({f"prior_baseline_{k}": v for k, v in spec.prior_baseline.params().items()})
    if spec.random:
        out.update({f"prior_tau_{k}": v for k, v in spec.prior_tau.params().items()})
    if spec.aux_prior is not None:
        out.update({f"prior_aux_{k}": v for k, v in spec.aux_prior.params().items()})
    tm = spec.treatment_model
    if tm is not None:  # named as pymc_graph.prior_data names them (its graph pieces read them)
        if tm.interaction is not None:
            out.update({f"prior_beta_{k}": v for k, v in tm.prior_beta.params().items()})
        if tm.interaction == "exchangeable":
            out.update({f"prior_beta_tau_{k}": v for k, v in tm.prior_beta_sd.params().items()})
        if tm.class_model == "exchangeable":
            for name in ("prior_class_mean", "prior_class_sd"):
                out.update({f"{name}_{k}": v for k, v in getattr(tm, name).params().items()})
    return out


def _contrasts(design: SurvivalDesign, d, data):
    """Each arm's contrast ``d_{t_sa} - d_{t_s1}`` (rows: arms; last axis: terms, if any)."""
    import pytensor.tensor as pt

    zero = pt.zeros((1, *[d.shape[i] for i in range(1, d.ndim)]))
    full = pt.concatenate([zero, d], axis=0)
    return full[data["arm_treatment"]] - full[data["arm_base"]]


def _random_intercepts(design: SurvivalDesign, spec: SurvivalSpec, p: dict, data):
    """``tau L z`` scattered onto the arms (zero on base arms)."""
    import pymc as pm
    import pytensor.tensor as pt

    tau = positive_variable("tau", spec.prior_tau, p, "prior_tau")
    z = pm.Normal("z", 0.0, 1.0, dims="re_arm")
    dev = pm.Deterministic("delta_dev", tau * pt.dot(data["re_chol"], z), dims="re_arm")
    return pt.set_subtensor(pt.zeros(design.arm_study.size)[data["re_index"]], dev)


def _prior_logp(prior, p: dict, prefix: str, value):
    """``log p(value)`` under ``prior`` (a family of :mod:`~nma_bayes.models.priors`)."""
    import pymc as pm

    family = prior.family
    if family == "normal":
        dist = pm.Normal.dist(p[f"{prefix}_mean"], p[f"{prefix}_sd"])
    elif family == "halfnormal":
        dist = pm.HalfNormal.dist(sigma=p[f"{prefix}_scale"])
    elif family == "halfcauchy":
        dist = pm.HalfCauchy.dist(beta=p[f"{prefix}_scale"])
    elif family == "uniform":
        dist = pm.Uniform.dist(p[f"{prefix}_lower"], p[f"{prefix}_upper"])
    elif family == "lognormal":
        dist = pm.LogNormal.dist(p[f"{prefix}_mu"], p[f"{prefix}_sigma"])
    else:
        raise ModelSpecError(
            f"prior family {family!r} is not available for this survival parameter; use "
            "Normal, HalfNormal, HalfCauchy, Uniform or LogNormal.",
            rule="bad-prior",
        )
    return pm.logp(dist, value).sum()


def _aux(design: SurvivalDesign, spec: SurvivalSpec, p: dict, data):
    """Each arm's auxiliary parameter (shape, rate or SD), contrasted by treatment if asked.

    A positive parameter is sampled as its log (flat, starting at 1: the exponential model)
    with its prior and the log-Jacobian added, so that no start overflows ``t^shape``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    name = AUX_NAME[spec.model]
    raw = pm.Flat(f"log_{name}" if spec.model in POSITIVE_AUX else f"{name}_raw", dims="study")
    if spec.model in POSITIVE_AUX:
        study = pm.Deterministic(name, pt.exp(raw), dims="study")
        pm.Potential(f"prior_{name}", _prior_logp(spec.aux_prior, p, "prior_aux", study)
                     + raw.sum())  # fmt: skip
    else:
        study = pm.Deterministic(name, raw, dims="study")
        pm.Potential(f"prior_{name}", _prior_logp(spec.aux_prior, p, "prior_aux", study))
    if not spec.shape_by_treatment:
        return study[data["arm_study"]]
    g = pm.Normal(f"d_{name}", p["prior_d_mean"], p["prior_d_sd"], dims="treatment")
    diff = _contrasts(design, g, data)
    if spec.model in POSITIVE_AUX:
        return pt.exp(raw[data["arm_study"]] + diff)
    return study[data["arm_study"]] + diff


def _spline_baseline(design: SurvivalDesign, spec: SurvivalSpec, p: dict, data):
    """Rows' ``(h_0, H_0)`` of the M-spline baseline: ``c_s = softmax(centre + sd cumsum(u))``.

    One coefficient vector (and random-walk SD) per study, or per arm for non-proportional
    hazards (``shape_by_treatment``: multinma's ``aux_by = c(".study", ".trt")``), each arm on
    its study's knots.
    """
    import pymc as pm
    import pytensor.tensor as pt

    unit = "arm" if spec.shape_by_treatment else "study"
    sd = positive_variable("rw_sd", spec.aux_prior, p, "prior_aux", dims=unit)
    u = pm.Normal("rw_u", 0.0, 1.0, dims=(unit, "spline_step"))
    steps = pt.concatenate([pt.zeros((u.shape[0], 1)), pt.cumsum(sd[:, None] * u, axis=1)], 1)
    centre = data["rw_centre"][data["arm_study"]] if spec.shape_by_treatment \
        else data["rw_centre"]
    coef = pm.Deterministic("spline_coef", pt.special.softmax(centre + steps, axis=1),
                            dims=(unit, "spline_basis"))  # fmt: skip
    row_unit = data["row_arm"] if spec.shape_by_treatment else data["arm_study"][data["row_arm"]]
    row_coef = coef[row_unit]
    return (row_coef * data["m_basis"]).sum(axis=1), (row_coef * data["i_basis"]).sum(axis=1)


def _coefficients(design: SurvivalDesign, spec: SurvivalSpec, p: dict, data, fp: bool):
    """``d`` and the baselines ``mu``, sampled in scaled coordinates (flat, priors added).

    NUTS moves ``raw`` with ``beta_j = raw_j / s_j`` (j >= 1) and ``beta_0 = raw_0 - sum_j c_j
    beta_j (+ offset_s)`` where ``c_j, s_j`` are the mean and SD of the basis column ``f_j`` over
    the rows and ``offset_s`` the study's log crude event rate: the fitted hazard depends on
    nearly uncorrelated, unit-scale coordinates, and ``raw = 0`` is the crude rate, a start that
    never overflows ``exp``. The map is linear with a constant Jacobian and the priors are put
    on ``d`` and ``mu`` themselves, so the posterior is the model's (gemtcPlus's).
    """
    import pymc as pm
    import pytensor.tensor as pt

    dims = ("treatment", "coefficient") if fp else ("treatment",)
    if design.class_structure is not None:  # parametric models only (fit_survival checks)
        d = class_effect_variables(design.class_structure, spec.treatment_model, p,
                                   pm.modelcontext(None))  # fmt: skip
        mu = pm.Deterministic("mu", pm.Flat("mu_raw", dims="study") + data["rate_offset"],
                              dims="study")  # fmt: skip
        pm.Potential("prior_mu", pm.logp(
            pm.Normal.dist(p["prior_baseline_mean"], p["prior_baseline_sd"]), mu).sum())
        return d, mu
    raw_d = pm.Flat("d_raw", dims=dims)
    raw_mu = pm.Flat("mu_raw", dims=("study", *dims[1:]))
    if fp:
        centre, scale = data["basis_centre"], data["basis_scale"]

        def unscale(raw):
            slopes = raw[:, 1:] / scale[1:]
            return pt.concatenate([raw[:, :1] - (slopes * centre[1:]).sum(1, keepdims=True),
                                   slopes], axis=1)  # fmt: skip

        d, mu = unscale(raw_d), unscale(pt.inc_subtensor(raw_mu[:, 0], data["rate_offset"]))
    else:
        d, mu = raw_d, raw_mu + data["rate_offset"]
    d = pm.Deterministic("d", d, dims=dims)
    mu = pm.Deterministic("mu", mu, dims=("study", *dims[1:]))
    pm.Potential("prior_d", pm.logp(pm.Normal.dist(p["prior_d_mean"], p["prior_d_sd"]), d).sum())
    pm.Potential("prior_mu", pm.logp(
        pm.Normal.dist(p["prior_baseline_mean"], p["prior_baseline_sd"]), mu).sum())
    return d, mu


def build_survival_model(design: SurvivalDesign, spec: SurvivalSpec):
    """Build (not sample) the PyMC model of ``design`` under ``spec`` (module docstring).

    Returns
    -------
    pymc.Model
        Free variables ``d`` (over ``treatment``, and ``coefficient`` for fractional
        polynomials), the study baselines ``mu``, the auxiliary parameter, ``tau`` and ``z``
        (random effects), the spline's ``rw_sd`` and ``rw_u``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"treatment": list(design.treatments[1:]), "study": list(design.studies),
              "re_arm": [design.arm_labels[i] for i in design.re_arms()]}  # fmt: skip
    fp = spec.model == "fp"
    if fp:
        coords["coefficient"] = list(design.coefficients)
    if spec.model == "mspline":
        n_basis = design.arrays["m_basis"].shape[1]
        coords.update(spline_basis=list(range(n_basis)), spline_step=list(range(n_basis - 1)),
                      arm=list(design.arm_labels))  # fmt: skip
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v) for k, v in design.data().items()}
        p = {k: pm.Data(k, np.float64(v)) for k, v in survival_prior_data(spec).items()}
        d, mu = _coefficients(design, spec, p, data, fp)
        coef = mu[data["arm_study"]] + _contrasts(design, d, data)
        if design.regression is not None:
            beta = interaction_variables(design.regression, spec.treatment_model, p, model)
            diff = beta[data["arm_treatment"]] - beta[data["arm_base"]]  # (arms, terms)
            coef = coef + (diff * data["reg_x"][data["arm_study"]]).sum(axis=1)
        if spec.random:
            re = _random_intercepts(design, spec, p, data)
            coef = pt.inc_subtensor(coef[:, 0], re) if fp else coef + re
        if fp:
            log_h = (coef[data["row_arm"]] * data["basis"]).sum(axis=1)
            ll = grouped_loglik(pt, log_h, data["events"], data["at_risk"], data["width"])
        else:
            aux = baseline = None
            if spec.model == "mspline":
                baseline = _spline_baseline(design, spec, p, data)
            elif spec.aux_prior is not None:
                aux = _aux(design, spec, p, data)[data["row_arm"]]
            ll = event_loglik(pt, spec.model, coef[data["row_arm"]], aux, data, baseline)
        pm.Potential("loglik", ll.sum())
    return model
