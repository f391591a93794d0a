"""Simulation-based calibration of the parametric survival NMAs on pseudo-IPD (Talts et al. 2018).

Each replicate draws ``d`` (log hazard or time ratios), each study's baseline ``mu_s`` and
auxiliary parameter (and, for random effects, ``tau`` and the study effects with the multi-arm
``tau^2 / 2`` covariance) from the priors the fit uses, a connected design
(:func:`~nma_bayes.analyses.calibration_arms.draw_design`), and for every patient an event time
from the family's survival function (:func:`event_times`: ``S(T) = U`` inverted exactly; the
Weibull ``T = (E e^-eta)^(1/a)`` with ``E ~ Exp(1)``, so ``H(t) = e^eta t^a``) censored at
``C ~ U(0.5, 4)``. With ``regression``, each study also draws a covariate
``x_s ~ N(0, 1)`` and every non-reference arm's linear predictor moves by the shared interaction
``B (1[t_sa != ref] - 1[t_s1 != ref]) x_s`` (TSD3; uncentred, so ``d`` are the effects at
``x = 0``), with ``B`` from its prior. Then it fits the same model
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

__all__ = ["SurvivalSBCSettings", "event_times", "run_survival_sbc", "simulate_survival"]


@dataclass(frozen=True)
class SurvivalSBCSettings(ArmSBCSettings):
    """An arm-level SBC design (:class:`ArmSBCSettings`) with a parametric model's priors.

    ``prior_aux`` is the prior of the positive auxiliary parameter (Weibull and log-logistic
    shape, log-normal SD); the Gompertz rate has ``prior_rate``.
    """

    studies: tuple[int, int] = (4, 10)
    arm_size: tuple[int, int] = (30, 120)
    prior_d: Normal = Normal(0.0, 0.5)
    prior_baseline: Normal = Normal(-1.0, 0.5)
    prior_aux: LogNormal = LogNormal(0.0, 0.3)
    prior_tau: HalfNormal = HalfNormal(0.3)
    random: bool = False
    regression: bool = False
    prior_beta: Normal = Normal(0.0, 0.5)
    model: str = "weibull"
    prior_rate: Normal = Normal(0.0, 0.3)

    @property
    def aux_prior(self):
        """The prior the auxiliary parameter is simulated from and fitted with."""
        return self.prior_rate if self.model == "gompertz" else self.prior_aux


def event_times(model: str, eta: float, aux: float, u: np.ndarray) -> np.ndarray:
    """Invert ``S(T) = u`` for each family (``inf``: a Gompertz patient who never fails).

    ``H = -log u``; Weibull ``e^eta T^a = H``; Gompertz ``e^eta (e^{g T} - 1) / g = H``;
    log-normal ``Phi(-(log T - eta) / sigma) = u``; log-logistic ``1 / (1 + (T e^-eta)^k) = u``.
    """
    from scipy.special import ndtri

    h = -np.log(u)
    if model == "weibull":
        return (h * np.exp(-eta)) ** (1 / aux)
    if model == "gompertz":
        x = aux * h * np.exp(-eta)  # <= -1: the cumulative hazard never reaches h (g < 0)
        return np.where(x > -1, np.log1p(np.where(x > -1, x, 0.0)) / aux, np.inf)
    if model == "lognormal":
        return np.exp(eta - aux * ndtri(u))
    if model == "loglogistic":
        return np.exp(eta) * ((1 - u) / u) ** (1 / aux)
    raise ValueError(f"no simulator for model={model!r}")  # pragma: no cover


def simulate_survival(settings: SurvivalSBCSettings, rng: np.random.Generator, design=None):
    """Draw the parameters and a pseudo-IPD network of ``settings.model`` (module docstring).

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
        if settings.model == "gompertz":
            shape = float(rng.normal(settings.prior_rate.mean, settings.prior_rate.sd))
        else:
            shape = float(np.exp(rng.normal(settings.prior_aux.mu, settings.prior_aux.sigma)))
        shapes[f"s{s + 1}"] = shape
        for a, eta, m in zip(arms, mu + np.concatenate([[0.0], delta]), n, strict=True):
            # 1 - U ~ U(0, 1) keeps the Weibull stream T = (E e^-eta)^(1/a) with E ~ Exp(1)
            u = np.exp(-rng.exponential(size=int(m)))
            t = event_times(settings.model, eta, shape, u)
            c = rng.uniform(0.5, 4.0, size=int(m))
            parts.append(pd.DataFrame({"study": f"s{s + 1}", "treatment": names[a],
                                       "time": np.minimum(t, c), "status": (t <= c) * 1.0,
                                       COVARIATE: x}))  # fmt: skip
    truth = {"d": dict(zip(names[1:], d[1:], strict=True)), "tau": tau, "shape": shapes}
    if settings.regression:
        truth["beta"] = beta
    return pd.concat(parts, ignore_index=True), truth


def _shape_params(fit, truth: dict) -> list[tuple]:
    """Return the studies' auxiliary parameters as ``extra`` entries of :func:`_replicate_rows`."""
    from ..models.survival_model import AUX_NAME
    from ..results.summaries import describe_draws, flat_draws

    name = AUX_NAME[fit.spec.model]
    post = fit.idata["posterior"][name]
    out = []
    for study, true in truth["shape"].items():
        draws = post.sel(study=study)
        stats = describe_draws(flat_draws(draws), 0.95)
        out.append((name, study, draws, true, stats))
    return out


def run_survival_sbc(n_networks: int, *, settings: SurvivalSBCSettings | None = None,
                     seed: int = 0, fit_options: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Run SBC replicates of ``settings.model`` with NUTS; return the rank rows.

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
        data, truth = simulate_survival(settings, rng, design)
        options = {"model": settings.model, "reference": "T1", "prior_d": settings.prior_d,
                   "prior_baseline": settings.prior_baseline, "prior_aux": settings.aux_prior,
                   "prior_tau": settings.prior_tau, "progressbar": False,
                   "effects": "random" if settings.random else "fixed",
                   "random_seed": int(rng.integers(2**31))} | (fit_options or {})  # fmt: skip
        if settings.regression:
            options |= {"covariates": COVARIATE, "interaction": "shared", "center": False,
                        "prior_beta": settings.prior_beta}  # fmt: skip
        fit = fit_survival(data, **options)
        rows += _replicate_rows(fit, truth, settings.n_ranks, r, _shape_params(fit, truth))
    return pd.DataFrame(rows)
