r"""Exact generalised-least-squares (GLS) estimates of the contrast-based NMA.

Used as an exact computation to check the sampler: under a normal prior on ``d`` and a known
``tau``, the posterior of ``d`` is normal with

.. math::

    \Sigma^{-1} = \sum_i X_i' A_i^{-1} X_i + \Sigma_0^{-1},\qquad
    \hat d = \Sigma\Big(\sum_i X_i' A_i^{-1} y_i + \Sigma_0^{-1} m_0\Big),

where ``A_i = V_i + tau^2 (I + J)/2`` (Dias et al. 2011, TSD2; Lu & Ades 2004). With
``tau = 0`` and no prior this is the common-effect (fixed-effect) GLS estimate that netmeta reports
(Rücker 2012, Res Synth Methods 3:312-324), including the exact multi-arm covariance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..models.likelihood import ContrastData

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["gls_estimate"]


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
    data = ContrastData.from_network(network)
    design = data.design()  # (S, K, T-1)
    n_d = len(others)
    precision = np.zeros((n_d, n_d))
    score = np.zeros(n_d)
    tau2 = float(tau) ** 2
    for i in range(network.n_studies):
        # dense per-study algebra (no Woodbury), independent of the exact engine's kernels
        m = np.asarray(network.mask[i], dtype=bool)
        k = int(m.sum())
        re_cov = tau2 / 2 * (np.eye(k) + np.ones((k, k)))  # random effects: tau^2 (I + J) / 2
        a_inv = np.linalg.inv(network.study_covariance(i) + re_cov)
        x = design[i, m]
        precision += x.T @ a_inv @ x
        score += x.T @ a_inv @ np.asarray(network.y[i])[m]
    if prior_sd is not None:
        precision += np.eye(n_d) / float(prior_sd) ** 2
        score += prior_mean / float(prior_sd) ** 2
    cov = np.linalg.inv(precision)
    mean = cov @ score
    return (
        pd.Series(mean, index=pd.Index(others, name="treatment"), name="mean"),
        pd.DataFrame(cov, index=others, columns=others),
    )
