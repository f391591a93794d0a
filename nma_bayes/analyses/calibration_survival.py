"""Simulation-based calibration of the Weibull survival NMA on pseudo-IPD (Talts et al. 2018).

Each replicate draws ``d`` (log hazard ratios), each study's baseline ``mu_s`` and Weibull shape
``a_s`` (and, for random effects, ``tau`` and the study effects with the multi-arm ``tau^2 / 2``
covariance) from the priors the fit uses, a connected design
(:func:`~nma_bayes.analyses.calibration_arms.draw_design`), and for every patient an event time
``T = (E e^-eta)^(1/a)`` with ``E ~ Exp(1)`` (so ``H(t) = e^eta t^a``, the model's cumulative
hazard) censored at ``C ~ U(0.5, 4)``. With ``regression``, each study also draws a covariate
``x_s ~ N(0, 1)`` and every non-reference arm's log hazard moves by the shared interaction
``B (1[t_sa != ref] - 1[t_s1 != ref]) x_s`` (TSD3; uncentred, so ``d`` are the effects at
``x = 0``), with ``B`` from its prior. Then it fits the Weibull PH model
(:mod:`nma_bayes.models.survival_model`) and records the rank of each true value among ``L``
posterior draws (``d``, the shapes, ``tau``, ``B``) and whether the 95% interval covers it
(:func:`nma_bayes.analyses.calibration.sbc_summary` tests both).

Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models.priors import HalfNormal, LogNormal, Normal
from .calibration import COVARIATE, _replicate_rows
from .calibration_arms import ArmSBCSettings, draw_design

__all__ = ["SurvivalSBCSettings", "run_survival_sbc", "simulate_weibull"]


@dataclass(frozen=True)
class SurvivalSBCSettings(ArmSBCSettings):
    """An arm-level SBC design (:class:`ArmSBCSettings`) with the Weibull model's priors."""

    studies: tuple[int, int] = (4, 10)
    arm_size: tuple[int, int] = (30, 120)
    prior_d: Normal = Normal(0.0, 0.5)
    prior_baseline: Normal = Normal(-1.0, 0.5)
    prior_aux: LogNormal = LogNormal(0.0, 0.3)
    prior_tau: HalfNormal = HalfNormal(0.3)
    random: bool = False
    regression: bool = False
    prior_beta: Normal = Normal(0.0, 0.5)


def simulate_weibull(settings: SurvivalSBCSettings, rng: np.random.Generator, design=None):
    """Draw the parameters and a Weibull pseudo-IPD network (module docstring).

    Returns
    -------
    data : DataFrame
        ``study, treatment, time, status``: one row per patient.
    truth : dict
        ``{"d": {treatment: value vs T1}, "tau": value, "shape": {study: value}}``.
    """
    k_t = settings.n_treatments
    names = [f"T{i + 1}" for i in range(k_t)]
    d = np.concatenate([[0.0], rng.normal(settings.prior_d.mean, settings.prior_d.sd, k_t - 1)])
    tau = abs(rng.normal(0.0, settings.prior_tau.scale)) if settings.random else 0.0
    beta = rng.normal(settings.prior_beta.mean, settings.prior_beta.sd) \
        if settings.regression else 0.0
    design = design if design is not None else draw_design(settings, rng)
    parts, shapes = [], {}
    for s, (arms, n) in enumerate(design):
        k = len(arms) - 1
        x = rng.normal() if settings.regression else 0.0
        has = (np.asarray(arms) != 0) * 1.0  # the shared interaction of every non-reference arm
        delta = d[arms[1:]] - d[arms[0]] + beta * (has[1:] - has[0]) * x
        if settings.random:
            delta = rng.multivariate_normal(delta, tau**2 / 2 * (np.eye(k) + np.ones((k, k))))
        mu = rng.normal(settings.prior_baseline.mean, settings.prior_baseline.sd)
        shape = float(np.exp(rng.normal(settings.prior_aux.mu, settings.prior_aux.sigma)))
        shapes[f"s{s + 1}"] = shape
        for a, eta, m in zip(arms, mu + np.concatenate([[0.0], delta]), n, strict=True):
            # H(T) = e^eta T^a ~ Exp(1): T = (E e^-eta)^(1/a)
            t = (rng.exponential(size=int(m)) * np.exp(-eta)) ** (1 / shape)
            c = rng.uniform(0.5, 4.0, size=int(m))
            parts.append(pd.DataFrame({"study": f"s{s + 1}", "treatment": names[a],
                                       "time": np.minimum(t, c), "status": (t <= c) * 1.0,
                                       COVARIATE: x}))  # fmt: skip
    truth = {"d": dict(zip(names[1:], d[1:], strict=True)), "tau": tau, "shape": shapes}
    if settings.regression:
        truth["beta"] = beta
    return pd.concat(parts, ignore_index=True), truth


def _shape_params(fit, truth: dict) -> list[tuple]:
    """Return the study shapes as ``extra`` entries of :func:`_replicate_rows`."""
    from ..results.summaries import describe_draws, flat_draws

    post = fit.idata["posterior"]["shape"]
    out = []
    for study, true in truth["shape"].items():
        draws = post.sel(study=study)
        stats = describe_draws(flat_draws(draws), 0.95)
        out.append(("shape", study, draws, true, stats))
    return out


def run_survival_sbc(n_networks: int, *, settings: SurvivalSBCSettings | None = None,
                     seed: int = 0, fit_options: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Run Weibull SBC replicates with NUTS; return the rank rows.

    Parameters
    ----------
    n_networks : int
        Simulated networks.
    settings : SurvivalSBCSettings, optional
        Simulation design and priors (also the fit's priors).
    seed : int
        Seed of the simulations (fits use derived seeds).
    fit_options : dict, optional
        Extra keyword arguments of :func:`~nma_bayes.fitting.survival.fit_survival`.

    Returns
    -------
    DataFrame
        ``replicate, parameter (d, shape, tau, beta), name, truth, rank, n_ranks, covered``.
    """
    from ..fitting.survival import fit_survival

    settings = settings or SurvivalSBCSettings()
    rng = np.random.default_rng(seed)
    design = draw_design(settings, rng) if settings.fixed_design else None
    rows = []
    for r in range(n_networks):
        data, truth = simulate_weibull(settings, rng, design)
        options = {"model": "weibull", "reference": "T1", "prior_d": settings.prior_d,
                   "prior_baseline": settings.prior_baseline, "prior_aux": settings.prior_aux,
                   "prior_tau": settings.prior_tau, "progressbar": False,
                   "effects": "random" if settings.random else "fixed",
                   "random_seed": int(rng.integers(2**31))} | (fit_options or {})  # fmt: skip
        if settings.regression:
            options |= {"covariates": COVARIATE, "interaction": "shared", "center": False,
                        "prior_beta": settings.prior_beta}  # fmt: skip
        fit = fit_survival(data, **options)
        rows += _replicate_rows(fit, truth, settings.n_ranks, r, _shape_params(fit, truth))
    return pd.DataFrame(rows)
