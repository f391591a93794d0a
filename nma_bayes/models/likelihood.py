r"""The normal contrast likelihood in NumPy: the data arrays and the marginal log-likelihood.

PyMC-free, so that the exact engine, the PyMC graph (:mod:`nma_bayes.models.pymc_graph`) and
goodness of fit (:mod:`nma_bayes.results.goodness_of_fit`) share one formula and one data object.

For study ``i`` with ``k`` contrasts ``y_i`` of its non-base arms against its base arm ``b``,

.. math::

    y_i \sim \mathrm{MVN}\big(d_{t} - d_{b},\; V_i + \tau^2 (I + J)/2\big),
    \qquad V_i = \mathrm{diag}(v_i) + c_i J,

where ``c_i = se_base^2`` is the variance of the base arm (the within-study covariance of the
contrasts) and ``v_i = seTE^2 - c_i``. The study random effects are integrated out analytically
(TSD2 random-effects model marginalised over ``delta_i``). Standardised mean differences from arm
data add a second rank-one term ``cov_u u u'`` to ``V_i``; see :func:`marginal_loglik`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["ContrastData", "DATA_KEYS", "LOG_2PI", "marginal_loglik", "model_data"]

LOG_2PI = float(np.log(2 * np.pi))
#: Arrays of :func:`model_data`, in order.
DATA_KEYS = ("y", "var", "cov", "u", "cov_u", "mask", "arm_pos", "base_pos")


def marginal_loglik(xp, resid, var, cov, mask, tau2, u=None, cov_u=None):
    """Per-study log-density of the contrasts, random effects integrated out.

    The covariance of study ``i``'s contrasts is
    ``A = diag(var + tau2/2) + (cov + tau2/2) 11' + cov_u u u'``, i.e. diagonal plus
    ``U C U'`` with ``U = [1, u]`` and ``C = diag(cov + tau2/2, cov_u)``. By the Woodbury identity
    and the matrix determinant lemma, with ``D = diag(var + tau2/2)``, ``G = U'D^{-1}U`` and
    ``N = I + C G`` (2 x 2),
    ``r'A^{-1}r = r'D^{-1}r - b' N^{-1} C b`` (``b = U'D^{-1}r``) and
    ``log|A| = log|D| + log|N|``. Everything is elementwise over studies, so no factorisation is
    needed. Without ``u`` (contrast data, mean differences) this reduces to Sherman-Morrison.

    Works with NumPy (``xp=numpy``) and PyTensor (``xp=pytensor.tensor``), so that the sampled
    graph and exact NumPy checks share one formula.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``pytensor.tensor``.
    resid : array (..., S, K)
        ``y - mu`` (padding slots arbitrary).
    var : array (S, K)
        Diagonal part of the within-study covariance (padding slots any positive value).
    cov : array (S,)
        Constant part (``se_base^2``; 0 for two-arm contrast studies).
    mask : array (S, K)
        1.0 for real contrasts, 0.0 for padding.
    tau2 : scalar or array (...)
        Between-study variance, one per draw; 0 for fixed effects.
    u : array (S, K), optional
        Second low-rank direction (SMDs from arm data); zeros if omitted.
    cov_u : array (S,), optional
        Its weight; zeros if omitted.

    Returns
    -------
    array (..., S)
        Log-density of each study's contrasts.
    """
    half = tau2[..., None] / 2.0  # (..., 1): broadcasts against studies
    d = var + half[..., None]
    c1 = cov + half
    w = mask / d
    r = resid * mask
    g11 = w.sum(axis=-1)
    b1 = (w * r).sum(axis=-1)
    quad0 = (r * r * w).sum(axis=-1)
    logdet_d = (xp.log(d) * mask).sum(axis=-1)
    if u is None:
        n11 = 1.0 + c1 * g11
        quad = quad0 - c1 * b1**2 / n11
        logdet = logdet_d + xp.log(n11)
    else:
        wu = w * u
        g12, g22 = wu.sum(axis=-1), (wu * u).sum(axis=-1)
        b2 = (wu * r).sum(axis=-1)
        n11, n12 = 1.0 + c1 * g11, c1 * g12
        n21, n22 = cov_u * g12, 1.0 + cov_u * g22
        det = n11 * n22 - n12 * n21
        cb1, cb2 = c1 * b1, cov_u * b2
        x1 = (n22 * cb1 - n12 * cb2) / det
        x2 = (n11 * cb2 - n21 * cb1) / det
        quad = quad0 - (b1 * x1 + b2 * x2)
        logdet = logdet_d + xp.log(det)
    return -0.5 * (quad + logdet + mask.sum(axis=-1) * LOG_2PI)


def treatment_positions(network: Network) -> np.ndarray:
    """Position of each treatment in ``d_full = [0, d]`` (0 = the reference)."""
    pos = np.zeros(network.n_treatments, dtype=np.int64)
    others = [network.treatments.index(t) for t in network.non_reference]
    pos[others] = np.arange(1, len(others) + 1)
    return pos


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
        ``y, var, cov, u, cov_u, mask, arm_pos, base_pos``.
    """
    pos = treatment_positions(network)
    # studies given as arm-level outcomes have no contrasts: their slots are masked out here and
    # they enter through the arm likelihood (:mod:`nma_bayes.models.arm_likelihood`)
    mask = (np.asarray(network.mask) & ~np.asarray(network.outcome)[:, None]).astype(float)
    return {
        "y": np.asarray(network.y, dtype=float) * mask,
        "var": np.where(mask > 0, network.var, 1.0).astype(float),
        "cov": np.asarray(network.cov, dtype=float),
        "u": np.asarray(network.u, dtype=float) * mask,
        "cov_u": np.asarray(network.cov_u, dtype=float),
        "mask": mask,
        "arm_pos": np.where(mask > 0, pos[network.arm], 0).astype(np.int64),
        "base_pos": pos[network.base].astype(np.int64),
    }


