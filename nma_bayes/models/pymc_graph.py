r"""Emit the PyMC graph of the contrast-based NMA (Dias et al. 2011, NICE DSU TSD2).

For study ``i`` with ``k`` contrasts ``y_i`` of its non-base arms against its base arm ``b``,

.. math::

    y_i \sim \mathrm{MVN}\big(d_{t} - d_{b},\; V_i + \tau^2 (I + J)/2\big),
    \qquad V_i = \mathrm{diag}(v_i) + c_i J,

where ``c_i = se_base^2`` is the variance of the base arm (the within-study covariance of the
contrasts) and ``v_i = seTE^2 - c_i``. The study random effects are integrated out analytically
(TSD2 random-effects model marginalised over ``delta_i``). The covariance is diagonal plus a
constant, ``A = diag(a) + s 11'`` with ``a = v + tau^2/2`` and ``s = c + tau^2/2``, so by
Sherman-Morrison and the matrix determinant lemma

.. math::

    r'A^{-1}r = \sum_j r_j^2/a_j - \frac{s(\sum_j r_j/a_j)^2}{1 + s\sum_j 1/a_j},\quad
    \log|A| = \sum_j \log a_j + \log(1 + s\sum_j 1/a_j).

No factorisation is needed, and all studies are evaluated at once on arrays padded to the largest
number of contrasts. Standardised mean differences from arm data add a second rank-one term
``cov_u u u'`` to ``V_i`` (the covariance of two SMDs sharing a base arm depends on both SMDs); the
Woodbury identity with a 2 x 2 capacitance matrix keeps the same closed form (see
:func:`marginal_loglik`). The fixed-effect model is the same with ``tau = 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .arm_likelihood import OutcomeData, arm_loglik
from .arm_param import arm_matrices, reparam_arrays
from .classes import ClassStructure
from .likelihood import marginal_loglik, model_data
from .ordered_likelihood import cell_logp
from .regression import RegressionDesign
from .spec import ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["build_model", "class_effect_variables", "interaction_variables", "positive_variable",
           "prior_data", "regression_data"]


def prior_data(
    spec: ModelSpec, *, baselines: bool = False, regression: RegressionDesign | None = None,
    cutpoints: bool = False,
) -> dict[str, float]:
    """Numeric prior parameters, named as the graph's data nodes (baselines, cutpoints if asked)."""
    out = {f"prior_d_{k}": v for k, v in spec.prior_d.params().items()}
    if cutpoints:
        out.update({f"prior_cut_{k}": v for k, v in spec.prior_cutpoint.params().items()})
    if regression is not None:
        out.update({f"prior_beta_{k}": v for k, v in spec.prior_beta.params().items()})
        if regression.interaction == "exchangeable":
            out.update({f"prior_beta_tau_{k}": v for k, v in spec.prior_beta_sd.params().items()})
    if baselines:
        out.update({f"prior_baseline_{k}": v for k, v in spec.prior_baseline.params().items()})
    if spec.random:
        out.update({f"prior_tau_{k}": v for k, v in spec.prior_tau.params().items()})
    if spec.class_model == "exchangeable":
        out.update({f"prior_class_mean_{k}": v for k, v in spec.prior_class_mean.params().items()})
        out.update({f"prior_class_sd_{k}": v for k, v in spec.prior_class_sd.params().items()})
    return out


def positive_variable(name: str, prior, p: dict, prefix: str, **kwargs):
    """Create a positive parameter (tau or a class SD) with prior ``prior``."""
    family = prior.family
    if family == "halfnormal":
        return pm.HalfNormal(name, sigma=p[f"{prefix}_scale"], **kwargs)
    if family == "uniform":
        return pm.Uniform(name, lower=p[f"{prefix}_lower"], upper=p[f"{prefix}_upper"], **kwargs)
    if family == "lognormal":
        return pm.LogNormal(name, mu=p[f"{prefix}_mu"], sigma=p[f"{prefix}_sigma"], **kwargs)
    if family == "truncnormal":
        mean, sd = p[f"{prefix}_mean"], p[f"{prefix}_sd"]
        return pm.TruncatedNormal(name, mu=mean, sigma=sd, lower=0.0, **kwargs)
    if family == "halfcauchy":
        return pm.HalfCauchy(name, beta=p[f"{prefix}_scale"], **kwargs)
    if family == "lognormal_tau2":  # log(x^2) ~ N(mu, sigma^2)  <=>  log(x) ~ N(mu/2, (sigma/2)^2)
        mu, sigma = p[f"{prefix}_mu"], p[f"{prefix}_sigma"]
        return pm.LogNormal(name, mu=mu / 2, sigma=sigma / 2, **kwargs)
    if family == "logt_tau2":  # sampled as log(x^2) ~ t_nu(mu, sigma); x = exp(log(x^2) / 2)
        mu, sigma, nu = p[f"{prefix}_mu"], p[f"{prefix}_sigma"], p[f"{prefix}_nu"]
        log_x2 = pm.StudentT(f"log_{name}2", nu=nu, mu=mu, sigma=sigma, **kwargs)
        return pm.Deterministic(name, pt.exp(log_x2 / 2), dims=kwargs.get("dims"))
    raise AssertionError(f"unhandled prior family {family!r}")  # pragma: no cover


