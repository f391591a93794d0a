"""Calibration of the design-by-treatment model (:mod:`nma_bayes.analyses.design_by_treatment`).

Simulation-based calibration (Talts et al. 2018) of the inconsistency parameters: each replicate
draws every parameter of the design-by-treatment model from its prior (``d`` and each design's
shifted effect ``d_k + omega_{D,k}`` from ``prior_d``, ``tau`` from ``prior_tau``), simulates
contrast data of a fixed network with loops (two-arm studies of six designs and one three-arm
study; within-study errors with the exact base-arm covariance, study effects with the multi-arm
``tau^2/2`` covariance), fits both models with the exact engine and records whether each
``omega``'s interval covers its true value. With ``inconsistent=False`` every ``omega`` is 0
(consistent data) and the replicate records which model DIC prefers.

Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from ..data.network import Network
from ..data.transforms import design_by_treatment_network
from ..models.priors import HalfNormal, Normal
from .design_by_treatment import design_by_treatment

__all__ = ["DBT_STUDIES", "simulate_dbt", "dbt_calibration"]

#: The simulated network: each study's treatments (first = its design's baseline).
DBT_STUDIES = (
    (("A", "B"),) * 3
    + (("A", "C"),) * 3
    + (("A", "D"),) * 2
    + (("B", "C"),) * 2
    + (("B", "D"),) * 2
    + (("C", "D"),) * 2
    + (("A", "B", "C"),)
)
#: Variance of each arm's mean (so a two-arm contrast has SE 0.2 * sqrt(2) ~ 0.28).
ARM_VARIANCE = 0.04


def _se_base(study) -> float:
    """SE of the base arm of a multi-arm study (NaN for two-arm studies)."""
    return np.sqrt(ARM_VARIANCE) if len(study) > 2 else np.nan


@cache
def _kept() -> tuple:
    """Return the design-by-treatment parameters of the simulated network (built once)."""
    rows = [(f"s{i}", t, s[0], 0.0, np.sqrt(2 * ARM_VARIANCE), _se_base(s))
            for i, s in enumerate(DBT_STUDIES) for t in s[1:]]  # fmt: skip
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    net = Network.from_contrasts(df, reference="A", treatments=["A", "B", "C", "D"])
    return tuple(design_by_treatment_network(net)[1])


def simulate_dbt(rng: np.random.Generator, *, prior_d, prior_tau, inconsistent: bool = True):
    """One data set of the design-by-treatment model and its true ``omega`` (see module).

    ``prior_d`` a :class:`~nma_bayes.models.priors.Normal`, ``prior_tau`` a
    :class:`~nma_bayes.models.priors.HalfNormal`.
    """
    kept = _kept()
    d = {"A": 0.0} | {t: rng.normal(prior_d.mean, prior_d.sd) for t in "BCD"}
    # each kept design's shifted effect d_k + omega has the prior of d (the model's prior)
    omega = {(design, k): (rng.normal(prior_d.mean, prior_d.sd) - d[k] if inconsistent else 0.0)
             for design, k, _, _ in kept}  # fmt: skip
    tau = abs(rng.normal(0.0, prior_tau.scale))  # half-normal
    rows = []
    for i, study in enumerate(DBT_STUDIES):
        design, m = ":".join(study), len(study) - 1
        mean = np.array([d[k] - d[study[0]] + omega.get((design, k), 0.0) for k in study[1:]])
        shared = np.eye(m) + np.ones((m, m))  # (I + J): random effects / 2, errors / var
        cov = tau**2 * shared / 2 + ARM_VARIANCE * shared
        y = rng.multivariate_normal(mean, cov)
        for k, te in zip(study[1:], y, strict=True):
            rows.append((f"s{i}", k, study[0], te, np.sqrt(2 * ARM_VARIANCE), _se_base(study)))
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    truth = pd.DataFrame([(design, k, w) for (design, k), w in omega.items()],
                         columns=["design", "treatment", "true_omega"])  # fmt: skip
    return df, truth


def dbt_calibration(
    n_replicates: int, *, seed: int, inconsistent: bool = True, ci_prob: float = 0.95,
    prior_d=None, prior_tau=None,
) -> pd.DataFrame:  # fmt: skip
    """Run the calibration (module docstring); one row per replicate and ``omega``.

    Columns ``replicate, design, treatment, true_omega, omega_lower, omega_upper, covered,
    dic_difference`` (design-by-treatment minus consistency; positive prefers consistency).
    Defaults: ``prior_d = Normal(0, 1)``, ``prior_tau = HalfNormal(0.5)`` (informative enough
    that simulated effects look like real ones; any prior calibrates).
    """
    prior_d = Normal(0, 1) if prior_d is None else prior_d
    prior_tau = HalfNormal(0.5) if prior_tau is None else prior_tau
    rng = np.random.default_rng(seed)
    out = []
    for r in range(n_replicates):
        df, truth = simulate_dbt(rng, prior_d=prior_d, prior_tau=prior_tau,
                                 inconsistent=inconsistent)  # fmt: skip
        res = design_by_treatment(df, reference="A", treatments=["A", "B", "C", "D"],
                                  prior_d=prior_d, prior_tau=prior_tau, ci_prob=ci_prob,
                                  random_seed=seed + r)  # fmt: skip
        table = res.inconsistency.merge(truth, on=["design", "treatment"], validate="1:1")
        table["covered"] = (table["omega_lower"] <= table["true_omega"]) & (
            table["true_omega"] <= table["omega_upper"])  # fmt: skip
        out.append(table.assign(replicate=r, dic_difference=res.dic_difference))
    cols = ["replicate", "design", "treatment", "true_omega", "omega_lower", "omega_upper",
            "covered", "dic_difference"]  # fmt: skip
    return pd.concat(out, ignore_index=True)[cols]
