"""Simulation-based calibration of the ordered categorical model (Talts et al. 2018).

Each replicate draws ``d``, ``tau``, the cutpoint increments and the study baselines from the
priors the fit uses, a connected design (:func:`~nma_bayes.analyses.calibration_arms.draw_design`),
study effects with the multi-arm ``tau^2 / 2`` covariance, and for every arm a reported subset of
the cutpoints (all of them, or one, or the first two: the patterns of TSD2's psoriasis data) and
multinomial counts over the categories they make, with ``P(at least c_j) = F(mu_i + delta_ik -
c_j)`` (:mod:`nma_bayes.models.ordered_likelihood`). Then it fits the data in the long
cumulative layout and records the rank of each true value among ``L`` posterior draws
(``d``, ``tau`` and the free cutpoints) and whether the 95% interval covers it
(:func:`nma_bayes.analyses.calibration.sbc_summary` tests both).

Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from ..models.priors import HalfNormal, Normal, Uniform
from .calibration import _replicate_rows
from .calibration_arms import ArmSBCSettings, draw_design

__all__ = ["OrderedSBCSettings", "draw_reporting", "simulate_ordered", "run_ordered_sbc"]

#: Cutpoint names of the simulated scale.
CUTPOINTS = ("C1", "C2", "C3")
#: Reporting patterns (indices of the reported cutpoints) and their probabilities.
PATTERNS = (((0, 1, 2), 0.4), ((0, 1), 0.15), ((0,), 0.2), ((1,), 0.25))


@dataclass(frozen=True)
class OrderedSBCSettings(ArmSBCSettings):
    """An arm-level SBC design (:class:`ArmSBCSettings`) with the ordered model's settings."""

    link: str = "probit"
    prior_cutpoint: Uniform = Uniform(0.2, 1.5)
    prior_baseline: Normal = Normal(-0.5, 0.5)
    prior_tau: HalfNormal = HalfNormal(0.5)


def _reported(rng: np.random.Generator) -> tuple[int, ...]:
    probs = np.array([p for _, p in PATTERNS])
    return PATTERNS[int(rng.choice(len(PATTERNS), p=probs))][0]


def draw_reporting(design: list, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Draw the cutpoints each study reports (on every arm); the first study reports all."""
    return [PATTERNS[0][0]] + [_reported(rng) for _ in design[1:]]


def simulate_ordered(settings: OrderedSBCSettings, rng: np.random.Generator, design=None,
                     reporting=None):  # fmt: skip
    """Draw the parameters and an ordered categorical network (long cumulative layout).

    ``design`` (:func:`draw_design`) and ``reporting`` (:func:`draw_reporting`) are drawn here
    when not given.

    Returns
    -------
    data : DataFrame
        ``study, treatment, category, events, n``: one row per arm and reported cutpoint, the
        number reaching at least that cutpoint.
    truth : dict
        ``{"d": {treatment: value vs T1}, "tau": value, "cutpoints": {name: value}}``.
    """
    k_t = settings.n_treatments
    names = [f"T{i + 1}" for i in range(k_t)]
    d = np.concatenate([[0.0], rng.normal(settings.prior_d.mean, settings.prior_d.sd, k_t - 1)])
    tau = abs(rng.normal(0.0, settings.prior_tau.scale))
    lo, hi = settings.prior_cutpoint.lower, settings.prior_cutpoint.upper
    cut = np.concatenate([[0.0], np.cumsum(rng.uniform(lo, hi, len(CUTPOINTS) - 1))])
    cdf = ndtr if settings.link == "probit" else expit
    rows = []
    base = settings.prior_baseline
    design = design if design is not None else draw_design(settings, rng)
    reporting = reporting if reporting is not None else draw_reporting(design, rng)
    for s, (arms, n) in enumerate(design):
        k = len(arms) - 1
        delta = rng.multivariate_normal(d[arms[1:]] - d[arms[0]],
                                        tau**2 / 2 * (np.eye(k) + np.ones((k, k))))  # fmt: skip
        theta = rng.normal(base.mean, base.sd) + np.concatenate([[0.0], delta])
        js = np.array(reporting[s])
        for a, th, m in zip(arms, theta, n, strict=True):
            at_least = np.concatenate([[1.0], cdf(th - cut[js]), [0.0]])
            counts = rng.multinomial(int(m), at_least[:-1] - at_least[1:])
            cum = np.cumsum(counts[::-1])[::-1][1:]  # at least each reported cutpoint
            rows += [(f"s{s + 1}", names[a], CUTPOINTS[j], int(c), int(m))
                     for j, c in zip(js, cum, strict=True)]  # fmt: skip
    data = pd.DataFrame(rows, columns=["study", "treatment", "category", "events", "n"])
    truth = {"d": dict(zip(names[1:], d[1:], strict=True)), "tau": tau,
             "cutpoints": dict(zip(CUTPOINTS[1:], cut[1:], strict=True))}  # fmt: skip
    return data, truth


def _cutpoint_params(fit, truth: dict) -> list[tuple]:
    """Return the free cutpoints as ``extra`` entries of :func:`_replicate_rows`."""
    post = fit.idata["posterior"]["cutpoints"]
    table = fit.cutpoints().set_index("cutpoint")
    return [("cutpoint", name, post.sel(cutpoint=name), true, table.loc[name])
            for name, true in truth["cutpoints"].items()]  # fmt: skip


def run_ordered_sbc(
    n_networks: int,
    *,
    settings: OrderedSBCSettings | None = None,
    seed: int = 0,
    fit_options: dict | None = None,
) -> pd.DataFrame:
    """Run ordered-model SBC replicates with NUTS; return the rank rows.

    Parameters
    ----------
    n_networks : int
        Simulated networks.
    settings : OrderedSBCSettings, optional
        Simulation design and priors (also the fit's priors).
    seed : int
        Seed of the simulations (fits use derived seeds).
    fit_options : dict, optional
        Extra keyword arguments of :func:`fit_network` (e.g. ``draws``).

    Returns
    -------
    DataFrame
        ``replicate, parameter (d, tau, cutpoint), name, truth, rank, n_ranks, covered``.
    """
    from ..fitting.fit import fit_network

    settings = settings or OrderedSBCSettings()
    rng = np.random.default_rng(seed)
    rows = []
    design = reporting = None
    if settings.fixed_design:  # one layout (and reporting pattern): one compiled model
        design = draw_design(settings, rng)
        reporting = draw_reporting(design, rng)
    for r in range(n_networks):
        data, truth = simulate_ordered(settings, rng, design, reporting)
        kwargs = {"likelihood": "ordered", "link": settings.link, "reference": "T1",
                  "categories": list(CUTPOINTS), "prior_d": settings.prior_d,
                  "prior_tau": settings.prior_tau, "prior_baseline": settings.prior_baseline,
                  "prior_cutpoint": settings.prior_cutpoint, "progressbar": False,
                  "random_seed": int(rng.integers(2**31))} | (fit_options or {})  # fmt: skip
        fit = fit_network(data, **kwargs)
        rows += _replicate_rows(fit, truth, settings.n_ranks, r, _cutpoint_params(fit, truth))
    return pd.DataFrame(rows)
