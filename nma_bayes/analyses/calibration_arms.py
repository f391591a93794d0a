"""Simulation-based calibration of the arm-level binomial random-effects model (Talts et al. 2018).

Each replicate draws ``d``, ``tau`` and the study baselines ``mu_i`` from the priors the fit uses
(proper ones: a baseline prior of ``N(0, 100^2)`` would simulate probabilities of 0 and 1), a
connected design of two- and three-arm studies, study effects with the multi-arm ``tau^2 / 2``
covariance, and binomial events ``r ~ Bin(n, expit(mu_i + delta_ik))`` (TSD2's arm-based logit
model); then fits it and records the rank of each true value among ``L`` posterior draws and
whether the 95% interval covers it (:func:`nma_bayes.analyses.calibration.sbc_summary` tests
both). Any engine can be calibrated; replicates an engine refuses (the Laplace engine's Pareto
``k`` check) are counted, not fitted another way, so the summary says how often that happens.

Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ..base.errors import ExactEngineError
from ..models.priors import HalfNormal, Normal
from .calibration import _connected, _replicate_rows

__all__ = ["ArmSBCSettings", "draw_design", "simulate_arms", "run_arm_sbc"]


@dataclass(frozen=True)
class ArmSBCSettings:
    """Design of an arm-level SBC run (priors used both to simulate and to fit)."""

    n_treatments: int = 4
    studies: tuple[int, int] = (6, 20)
    three_arm_share: float = 0.2
    arm_size: tuple[int, int] = (40, 200)
    prior_d: Normal = Normal(0.0, 1.0)
    prior_tau: HalfNormal = HalfNormal(0.5)
    prior_baseline: Normal = Normal(-1.0, 0.7)
    n_ranks: int = 99
    #: One design (studies, arms, sizes), drawn once and kept for every replicate: the NUTS
    #: engine compiles a model per layout, so this makes a reduced NUTS run affordable. The
    #: ranks stay uniform given the design (SBC holds conditionally on it).
    fixed_design: bool = False


def draw_design(settings: ArmSBCSettings, rng: np.random.Generator) -> list[tuple]:
    """Draw a connected design: per study, its treatments (sorted; base first) and arm sizes."""
    k_t = settings.n_treatments
    n_studies = int(rng.integers(settings.studies[0], settings.studies[1] + 1))
    while True:
        sizes = np.where(rng.uniform(size=n_studies) < settings.three_arm_share, 3, 2)
        designs = [np.sort(rng.choice(k_t, size=k, replace=False)) for k in sizes]
        if _connected(designs, k_t):
            break
    lo, hi = settings.arm_size
    return [(arms, rng.integers(lo, hi + 1, size=len(arms))) for arms in designs]


def simulate_arms(settings: ArmSBCSettings, rng: np.random.Generator, design=None):
    """Draw the parameters from the priors and a binomial arm-level network from the model.

    ``design`` (from :func:`draw_design`) is drawn here when not given.

    Returns
    -------
    data : DataFrame
        ``study, treatment, events, n`` (each study's base arm, its lowest-numbered treatment,
        first).
    truth : dict
        ``{"d": {treatment: value vs T1}, "tau": value}``.
    """
    k_t = settings.n_treatments
    names = [f"T{i + 1}" for i in range(k_t)]
    d = np.concatenate([[0.0], rng.normal(settings.prior_d.mean, settings.prior_d.sd, k_t - 1)])
    tau = abs(rng.normal(0.0, settings.prior_tau.scale))
    rows = []
    base = settings.prior_baseline
    for s, (arms, n) in enumerate(design if design is not None else draw_design(settings, rng)):
        k = len(arms) - 1
        # study effects vs the base arm: mean d_k - d_b, variance tau^2, covariance tau^2 / 2
        delta = rng.multivariate_normal(d[arms[1:]] - d[arms[0]],
                                        tau**2 / 2 * (np.eye(k) + np.ones((k, k))))  # fmt: skip
        theta = rng.normal(base.mean, base.sd) + np.concatenate([[0.0], delta])
        events = rng.binomial(n, expit(theta))
        rows += [(f"s{s + 1}", names[a], int(r), int(m))
                 for a, r, m in zip(arms, events, n, strict=True)]  # fmt: skip
    data = pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])
    return data, {"d": dict(zip(names[1:], d[1:], strict=True)), "tau": tau}


def run_arm_sbc(
    n_networks: int,
    *,
    engine: str = "laplace",
    settings: ArmSBCSettings | None = None,
    seed: int = 0,
    fit_options: dict | None = None,
) -> tuple[pd.DataFrame, int]:
    """Run arm-level SBC replicates; return the rank rows and the number of refused replicates.

    Parameters
    ----------
    n_networks : int
        Simulated networks.
    engine : {"laplace", "pymc"}
        Engine of :func:`nma_bayes.fit_network`.
    settings : ArmSBCSettings, optional
        Simulation design and priors.
    seed : int
        Seed of the simulations (fits use derived seeds).
    fit_options : dict, optional
        Extra keyword arguments of :func:`fit_network` (e.g. ``draws``).

    Returns
    -------
    ranks : DataFrame
        :func:`nma_bayes.analyses.calibration.run_sbc`'s rows (``replicate, parameter, name,
        truth, rank, n_ranks, covered``) of the fitted replicates.
    refused : int
        Replicates the engine refused (``ExactEngineError``).
    """
    from ..fitting.fit import fit_network

    settings = settings or ArmSBCSettings()
    rng = np.random.default_rng(seed)
    rows, refused = [], 0
    design = draw_design(settings, rng) if settings.fixed_design else None
    for r in range(n_networks):
        data, truth = simulate_arms(settings, rng, design)
        kwargs = {"likelihood": "binomial", "reference": "T1", "engine": engine,
                  "prior_d": settings.prior_d, "prior_tau": settings.prior_tau,
                  "prior_baseline": settings.prior_baseline, "progressbar": False,
                  "random_seed": int(rng.integers(2**31))} | (fit_options or {})  # fmt: skip
        try:
            fit = fit_network(data, **kwargs)
        except ExactEngineError:
            refused += 1
            continue
        rows += _replicate_rows(fit, truth, settings.n_ranks, r)
    return pd.DataFrame(rows), refused