@dataclass(frozen=True)
class ContrastData:
    """The contrasts of a network as padded arrays, built once per fit and shared by the engines.

    Treatments are positions in ``d_full = [0, d]`` (0 = the reference, then the others in network
    order). Attributes are those of :func:`model_data`; the methods map between study slots and
    treatment positions without a dense design matrix.
    """

    y: np.ndarray  # (S, K) contrasts, padding 0
    var: np.ndarray
    cov: np.ndarray
    u: np.ndarray
    cov_u: np.ndarray
    mask: np.ndarray
    arm_pos: np.ndarray  # (S, K) position of each non-base arm (padding 0: the reference)
    base_pos: np.ndarray  # (S,) position of the base arm
    n_full: int  # T, the length of d_full

    @classmethod
    def from_network(cls, network: Network) -> ContrastData:
        """Build the arrays of ``network`` (see :func:`model_data`)."""
        return cls(**model_data(network), n_full=network.n_treatments)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the arrays as the PyMC graph's data nodes (:func:`model_data`'s keys)."""
        return {k: getattr(self, k) for k in DATA_KEYS}

    def scatter_pairs(self, block: np.ndarray) -> np.ndarray:
        """``sum_i X_i' B_i X_i`` over studies, for study blocks ``B`` (G, S, K, K).

        Row ``k`` of study ``i``'s design is ``e_arm - e_base``, so entry ``(k, l)`` of ``B_i`` adds
        to ``(arm_k, arm_l)`` and ``(base, base)`` and subtracts from ``(arm_k, base)`` and
        ``(base, arm_l)``. Accumulated with one ``bincount`` over ``T x T`` cells per node instead
        of the dense ``X' (B X)`` product, whose cost grows as ``T^2`` per study row; the
        reference's row and column are dropped.
        """
        g, t = block.shape[0], self.n_full
        arm_k = np.broadcast_to(self.arm_pos[:, :, None], block.shape[1:])
        arm_l = np.broadcast_to(self.arm_pos[:, None, :], block.shape[1:])
        base = np.broadcast_to(self.base_pos[:, None, None], block.shape[1:])
        targets = ((arm_k, arm_l), (base, base), (arm_k, base), (base, arm_l))
        cells = np.concatenate([(r * t + c).reshape(-1) for r, c in targets])
        flat = block.reshape(g, -1)
        weights = np.concatenate([flat, flat, -flat, -flat], axis=1)
        index = (np.arange(g)[:, None] * t * t + cells[None]).reshape(-1)
        out = np.bincount(index, weights.reshape(-1), minlength=g * t * t).reshape(g, t, t)
        return out[:, 1:, 1:]

    def scatter_arms(self, v: np.ndarray) -> np.ndarray:
        """Return ``sum_i X_i' v_i`` for per-contrast values ``v`` (G, S, K).

        ``+v`` goes to the arm, ``-v`` to the base; the reference's entry is dropped.
        """
        g, t = v.shape[0], self.n_full
        cells = np.concatenate([self.arm_pos.reshape(-1),
                                np.repeat(self.base_pos, self.arm_pos.shape[1])])  # fmt: skip
        flat = v.reshape(g, -1)
        index = (np.arange(g)[:, None] * t + cells[None]).reshape(-1)
        weights = np.concatenate([flat, -flat], axis=1).reshape(-1)
        return np.bincount(index, weights, minlength=g * t).reshape(g, t)[:, 1:]

    def design(self) -> np.ndarray:
        """Dense design ``X`` (S, K, T-1): row ``k`` of study ``i`` is ``e_arm - e_base``.

        Padding rows are zero; the reference's column is dropped. The one definition of the
        contrast design: :meth:`scatter_pairs`, :meth:`scatter_arms` and :meth:`fitted` apply it
        without building it.
        """
        s, k = self.mask.shape
        x = np.zeros((s, k, self.n_full))
        rows_s, rows_k = np.nonzero(self.mask)
        np.add.at(x, (rows_s, rows_k, self.arm_pos[rows_s, rows_k]), 1.0)
        np.add.at(x, (rows_s, rows_k, self.base_pos[rows_s]), -1.0)
        return x[:, :, 1:]

    def fitted(self, d: np.ndarray) -> np.ndarray:
        """``X d`` per study and slot (G, S, K) for ``d`` (G, T-1) over the non-reference."""
        d_full = np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1)
        return (d_full[:, self.arm_pos] - d_full[:, self.base_pos][:, :, None]) * self.mask
