r"""Compiled kernels of the collapsed contrast model: ``log p(y | tau)``, its gradient, ``d | tau``.

Plain numba functions on NumPy arrays (no PyMC, no PyTensor): the PyTensor Op of
:mod:`nma_bayes.models.collapsed` calls them inside nutpie's compiled model, and the sampler
draws ``d`` with :func:`draw_d`. Cached on disk by numba (``cache=True``), so only the first
process of an installation compiles them.

Notation (see :mod:`nma_bayes.models.collapsed`): ``s = tau^2``; study ``i``'s marginal covariance
``A_i = D_i + U_i C_i U_i'`` with ``D = diag(var + s/2)``, ``U = [1, u]``,
``C = diag(cov + s/2, cov_u)``; ``P = S_0^{-1} + sum_i X_i' A_i^{-1} X_i``,
``b = S_0^{-1} m_0 + sum_i X_i' A_i^{-1} y_i``; ``d_hat = P^{-1} b``; residuals
``r_i = y_i - X_i d_hat``.

The gradient is analytic. With ``E = dA_i/ds = (I + J)/2`` and ``e_i = A_i^{-1} r_i``,
``H_i = X_i P^{-1} X_i'`` and ``G_i = A_i^{-1} H_i A_i^{-1}``,

.. math::

    \frac{d \log p(y \mid s)}{ds} = -\tfrac12 \sum_i \big[\operatorname{tr}(A_i^{-1}E)
        - e_i' E e_i - \operatorname{tr}(G_i E)\big],

from ``d log|A| = tr(A^{-1} dA)``, ``d log|P| = -sum_i tr(G_i E)`` (as ``dP/ds =
-sum_i X_i' A_i^{-1} E A_i^{-1} X_i``) and, for the quadratic form minimised at ``d_hat``, the
envelope theorem ``dQ/ds = -sum_i e_i' E e_i`` (``d_hat``'s own derivative does not enter).
For ``E = (I + J)/2``, ``tr(M E) = (tr M + 1'M1)/2`` and ``e'Ee = (|e|^2 + (1'e)^2)/2``.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numba
import numpy as np

__all__ = ["collapsed_logp_grad", "draw_d", "KERNEL_VERSION"]

#: A hash of this file, part of PyTensor's cache key for the Op: PyTensor's cached kernel links
#: these functions' compiled code in, and numba does not check a callee's source, so any edit here
#: must change the key.
KERNEL_VERSION = int(hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12], 16)
LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True, fastmath=False)
def _study_inverse(s, var, cov, u, cov_u, mask, i, a_inv):
    """Fill ``a_inv`` (K, K) with ``A_i^{-1}`` by Woodbury; return ``log|A_i|`` (module doc)."""
    k = var.shape[1]
    half = s / 2.0
    c1 = cov[i] + half
    cu = cov_u[i]
    g11 = g12 = g22 = 0.0
    logdet = 0.0
    for j in range(k):
        if mask[i, j] > 0:
            dj = var[i, j] + half
            w = 1.0 / dj
            g11 += w
            g12 += w * u[i, j]
            g22 += w * u[i, j] * u[i, j]
            logdet += math.log(dj)
    # M = (I + C G)^{-1} C, symmetric 2 x 2; finite when an entry of C is 0 (two-arm studies)
    n11, n12, n21, n22 = 1.0 + c1 * g11, c1 * g12, cu * g12, 1.0 + cu * g22
    det = n11 * n22 - n12 * n21
    m11, m12, m22 = n22 * c1 / det, -n12 * cu / det, n11 * cu / det
    for j in range(k):
        for m in range(k):
            if mask[i, j] > 0 and mask[i, m] > 0:
                wj = 1.0 / (var[i, j] + half)
                wm = 1.0 / (var[i, m] + half)
                uj, um = u[i, j], u[i, m]
                core = m11 + m12 * (uj + um) + m22 * uj * um
                a_inv[j, m] = (wj if j == m else 0.0) - wj * wm * core
            else:
                a_inv[j, m] = 0.0
    return logdet + math.log(det)


@numba.njit(cache=True)
def _assemble(s, y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0, n_d, a_inv):
    """Fill the study blocks ``a_inv`` (S, K, K); return ``P`` (n_d, n_d), ``b``, ``sum log|A_i|``.

    Scatter: row ``k`` of study ``i``'s design is ``e_arm - e_base`` over ``d_full = [0, d]``.
    """
    n_s, k = y.shape
    t = n_d + 1
    p_full = np.zeros((t, t))
    b_full = np.zeros(t)
    logdet_a = 0.0
    for i in range(n_s):
        logdet_a += _study_inverse(s, var, cov, u, cov_u, mask, i, a_inv[i])
        bi = base_pos[i]
        for j in range(k):
            if mask[i, j] == 0:
                continue
            aj = arm_pos[i, j]
            ay = 0.0
            for m in range(k):
                v = a_inv[i, j, m]
                if v == 0.0:
                    continue
                am = arm_pos[i, m]
                p_full[aj, am] += v
                p_full[bi, bi] += v
                p_full[aj, bi] -= v
                p_full[bi, am] -= v
                ay += v * y[i, m]
            b_full[aj] += ay
            b_full[bi] -= ay
    prec0 = 1.0 / (s0 * s0)
    p = p_full[1:, 1:].copy()
    b = b_full[1:] + m0 * prec0
    for j in range(n_d):
        p[j, j] += prec0
    return p, b, logdet_a


@numba.njit(cache=True)
def _cholesky(p):
    """Lower Cholesky factor of ``p`` (NaN-filled if not positive definite)."""
    n = p.shape[0]
    chol = np.zeros((n, n))
    for j in range(n):
        acc = p[j, j]
        for m in range(j):
            acc -= chol[j, m] * chol[j, m]
        if not acc > 0.0:
            chol[:, :] = np.nan
            return chol
        chol[j, j] = math.sqrt(acc)
        for i in range(j + 1, n):
            acc = p[i, j]
            for m in range(j):
                acc -= chol[i, m] * chol[j, m]
            chol[i, j] = acc / chol[j, j]
    return chol


@numba.njit(cache=True)
def _forward(chol, v):
    """Solve ``L x = v``."""
    n = v.shape[0]
    x = np.empty(n)
    for i in range(n):
        acc = v[i]
        for m in range(i):
            acc -= chol[i, m] * x[m]
        x[i] = acc / chol[i, i]
    return x


@numba.njit(cache=True)
def _backward(chol, v):
    """Solve ``L' x = v``."""
    n = v.shape[0]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        acc = v[i]
        for m in range(i + 1, n):
            acc -= chol[m, i] * x[m]
        x[i] = acc / chol[i, i]
    return x


