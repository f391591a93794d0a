"""The arm-level outcome model as dense matrices, and its mode given ``tau`` (Newton).

Part of the Laplace engine (:mod:`nma_bayes.engines.laplace`): the TSD2 arm-based model
(:mod:`nma_bayes.models.arm_likelihood`) with ``theta = B (mu, d) + tau Z z + offset``, the
latent vector ``x = (mu, d, z)`` with its independent normal prior, the mode ``x*(tau)`` and the
Hessian there (Tierney & Kadane 1986), the mode's tangent in ``log tau`` and the exact joint
density the importance weights use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..models.arm_likelihood import OutcomeData, arm_loglik
from ..models.spec import ModelSpec

__all__ = ["LaplaceModel", "family_terms"]

#: Newton: at most this many steps; stop after a step that moves no coordinate by more than
#: NEWTON_TOL (convergence is quadratic: the mode is then good to ~NEWTON_TOL^2).
NEWTON_STEPS, NEWTON_TOL = 100, 1e-4


def family_terms(theta, events, trials, likelihood: str, link: str):
    """Log-likelihood of each arm and its first and (negated) second derivative in ``theta``.

    Logit: ``s = r - n p``, ``w = n p (1 - p)``; cloglog (``lambda = e^theta``, ``p = 1 -
    exp(-lambda)``): ``s = r q - (n - r) lambda`` with ``q = lambda / expm1(lambda)``, ``w =
    r q (lambda / (-expm1(-lambda)) - 1) + (n - r) lambda``; Poisson: ``s = r - lambda``,
    ``w = lambda``; normal arms: ``s = (y - theta) / se^2``, ``w = 1 / se^2``.
    """
    # the likelihood without its constants (log C(n, r), log r!): they cancel in the
    # Laplace approximation's ratios over tau and in the importance weights
    ll = arm_loglik(np, theta, events, trials, likelihood, link)
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
        offset, mean, prec = self.outcomes.arm_offset, self.prior_mean, self.prior_prec
        x = start.copy()

        def objective(v):
            ll, s, w = self.terms(a @ v + offset)
            return ll.sum() - 0.5 * prec @ (v - mean) ** 2, s, w

        def hessian(w):  # H = A' W A + prior precision (the negated Hessian of the objective)
            h = a.T @ (w[:, None] * a)
            h.flat[:: len(prec) + 1] += prec  # its diagonal
            return h

        f, s, w = objective(x)
        for _ in range(NEWTON_STEPS):
            step = np.linalg.solve(hessian(w), a.T @ s - prec * (x - mean))
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
        return x, np.linalg.cholesky(hessian(w)), f

    def mode_slope(self, tau: float, x: np.ndarray, chol: np.ndarray) -> np.ndarray:
        """``d x*(tau) / d log tau`` at the mode ``x`` (``chol``: Cholesky of ``H`` there).

        The implicit function theorem on ``grad f(x*(tau), tau) = 0``: ``dx*/dtau = H^{-1}
        d grad / d tau``, with ``grad = A' s - P (x - m)`` and ``d theta / d tau = Z z``:
        ``d grad / d tau = (0, Z' s) - A' (w * Z z)``.
        """
        n_b = self.B.shape[1]
        if not self.Z.shape[1]:
            return np.zeros_like(x)
        a = self.design(tau)
        _, s, w = self.terms(a @ x + self.outcomes.arm_offset)
        dgrad = -(a.T @ (w * (self.Z @ x[n_b:])))
        dgrad[n_b:] += self.Z.T @ s
        half = solve_triangular(chol, dgrad, lower=True, check_finite=False)
        return tau * solve_triangular(chol, half, lower=True, trans="T", check_finite=False)

    def log_joint(self, tau: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Exact ``log p(y | x, tau) + log p(x)`` (up to one constant) of each row of ``x``."""
        n_mu_d = self.B.shape[1]
        theta = x[:, :n_mu_d] @ self.B.T + self.outcomes.arm_offset
        if self.Z.shape[1]:
            theta = theta + tau[:, None] * (x[:, n_mu_d:] @ self.Z.T)
        o = self.outcomes  # the likelihood alone: its constants cancel in the weights
        ll = arm_loglik(np, theta, o.arm_events, o.arm_trials, o.likelihood, o.link).sum(axis=1)
        return ll - 0.5 * ((x - self.prior_mean) ** 2 @ self.prior_prec)