def class_effect_variables(cs: ClassStructure, spec: ModelSpec, p: dict, model: pm.Model):
    """Build the treatment effects ``d`` from class means and within-class deviations."""
    model.add_coord("class", cs.free_classes)
    mean_prior = "prior_d" if spec.class_model == "common" else "prior_class_mean"
    mu = pm.Normal(
        "class_mean", mu=p[f"{mean_prior}_mean"], sigma=p[f"{mean_prior}_sd"], dims="class"
    )
    mu_full = pt.concatenate([pt.zeros((1,)), mu])
    d = mu_full[cs.mean_pos]
    if cs.exchangeable:
        model.add_coord("class_sd_group", cs.sd_groups)
        model.add_coord("exchangeable_treatment", cs.exchangeable)
        sigma = positive_variable(
            "class_sd", spec.prior_class_sd, p, "prior_class_sd", dims="class_sd_group"
        )
        z = pm.Normal("d_class_z", 0.0, 1.0, dims="exchangeable_treatment")
        sigma_full = pt.concatenate([pt.zeros((1,)), sigma])
        z_full = pt.concatenate([pt.zeros((1,)), z])
        d = d + sigma_full[cs.sd_pos] * z_full[cs.z_pos]
    return pm.Deterministic("d", d, dims="treatment")


def regression_data(regression: RegressionDesign) -> dict[str, np.ndarray]:
    """Return the covariate arrays of a meta-regression, named as the graph's data nodes."""
    return {"reg_x": regression.x, "reg_center": np.float64(regression.baseline_center)}


def interaction_variables(reg: RegressionDesign, spec: ModelSpec, p: dict, model: pm.Model):
    """``beta_full`` (T, P): zero for the reference, then each treatment's interaction (TSD3).

    The free parameters are one per group and term (shared: one group; independent and
    exchangeable: one per treatment; class: one per class); ``beta`` over ``(treatment, term)``
    is kept in the posterior for every non-reference treatment.
    """
    model.add_coord("term", list(reg.terms))
    model.add_coord("interaction_group", list(reg.groups))
    dims = ("interaction_group", "term")
    if reg.interaction == "exchangeable":  # beta_k = B + sigma_beta z_k, non-centred
        mean = pm.Normal("beta_mean", p["prior_beta_mean"], p["prior_beta_sd"], dims="term")
        sd = positive_variable("beta_sd", spec.prior_beta_sd, p, "prior_beta_tau", dims="term")
        z = pm.Normal("beta_z", 0.0, 1.0, dims=dims)
        free = mean[None, :] + sd[None, :] * z
    else:
        free = pm.Normal("beta_group", p["prior_beta_mean"], p["prior_beta_sd"], dims=dims)
    full = pt.concatenate([pt.zeros((1, reg.n_terms)), free], axis=0)[reg.group_pos]
    pm.Deterministic("beta", full[1:], dims=("treatment", "term"))
    return full


def tau_variable(spec: ModelSpec, p: dict):
    """Create the between-study SD ``tau`` with its prior (the full and the collapsed model)."""
    return positive_variable("tau", spec.prior_tau, p, "prior_tau")


