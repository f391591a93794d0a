r"""The marginal likelihood of the normal contrast model at given ``tau``, for the exact engine.

Study blocks of ``A(tau)^{-1}`` in closed form (Woodbury), the precision ``P`` and vector ``b`` of
``d | tau, y`` assembled by scattering study blocks onto treatment positions, and ``log p(y | tau)``
in a residual form that stays accurate when one study is far more precise than the others. See
:mod:`nma_bayes.engines.exact` for the formulas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dpotrf as potrf
from scipy.linalg.lapack import dpotri as potri
from scipy.linalg.lapack import dpotrs as potrs

from ..models.likelihood import ContrastData

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["log_marginal"]


def _conditional(design: ContrastData, tau: np.ndarray, m0, s0, xb=None):
    """For each tau: ``P`` (G, n, n), ``b`` (G, n), the study blocks of ``A^{-1}`` and ``log|A|``.

    ``m0, s0`` are the prior means and SDs of the linear parameters (arrays of length ``n``);
    ``xb`` (S, K, n_b), if given, is the dense design of meta-regression interactions appended
    to ``d`` (:meth:`~nma_bayes.models.regression.RegressionDesign.contrast_design`), whose
    blocks of ``P`` and ``b`` are dense products with the study blocks of ``A^{-1}``.

    Study ``i``'s marginal covariance is ``A_i = D + U C U'`` with ``D = diag(var + tau^2/2)``,
    ``U = [1, u]`` and ``C = diag(cov + tau^2/2, cov_u)`` (see
    :func:`nma_bayes.models.likelihood.marginal_loglik`).
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
    prec = design.scatter_pairs(a_inv)  # X'A^{-1}X
    b = design.scatter_arms(a_inv_y)  # X'A^{-1}y
    if xb is not None:  # append the interaction block: [X, X_b]' A^{-1} [X, X_b]
        prec, b = _with_interactions(design, a_inv, a_inv_y, xb, prec, b)
    prec = prec + np.diag(1.0 / np.asarray(s0) ** 2)  # + prior precision
    b = b + np.asarray(m0) / np.asarray(s0) ** 2
    return prec, b, a_inv, logdet_a


def _with_interactions(design: ContrastData, a_inv, a_inv_y, xb, prec, b):
    """``P`` and ``b`` of ``(d, beta)`` from those of ``d`` and the interaction design ``xb``."""
    g, n_b = a_inv.shape[0], xb.shape[-1]
    a_inv_xb = np.einsum("gskl,slp->gskp", a_inv, xb)  # A^{-1} X_b per study
    # X'A^{-1}X_b: scatter each column of A^{-1} X_b onto treatments (columns as extra nodes)
    cols = np.moveaxis(a_inv_xb, -1, 1).reshape(g * n_b, *a_inv_xb.shape[1:3])
    p_db = np.moveaxis(design.scatter_arms(cols).reshape(g, n_b, -1), 1, 2)  # (G, n_d, n_b)
    p_bb = np.einsum("skp,gskq->gpq", xb, a_inv_xb)
    b_b = np.einsum("skp,gsk->gp", xb, a_inv_y)
    top = np.concatenate([prec, p_db], axis=2)
    bottom = np.concatenate([np.swapaxes(p_db, 1, 2), p_bb], axis=2)
    return np.concatenate([top, bottom], axis=1), np.concatenate([b, b_b], axis=1)


def log_marginal(design: ContrastData, tau: np.ndarray, m0, s0, *, full: bool, xb=None):
    """``log p(y | tau)`` up to a constant, with the conditional mean (and covariance) of ``d``.

    ``m0, s0``: prior means and SDs of the linear parameters (``d``, then the interactions of
    ``xb`` if given; see :func:`_conditional`).

    ``-2 log p(y | tau) = log|A| + log|P| + min_d [(y - Xd)'A^{-1}(y - Xd) + |d - m0|^2/s0^2]``
    (+ const). The minimum is evaluated at ``d_hat = P^{-1} b`` in this residual form rather than
    as ``y'A^{-1}y - b'P^{-1}b``: when a study is very precise both of those terms are huge and
    their difference loses every digit, while its residual is small.
    """
    prec, b, a_inv, logdet_a = _conditional(design, tau, m0, s0, xb)
    logdet_p, mean, cov = _solve_nodes(prec, b, inverse=full)
    n_d = design.n_full - 1
    fitted = design.fitted(mean[:, :n_d])
    if xb is not None:
        fitted = fitted + np.einsum("skp,gp->gsk", xb, mean[:, n_d:])
    resid = design.y[None] - fitted
    prior = (((mean - m0) / s0) ** 2).sum(-1)
    quad = np.einsum("gsk,gskl,gsl->g", resid, a_inv, resid) + prior
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
    from .determinism import one_blas_thread

    g, n = b.shape
    logdet, mean = np.full(g, np.nan), np.full((g, n), np.nan)
    cov = np.full((g, n, n), np.nan) if inverse else None
    with one_blas_thread():
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
