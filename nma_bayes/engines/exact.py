r"""Exact engine for the normal-likelihood contrast models: quadrature over tau, Gaussian d | tau.

Given the variance parameters the posterior is Gaussian (Lu & Ades 2004; Dias et al. 2011,
TSD2): with ``X`` the contrast design, ``A(tau)`` the block-diagonal marginal covariance (see
:mod:`nma_bayes.models.pymc_graph`) and a ``N(m0, s0^2 I)`` prior on ``d``,

.. math::

    d \mid \tau, y \sim N\big(P^{-1} b, P^{-1}\big),\quad
    P = X'A^{-1}X + I/s_0^2,\quad b = X'A^{-1}y + m_0/s_0^2,

    \log p(\tau \mid y) = \log p(\tau) - \tfrac12\big(\log|A| + \log|P|
    + \min_d\,[(y - Xd)'A^{-1}(y - Xd) + |d - m_0|^2/s_0^2]\big) + \text{const}.

``A_i^{-1}`` and ``log|A_i|`` come in closed form per study (diagonal plus rank two, Woodbury with
a 2 x 2 capacitance matrix), vectorised over studies and grid points; ``P`` is assembled with one
batched matrix product. The random-effects posterior is a 1-D integral over ``tau``, computed by
the adaptive quadrature of :mod:`nma_bayes.engines.tau_quadrature` (a transformed scale that
covers 0 to the prior's upper tail, a scan for the mass, nested Simpson grids doubled until the
summaries stop changing, and an error instead of an unconverged answer); the fixed-effect
posterior is a single Gaussian. Posterior summaries of any linear combination of ``d`` are
those of a Gaussian mixture (means, SDs, and quantiles by safeguarded Newton iteration on the
mixture CDF), so they carry no Monte Carlo error. Independent draws are provided for rankings
and for the ArviZ structure.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.special import ndtr, ndtri

from ..base.errors import ExactEngineError, ModelSpecError
from ..models.likelihood import ContrastData
from ..models.regression import RegressionDesign
from .exact_marginal import log_marginal
from .tau_quadrature import X_LIMIT, TauScale, integrate_tau

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from ..models.spec import ModelSpec

__all__ = ["ExactPosterior", "exact_posterior"]

#: Scale of the ``sinh`` map relative to the typical within-study SE (``tau`` below it is
#: integrated on a linear scale, above it on a logarithmic one).
SINH_SCALE = 0.01


def _log_prior_tau(spec: ModelSpec, tau: np.ndarray) -> np.ndarray:
    p = spec.prior_tau.params()
    family = spec.prior_tau.family
    with np.errstate(divide="ignore"):
        if family == "halfnormal":
            return -0.5 * (tau / p["scale"]) ** 2
        if family == "uniform":  # bounds widened by rounding: the end nodes map back inexactly
            lo, hi = p["lower"] * (1 - 1e-12), p["upper"] * (1 + 1e-12)
            return np.where((tau >= lo) & (tau <= hi), 0.0, -np.inf)
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
    """Range of ``tau`` the exact engine integrates (the support; tails cut at :func:`_tails`)."""
    lo_x, hi_x = _log_tau_bounds(spec)
    return float(np.exp(lo_x)) if np.isfinite(lo_x) else 0.0, float(np.exp(hi_x))


def _tails(spec: ModelSpec) -> tuple[float, float]:
    """Prior mass cut off below and above the range (0 at an edge of the support).

    Light (normal) tails are cut far out, where they hold nothing; heavy (Cauchy, t) tails where
    they hold little, since going further would cost many nodes (the check of
    :func:`nma_bayes.engines.tau_quadrature.integrate_tau` refuses if the posterior keeps mass
    there).
    """
    family = spec.prior_tau.family
    if family == "uniform":
        return 0.0, 0.0
    if family == "halfnormal":
        return 0.0, 1e-16
    if family == "halfcauchy":
        return 0.0, 1e-10
    if family == "logt_tau2":
        return 1e-8, 1e-8
    return 1e-16, 1e-16  # normal on log(tau) or log(tau^2)


def _log_tau_bounds(spec: ModelSpec) -> tuple[float, float]:
    """``log(tau)`` range of :func:`_tau_bounds`, computed on the log scale (no overflow)."""
    from scipy.special import ndtri, stdtrit

    p = spec.prior_tau.params()
    family = spec.prior_tau.family
    lo_tail, hi_tail = _tails(spec)
    if family == "uniform":
        return (np.log(p["lower"]) if p["lower"] > 0 else -np.inf), float(np.log(p["upper"]))
    if family == "halfnormal":  # P(tau > z s) = 2 (1 - Phi(z))
        return -np.inf, float(np.log(-ndtri(hi_tail / 2) * p["scale"]))
    if family == "halfcauchy":  # P(tau > s tan(pi/2 (1 - t))) = t
        return -np.inf, float(np.log(p["scale"]) - np.log(np.tan(np.pi / 2 * hi_tail)))
    if family == "logt_tau2":  # log(tau) = log(tau^2) / 2
        q = -float(stdtrit(p["nu"], hi_tail))
        return (p["mu"] - q * p["sigma"]) / 2, (p["mu"] + q * p["sigma"]) / 2
    z = -float(ndtri(hi_tail))
    if family == "lognormal":
        return p["mu"] - z * p["sigma"], p["mu"] + z * p["sigma"]
    if family == "lognormal_tau2":
        return (p["mu"] - z * p["sigma"]) / 2, (p["mu"] + z * p["sigma"]) / 2
    raise AssertionError(f"unhandled tau prior {family!r}")  # pragma: no cover


def _asinh_exp(v: float) -> float:
    """``asinh(exp(v))`` without overflow: ``v + log(1 + sqrt(1 + exp(-2v)))`` for large ``v``."""
    if v > 20:
        return float(v + np.log1p(np.sqrt(1 + np.exp(-2 * v))))
    return float(np.arcsinh(np.exp(v)))


def _tau_scale(spec: ModelSpec, design: ContrastData) -> TauScale:
    """Choose the quadrature's transformed scale for this prior (see :mod:`._tau_quadrature`)."""
    lo, hi = _log_tau_bounds(spec)
    lo_tail, hi_tail = _tails(spec)
    if spec.prior_tau.family in ("halfnormal", "halfcauchy", "uniform"):
        # density finite at tau = 0: tau = c sinh(x), c a small fraction of the typical SE
        se = np.sqrt(design.var + design.cov[:, None])[design.mask > 0]
        c = SINH_SCALE * float(np.median(se))
        x_lo = _asinh_exp(lo - np.log(c)) if np.isfinite(lo) else 0.0
        x_hi = _asinh_exp(hi - np.log(c))
        return TauScale("sinh", c, x_lo, x_hi, lo_tail=lo_tail, hi_tail=hi_tail)
    # density vanishing at 0: integrate on log(tau), kept where exp() stays finite; a range
    # clipped there leaves the prior mass beyond the clip as its tail (the check then refuses)
    if lo < -X_LIMIT:
        lo, lo_tail = -X_LIMIT, max(lo_tail, _log_tau_cdf(spec, -X_LIMIT))
    if hi > X_LIMIT:
        hi, hi_tail = X_LIMIT, max(hi_tail, 1 - _log_tau_cdf(spec, X_LIMIT))
    return TauScale("exp", 1.0, lo, hi, lo_tail, hi_tail)