def build_model(
    network: Network,
    spec: ModelSpec,
    *,
    pad_to: int | None = None,
    classes: ClassStructure | None = None,
    regression: RegressionDesign | None = None,
) -> pm.Model:
    """Build (not sample) the PyMC model of ``network`` under ``spec``.

    Parameters
    ----------
    network : Network
        Validated contrast data.
    spec : ModelSpec
        Model and priors.

    Returns
    -------
    pymc.Model
        Free variables ``d`` (dims ``treatment``: every treatment but the reference, in network
        order) and, for random effects, ``tau``. Data nodes carry the contrasts and the prior
        parameters, so the same graph refits other data of the same number of treatments.

    Other Parameters
    ----------------
    pad_to : int, optional
        Give ``d`` this many entries (at least the number of non-reference treatments); the
        extra entries are not linked to any data and carry only their prior. Used by the sampler
        to share one compiled model between networks whose treatment counts fall in the same
        bucket; the extra entries are dropped from the posterior.
    classes : ClassStructure, optional
        The class structure of a class model, if already built (built here otherwise).
    regression : RegressionDesign, optional
        The meta-regression design, if already built (built here from ``network.covariates``
        otherwise): adds ``(beta_arm - beta_base)' x_i`` to every contrast's mean (TSD3).
    """
    if regression is None:
        regression = RegressionDesign.from_network(network, spec)
    others = list(network.non_reference)
    if pad_to is not None and pad_to > len(others):
        others = others + [f"_pad{i}" for i in range(pad_to - len(others))]
    coords = {"treatment": others}
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v) for k, v in model_data(network).items()}
        outcomes = OutcomeData.from_network(network)
        baselines = outcomes.n_studies > 0
        ordered = baselines and outcomes.cells is not None
        priors = prior_data(spec, baselines=baselines, regression=regression, cutpoints=ordered)
        p = {k: pm.Data(k, v) for k, v in priors.items()}
        if spec.class_model is None:
            d = pm.Normal("d", mu=p["prior_d_mean"], sigma=p["prior_d_sd"], dims="treatment")
        else:
            cs = classes if classes is not None else ClassStructure.from_network(network, spec)
            d = class_effect_variables(cs, spec, p, model)
        d_full = pt.concatenate([pt.zeros((1,)), d])
        mu = d_full[data["arm_pos"]] - d_full[data["base_pos"]][:, None]
        beta_full = reg_data = None
        if regression is not None:
            beta_full = interaction_variables(regression, spec, p, model)
            reg_data = {k: pm.Data(k, v) for k, v in regression_data(regression).items()}
            if not regression.baseline_risk:  # (beta_arm - beta_base)' x_i per contrast
                diff = beta_full[data["arm_pos"]] - beta_full[data["base_pos"]][:, None, :]
                mu = mu + (diff * reg_data["reg_x"][:, None, :]).sum(axis=-1)
        tau = tau_variable(spec, p) if spec.random else None
        tau2 = tau**2 if tau is not None else pt.as_tensor(np.float64(0.0))
        if not np.all(network.outcome):  # contrast studies (arm-level ones are masked out)
            resid = data["y"] - mu
            loglik = marginal_loglik(
                pt, resid, data["var"], data["cov"], data["mask"], tau2, data["u"], data["cov_u"]
            )
            pm.Potential("loglik", loglik.sum())
        if baselines:
            shift = _arm_shift(outcomes, regression, beta_full, reg_data)
            reparam = reparam_arrays(network, outcomes) if tau is not None else None
            cut = _cutpoints(network, spec, p, model) if ordered else None
            _arm_terms(outcomes, d_full, tau, p, model, shift, reparam, cut)
    return model


def _cutpoints(network: Network, spec: ModelSpec, p: dict, model: pm.Model):
    """Cutpoints ``c`` (J,) of an ordered model: ``c_1 = 0``, positive increments (TSD2)."""
    model.add_coord("cutpoint", list(network.categories))
    cut = pt.zeros((1,))
    if len(network.categories) > 1:  # one cutpoint: the binomial model, nothing to estimate
        model.add_coord("cutpoint_gap", list(network.categories[1:]))
        step = positive_variable(
            "cutpoint_step", spec.prior_cutpoint, p, "prior_cut", dims="cutpoint_gap"
        )
        cut = pt.concatenate([cut, pt.cumsum(step)])
    return pm.Deterministic("cutpoints", cut, dims="cutpoint")


def _arm_shift(outcomes: OutcomeData, reg, beta_full, reg_data):
    """Per-arm interaction term of the arm-level model (a function of ``mu`` for baseline risk)."""
    if reg is None:
        return None
    diff = beta_full[outcomes.arm_pos] - beta_full[outcomes.arm_base]  # (A, P)
    if reg.baseline_risk:  # the study's own baseline, centred, is the covariate
        return lambda mu: diff[:, 0] * (mu[outcomes.arm_study] - reg_data["reg_center"])
    x = reg_data["reg_x"][outcomes.study_index][outcomes.arm_study]  # (A, P)
    return lambda mu: (diff * x).sum(axis=-1)


