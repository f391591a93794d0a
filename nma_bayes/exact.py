r"""Exact engine for the normal-likelihood contrast models: quadrature over tau, Gaussian d | tau.

Given the variance parameters the posterior is Gaussian (Lu & Ades 2004; Dias et al. 2011,
TSD2): with ``X`` the contrast design, ``A(tau)`` the block-diagonal marginal covariance (see
:mod:`nma_bayes.model`) and a ``N(m0, s0^2 I)`` prior on ``d``,

.. math::

    d \mid \tau, y \sim N\big(P^{-1} b, P^{-1}\big),\quad
    P = X'A^{-1}X + I/s_0^2,\quad b = X'A^{-1}y + m_0/s_0^2,

    \log p(\tau \mid y) = \log p(\tau) - \tfrac12\big(\log|A| + y'A^{-1}y + \log|P|
    - b'P^{-1}b\big) + \text{const}.

``A_i^{-1}`` and ``log|A_i|`` come in closed form per study (diagonal plus rank two, Woodbury with
a 2 x 2 capacitance matrix), vectorised over studies and grid points; ``P`` is assembled with one
batched matrix product. The random-effects posterior is a 1-D integral over ``tau``, computed on
an adaptive grid (two coarse searches for the region holding the mass, then Simpson's rule); the
fixed-effect posterior is a single Gaussian. Posterior summaries of any linear combination of
``d`` are those of a Gaussian mixture (means, SDs, and quantiles by bisection of the mixture CDF),
so they carry no Monte Carlo error. Independent draws are provided for rankings and for the
ArviZ structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.special import ndtr

from .model import model_data

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network
    from .spec import ModelSpec

__all__ = ["ExactPosterior", "exact_posterior"]

#: Grid points of the fine tau grid (odd, for Simpson's rule).
N_GRID = 121
#: Points of each coarse search grid.
N_COARSE = 41
#: Log-density drop that bounds the region of tau holding the posterior mass.
LOG_DROP = 30.0


def _log_prior_tau(spec: ModelSpec, tau: np.ndarray) -> np.ndarray:
    p = spec.prior_tau.params()
    family = spec.prior_tau.family
    with np.errstate(divide="ignore"):
        if family == "halfnormal":
            return -0.5 * (tau / p["scale"]) ** 2
        if family == "uniform":
            return np.where((tau >= p["lower"]) & (tau <= p["upper"]), 0.0, -np.inf)
        if family == "lognormal":
            lt = np.log(tau)
            return -lt - 0.5 * ((lt - p["mu"]) / p["sigma"]) ** 2
        if family == "halfcauchy":
            return -np.log1p((tau / p["scale"]) ** 2)
        # priors on tau^2: p(tau) = f(log tau^2) * |d log(tau^2) / d tau| = f(2 log tau) * 2 / tau
        if family == "lognormal_tau2":
            lt = np.log(tau)
            return -lt - 0.5 * ((2 * lt - p["mu"]) / p["sigma"]) ** 2
        if family == "logt_tau2":
            lt = np.log(tau)
            z = (2 * lt - p["mu"]) / p["sigma"]
            return -lt - 0.5 * (p["nu"] + 1) * np.log1p(z**2 / p["nu"])
    raise AssertionError(f"unhandled tau prior {family!r}")  # pragma: no cover


def _tau_bounds(spec: ModelSpec) -> tuple[float, float]:
    p = spec.prior_tau.params()
    family = spec.prior_tau.family
    if family == "uniform":
        return p["lower"], p["upper"]
    if family == "halfnormal":
        return 0.0, 8.0 * p["scale"]
    if family == "halfcauchy":  # heavy tail: cut where 1e-4 of the prior mass is left
        return 0.0, float(p["scale"] * np.tan(np.pi / 2 * (1 - 1e-4)))
    if family == "lognormal_tau2":  # log(tau) ~ N(mu/2, (sigma/2)^2)
        return float(np.exp((p["mu"] - 8 * p["sigma"]) / 2)), float(
            np.exp((p["mu"] + 8 * p["sigma"]) / 2)
        )
    if family == "logt_tau2":  # t quantiles of log(tau^2) leaving 1e-4 of the mass each side
        from scipy.special import stdtrit

        q = float(stdtrit(p["nu"], 1 - 1e-4))
        return float(np.exp((p["mu"] - q * p["sigma"]) / 2)), float(
            np.exp((p["mu"] + q * p["sigma"]) / 2)
        )
    return float(np.exp(p["mu"] - 8 * p["sigma"])), float(np.exp(p["mu"] + 8 * p["sigma"]))


@dataclass(frozen=True)
class _Design:
    """Network arrays for the exact computations (positions: 0 = reference)."""

    X: np.ndarray  # (S*K, T-1) contrast design, padding rows zero
    y: np.ndarray  # (S, K)
    var: np.ndarray
    cov: np.ndarray
    u: np.ndarray
    cov_u: np.ndarray
    mask: np.ndarray

    @classmethod
    def from_network(cls, network: Network) -> _Design:
        data = model_data(network)
        s, k = data["y"].shape
        x = np.zeros((s, k, network.n_treatments))
        rows_s, rows_k = np.nonzero(data["mask"])
        np.add.at(x, (rows_s, rows_k, data["arm_pos"][rows_s, rows_k]), 1.0)
        np.add.at(x, (rows_s, rows_k, data["base_pos"][rows_s]), -1.0)
        return cls(
            X=x[:, :, 1:].reshape(s * k, -1),
            y=data["y"],
            var=data["var"],
            cov=data["cov"],
            u=data["u"],
            cov_u=data["cov_u"],
            mask=data["mask"],
        )


def _conditional(design: _Design, tau: np.ndarray, m0: float, s0: float):
    """For each tau: P (G, n, n), b (G, n) and the tau-dependent log-likelihood terms (G,)."""
    half = (np.asarray(tau, dtype=float) ** 2 / 2.0)[:, None]  # (G, 1)
    mask = design.mask
    d = design.var[None] + half[..., None]  # (G, S, K)
    w = mask / d
    c1 = design.cov[None] + half  # (G, S)
    c2 = design.cov_u[None]  # (1, S)
    u = design.u[None]
    g11, g12, g22 = w.sum(-1), (w * u).sum(-1), (w * u * u).sum(-1)
    n11, n12, n21, n22 = 1 + c1 * g11, c1 * g12, c2 * g12, 1 + c2 * g22
    det = n11 * n22 - n12 * n21
    m11, m12, m22 = n22 * c1 / det, -n12 * c2 / det, n11 * c2 / det
    uj, ul = u[..., :, None], u[..., None, :]
    core = m11[..., None, None] + m12[..., None, None] * (uj + ul) + m22[..., None, None] * uj * ul
    a_inv = -w[..., :, None] * w[..., None, :] * core
    idx = np.arange(mask.shape[1])
    a_inv[..., idx, idx] += w  # (G, S, K, K)
    y = design.y[None]
    a_inv_y = np.einsum("gskl,gsl->gsk", a_inv, np.broadcast_to(y, w.shape))
    logdet_a = (np.log(d) * mask).sum((-1, -2)) + np.log(det).sum(-1)
    quad_a = (a_inv_y * y).sum((-1, -2))
    g = len(half)
    s_k = design.X.shape[0]
    ax = np.einsum("gskl,slt->gskt", a_inv, design.X.reshape(*mask.shape, -1)).reshape(g, s_k, -1)
    prec = design.X.T @ ax  # (G, n, n)
    n = prec.shape[-1]
    prec = prec + np.eye(n) / s0**2
    b = a_inv_y.reshape(g, s_k) @ design.X + m0 / s0**2
    return prec, b, -0.5 * (logdet_a + quad_a)


def _gaussians(prec: np.ndarray, b: np.ndarray):
    """Return mean, covariance, Cholesky of covariance and log|P| for each precision matrix."""
    chol_p = np.linalg.cholesky(prec)
    cov = np.linalg.inv(prec)
    cov = (cov + np.swapaxes(cov, -1, -2)) / 2
    mean = np.einsum("gij,gj->gi", cov, b)
    logdet_p = 2 * np.log(np.diagonal(chol_p, axis1=-2, axis2=-1)).sum(-1)
    return mean, cov, np.linalg.cholesky(cov), logdet_p


class ExactPosterior:
    """Exact posterior of a normal-likelihood contrast NMA (random or fixed effects).

    Parameters
    ----------
    network : Network
        Validated data.
    spec : ModelSpec
        Model and priors (``d`` normal; ``tau`` half-normal, uniform or log-normal).

    Attributes
    ----------
    tau : ndarray (G,)
        Quadrature nodes of ``tau`` (a single 0 for fixed effects).
    weights : ndarray (G,)
        Posterior probability of each node (Simpson weights times density), summing to 1.
    means, covs : ndarray (G, n), (G, n, n)
        ``d | tau`` at each node, ``d`` over the non-reference treatments in network order.
    """

    def __init__(self, network: Network, spec: ModelSpec):
        self.network = network
        self.spec = spec
        self.treatments = [t for t in network.treatments if t != network.reference]
        self._design = _Design.from_network(network)
        p = spec.prior_d.params()
        self._m0, self._s0 = p["mean"], p["sd"]
        if spec.random:
            self.tau, self.weights, self._density, prec, b = self._tau_grid()
        else:
            self.tau, self.weights, self._density = np.zeros(1), np.ones(1), None
            prec, b, _ = _conditional(self._design, self.tau, self._m0, self._s0)
        self.means, self.covs, self._chols, _ = _gaussians(prec, b)

    # ------------------------------------------------------------------------- tau grid
    def _log_post(self, tau: np.ndarray):
        """Log posterior density of ``tau`` (unnormalised), with ``P`` and ``b`` at each node."""
        prec, b, loglik = _conditional(self._design, tau, self._m0, self._s0)
        chol = np.linalg.cholesky(prec)
        half = np.linalg.solve(chol, b[..., None])[..., 0]  # L^{-1} b: b'P^{-1}b = |L^{-1}b|^2
        logdet_p = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        lp = _log_prior_tau(self.spec, tau) + loglik - 0.5 * (logdet_p - (half**2).sum(-1))
        return lp, prec, b

    def _tau_grid(self):
        """Adaptive quadrature nodes and weights for ``tau``.

        With a prior bounded away from 0 (log-normal, log-t on tau^2) the search and the
        integration run on ``log(tau)``, where such densities are smooth; otherwise on ``tau``.
        """
        lo, hi = _tau_bounds(self.spec)
        log_scale = lo > 0
        if log_scale:
            lo, hi = np.log(lo), np.log(hi)
            coarse = np.linspace(lo, hi, N_COARSE)
        else:
            coarse = lo + (hi - lo) * np.linspace(0.0, 1.0, N_COARSE) ** 2  # dense near lo

        def log_density(x):
            lp, prec, b = self._log_post(np.exp(x) if log_scale else x)
            return (lp + x if log_scale else lp), prec, b  # + Jacobian of tau = exp(x)

        for _ in range(2):  # locate the mass, then zoom in once more
            lp = log_density(coarse)[0]
            keep = np.nonzero(lp > np.max(lp) - LOG_DROP)[0]
            a = coarse[max(keep[0] - 1, 0)]
            b = coarse[min(keep[-1] + 1, len(coarse) - 1)]
            coarse = np.linspace(a, b, N_COARSE)
        x = np.linspace(a, b, N_GRID)
        lp, prec, bvec = log_density(x)
        dens = np.exp(lp - np.max(lp))
        h = x[1] - x[0]
        simpson = np.ones(N_GRID)
        simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
        w = dens * simpson * h / 3
        grid = np.exp(x) if log_scale else x
        dens_tau = dens / grid if log_scale else dens  # density over tau, for quantiles
        dens_tau = dens_tau / np.sum((dens_tau[1:] + dens_tau[:-1]) / 2 * np.diff(grid))
        return grid, w / w.sum(), dens_tau, prec, bvec

    # ---------------------------------------------------------------------- summaries
    def linear_summary(self, combos: np.ndarray, ci_prob: float) -> dict[str, np.ndarray]:
        """Exact summaries of ``combos @ d`` (rows: linear combinations of ``d``).

        Returns
        -------
        dict
            ``mean, sd, median, ci_lower, ci_upper`` arrays, one entry per row of ``combos``.
        """
        mu = self.means @ combos.T  # (G, C)
        var = np.einsum("ci,gij,cj->gc", combos, self.covs, combos)
        sd = np.sqrt(np.maximum(var, 0.0)) + 1e-300
        w = self.weights[:, None]
        mean = (w * mu).sum(0)
        total_sd = np.sqrt(np.maximum((w * (var + mu**2)).sum(0) - mean**2, 0.0))
        alpha = (1 - ci_prob) / 2
        qs = [self._mixture_quantile(mu, sd, q) for q in (0.5, alpha, 1 - alpha)]
        return {"mean": mean, "sd": total_sd, "median": qs[0], "ci_lower": qs[1], "ci_upper": qs[2]}

    def _mixture_quantile(self, mu, sd, q, iters: int = 80):
        lo = (mu - 12 * sd).min(0)
        hi = (mu + 12 * sd).max(0)
        w = self.weights[:, None]
        for _ in range(iters):
            mid = (lo + hi) / 2
            below = (w * ndtr((mid - mu) / sd)).sum(0) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return (lo + hi) / 2

    def tau_summary(self, ci_prob: float) -> dict[str, float]:
        """Exact summary of ``tau`` (quadrature; piecewise-linear density between nodes)."""
        if not self.spec.random:
            raise ValueError("fixed-effect model: no tau")
        t, w = self.tau, self.weights
        mean = float((w * t).sum())
        sd = float(np.sqrt(max((w * t**2).sum() - mean**2, 0.0)))
        alpha = (1 - ci_prob) / 2
        med, lo, hi = (self.tau_quantile(q) for q in (0.5, alpha, 1 - alpha))
        return {"mean": mean, "sd": sd, "median": med, "ci_lower": lo, "ci_upper": hi}

    @cached_property
    def _tau_cdf(self) -> np.ndarray:
        f, t = self._density, self.tau
        cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(t))])
        return cdf / cdf[-1]

    def tau_quantile(self, q):
        """Quantile(s) of the posterior of ``tau``."""
        return np.interp(q, self._tau_cdf, self.tau)

    # -------------------------------------------------------------------------- draws
    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Independent draws ``(tau (n,), d (n, T-1))``.

        ``tau`` is drawn continuously by inverse CDF; ``d | tau`` from the Gaussian at the
        nearest node (mean interpolated linearly between the two neighbouring nodes).
        """
        rng = np.random.default_rng(seed)
        if self.spec.random:
            tau = self.tau_quantile(rng.uniform(size=n))
            j = np.clip(np.searchsorted(self.tau, tau) - 1, 0, len(self.tau) - 2)
            frac = ((tau - self.tau[j]) / (self.tau[j + 1] - self.tau[j]))[:, None]
            mean = self.means[j] * (1 - frac) + self.means[j + 1] * frac
            near = np.where(frac[:, 0] < 0.5, j, j + 1)
        else:
            tau = np.zeros(n)
            mean, near = np.repeat(self.means, n, axis=0), np.zeros(n, dtype=int)
        z = rng.standard_normal(mean.shape)
        d = mean + np.einsum("nij,nj->ni", self._chols[near], z)
        return tau, d

    def to_datatree(self, chains: int, draws: int, seed: int) -> xr.DataTree:
        """Independent draws in ArviZ's layout (``posterior`` with chain and draw dims)."""
        tau, d = self.sample(chains * draws, seed)
        coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
        coords["treatment"] = self.treatments
        post = xr.Dataset(
            {"d": (("chain", "draw", "treatment"), d.reshape(chains, draws, -1))}, coords=coords
        )
        if self.spec.random:
            post["tau"] = (("chain", "draw"), tau.reshape(chains, draws))
        post.attrs["engine"] = "exact"
        return xr.DataTree.from_dict({"posterior": post})


def exact_posterior(network: Network, spec: ModelSpec) -> ExactPosterior:
    """Compute the exact posterior of ``spec`` given ``network``."""
    return ExactPosterior(network, spec)
