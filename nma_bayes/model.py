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
number of contrasts. The fixed-effect model is the same with ``tau = 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .spec import ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["build_model", "model_data", "marginal_loglik", "LOG_2PI"]

LOG_2PI = float(np.log(2 * np.pi))


def marginal_loglik(xp, resid, var, cov, mask, tau2):
    """Per-study log-density of the contrasts, random effects integrated out.

    Works with NumPy (``xp=numpy``) and PyTensor (``xp=pytensor.tensor``), so that the sampled
    graph and exact NumPy checks share one formula.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``pytensor.tensor``.
    resid : array (..., S, K)
        ``y - mu`` (padding slots arbitrary).
    var : array (S, K)
        Non-base-arm variance ``seTE^2 - se_base^2`` (padding slots any positive value).
    cov : array (S,)
        Base-arm variance ``se_base^2`` (0 for two-arm studies).
    mask : array (S, K)
        1.0 for real contrasts, 0.0 for padding.
    tau2 : scalar or array (...)
        Between-study variance, one per draw; 0 for fixed effects.

    Returns
    -------
    array (..., S)
        Log-density of each study's contrasts.
    """
    half = tau2[..., None] / 2.0  # (..., 1): broadcasts against studies
    a = var + half[..., None]
    s = cov + half
    w = mask / a
    r = resid * mask
    sum_w = w.sum(axis=-1)
    quad = (r * r * w).sum(axis=-1) - s * (r * w).sum(axis=-1) ** 2 / (1.0 + s * sum_w)
    logdet = (xp.log(a) * mask).sum(axis=-1) + xp.log1p(s * sum_w)
    return -0.5 * (quad + logdet + mask.sum(axis=-1) * LOG_2PI)


def model_data(network: Network) -> dict[str, np.ndarray]:
    """Arrays that enter the graph as data, with treatments mapped to positions in ``d_full``.

    ``d_full = [0, d]``: position 0 is the reference, positions ``1..T-1`` the other treatments
    in ``network.treatments`` order.

    Parameters
    ----------
    network : Network
        A validated network.

    Returns
    -------
    dict of str to ndarray
        ``y, var, cov, mask, arm_pos, base_pos``.
    """
    pos = np.zeros(network.n_treatments, dtype=np.int64)
    others = [i for i, t in enumerate(network.treatments) if t != network.reference]
    pos[others] = np.arange(1, len(others) + 1)
    mask = np.asarray(network.mask, dtype=float)
    return {
        "y": np.asarray(network.y, dtype=float) * mask,
        "var": np.where(mask > 0, network.var, 1.0).astype(float),
        "cov": np.asarray(network.cov, dtype=float),
        "mask": mask,
        "arm_pos": np.where(mask > 0, pos[network.arm], 0).astype(np.int64),
        "base_pos": pos[network.base].astype(np.int64),
    }


def prior_data(spec: ModelSpec) -> dict[str, float]:
    """Numeric prior parameters, named as the graph's data nodes."""
    out = {f"prior_d_{k}": v for k, v in spec.prior_d.params().items()}
    if spec.random:
        out.update({f"prior_tau_{k}": v for k, v in spec.prior_tau.params().items()})
    return out


def _tau(spec: ModelSpec, p: dict):
    family = spec.prior_tau.family
    if family == "halfnormal":
        return pm.HalfNormal("tau", sigma=p["prior_tau_scale"])
    if family == "uniform":
        return pm.Uniform("tau", lower=p["prior_tau_lower"], upper=p["prior_tau_upper"])
    if family == "lognormal":
        return pm.LogNormal("tau", mu=p["prior_tau_mu"], sigma=p["prior_tau_sigma"])
    raise AssertionError(f"unhandled tau prior family {family!r}")  # pragma: no cover


def build_model(network: Network, spec: ModelSpec) -> pm.Model:
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
    """
    others = [t for t in network.treatments if t != network.reference]
    coords = {"treatment": others}
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v) for k, v in model_data(network).items()}
        p = {k: pm.Data(k, v) for k, v in prior_data(spec).items()}
        d = pm.Normal("d", mu=p["prior_d_mean"], sigma=p["prior_d_sd"], dims="treatment")
        d_full = pt.concatenate([pt.zeros((1,)), d])
        mu = d_full[data["arm_pos"]] - d_full[data["base_pos"]][:, None]
        tau2 = _tau(spec, p) ** 2 if spec.random else pt.as_tensor(np.float64(0.0))
        loglik = marginal_loglik(pt, data["y"] - mu, data["var"], data["cov"], data["mask"], tau2)
        pm.Potential("loglik", loglik.sum())
    return model
