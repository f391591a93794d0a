r"""Adaptive quadrature over the between-study SD ``tau`` for the exact engine.

The posterior of ``tau`` is one-dimensional, but its scale is not known in advance: a wide prior
(half-normal(0, 100), uniform(0, 1e10)) leaves almost all of the prior range empty of posterior
mass, while the mass itself may sit near 0. A grid laid out on the prior's range under-resolves
that mass; this module therefore

1. integrates on a transformed scale ``x`` that covers 0 to the prior's upper tail with nodes
   where posterior mass can be: ``tau = c sinh(x)`` for priors with a finite density at
   ``tau = 0`` (half-normal, half-Cauchy, uniform), which is linear below ``c`` (so the density
   at 0 is resolved) and logarithmic above it (so decades of prior range cost a few nodes each);
   ``tau = exp(x)`` for priors that vanish at 0 (log-normal on ``tau`` or ``tau^2``, log-t);
2. scans the whole transformed range at a fixed spacing to find the bracket outside which the
   posterior mass is negligible, and refuses a range whose cut tails still hold mass;
3. integrates the bracket with Simpson's rule on nested grids, doubling the number of nodes until
   the summaries (``tau`` quantiles and the posterior means of ``d``) stop changing (relative to
   their posterior SDs), and raises :class:`~nma_bayes.base.errors.ExactEngineError` if they do not.

Quantiles come from the cumulative integral at the nodes (Simpson's rule, the partial panels with
the quadratic through three nodes) interpolated by the cubic Hermite polynomial whose slopes are
the density itself, so they are accurate to ``O(h^4)`` like the integral.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..base.errors import ExactEngineError

__all__ = ["TauScale", "TauQuadrature", "integrate_tau", "hermite_quantile"]

#: Posterior mass (from the scan) that the bracket may leave out on each side.
BRACKET_TAIL = 1e-12
#: Posterior mass that may lie beyond a cut end of the range before the engine refuses.
CUT_TOL = 1e-5
#: Spacing of the scan over the whole transformed range (in ``x`` units).
SCAN_STEP = 0.25
#: Nodes of the first Simpson grid (odd), and the most the doubling may reach.
N_START, N_MAX = 33, 4097
#: Convergence: successive summaries differ by at most this fraction of their posterior SD.
RTOL = 1e-4
#: Finite range of ``x = log(tau)`` for priors that vanish at 0 (exp(+-700) stays finite).
X_LIMIT = 700.0


@dataclass(frozen=True)
class TauScale:
    """The transformed scale ``x`` of the quadrature and its map to ``tau``.

    Parameters
    ----------
    kind : {"sinh", "exp"}
        ``tau = c sinh(x)`` (``x >= 0``) or ``tau = exp(x)``.
    c : float
        Scale of the ``sinh`` map: ``tau`` is linear in ``x`` below ``c``, logarithmic above.
    lo, hi : float
        The integration range in ``x`` (the prior's support, or where its tails are negligible).
    lo_tail, hi_tail : float
        Prior probability beyond each end: 0 at an edge of the prior's support, the mass cut
        off where an unbounded tail was cut.
    """

    kind: str
    c: float
    lo: float
    hi: float
    lo_tail: float
    hi_tail: float

    def tau(self, x: np.ndarray) -> np.ndarray:
        """Map ``x`` to ``tau``."""
        return self.c * np.sinh(x) if self.kind == "sinh" else np.exp(x)

    def log_jacobian(self, x: np.ndarray) -> np.ndarray:
        """``log |d tau / d x|``: turns a density over ``tau`` into one over ``x``."""
        if self.kind == "sinh":
            # log(c cosh x) = log c + |x| + log1p(exp(-2|x|)) - log 2, finite for large x
            ax = np.abs(x)
            return np.log(self.c) + ax + np.log1p(np.exp(-2 * ax)) - np.log(2.0)
        return np.asarray(x, dtype=float)


@dataclass(frozen=True)
class TauQuadrature:
    """Converged quadrature of the posterior of ``tau``.

    Attributes
    ----------
    x, tau : ndarray (G,)
        Nodes on the transformed scale and in ``tau``.
    weights : ndarray (G,)
        Posterior probability of each node (Simpson weights times density), summing to 1.
    density : ndarray (G,)
        Normalised posterior density over ``x`` at the nodes.
    cdf : ndarray (G,)
        Posterior CDF at the nodes (0 at the first, 1 at the last).
    node_data : dict of str to ndarray
        Whatever the evaluator returned per node (first axis G), in node order.
    n_scan : int
        Nodes spent locating the mass.
    scale : TauScale
        The transformed scale.
    """

    x: np.ndarray
    tau: np.ndarray
    weights: np.ndarray
    density: np.ndarray
    cdf: np.ndarray
    node_data: dict
    n_scan: int
    scale: TauScale

    def quantile(self, q) -> np.ndarray:
        """Quantile(s) of ``tau`` (the CDF inverted on ``x``, then mapped to ``tau``)."""
        x = hermite_quantile(self.x, self.cdf, self.density, np.asarray(q, dtype=float))
        return self.scale.tau(x)


Evaluator = Callable[[np.ndarray], tuple[np.ndarray, dict]]


def _simpson_weights(n: int, h: float) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * h / 3


def _cumulative(f: np.ndarray, h: float) -> np.ndarray:
    """Cumulative integral of ``f`` at every node of a uniform grid (odd length).

    Over each panel ``[x_{2k}, x_{2k+2}]`` Simpson's rule; at the middle node the integral of the
    quadratic through the panel's three nodes, ``h (5 f_0 + 8 f_1 - f_2) / 12``.
    """
    f0, f1, f2 = f[:-2:2], f[1:-1:2], f[2::2]
    panel = h / 3 * (f0 + 4 * f1 + f2)
    half = h / 12 * (5 * f0 + 8 * f1 - f2)
    out = np.zeros_like(f)
    out[2::2] = np.cumsum(panel)
    out[1:-1:2] = out[:-2:2] + half
    return out


def hermite_quantile(x, cdf, density, q, iters: int = 40):
    """Invert a CDF known at nodes, with its derivative (the density), by cubic Hermite pieces.

    Parameters
    ----------
    x, cdf, density : ndarray (G,)
        Nodes, CDF and density at the nodes (``cdf`` non-decreasing from 0 to 1).
    q : ndarray
        Probabilities.

    Returns
    -------
    ndarray
        ``x`` with ``F(x) = q`` (bisection on the Hermite cubic of the bracketing interval, which
        is monotone where the density is positive).
    """
    q = np.clip(q, 0.0, 1.0)
    j = np.clip(np.searchsorted(cdf, q, side="right") - 1, 0, len(x) - 2)
    h = x[j + 1] - x[j]
    f0, f1, m0, m1 = cdf[j], cdf[j + 1], density[j] * h, density[j + 1] * h

    def hermite(t):  # cubic with values f0, f1 and slopes m0, m1 at t = 0, 1
        t2, t3 = t * t, t * t * t
        return (
            (2 * t3 - 3 * t2 + 1) * f0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * f1
            + (t3 - t2) * m1
        )  # fmt: skip

    lo, hi = np.zeros_like(q), np.ones_like(q)
    for _ in range(iters):
        mid = (lo + hi) / 2
        below = hermite(mid) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return x[j] + h * (lo + hi) / 2


def _bracket(scale: TauScale, scan: Evaluator) -> tuple[float, float, int]:
    """Scan the whole range; return the bracket holding the mass and the nodes spent.

    The bracket is where the scan's (trapezoid) posterior mass leaves less than ``BRACKET_TAIL``
    on either side, widened by one scan step; a cut end of the range is accepted only if the
    posterior mass estimated beyond it is below ``CUT_TOL`` (see :func:`_mass_beyond_cuts`).
    """
    n = max(17, int(np.ceil((scale.hi - scale.lo) / SCAN_STEP)) + 1)
    xs = np.linspace(scale.lo, scale.hi, n)
    lp, data = scan(xs)
    finite = np.isfinite(lp)
    if not finite.any():
        raise ExactEngineError(
            "The exact engine found no finite posterior density of tau over the prior's range "
            f"(tau from {scale.tau(scale.lo):.3g} to {scale.tau(scale.hi):.3g}). Check the data "
            "and the prior, or use engine='pymc'."
        )
    _check_finite(scale, xs, lp)
    trap = np.full(n, xs[1] - xs[0])
    trap[[0, -1]] /= 2
    mass = np.exp(lp - lp[finite].max()) * trap
    cdf = np.cumsum(mass) / mass.sum()
    lo_i = max(int(np.searchsorted(cdf, BRACKET_TAIL)) - 1, 0)
    hi_i = min(int(np.searchsorted(cdf, 1 - BRACKET_TAIL)) + 1, n - 1)
    _mass_beyond_cuts(scale, lp, data["loglik"], trap)
    return float(xs[lo_i]), float(xs[hi_i]), n


def _mass_beyond_cuts(scale: TauScale, lp, loglik, trap) -> None:
    """Refuse a range whose cut ends leave posterior mass behind.

    Beyond a cut the prior holds ``tail`` of its mass and the likelihood is at most about its
    value at the cut (it flattens towards ``tau = 0`` and decreases for large ``tau``), so the
    posterior mass there is about ``tail L(cut) / E_prior[L]``, with ``E_prior[L]`` from the scan.
    """
    log_prior = lp - loglik  # prior density over x (unnormalised), Jacobian included
    ok = np.isfinite(lp)
    log_w = np.log(trap[ok])
    log_evidence = logsumexp(lp[ok] + log_w) - logsumexp(log_prior[ok] + log_w)  # E_prior[L]
    for end, tail, side in ((0, scale.lo_tail, "lower"), (-1, scale.hi_tail, "upper")):
        if tail > 0 and tail * np.exp(min(loglik[end] - log_evidence, 700.0)) > CUT_TOL:
            raise ExactEngineError(
                f"The posterior of tau keeps mass beyond the {side} end of the range the exact "
                f"engine integrates (tau = {scale.tau(scale.lo if end == 0 else scale.hi):.3g}, "
                "where the prior's tail is cut): the prior is too wide for the quadrature to be "
                "trusted. Use a narrower proper prior or engine='pymc'."
            )


def _summaries(x, lp, node_data, d_key):
    """Quantities whose convergence is checked: tau quantiles and the means of ``d``."""
    h = x[1] - x[0]
    f = np.exp(lp - lp.max())
    w = f * _simpson_weights(len(x), h)
    total = w.sum()
    cdf = _cumulative(f, h) / total
    dens = f / total
    qx = hermite_quantile(x, np.maximum.accumulate(cdf), dens, np.array([0.025, 0.5, 0.975]))
    w = w / total
    means = node_data[d_key]
    d_mean = w @ means
    d_sd = np.sqrt(np.maximum(w @ (means - d_mean) ** 2 + w @ node_data["d_var"], 0.0))
    return qx, d_mean, d_sd, w, cdf, dens


def integrate_tau(
    scale: TauScale, evaluate: Evaluator, *, scan: Evaluator | None = None, d_key: str = "mean"
) -> TauQuadrature:
    """Locate the posterior mass of ``tau`` and integrate it to convergence.

    Parameters
    ----------
    scale : TauScale
        Transformed scale and range.
    evaluate : callable
        ``evaluate(x) -> (log density over x (G,), dict of per-node arrays)``; the dict must hold
        ``d_key`` (conditional means of ``d``, (G, n)) and ``"d_var"`` (their variances).
    scan : callable, optional
        A cheaper ``evaluate`` for locating the mass (only its log density is used).

    Returns
    -------
    TauQuadrature

    Raises
    ------
    ExactEngineError
        If the summaries do not converge within ``N_MAX`` nodes, if the density is not finite
        inside the bracket, or if the bracket ends at a cut of the range where the density has
        not vanished.
    """
    a, b, n_scan = _bracket(scale, scan or evaluate)
    x = np.linspace(a, b, N_START)
    lp, data = evaluate(x)
    prev = None
    while True:
        _check_finite(scale, x, lp)
        qx, d_mean, d_sd, w, cdf, dens = _summaries(x, lp, data, d_key)
        tau_q = scale.tau(qx)
        if prev is not None and _converged(prev, (tau_q, d_mean), d_sd):
            break
        if len(x) >= N_MAX:
            raise ExactEngineError(
                f"The exact engine's quadrature over tau did not converge with {N_MAX} nodes "
                f"(tau quantiles {np.round(tau_q, 4).tolist()} still moving): the posterior of "
                "tau is spread over too wide a range for the grid, which happens when the prior "
                "is nearly improper. Use a proper prior on a plausible scale (e.g. "
                "nb.HalfNormal(1) on the SMD or log-odds scale) or engine='pymc'."
            )
        prev = (tau_q, d_mean)
        x, lp, data = _refine(x, lp, data, evaluate)
    return TauQuadrature(
        x=x, tau=scale.tau(x), weights=w, density=dens, cdf=np.maximum.accumulate(cdf),
        node_data=data, n_scan=n_scan, scale=scale,
    )  # fmt: skip


def _refine(x, lp, data, evaluate):
    """Double the grid: evaluate the midpoints and interleave them with the old nodes."""
    mid = (x[1:] + x[:-1]) / 2
    lp_mid, data_mid = evaluate(mid)
    n = len(x) + len(mid)
    old, new = slice(0, n, 2), slice(1, n, 2)

    def interleave(u, v):
        out = np.empty((n, *np.shape(u)[1:]), dtype=np.result_type(u, v))
        out[old], out[new] = u, v
        return out

    x2 = interleave(x, mid)
    data2 = {k: interleave(data[k], data_mid[k]) for k in data}
    return x2, interleave(lp, lp_mid), data2


def _converged(prev, new, d_sd) -> bool:
    (tau_q0, d0), (tau_q1, d1) = prev, new
    tau_scale = max(tau_q1[2] - tau_q1[0], 1e-300)  # the 95% interval width as the tau scale
    ok_tau = np.all(np.abs(tau_q1 - tau_q0) <= RTOL * tau_scale)
    ok_d = np.all(np.abs(d1 - d0) <= RTOL * np.maximum(d_sd, 1e-300))
    return bool(ok_tau and ok_d)


def _check_finite(scale: TauScale, x, lp) -> None:
    if np.isnan(lp).any() or np.isposinf(lp).any():
        bad = scale.tau(x[~np.isfinite(lp) & ~np.isneginf(lp)])
        raise ExactEngineError(
            "The exact engine could not evaluate the posterior density of tau at "
            f"tau = {np.round(bad[:3], 6).tolist()} (numerical breakdown: check for extreme "
            "standard errors or effects in the data), or use engine='pymc'."
        )
