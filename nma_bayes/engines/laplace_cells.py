"""The quadrature over ``u = log tau`` of the Laplace engine: cells, their fits and masses.

Part of the Laplace engine (:mod:`nma_bayes.engines.laplace`, whose docstring gives the method):
a scan of the Laplace approximation of ``log p(y | tau) + log p(tau) + u`` brackets the mass of
``u``; the bracket is cut into cells of equal mass, split where the mode moves too far across
one, each with its Laplace fit, the mode's tangent and an exponential density of ``u`` within.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..base.errors import ExactEngineError
from ..models.spec import ModelSpec
from .exact import _log_prior_tau
from .laplace_model import LaplaceModel

__all__ = ["Cell", "tau_cells", "log_tilt_integral", "tilted_offsets"]

#: The quadrature leaves out at most this share of the posterior mass of ``u`` on each side.
TAIL_MASS = 1e-6
#: Cells of the quadrature over ``u`` (equal mass), the scan's spacing and its lowest ``u``.
N_CELLS, SCAN_STEP, U_MIN = 48, 0.5, np.log(1e-12)
#: A cell is split into equal parts (at most MAX_SPLIT) until the mode moves by at most
#: MAX_DRIFT of its Laplace SDs (the norm of ``L' dx*/du`` times the width) across each.
MAX_DRIFT, MAX_SPLIT = 1.0, 20


@dataclass(frozen=True)
class Cell:
    """One cell of the quadrature: ``u`` in ``[u - width/2, u + width/2]``, its fit and mass.

    Within the cell the proposal density of ``u`` is exponential with rate ``slope`` (the log
    density's local slope), ``log_mass`` the Laplace density at the centre times its integral.
    """

    u: float
    width: float
    mode: np.ndarray
    chol: np.ndarray  # lower Cholesky factor of the Hessian at the mode
    log_mass: float
    slope: float = 0.0
    tangent: np.ndarray | None = None  # d mode / du: the proposal's centre follows u in the cell

    def centres(self, t: np.ndarray) -> np.ndarray:
        """Centre of the ``x`` proposal at ``u = self.u + t`` (rows).

        The mode, moved along its tangent (first order in ``t``).
        """
        if self.tangent is None:
            return np.broadcast_to(self.mode, (len(t), len(self.mode)))
        return self.mode + t[:, None] * self.tangent

    @functools.cached_property
    def root(self) -> np.ndarray:
        """``L^{-T}`` (dense): ``mode + L^{-T} v`` has covariance ``H^{-1}`` for standard ``v``."""
        eye = np.eye(len(self.mode))
        return solve_triangular(self.chol, eye, lower=True, trans="T", check_finite=False)

    @functools.cached_property
    def log_det(self) -> float:
        """``log det L`` (half the log determinant of ``H``)."""
        return float(np.log(np.diag(self.chol)).sum())


def log_tilt_integral(slope: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``log`` of the integral of ``exp(slope t)`` over ``t`` in ``[-width/2, width/2]``.

    ``2 sinh(a) / slope`` with ``a = slope width / 2``, written as ``width sinh(a) / a`` (1 at
    ``a = 0``) and, for large ``|a|``, ``|a| + log1p(-exp(-2|a|)) - log(2|a|)``.
    """
    a = np.abs(slope * width / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sinhc = np.where(a < 1e-8, 0.0, a + np.log1p(-np.exp(-2 * a)) - np.log(2 * a))
    return np.log(width) + log_sinhc


def tilted_offsets(rng, slope: float, width: float, n: int) -> np.ndarray:
    """Draw ``t`` in ``[-width/2, width/2]`` with density proportional to ``exp(slope t)``."""
    v = rng.random(n)
    if abs(slope * width) < 1e-8:
        return width * (v - 0.5)
    lo, hi = -slope * width / 2, slope * width / 2  # inverse CDF, stable for either sign
    return (lo + np.log1p(v * np.expm1(hi - lo))) / slope


def _log_post_u(model: LaplaceModel, u: float, start: np.ndarray):
    """Laplace ``log p(y | tau) + log p(tau) + u`` at ``tau = e^u``, and the fit there."""
    tau = float(np.exp(u))
    x, chol, f = model.mode(tau, start)
    log_det = 2.0 * np.log(np.diag(chol)).sum()
    lp = f + 0.5 * len(x) * np.log(2 * np.pi) - 0.5 * log_det
    lp += float(_log_prior_tau(model.spec, np.array([tau]))[0]) + u
    return lp, x, chol


def _u_upper(spec: ModelSpec) -> float:
    """Upper end of the scan: the prior's support, or far above any plausible ``tau``."""
    p = spec.prior_tau.params()
    if spec.prior_tau.family == "uniform":
        return float(np.log(p["upper"]) - 1e-9)
    return float(np.log(100.0))


def _fits(model: LaplaceModel, edges: np.ndarray, start: np.ndarray, tangent=None) -> list:
    """Fit the Laplace approximation at the centre of each cell (warm starts).

    Each fit starts from the last mode; in a split cell (``start`` the mode at the midpoint of
    ``edges``, ``tangent`` its derivative in ``u``) from ``start`` moved along the tangent.
    Returns ``(u, width, mode, chol, log density, tangent or None)`` per cell.
    """
    fits, x, centre = [], start, 0.5 * (edges[0] + edges[-1])
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        u = 0.5 * (a + b)
        if tangent is not None:
            x = start + (u - centre) * tangent
        lp, x, chol = _log_post_u(model, u, x)
        fits.append((u, float(b - a), x, chol, lp, None))
    return fits


def _split_fits(model: LaplaceModel, edges: np.ndarray, fits: list[tuple]) -> list[tuple]:
    """Split the cells across which the mode moves more than MAX_DRIFT of its Laplace SDs.

    The drift across a cell is its width times ``|L' dx*/du|`` (the mode's tangent, in the
    Laplace fit's standard units): in a wide tail cell of ``tau`` (equal-mass cells are wide
    there) the conditional posterior of ``x`` at the cell's ends is far from the one fit at its
    centre, the weights there are heavy-tailed, and the mass of the tail comes out short.
    """
    out = []
    for a, b, fit in zip(edges[:-1], edges[1:], fits, strict=True):
        u, width, mode, chol, lp, _ = fit
        tangent = model.mode_slope(float(np.exp(u)), mode, chol)
        parts = int(min(np.ceil(width * np.linalg.norm(chol.T @ tangent) / MAX_DRIFT),
                        MAX_SPLIT))  # fmt: skip
        if parts <= 1:
            out.append((u, width, mode, chol, lp, tangent))
        else:
            out += _fits(model, np.linspace(a, b, parts + 1), mode, tangent)
    return out


def tau_cells(model: LaplaceModel, start: np.ndarray) -> list[Cell]:
    """Scan ``u = log tau``, bracket the mass, and fit each cell's centre.

    The scan runs from ``tau = 1e-12`` to the top of the prior's support (or ``tau = 100``) at
    spacing :data:`SCAN_STEP` (four times that below ``tau = 1e-3``, where the log density is
    close to linear in ``u``); the bracket leaves out at most :data:`TAIL_MASS` of the scanned
    mass on each side. Below the scan the density in ``u`` falls at least like ``e^u`` (a prior
    density finite at 0 times a likelihood that levels off), so the mass left below is at most
    the density at the first node; if that is not negligible the engine refuses.
    """
    top, knee = _u_upper(model.spec), np.log(1e-3)
    grid = np.concatenate([np.arange(U_MIN, knee, 4 * SCAN_STEP), np.arange(knee, top, SCAN_STEP)])
    lps, x = [], start
    for u in grid:  # warm starts: each mode from the last
        lp, x, _ = _log_post_u(model, u, x)
        lps.append(lp)
    lps = np.array(lps)
    mass = np.exp(lps - lps.max())
    # trapezoid CDF over the (unequal) spacing
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (mass[1:] + mass[:-1]) * np.diff(grid))])
    if mass[0] > TAIL_MASS * cdf[-1]:
        raise ExactEngineError(
            "The posterior of tau has mass below 1e-12 that the Laplace engine's quadrature "
            "does not cover. Use engine='pymc'."
        )
    # cells of equal posterior mass (the scan's CDF, linear between nodes): narrow where the
    # mass is, wide in the tails, so that no cell's proposal is far from its own tau
    cdf /= cdf[-1]
    edges = np.interp(np.linspace(TAIL_MASS, 1 - TAIL_MASS, N_CELLS + 1), cdf, grid)
    fits = _split_fits(model, edges, _fits(model, edges, start))
    centres, lps = np.array([f[0] for f in fits]), np.array([f[4] for f in fits])
    # the log density's slope at each centre: a wide tail cell's proposal follows it (in the
    # left tail the density in u falls like e^u, a factor e^width across a cell)
    slopes = np.gradient(lps, centres)
    return [Cell(u, w, mode, chol, lp + float(log_tilt_integral(sl, w)), float(sl),
                 model.mode_slope(float(np.exp(u)), mode, chol) if tan is None else tan)
            for (u, w, mode, chol, lp, tan), sl in zip(fits, slopes, strict=True)]  # fmt: skip