def _arm_terms(outcomes: OutcomeData, d_full, tau, p: dict, model: pm.Model, shift,
               reparam=None, cut=None) -> None:  # fmt: skip
    """Add the arm-level outcome likelihood (TSD2 arm-based model; ``reparam``: ``arm_param``).

    ``cut``: the cutpoints of an ordered categorical model (its categories are data).
    """
    model.add_coord("outcome_study", np.arange(outcomes.n_studies))
    model.add_coord("outcome_arm", np.arange(len(outcomes.nonbase)))  # non-base arms
    data = {k: pm.Data(k, v) for k, v in outcomes.arrays().items()}
    if tau is None:  # fixed effects: independent baselines (TSD2), theta = mu + d_t - d_b
        mu = _baselines("mu", outcomes, p)
        theta = outcomes.linear_predictor(mu, d_full, None, None, data["arm_offset"])
    else:
        mu, delta = _random_arm_effects(outcomes, d_full, tau, p, reparam)
        theta = mu[outcomes.arm_study] + delta + data["arm_offset"]
    if shift is not None:
        theta = theta + shift(mu)
    if cut is not None:  # ordered categories: multinomial over each arm's observed categories
        loglik = data["cell_count"] * cell_logp(pt, theta, cut, outcomes.cells, outcomes.link)
    else:
        loglik = arm_loglik(
            pt, theta, data["arm_events"], data["arm_trials"], outcomes.likelihood, outcomes.link
        )
    pm.Potential("arm_loglik", loglik.sum())


def _baselines(name: str, outcomes: OutcomeData, p: dict):
    """Study baselines with their normal prior; truncated to ``mu <= 0`` for the log link."""
    args = {"mu": p["prior_baseline_mean"], "sigma": p["prior_baseline_sd"]}
    args["dims"] = "outcome_study"
    if outcomes.link == "log":  # gemtc: p = exp(min(mu + delta, 0)) with mu ~ N(., .) T(, 0)
        return pm.TruncatedNormal(name, upper=0.0, **args)
    return pm.Normal(name, **args)


def _random_arm_effects(outcomes: OutcomeData, d_full, tau, p: dict, reparam: dict):
    """Baselines ``mu`` (S_o,) and study effects ``delta`` (all arms), partially non-centred.

    Free variables ``mu_centre`` (each study's information-weighted mean linear predictor) and
    ``delta_u`` (:mod:`~nma_bayes.models.arm_param`); ``mu`` and the standardised deviates
    ``e_arm = L^{-1} (delta - m) / tau`` are kept as deterministics (goodness of fit reads them).
    The sparse gathers are products with small dense constant matrices (``arm_matrices``; as
    fast as advanced indexing here, 12.8 us per gradient on smoking either way: the saving to
    8.3 us came from leaving out the masked contrast likelihood in ``build_model``).
    """
    o = outcomes
    mats = arm_matrices(o)
    w = {k: pm.Data(k, v) for k, v in reparam.items()}  # reparam_arrays: data of the weights
    lam = w["re_lambda"]
    m = pt.dot(mats["contrast"], d_full)  # d_t - d_b of each non-base arm
    u = pm.Flat("delta_u", dims="outcome_arm")
    dev = u - lam * m  # ~ N(0, tau^(2 lambda) Sigma) within each study
    white = pt.dot(mats["whiten"], dev)  # L^{-1} dev, study by study
    log_tau = pt.log(tau)
    # u's density: the study effects' N(m, tau^2 Sigma) plus the log-Jacobian (1 - lambda) log tau
    pm.Potential("delta_prior", -0.5 * (white**2 * pt.exp(-2 * lam * log_tau)).sum()
                 - lam.sum() * log_tau)  # fmt: skip
    delta_nb = m + pt.exp((1 - lam) * log_tau) * dev
    if o.link == "log":  # bounded baselines, sampled as themselves (their weights are zero)
        centre = _baselines("mu_centre", o, p)
        mu = pm.Deterministic("mu", centre + 0.0, dims="outcome_study")
    else:
        centre = pm.Flat("mu_centre", dims="outcome_study")
        # mu_i = c_i - sum_k w_ik delta_ik (a shear: unit Jacobian); the prior sits on mu itself
        mu = pm.Deterministic("mu", centre - pt.dot(w["centre_shear"], delta_nb),
                              dims="outcome_study")  # fmt: skip
        prior = pm.Normal.dist(mu=p["prior_baseline_mean"], sigma=p["prior_baseline_sd"])
        pm.Potential("mu_prior", pm.logp(prior, mu).sum())
    pm.Deterministic("e_arm", white * pt.exp(-lam * log_tau), dims="outcome_arm")
    return mu, pt.dot(mats["scatter"], delta_nb)
