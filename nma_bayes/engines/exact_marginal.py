r"""The marginal likelihood of the normal contrast model at given ``tau``, for the exact engine.

Study blocks of ``A(tau)^{-1}`` in closed form (Woodbury), the precision ``P`` and vector ``b`` of
``d | tau, y`` assembled by scattering study blocks onto treatment positions, and ``log p(y | tau)``
in a residual form that stays accurate when one study is far more precise than the others. See
:mod:`nma_bayes.engines.exact` for the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dpotrf as potrf
from scipy.linalg.lapack import dpotri as potri
from scipy.linalg.lapack import dpotrs as potrs

from ..models.pymc_graph import model_data

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["Design", "log_marginal"]


@dataclass(frozen=True)
class Design:
    """Network arrays for the exact computations (positions in ``d_full``: 0 = reference)."""

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
    def from_network(cls, network: Network) -> Design:
        data = model_data(network)
        keys = ("y", "var", "cov", "u", "cov_u", "mask", "arm_pos", "base_pos")
        return cls(**{k: data[k] for k in keys}, n_full=network.n_treatments)

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

    def fitted(self, d: np.ndarray) -> np.ndarray:
        """``X d`` per study and slot (G, S, K) for ``d`` (G, T-1) over the non-reference."""
        d_full = np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1)
        return (d_full[:, self.arm_pos] - d_full[:, self.base_pos][:, :, None]) * self.mask


def _conditional(design: Design, tau: np.ndarray, m0: float, s0: float):
    """For each tau: ``P`` (G, n, n), ``b`` (G, n), the study blocks of ``A^{-1}`` and ``log|A|``.

    Study ``i``'s marginal covariance is ``A_i = D + U C U'`` with ``D = diag(var + tau^2/2)``,
    ``U = [1, u]`` and ``C = diag(cov + tau^2/2, cov_u)`` (see :func:`.model.marginal_loglik`).
    Woodbury: ``A^{-1} = D^{-1} - D^{-1} U (C^{-1} + G)^{-1} U' D^{-1}`` with ``G = U'D^{-1}U``;
    written as ``(C^{-1} + G)^{-1} = (I + C G)^{-1} C = N^{-1} C``, which stays finite when an
    entry of ``C`` is 0 (two-arm studies). ``log|A| = log|D| + log|N|`` (determinant lemma).
    """
    half = (np.asarray(tau, dtype=float) ** 2 / 2.0)[:, None]  # (G, 1)
    mask = design.mask
    d = design.var[None] + half[..., None]  # (G, S, K): diagonal D
    w = mask / d  # D^{-1} on the real slots
    c1 = design.cov[None] + half  # (G, S)
    c2 = design.cov_u[None]  # (1, S)
    u = design.u[None]
    g11, g12, g22 = w.sum(-1), (w * u).sum(-1), (w * u * u).sum(-1)  # G = U'D^{-1}U
    n11, n12, n21, n22 = 1 + c1 * g11, c1 * g12, c2 * g12, 1 + c2 * g22  # N = I + C G
    det = n11 * n22 - n12 * n21
    m11, m12, m22 = n22 * c1 / det, -n12 * c2 / det, n11 * c2 / det  # M = N^{-1} C (symmetric)
    uj, ul = u[..., :, None], u[..., None, :]
    core = m11[..., None, None] + m12[..., None, None] * (uj + ul) + m22[..., None, None] * uj * ul
    a_inv = -w[..., :, None] * w[..., None, :] * core  # -D^{-1} U M U' D^{-1}
    idx = np.arange(mask.shape[1])
    a_inv[..., idx, idx] += w  # (G, S, K, K); padding slots are all zero
    logdet_a = (np.log(d) * mask).sum((-1, -2)) + np.log(det).sum(-1)
    a_inv_y = np.einsum("gskl,sl->gsk", a_inv, design.y)
    n = design.n_full - 1
    prec = design.scatter_pairs(a_inv) + np.eye(n) / s0**2  # P = X'A^{-1}X + I/s0^2
    b = design.scatter_arms(a_inv_y) + m0 / s0**2  # b = X'A^{-1}y + m0/s0^2
    return prec, b, a_inv, logdet_a


def log_marginal(design: Design, tau: np.ndarray, m0: float, s0: float, *, full: bool):
    """``log p(y | tau)`` up to a constant, with the conditional mean (and covariance) of ``d``.

    ``-2 log p(y | tau) = log|A| + log|P| + min_d [(y - Xd)'A^{-1}(y - Xd) + |d - m0|^2/s0^2]``
    (+ const). The minimum is evaluated at ``d_hat = P^{-1} b`` in this residual form rather than
    as ``y'A^{-1}y - b'P^{-1}b``: when a study is very precise both of those terms are huge and
    their difference loses every digit, while its residual is small.
    """
    prec, b, a_inv, logdet_a = _conditional(design, tau, m0, s0)
    logdet_p, mean, cov = _solve_nodes(prec, b, inverse=full)
    resid = design.y[None] - design.fitted(mean)
    quad = np.einsum("gsk,gskl,gsl->g", resid, a_inv, resid) + ((mean - m0) ** 2).sum(-1) / s0**2
    loglik = -0.5 * (logdet_a + logdet_p + quad)  # NaN where P was not positive definite
    if not full:
        return loglik, {"mean": mean}
    return loglik, {"mean": mean, "cov": cov, "d_var": np.diagonal(cov, axis1=-2, axis2=-1)}


def _solve_nodes(prec: np.ndarray, b: np.ndarray, *, inverse: bool):
    """``log|P|``, ``P^{-1} b`` and (optionally) ``P^{-1}`` at every node, by Cholesky.

    A loop over nodes calling LAPACK's blocked ``potrf/potrs/potri`` directly: NumPy's batched
    ``slogdet``/``inv`` run unblocked kernels and are several times slower for large ``T``. BLAS
    is held to one thread: the matrices are small, and threads that spin while another process
    holds the cores made this step 30 times slower on a busy 2-core machine (measured). A node
    whose ``P`` is not numerically positive definite gets NaN (the quadrature then refuses).
    """
    from threadpoolctl import threadpool_limits

    g, n = b.shape
    logdet, mean = np.full(g, np.nan), np.full((g, n), np.nan)
    cov = np.full((g, n, n), np.nan) if inverse else None
    with threadpool_limits(limits=1, user_api="blas"):
        _solve_loop(prec, b, logdet, mean, cov)
    return logdet, mean, cov


def _solve_loop(prec, b, logdet, mean, cov) -> None:
    """Fill ``logdet``, ``mean`` and ``cov`` (if given) node by node (see :func:`_solve_nodes`)."""
    lower = np.tril_indices(b.shape[1], -1)
    for i in range(b.shape[0]):
        chol, info = potrf(prec[i], lower=1)
        if info != 0:
            continue
        logdet[i] = 2 * np.log(np.diagonal(chol)).sum()
        mean[i] = potrs(chol, b[i], lower=1)[0]
        if cov is not None:
            inv = potri(chol, lower=1)[0]  # lower triangle of P^{-1}
            inv[lower[::-1]] = inv[lower]  # mirror into the upper triangle
            cov[i] = inv