def _log_tau_cdf(spec: ModelSpec, v: float) -> float:
    """Prior CDF at ``log(tau) = v`` for the families defined on ``log(tau)`` or ``log(tau^2)``."""
    from scipy.special import stdtr

    p, family = spec.prior_tau.params(), spec.prior_tau.family
    if family == "lognormal":
        return float(ndtr((v - p["mu"]) / p["sigma"]))
    if family == "lognormal_tau2":
        return float(ndtr((2 * v - p["mu"]) / p["sigma"]))
    return float(stdtr(p["nu"], (2 * v - p["mu"]) / p["sigma"]))


def _mixture_quantile(w, mu, sd, q, start, iters: int = 100):
    """``q``-quantile of each column's Gaussian mixture ``sum_g w_g N(mu_g, sd_g^2)``.

    The quantile lies between the smallest and the largest component quantile (the mixture CDF
    is an average of the component CDFs). Newton steps on the mixture CDF from ``start`` (the
    moment-matched normal's quantile, usually within a few per cent), kept inside that shrinking
    bracket (bisection when a step leaves it), converge in three or four iterations; only the
    columns not yet converged are iterated.
    """
    z = ndtri(q)
    comp = mu + z * sd
    lo, hi = comp.min(0), comp.max(0)
    x = np.clip(start, lo, hi)
    active = np.arange(x.size)
    for _ in range(iters):
        m, s = mu[:, active], sd[:, active]
        t = (x[active] - m) / s
        err = (w * ndtr(t)).sum(0) - q
        below = err < 0
        lo[active] = np.where(below, x[active], lo[active])
        hi[active] = np.where(below, hi[active], x[active])
        done = (np.abs(err) < 1e-11) | (hi[active] - lo[active] <= 1e-13 * (1 + np.abs(x[active])))
        dens = (w * np.exp(-0.5 * t * t) / s).sum(0) / np.sqrt(2 * np.pi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x[active] - err / dens
        mid = (lo[active] + hi[active]) / 2
        inside = (step > lo[active]) & (step < hi[active])
        x[active] = np.where(done, x[active], np.where(inside, step, mid))
        active = active[~done]
        if active.size == 0:
            break
    return x


def _cholesky_psd(covs: np.ndarray) -> np.ndarray:
    """Cholesky factors for drawing ``d | tau`` (eigen square root if rounding broke PD-ness)."""
    try:
        return np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(covs)
        return vecs * np.sqrt(np.maximum(vals, 0.0))[..., None, :]


class ExactPosterior:
    """Exact posterior of a normal-likelihood contrast NMA (random or fixed effects).

    Parameters
    ----------
    network : Network
        Validated data.
    spec : ModelSpec
        Model and priors (``d`` normal; any ``tau`` prior family of
        :mod:`nma_bayes.models.priors`).
    data : ContrastData, optional
        The network's arrays, if already built (``fit_network`` builds them once).
    regression : RegressionDesign, optional
        A meta-regression with shared, independent or class interactions (TSD3): the free
        interaction coefficients join ``d`` in the Gaussian block (the model stays Gaussian
        given ``tau``). Built from ``network.covariates`` if not given.

    Attributes
    ----------
    tau : ndarray (G,)
        Quadrature nodes of ``tau`` (a single 0 for fixed effects).
    weights : ndarray (G,)
        Posterior probability of each node (Simpson weights times density), summing to 1.
    means, covs : ndarray (G, n), (G, n, n)
        ``(d, beta) | tau`` at each node: ``d`` over the non-reference treatments in network
        order, then (meta-regression) the free interactions, group-major (``g * P + p``).
    quadrature : TauQuadrature or None
        The converged quadrature over ``tau`` (random effects).

    Raises
    ------
    ExactEngineError
        If the quadrature does not converge or the density cannot be evaluated (see
        :func:`nma_bayes.engines.tau_quadrature.integrate_tau`).
    """

    def __init__(
        self,
        network: Network,
        spec: ModelSpec,
        *,
        data: ContrastData | None = None,
        regression: RegressionDesign | None = None,
    ):
        self.network = network
        self.spec = spec
        self.treatments = list(network.non_reference)
        self._design = data if data is not None else ContrastData.from_network(network)
        if regression is None:
            regression = RegressionDesign.from_network(network, spec)
        self.regression = regression
        self._xb = None if regression is None else _linear_design(regression, self._design)
        self._m0, self._s0 = _prior_vectors(spec, len(self.treatments), regression)
        if spec.random:
            self._scale = _tau_scale(spec, self._design)
            self.quadrature = integrate_tau(
                self._scale, self._log_density, scan=partial(self._log_density, full=False)
            )
            self.tau, self.weights = self.quadrature.tau, self.quadrature.weights
            node = self.quadrature.node_data
        else:
            self.quadrature = None
            self.tau, self.weights = np.zeros(1), np.ones(1)
            loglik, node = log_marginal(
                self._design, self.tau, self._m0, self._s0, full=True, xb=self._xb
            )
            if not np.isfinite(loglik).all():
                raise ExactEngineError(
                    "The exact engine could not evaluate the fixed-effect posterior (numerical "
                    "breakdown: check for extreme standard errors or effects in the data)."
                )
        self.means, self.covs = node["mean"], node["cov"]
        self._chols = _cholesky_psd(self.covs)

    def log_density_tau(self, tau: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior density of ``tau`` (over ``tau``) at the given values."""
        tau = np.asarray(tau, dtype=float)
        loglik, _ = log_marginal(self._design, tau, self._m0, self._s0, full=False, xb=self._xb)
        return _log_prior_tau(self.spec, tau) + loglik

    def _log_density(self, x: np.ndarray, *, full: bool = True):
        """Log posterior density over the quadrature's scale ``x`` (unnormalised)."""
        tau = self._scale.tau(x)
        loglik, node = log_marginal(self._design, tau, self._m0, self._s0, full=full, xb=self._xb)
        lp = _log_prior_tau(self.spec, tau) + loglik + self._scale.log_jacobian(x)
        return lp, {**node, "loglik": loglik}

    # ---------------------------------------------------------------------- summaries
    def linear_summary(self, combos: np.ndarray, ci_prob: float) -> dict[str, np.ndarray]:
        """Exact summaries of ``combos @ d`` (rows: linear combinations of ``d``).

        Returns
        -------
        dict
            ``mean, sd, median, ci_lower, ci_upper`` arrays, one entry per row of ``combos``.
        """
        combos = np.asarray(combos, dtype=float)
        mu = self.means @ combos.T  # (G, C)
        var = ((combos @ self.covs) * combos).sum(-1)  # c' Cov c per node, (G, C)
        return self._mixture_summary(mu, var, ci_prob)

    def contrast_summary(self, plus, minus, ci_prob: float) -> dict[str, np.ndarray]:
        """Exact summaries of ``d[plus] - d[minus]`` (indices into ``treatments``; -1: reference).

        The variance of a difference of two coordinates needs three entries of each node's
        covariance, so all ``T(T-1)/2`` pairs cost ``O(G T^2)`` instead of the ``O(G T^4)`` of
        generic linear combinations.
        """
        plus, minus = np.asarray(plus, dtype=int), np.asarray(minus, dtype=int)
        g, n = self.means.shape
        means = np.concatenate([self.means, np.zeros((g, 1))], axis=1)  # index -1: reference
        covs = np.zeros((g, n + 1, n + 1))
        covs[:, :n, :n] = self.covs
        mu = means[:, plus] - means[:, minus]
        var = covs[:, plus, plus] + covs[:, minus, minus] - 2 * covs[:, plus, minus]
        return self._mixture_summary(mu, var, ci_prob)

    def _mixture_summary(self, mu, var, ci_prob):
        """Mean, SD and quantiles of the Gaussian mixture ``sum_g w_g N(mu_g, var_g)``."""
        keep = self.weights > 1e-14 * self.weights.max()  # nodes too light to move a quantile
        w, mu, var = self.weights[keep, None], mu[keep], var[keep]
        w = w / w.sum()
        sd = np.sqrt(np.maximum(var, 0.0)) + 1e-300
        mean = (w * mu).sum(0)
        total_sd = np.sqrt(np.maximum((w * (var + mu**2)).sum(0) - mean**2, 0.0))
        alpha = (1 - ci_prob) / 2
        qs = [
            _mixture_quantile(w, mu, sd, q, start=mean + ndtri(q) * total_sd)
            for q in (0.5, alpha, 1 - alpha)
        ]
        return {"mean": mean, "sd": total_sd, "median": qs[0], "ci_lower": qs[1], "ci_upper": qs[2]}

    def tau_summary(self, ci_prob: float) -> dict[str, float]:
        """Exact summary of ``tau`` (quadrature; quantiles from the interpolated CDF)."""
        if not self.spec.random:
            raise ValueError("fixed-effect model: no tau")
        t, w = self.tau, self.weights
        mean = float((w * t).sum())
        sd = float(np.sqrt(max((w * t**2).sum() - mean**2, 0.0)))
        alpha = (1 - ci_prob) / 2
        med, lo, hi = (float(self.tau_quantile(q)) for q in (0.5, alpha, 1 - alpha))
        return {"mean": mean, "sd": sd, "median": med, "ci_lower": lo, "ci_upper": hi}

    def tau_quantile(self, q):
        """Quantile(s) of the posterior of ``tau``."""
        return self.quadrature.quantile(q)

    # -------------------------------------------------------------------------- draws
    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Independent draws ``(tau (n,), theta (n, T-1 [+ free interactions]))``.

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
        d = np.empty_like(mean)
        for node in np.unique(near):  # one matrix product per node, not a (n, T, T) gather
            rows = near == node
            d[rows] = mean[rows] + z[rows] @ self._chols[node].T
        return tau, d

    def to_datatree(self, chains: int, draws: int, seed: int) -> xr.DataTree:
        """Independent draws in ArviZ's layout (``posterior`` with chain and draw dims)."""
        tau, theta = self.sample(chains * draws, seed)
        n_d = len(self.treatments)
        coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
        coords["treatment"] = self.treatments
        d = theta[:, :n_d].reshape(chains, draws, -1)
        post = xr.Dataset({"d": (("chain", "draw", "treatment"), d)}, coords=coords)
        if self.regression is not None:  # beta of every treatment: M @ beta_group per term
            reg = self.regression
            free = theta[:, n_d:].reshape(-1, len(reg.groups), reg.n_terms)
            beta = np.einsum("tg,ngp->ntp", reg.beta_map(), free)
            post["beta"] = (("chain", "draw", "treatment", "term"),
                            beta.reshape(chains, draws, n_d, reg.n_terms))  # fmt: skip
            post["beta_group"] = (("chain", "draw", "interaction_group", "term"),
                                  free.reshape(chains, draws, *free.shape[1:]))  # fmt: skip
            post = post.assign_coords(term=list(reg.terms), interaction_group=list(reg.groups))
        if self.spec.random:
            post["tau"] = (("chain", "draw"), tau.reshape(chains, draws))
        post.attrs["engine"] = "exact"
        return xr.DataTree.from_dict({"posterior": post})


def _linear_design(regression: RegressionDesign, data: ContrastData) -> np.ndarray:
    """Return the interaction design of a meta-regression the exact engine integrates exactly."""
    if not regression.linear:
        what = "baseline-risk" if regression.baseline_risk else "exchangeable-interaction"
        raise ModelSpecError(
            f"The exact engine covers meta-regression with shared, independent or class "
            f"interactions (Gaussian given tau); a {what} model is not Gaussian given tau. "
            "Use engine='pymc'.",
            rule="bad-option",
        )
    return regression.contrast_design(data)


def _prior_vectors(spec: ModelSpec, n_d: int, regression: RegressionDesign | None):
    """Prior means and SDs of the linear parameters ``(d, free interactions)``."""
    p = spec.prior_d.params()
    m0, s0 = np.full(n_d, p["mean"]), np.full(n_d, p["sd"])
    if regression is None:
        return m0, s0
    q = spec.prior_beta.params()
    n_b = regression.n_free
    return np.r_[m0, np.full(n_b, q["mean"])], np.r_[s0, np.full(n_b, q["sd"])]


def exact_posterior(
    network: Network,
    spec: ModelSpec,
    *,
    data: ContrastData | None = None,
    regression: RegressionDesign | None = None,
) -> ExactPosterior:
    """Compute the exact posterior of ``spec`` given ``network`` (and its arrays, if built)."""
    return ExactPosterior(network, spec, data=data, regression=regression)
