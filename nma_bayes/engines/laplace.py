r"""A near-exact engine for arm-level outcome models: nested Laplace over ``tau``, then PSIS.

For the TSD2 arm-based model (:mod:`nma_bayes.models.arm_likelihood`; binomial logit or cloglog,
Poisson, normal arms; fixed or random effects) the latent vector ``x = (mu, d, z)`` (study
baselines, basic effects, non-centred arm deviates) has a normal prior and, given ``tau``, a
log-concave likelihood: the linear predictor is ``theta = B (mu, d) + tau Z z + offset``.

1. **Laplace given tau** (Tierney & Kadane 1986; Rue, Martino & Chopin 2009): Newton's method finds
   the mode ``x*(tau)`` of ``log p(y | x, tau) + log p(x)`` and the Hessian ``H(tau)`` there;
   ``log p(y | tau) ~ f(x*) + (p/2) log 2 pi - (1/2) log det H``.
2. **Quadrature over u = log tau**: a scan at spacing 0.5 of ``log p(y | tau) + log p(tau) + u``
   brackets all but :data:`TAIL_MASS` of the mass on each side; the bracket is cut into
   :data:`N_CELLS` cells of equal mass, each with its Laplace fit at its centre and, within it,
   a density of ``u`` that follows the log density's local slope (exponential).
3. **Importance sampling against the exact joint density** (the correction that makes it
   near-exact; Vehtari et al. 2024, PSIS): the proposal draws a cell with probability
   proportional to its Laplace mass, ``u`` in the cell, and ``x`` from a defensive
   mixture of multivariate t's (:data:`T_DF` degrees of freedom) centred at the cell's mode
   with scales ``1.15^2 H^{-1}`` and, with probability 0.1, ``2^2 H^{-1}``; the
   weights are ``p(y, x, tau) / q(u, x)``. Pareto smoothing gives the weights and their
   diagnostic ``k``: above :data:`K_MAX` the proposal does not cover the posterior and the
   engine raises :class:`~nma_bayes.base.errors.ExactEngineError` (it never answers wrongly in
   silence), as it does when the importance-sampling ESS is below :data:`MIN_ESS_SHARE` of the
   draws. A pilot round (:data:`PILOT` of the proposals) first shifts and rescales the proposal
   by its weighted moments (:func:`moment_matched`). The draws returned are a systematic
   resample of the weighted proposals.

Fixed effects skip step 2 (one Laplace fit). The draws hold ``d``, ``tau``, the baselines ``mu``
and the deviates ``e_arm`` as NUTS fits do, so every summary, plot and report works on them.

Rue H, Martino S, Chopin N (2009). Approximate Bayesian inference for latent Gaussian models by
using integrated nested Laplace approximations. J R Stat Soc B 71:319-392.
Sauter R, Held L (2015). Network meta-analysis with integrated nested Laplace approximations.
Biom J 57:1038-1050.
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
J Mach Learn Res 25:1-58.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.special import gammaln, logsumexp

from ..base.errors import ExactEngineError, ModelSpecError
from ..models.arm_likelihood import OutcomeData, arm_loglik, arm_logpmf
from ..models.spec import ModelSpec
from .exact import _log_prior_tau
from .posterior_labels import relabel

__all__ = ["LaplaceModel", "laplace_posterior", "check_laplace", "K_MAX"]

#: Pareto k above which the importance weights are not trusted (Vehtari et al. 2024: 0.7).
K_MAX = 0.7
#: The importance-sampling ESS must reach this share of the draws returned, or the engine
#: refuses (the resampled draws would repeat a few proposals).
MIN_ESS_SHARE = 0.25
#: Degrees of freedom of the proposal's multivariate t (heavier tails than the Laplace normal).
T_DF = 30.0
#: The quadrature leaves out at most this share of the posterior mass of ``u`` on each side.
TAIL_MASS = 1e-6
#: Cells of the quadrature over ``u`` (equal width), the scan's spacing and its lowest ``u``.
N_CELLS, SCAN_STEP, U_MIN = 48, 0.5, np.log(1e-12)
#: The proposal's scales: these multiples of the Laplace standard deviations, the wide one with
#: probability DEFENSIVE (a defensive mixture keeps the weights' tail light where the posterior
#: is skewed, e.g. baselines of arms with few events).
WIDEN, WIDE, DEFENSIVE = 1.15, 2.0, 0.1
#: Pilot proposals (a share of the final number) whose weighted moments rescale the proposal.
PILOT = 0.25
#: Proposals per returned draw.
OVERSAMPLE = 10
#: Newton: at most this many steps; stop when no coordinate moves by more than NEWTON_TOL.
NEWTON_STEPS, NEWTON_TOL = 100, 1e-10


def family_terms(theta, events, trials, likelihood: str, link: str):
    """Log-likelihood of each arm and its first and (negated) second derivative in ``theta``.

    Logit: ``s = r - n p``, ``w = n p (1 - p)``; cloglog (``lambda = e^theta``, ``p = 1 -
    exp(-lambda)``): ``s = r q - (n - r) lambda`` with ``q = lambda / expm1(lambda)``, ``w =
    r q (lambda / (-expm1(-lambda)) - 1) + (n - r) lambda``; Poisson: ``s = r - lambda``,
    ``w = lambda``; normal arms: ``s = (y - theta) / se^2``, ``w = 1 / se^2``.
    """
    ll = arm_logpmf(theta, events, trials, likelihood, link)
    if likelihood == "poisson":
        lam = np.exp(theta)
        return ll, events - lam, lam
    if likelihood == "normal":
        prec = 1.0 / trials**2
        return ll, (events - theta) * prec, np.broadcast_to(prec, np.shape(theta))
    if link == "cloglog":
        lam = np.exp(np.minimum(theta, 30.0))  # beyond e^30, p = 1 to double precision
        with np.errstate(over="ignore"):
            q = lam / np.expm1(lam)
        s = events * q - (trials - events) * lam
        w = events * q * (lam / -np.expm1(-lam) - 1.0) + (trials - events) * lam
        return ll, s, w
    p = 0.5 * (1.0 + np.tanh(0.5 * theta))  # expit without overflow warnings
    return ll, events - trials * p, trials * p * (1.0 - p)


@dataclass(frozen=True)
class LaplaceModel:
    """The arm-level model as dense matrices: ``theta = B (mu, d) + tau Z z + offset``.

    ``x = (mu, d, z)``; ``prior_mean`` and ``prior_prec`` are its independent normal prior
    (``z`` standard normal). ``n_z`` is 0 for fixed effects.
    """

    outcomes: OutcomeData
    spec: ModelSpec
    B: np.ndarray
    Z: np.ndarray
    prior_mean: np.ndarray
    prior_prec: np.ndarray

    @classmethod
    def build(cls, outcomes: OutcomeData, spec: ModelSpec, n_d: int) -> LaplaceModel:
        """Assemble the design and the prior from the outcome arms and the model."""
        n_arms, n_s = len(outcomes.arm_study), outcomes.n_studies
        B = np.zeros((n_arms, n_s + n_d))
        B[np.arange(n_arms), outcomes.arm_study] = 1.0
        for col, sign in ((outcomes.arm_pos, 1.0), (outcomes.arm_base, -1.0)):
            rows = np.flatnonzero(col > 0)  # position 0 is the reference, d = 0
            np.add.at(B, (rows, n_s + col[rows] - 1), sign)
        n_z = len(outcomes.nonbase) if spec.random else 0
        Z = np.zeros((n_arms, n_z))
        if n_z:
            for j in range(outcomes.re_index.shape[1]):
                np.add.at(Z, (np.arange(n_arms), outcomes.re_index[:, j]), outcomes.re_coef[:, j])
        base, d = spec.prior_baseline.params(), spec.prior_d.params()
        mean = np.concatenate([np.full(n_s, base["mean"]), np.full(n_d, d["mean"]), np.zeros(n_z)])
        prec = np.concatenate([np.full(n_s, base["sd"] ** -2.0), np.full(n_d, d["sd"] ** -2.0),
                               np.ones(n_z)])  # fmt: skip
        return cls(outcomes, spec, B, Z, mean, prec)

    @property
    def dims(self) -> tuple[int, int, int]:
        """``(n_mu, n_d, n_z)``."""
        n_s = self.outcomes.n_studies
        return n_s, self.B.shape[1] - n_s, self.Z.shape[1]

    def design(self, tau: float) -> np.ndarray:
        """``A(tau) = [B, tau Z]``."""
        return np.hstack([self.B, tau * self.Z]) if self.Z.shape[1] else self.B

    def terms(self, theta):
        """``family_terms`` of every arm at ``theta`` (arms on the last axis)."""
        o = self.outcomes
        return family_terms(theta, o.arm_events, o.arm_trials, o.likelihood, o.link)

    def mode(self, tau: float, start: np.ndarray):
        """Newton's method with step halving: the mode, Cholesky of ``H`` and ``f`` there."""
        a = self.design(tau)
        x = start.copy()

        def objective(v):
            ll, s, w = self.terms(a @ v + self.outcomes.arm_offset)
            return ll.sum() - 0.5 * self.prior_prec @ (v - self.prior_mean) ** 2, s, w

        f, s, w = objective(x)
        for _ in range(NEWTON_STEPS):
            grad = a.T @ s - self.prior_prec * (x - self.prior_mean)
            chol = cho_factor(a.T @ (w[:, None] * a) + np.diag(self.prior_prec), lower=True)
            step = cho_solve(chol, grad)
            scale = 1.0
            while True:  # the objective is concave: halve the step until it does not decrease
                cand = x + scale * step
                f_new, s_new, w_new = objective(cand)
                if f_new >= f - 1e-12 * abs(f) or scale < 1e-6:
                    break
                scale /= 2
            x, f, s, w = cand, f_new, s_new, w_new
            if np.max(np.abs(scale * step)) < NEWTON_TOL:
                break
        chol = cho_factor(a.T @ (w[:, None] * a) + np.diag(self.prior_prec), lower=True)
        return x, chol[0], f

    def log_joint(self, tau: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Exact ``log p(y | x, tau) + log p(x)`` (up to one constant) of each row of ``x``."""
        n_mu_d = self.B.shape[1]
        theta = x[:, :n_mu_d] @ self.B.T + self.outcomes.arm_offset
        if self.Z.shape[1]:
            theta = theta + tau[:, None] * (x[:, n_mu_d:] @ self.Z.T)
        o = self.outcomes  # the likelihood alone: its constants cancel in the weights
        ll = arm_loglik(np, theta, o.arm_events, o.arm_trials, o.likelihood, o.link).sum(axis=1)
        return ll - 0.5 * ((x - self.prior_mean) ** 2 @ self.prior_prec)


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


def _log_tilt_integral(slope: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``log`` of the integral of ``exp(slope t)`` over ``t`` in ``[-width/2, width/2]``.

    ``2 sinh(a) / slope`` with ``a = slope width / 2``, written as ``width sinh(a) / a`` (1 at
    ``a = 0``) and, for large ``|a|``, ``|a| + log1p(-exp(-2|a|)) - log(2|a|)``.
    """
    a = np.abs(slope * width / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sinhc = np.where(a < 1e-8, 0.0, a + np.log1p(-np.exp(-2 * a)) - np.log(2 * a))
    return np.log(width) + log_sinhc


def _tilted_offsets(rng, slope: float, width: float, n: int) -> np.ndarray:
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
    fits, x = [], start
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        lp, x, chol = _log_post_u(model, 0.5 * (a + b), x)
        fits.append((0.5 * (a + b), float(b - a), x, chol, lp))
    centres, lps = np.array([f[0] for f in fits]), np.array([f[4] for f in fits])
    # the log density's slope at each centre: a wide tail cell's proposal follows it (in the
    # left tail the density in u falls like e^u, a factor e^width across a cell)
    slopes = np.gradient(lps, centres)
    return [Cell(u, w, mode, chol, lp + float(_log_tilt_integral(sl, w)), float(sl))
            for (u, w, mode, chol, lp), sl in zip(fits, slopes, strict=True)]  # fmt: skip


def _log_t(y: np.ndarray) -> np.ndarray:
    """Log density of the standard multivariate t (:data:`T_DF`) at the rows of ``y``."""
    dim = y.shape[1]
    return (gammaln((T_DF + dim) / 2) - gammaln(T_DF / 2) - 0.5 * dim * np.log(T_DF * np.pi)
            - 0.5 * (T_DF + dim) * np.log1p((y**2).sum(axis=1) / T_DF))  # fmt: skip


def around(mode: np.ndarray, chol: np.ndarray, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` points around a Laplace fit, with their log proposal density.

    A defensive mixture (Hesterberg 1995) of two multivariate t's centred at the mode with
    scales ``s^2 H^{-1}``: ``s = WIDEN`` with probability ``1 - DEFENSIVE``, ``s = WIDE``
    otherwise. With ``H = L L'``, ``x = mode + s L^{-T} y`` for a standard t vector ``y``, whose
    density is ``t(L'(x - mode) / s) det(L) / s^p``; the wide part bounds the weights where the
    posterior has heavier tails than the Laplace normal (skewed baselines of sparse arms).
    """
    dim = len(mode)
    scale = np.where(rng.random(n) < DEFENSIVE, WIDE, WIDEN)
    y = rng.standard_normal((n, dim)) * np.sqrt(T_DF / rng.chisquare(T_DF, size=n))[:, None]
    x = mode + scale[:, None] * solve_triangular(chol, y.T, lower=True, trans="T").T
    v = (x - mode) @ chol  # rows L'(x - mode)
    log_det = np.log(np.diag(chol)).sum()
    parts = [np.log(share) + _log_t(v / s) + log_det - dim * np.log(s)
             for share, s in ((1 - DEFENSIVE, WIDEN), (DEFENSIVE, WIDE))]  # fmt: skip
    return x, np.logaddexp(*parts)


def propose(model: LaplaceModel, cells: list[Cell], n: int, rng):
    """Draw ``n`` proposals ``(tau, x)`` and their log importance weights (module docstring)."""
    mass = np.array([c.log_mass for c in cells])
    p = np.exp(mass - logsumexp(mass))
    which = rng.choice(len(cells), size=n, p=p)
    dim = len(cells[0].mode)
    tau, x, log_q = np.empty(n), np.empty((n, dim)), np.empty(n)
    for g in np.unique(which):
        rows = np.flatnonzero(which == g)
        cell = cells[g]
        x[rows], lq = around(cell.mode, cell.chol, len(rows), rng)
        t = _tilted_offsets(rng, cell.slope, cell.width, len(rows))
        # u = centre + t, density p_g exp(slope t) / integral over the cell
        log_q[rows] = lq + np.log(p[g]) + cell.slope * t - _log_tilt_integral(cell.slope,
                                                                             cell.width)
        tau[rows] = np.exp(cell.u + t)
    u = np.log(tau)
    log_target = model.log_joint(tau, x) + _log_prior_tau(model.spec, tau) + u
    return tau, x, log_target - log_q, which


def _fixed_proposals(model: LaplaceModel, cells: list[Cell], n: int, rng):
    """Draw fixed-effect proposals around the one Laplace fit, with their log weights."""
    (cell,) = cells
    x, log_q = around(cell.mode, cell.chol, n, rng)
    return None, x, model.log_joint(np.zeros(n), x) - log_q, np.zeros(n, dtype=int)


def moment_matched(cells: list[Cell], x: np.ndarray, which: np.ndarray, log_w: np.ndarray):
    """Shift and rescale every cell's proposal by the pilot draws' weighted moments.

    In each cell's standardised coordinates ``v = L'(x - mode)`` the proposal has mean 0 and
    covariance ``c I`` (``c`` = the defensive t mixture's second moment); the weighted mean ``m``
    and the diagonal ``c S`` of the covariance of the pilot's ``v`` (pooled over cells: the
    Laplace fits differ by cell, their misfit in these coordinates much less) move every mode by
    ``L^{-T} m`` and set ``H_new = L S^{-1} L'`` (importance-weighted moment matching, as in
    adaptive importance sampling; Cappe et al. 2004).
    """
    w = np.exp(log_w - logsumexp(log_w))
    v = np.empty_like(x)
    for g in np.unique(which):
        rows = which == g
        v[rows] = (x[rows] - cells[g].mode) @ cells[g].chol
    m = w @ v
    c = ((1 - DEFENSIVE) * WIDEN**2 + DEFENSIVE * WIDE**2) * T_DF / (T_DF - 2)
    # the diagonal only: a full covariance from a few thousand weighted draws in ~50-100
    # dimensions is too noisy to improve on the Laplace fit's correlations
    S_inv = np.diag(c / (w @ (v - m) ** 2))
    out = []
    for cell in cells:
        shift = solve_triangular(cell.chol, m, lower=True, trans="T")
        chol = np.linalg.cholesky(cell.chol @ S_inv @ cell.chol.T)
        out.append(Cell(cell.u, cell.width, cell.mode + shift, chol, cell.log_mass, cell.slope))
    return out


def systematic_resample(log_w: np.ndarray, n: int, rng) -> np.ndarray:
    """Return ``n`` indices by systematic resampling of the weights (in random order)."""
    w = np.exp(log_w - logsumexp(log_w))
    positions = (rng.random() + np.arange(n)) / n
    idx = np.searchsorted(np.cumsum(w), positions, side="right")
    return rng.permutation(np.minimum(idx, len(w) - 1))


def _smoothed(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised log weights and their ``k`` (Vehtari et al. 2024)."""
    from arviz_stats.base import array_stats  # heavy import, only when the engine runs

    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    # arviz-stats' psislw takes the log-likelihood convention: weights exp(-ary)
    smoothed, k = array_stats.psislw(-log_w)
    return smoothed, float(k)


def check_laplace(network, spec: ModelSpec | None) -> None:
    """Refuse what the engine does not cover, before any computation (rule ``bad-option``)."""
    why = None
    if not np.asarray(network.outcome).all():
        why = "contrast-level studies (use engine='exact' for an all-contrast network)"
    elif spec is not None and spec.class_model is not None:
        why = "treatment-class models"
    elif network.covariates is not None:
        why = "meta-regression"
    if why is not None:
        raise ModelSpecError(
            f"The Laplace engine covers networks of arm-level outcome studies without {why}; "
            "use engine='pymc'.",
            rule="bad-option",
        )


def laplace_posterior(network, spec: ModelSpec, chains: int, draws: int, seed: int):
    """Draws of the arm-level model's posterior (module docstring) in ArviZ's layout.

    Returns
    -------
    xarray.DataTree
        ``posterior``: ``d``, ``tau`` (random effects), ``mu`` and ``e_arm``, over ``chain`` x
        ``draw`` (independent draws); its attrs hold ``pareto_k``, ``is_ess`` (the importance
        sampling effective sample size) and ``n_proposals``.

    Raises
    ------
    ExactEngineError
        If the Pareto ``k`` of the importance weights exceeds :data:`K_MAX`, or their effective
        sample size is below :data:`MIN_ESS_SHARE` of the draws.
    """
    outcomes = OutcomeData.from_network(network)
    n_d = len(network.non_reference)
    model = LaplaceModel.build(outcomes, spec, n_d)
    rng = np.random.default_rng(seed)
    n_out = chains * draws
    n_prop = OVERSAMPLE * n_out
    start = model.prior_mean.copy()
    if spec.random:
        cells, draw = tau_cells(model, start), propose
    else:
        x0, chol, _ = model.mode(0.0, start)
        cells, draw = [Cell(0.0, 1.0, x0, chol, 0.0)], _fixed_proposals
    # a pilot round, whose weighted moments rescale the proposal, then the proposals used
    _, x, log_w, which = draw(model, cells, max(int(PILOT * n_prop), 1000), rng)
    cells = moment_matched(cells, x, which, _smoothed(log_w)[0])
    tau, x, log_w, _ = draw(model, cells, n_prop, rng)
    smoothed, k = _smoothed(log_w)
    if not np.isfinite(k) or k > K_MAX:
        raise ExactEngineError(
            f"The Laplace engine's importance weights have Pareto k = {k:.2f} > {K_MAX}: its "
            "approximation does not cover this posterior (e.g. zero-event arms with little "
            "information). Use engine='pymc'."
        )
    w = np.exp(smoothed - logsumexp(smoothed))
    is_ess = float(1.0 / (w**2).sum())
    if is_ess < MIN_ESS_SHARE * n_out:
        raise ExactEngineError(
            f"The Laplace engine's importance sampling has an effective sample size of "
            f"{is_ess:.0f} for {n_out} draws (Pareto k = {k:.2f}): its approximation covers this "
            "posterior too poorly. Use engine='pymc'."
        )
    idx = systematic_resample(smoothed, n_out, rng)
    n_mu, _, n_z = model.dims

    def shaped(a):
        return a[idx].reshape(chains, draws, *a.shape[1:])

    post = xr.Dataset({"d": (("chain", "draw", "d_dim"), shaped(x[:, n_mu : n_mu + n_d])),
                       "mu": (("chain", "draw", "outcome_study"),
                              shaped(x[:, :n_mu]))})  # fmt: skip
    if spec.random:
        post["tau"] = (("chain", "draw"), shaped(tau))
        post["e_arm"] = (("chain", "draw", "outcome_arm"), shaped(x[:, n_mu + n_d :]))
    post = post.assign_coords(chain=np.arange(chains), draw=np.arange(draws))
    post.attrs |= {"engine": "laplace", "pareto_k": k, "is_ess": is_ess,
                   "n_proposals": n_prop}  # fmt: skip
    return relabel(xr.DataTree.from_dict({"posterior": post}), network)
