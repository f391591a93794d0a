r"""Exact generalised-least-squares (GLS) estimates of the contrast-based NMA.

Used as an exact computation to check the sampler: under a normal prior on ``d`` and a known
``tau``, the posterior of ``d`` is normal with

.. math::

    \Sigma^{-1} = \sum_i X_i' A_i^{-1} X_i + \Sigma_0^{-1},\qquad
    \hat d = \Sigma\Big(\sum_i X_i' A_i^{-1} y_i + \Sigma_0^{-1} m_0\Big),

where ``A_i = V_i + tau^2 (I + J)/2`` (Dias et al. 2011, TSD2; Lu & Ades 2004). With
``tau = 0`` and no prior this is the common-effect (fixed-effect) GLS estimate that netmeta reports
(Rücker 2012, Res Synth Methods 3:312-324), including the exact multi-arm covariance.

The same algebra serves the frequentist evidence-structure quantities
(:mod:`nma_bayes.results.evidence_graph`): :func:`study_covariances` gives every study's ``A_i``
and :func:`gls_solve` the covariance and the hat matrix ``H = \Sigma X' W`` (``\hat d = H y``) of
any stacked design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..models.likelihood import ContrastData

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["gls_estimate", "gls_solve", "study_covariances", "random_effects_covariance"]


def random_effects_covariance(k: int, tau: float) -> np.ndarray:
    """Covariance ``tau^2 (I + J) / 2`` of the random effects of a study's ``k`` contrasts.

    Each arm's random effect has variance ``tau^2 / 2``, so every contrast has variance ``tau^2``
    and two contrasts sharing the base arm have covariance ``tau^2 / 2`` (Higgins & Whitehead
    1996); the matrix is the same whichever arm is the base.
    """
    return float(tau) ** 2 / 2 * (np.eye(k) + np.ones((k, k)))


def study_covariances(network: Network, *, tau: float = 0.0) -> list[np.ndarray]:
    """Covariance ``A_i = V_i + tau^2 (I + J)/2`` of each study's contrasts, in network order."""
    return [
        network.study_covariance(i) + random_effects_covariance(int(network.mask[i].sum()), tau)
        for i in range(network.n_studies)
    ]


def gls_solve(
    design: np.ndarray, weight: np.ndarray, *, prior_precision: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Covariance and hat matrix of the GLS estimate of a stacked linear model.

    Parameters
    ----------
    design : ndarray (n, p)
        Design matrix ``X`` of the stacked observations.
    weight : ndarray (n, n)
        Their inverse covariance ``W`` (block diagonal for independent studies).
    prior_precision : ndarray (p, p), optional
        Precision of a normal prior on the parameters, added to ``X' W X``.

    Returns
    -------
    cov : ndarray (p, p)
        ``(X' W X + P_0)^{-1}``.
    hat : ndarray (p, n)
        ``cov X' W``: the estimate is ``hat @ y`` (plus ``cov @ P_0 m_0`` under a prior).
    """
    xtw = design.T @ weight
    precision = xtw @ design
    if prior_precision is not None:
        precision = precision + prior_precision
    cov = np.linalg.inv(precision)
    return cov, cov @ xtw


def gls_estimate(
    network: Network, *, tau: float = 0.0, prior_sd: float | None = None, prior_mean: float = 0.0
) -> tuple[pd.Series, pd.DataFrame]:
    """GLS estimate (or exact conditional posterior) of the effects vs the reference.

    Parameters
    ----------
    network : Network
        Validated contrast data.
    tau : float
        Between-study SD, held fixed (0 gives the fixed-effect model).
    prior_sd : float or None
        SD of an independent normal prior on each ``d``; ``None`` for no prior (pure GLS).
    prior_mean : float
        Mean of that prior.

    Returns
    -------
    mean : Series
        Estimates indexed by treatment (every treatment but the reference, network order).
    cov : DataFrame
        Their covariance matrix.
    """
    others = list(network.non_reference)
    design = ContrastData.from_network(network).design()  # (S, K, T-1)
    mask = np.asarray(network.mask, dtype=bool)
    # dense stacked algebra (no Woodbury), independent of the exact engine's kernels
    x = design[mask]
    y = np.asarray(network.y)[mask]
    weight = np.zeros((len(y), len(y)))
    start = 0
    for a in study_covariances(network, tau=tau):
        stop = start + a.shape[0]
        weight[start:stop, start:stop] = np.linalg.inv(a)
        start = stop
    prior = None if prior_sd is None else np.eye(len(others)) / float(prior_sd) ** 2
    cov, hat = gls_solve(x, weight, prior_precision=prior)
    mean = hat @ y
    if prior is not None:
        mean = mean + cov @ (prior @ np.full(len(others), float(prior_mean)))
    return (
        pd.Series(mean, index=pd.Index(others, name="treatment"), name="mean"),
        pd.DataFrame(cov, index=others, columns=others),
    )