@numba.njit(cache=True)
def _residuals(y, mask, arm_pos, base_pos, d_hat):
    """``r = y - X d_hat`` per study and slot (padding 0)."""
    n_s, k = y.shape
    r = np.zeros((n_s, k))
    for i in range(n_s):
        db = 0.0 if base_pos[i] == 0 else d_hat[base_pos[i] - 1]
        for j in range(k):
            if mask[i, j] > 0:
                a = arm_pos[i, j]
                da = 0.0 if a == 0 else d_hat[a - 1]
                r[i, j] = y[i, j] - (da - db)
    return r


@numba.njit(cache=True)
def collapsed_logp_grad(s, y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0, n_d):
    """``log p(y | tau^2 = s)`` with ``d ~ N(m0, s0^2 I)`` integrated out, and its ``s``-derivative.

    Returns ``(logp, dlogp/ds)``; ``(-inf, nan)`` where ``P`` is not positive definite.
    """
    n_s, k = y.shape
    a_inv = np.zeros((n_s, k, k))
    p, b, logdet_a = _assemble(s, y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0, n_d,
                               a_inv)  # fmt: skip
    chol = _cholesky(p)
    if n_d > 0 and not np.isfinite(chol[0, 0]):
        return -np.inf, np.nan
    d_hat = _backward(chol, _forward(chol, b))
    r = _residuals(y, mask, arm_pos, base_pos, d_hat)
    # P^{-1}, zero-padded at the reference's position 0 (for H_i = X_i P^{-1} X_i')
    p_inv = np.zeros((n_d + 1, n_d + 1))
    for j in range(n_d):
        unit = np.zeros(n_d)
        unit[j] = 1.0
        p_inv[1:, j + 1] = _backward(chol, _forward(chol, unit))
    quad, n_obs, grad = 0.0, 0.0, 0.0
    e = np.zeros(k)
    h = np.zeros((k, k))
    for i in range(n_s):
        ai = a_inv[i]
        bi = base_pos[i]
        e[:] = 0.0
        for j in range(k):  # e_i = A_i^{-1} r_i and the quadratic form r'A^{-1}r
            for m in range(k):
                e[j] += ai[j, m] * r[i, m]
            quad += r[i, j] * e[j]
            n_obs += mask[i, j]
        for j in range(k):  # H_i = X_i P^{-1} X_i'
            for m in range(k):
                aj, am = arm_pos[i, j], arm_pos[i, m]
                h[j, m] = p_inv[aj, am] - p_inv[aj, bi] - p_inv[bi, am] + p_inv[bi, bi]
        tr_a = sum_a = tr_g = sum_g = 0.0
        for j in range(k):
            for m in range(k):
                sum_a += ai[j, m]
                g = 0.0  # (A^{-1} H A^{-1})[j, m]
                for q in range(k):
                    if ai[j, q] == 0.0:
                        continue
                    for w in range(k):
                        g += ai[j, q] * h[q, w] * ai[w, m]
                sum_g += g
                if j == m:
                    tr_a += ai[j, j]
                    tr_g += g
        e_sum, e_sq = 0.0, 0.0
        for j in range(k):
            e_sum += e[j]
            e_sq += e[j] * e[j]
        # tr(M E) = (tr M + 1'M1)/2 and e'Ee = (|e|^2 + (1'e)^2)/2 for E = (I + J)/2
        grad += -0.5 * (0.5 * (tr_a + sum_a) - 0.5 * (e_sq + e_sum * e_sum)
                        - 0.5 * (tr_g + sum_g))  # fmt: skip
    logdet_p = 0.0
    prior = 0.0
    for j in range(n_d):
        logdet_p += 2.0 * math.log(chol[j, j])
        z = (d_hat[j] - m0) / s0
        prior += z * z
    loglik = -0.5 * (quad + logdet_a + n_obs * LOG_2PI)
    # log N(d_hat; m0, s0^2 I) + n/2 log(2 pi) - 1/2 log|P|: the Gaussian integral over d
    logp = loglik - 0.5 * prior - n_d * math.log(s0) - 0.5 * logdet_p
    return logp, grad


@numba.njit(cache=True)
def draw_d(s_draws, z, y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0):
    """Draw ``d | tau^2 = s, y ~ N(P^{-1} b, P^{-1})`` once per ``s`` (G,), from ``z`` (G, n_d).

    ``d = P^{-1} b + L'^{-1} z`` with ``P = L L'`` and ``z`` standard normal: covariance
    ``L'^{-1} L^{-1} = P^{-1}``.
    """
    n_g, n_d = z.shape
    n_s, k = y.shape
    out = np.empty((n_g, n_d))
    a_inv = np.zeros((n_s, k, k))
    for g in range(n_g):
        p, b, _ = _assemble(s_draws[g], y, var, cov, u, cov_u, mask, arm_pos, base_pos, m0, s0,
                            n_d, a_inv)  # fmt: skip
        chol = _cholesky(p)
        out[g] = _backward(chol, _forward(chol, b)) + _backward(chol, z[g])
    return out
