r"""Arm-level outcome likelihoods of the TSD2 arm-based model: data arrays and linear predictor.

For study ``i`` with baseline ``mu_i`` (the linear predictor of its base arm) and arms
``k = 0..K_i`` (``k = 0`` the base arm ``b``),

.. math::

    \theta_{ik} = \mu_i + \delta_{ik} + o_{ik},\qquad \delta_{i0} = 0,\qquad
    \delta_{i\cdot} = d_{t_\cdot} - d_{b} + \tau\, L_{K_i} z_{i\cdot},\quad z \sim N(0, I),

with ``L_K`` the Cholesky factor of ``(I + J)/2`` (``K x K``), so the study-specific effects have
variance ``tau^2`` and, within a multi-arm study, covariance ``tau^2/2`` (the exact TSD2
correlation), with one deviate per non-base arm (NUTS samples the study effects partially
non-centred, :mod:`nma_bayes.models.arm_param`; the posterior is the same);
``o_{ik}`` is the offset (``log(time)`` for cloglog, ``log(exposure)`` for Poisson rates).
Events are binomial with ``logit(p) = theta``, ``cloglog(p) = theta``, ``probit(p) = theta``
or ``log(p) = min(theta, 0)`` (risk ratios; gemtc's cap), Poisson with ``log(lambda) = theta``,
normal around the arm mean, or ordered categorical
(:mod:`nma_bayes.models.ordered_likelihood`). The fixed-effect model drops ``z``. Baselines
``mu_i`` are nuisance parameters with independent normal priors (``ModelSpec.prior_baseline``,
default ``N(0, 100^2)`` as in TSD2; for the log link truncated to ``mu_i <= 0``, as gemtc does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, gammaln, ndtr

from .likelihood import treatment_positions
from .ordered_likelihood import OrderedCells, log1mexp, log_cdf, softplus

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["OutcomeData", "OUTCOME_KEYS", "LOG_CAP", "arm_loglik"]

#: Arrays of :meth:`OutcomeData.arrays` (the graph's data nodes), in order.
OUTCOME_KEYS = ("arm_events", "arm_trials", "arm_offset")
#: The log link's largest ``log p`` (gemtc's ``min(theta, -1e-16)``): ``p`` stays below 1, so
#: ``log(1 - p)`` stays finite for arms with non-events.
LOG_CAP = -1e-16


@dataclass(frozen=True)
class OutcomeData:
    """The arms of a network's outcome studies, flattened to one entry per real arm.

    Attributes
    ----------
    study_index : ndarray of int (S_o,)
        Index in the network of each outcome study.
    arm_study : ndarray of int (A,)
        Position of each arm's study among the outcome studies.
    arm_pos, arm_base : ndarray of int (A,)
        Position in ``d_full = [0, d]`` of each arm's treatment and of its study's base arm.
    arm_slot : ndarray of int (A,)
        0 for a base arm, else the arm's slot (1..K).
    study_base_arm : ndarray of int (S_o,)
        Index (among the arms) of each outcome study's base arm.
    nonbase : ndarray of int (A_nb,)
        Indices (among the arms) of the non-base arms: one random-effect deviate each.
    re_index, re_coef : ndarray (A, K)
        Arm ``a``'s study effect is ``tau * sum_j re_coef[a, j] * z[re_index[a, j]]``: row ``a``
        of its study's ``L`` over the study's deviates (zero for base arms).
    arm_events, arm_trials, arm_offset : ndarray (A,)
        Events, trials (``n`` or exposure) and offset of each arm.
    likelihood, link : str
        The family.
    cells : OrderedCells or None
        Ordered categorical data: every arm's categories (``arm_events`` is then (A, J), the
        at-least counts with NaN where an arm does not report a cutpoint).
    """

    study_index: np.ndarray
    arm_study: np.ndarray
    arm_pos: np.ndarray
    arm_base: np.ndarray
    arm_slot: np.ndarray
    study_base_arm: np.ndarray
    nonbase: np.ndarray
    re_index: np.ndarray
    re_coef: np.ndarray
    arm_events: np.ndarray
    arm_trials: np.ndarray
    arm_offset: np.ndarray
    likelihood: str
    link: str
    cells: OrderedCells | None = None

    @classmethod
    def from_network(cls, network: Network) -> OutcomeData:
        """Collect the outcome studies' arms of ``network`` (empty if it has none)."""
        pos = treatment_positions(network)
        idx = np.flatnonzero(np.asarray(network.outcome))
        rows = []
        for j, i in enumerate(idx):
            k = int(network.n_arms[i])
            treatments = [network.base[i], *np.asarray(network.arm[i])[: k - 1]]
            for slot, t in enumerate(treatments):
                rows.append((j, pos[t], pos[network.base[i]], slot, network.events[i, slot],
                             network.trials[i, slot], network.offset[i, slot]))  # fmt: skip
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        ints = [np.asarray(c, dtype=np.int64) for c in cols[:4]]
        floats = [np.asarray(c, dtype=float) for c in cols[4:]]
        base_arm = np.flatnonzero(ints[3] == 0)  # arms are listed study by study, base first
        re = _random_effect_rows(ints[0], ints[3])
        cells = None
        if network.likelihood == "ordered" and rows:
            cells = OrderedCells.from_counts(floats[0], floats[1])
        return cls(idx, *ints, base_arm, *re, *floats, likelihood=network.likelihood,
                   link=network.link, cells=cells)  # fmt: skip

    def structure_key(self) -> tuple:
        """Return what a compiled graph depends on besides events, trials and offsets."""
        cells = () if self.cells is None else self.cells.key()
        return (self.likelihood, self.link, len(self.study_index),
                *(a.tobytes() for a in (self.arm_study, self.arm_pos, self.arm_base)),
                *cells)  # fmt: skip

    @property
    def n_studies(self) -> int:
        """Number of outcome studies ``S_o``."""
        return len(self.study_index)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the arrays of the graph's data nodes (:data:`OUTCOME_KEYS`).

        Ordered data give their category counts (``cell_count``) instead of ``arm_events``.
        """
        if self.cells is not None:
            return {"cell_count": self.cells.count, "arm_trials": self.arm_trials,
                    "arm_offset": self.arm_offset}  # fmt: skip
        return {k: getattr(self, k) for k in OUTCOME_KEYS}

    def linear_predictor(self, mu, d_full, tau, z, offset):
        """``theta`` of every arm (module docstring); ``tau=None`` for fixed effects.

        ``mu`` (S_o,), ``d_full`` (T,), ``z`` (A_nb,) standard normals of the non-base arms,
        ``offset`` (A,); extra trailing axes (e.g. draws) broadcast. Works with NumPy arrays and
        PyTensor tensors alike (indexing and arithmetic only).
        """
        delta = d_full[self.arm_pos] - d_full[self.arm_base]
        if tau is not None:
            # (L z) per arm: the arm's row of its study's Cholesky factor times the deviates
            coef = self.re_coef.reshape(self.re_coef.shape + (1,) * (z.ndim - 1))
            delta = delta + tau * (z[self.re_index] * coef).sum(axis=1)
        return mu[self.arm_study] + delta + offset


def _random_effect_rows(arm_study: np.ndarray, arm_slot: np.ndarray):
    """``nonbase``, ``re_index``, ``re_coef`` of :class:`OutcomeData` (see its attributes)."""
    nonbase = np.flatnonzero(arm_slot > 0)
    width = max(int(arm_slot.max(initial=0)), 1)
    re_index = np.zeros((len(arm_study), width), dtype=np.int64)
    re_coef = np.zeros((len(arm_study), width))
    for s in np.unique(arm_study):
        arms = nonbase[arm_study[nonbase] == s]  # this study's non-base arms, in slot order
        k = len(arms)
        chol = np.linalg.cholesky((np.eye(k) + np.ones((k, k))) / 2)  # Var tau^2, Cov tau^2/2
        first = int(np.searchsorted(nonbase, arms[0]))
        for row, a in enumerate(arms):
            re_index[a, : row + 1] = first + np.arange(row + 1)
            re_coef[a, : row + 1] = chol[row, : row + 1]
    return nonbase, re_index, re_coef


def arm_loglik(xp, theta, events, trials, likelihood: str, link: str):
    """Log-likelihood of each arm up to a constant (the binomial coefficient, ``log r!``).

    Written with numerically stable pieces: ``logit``: ``r theta - n softplus(theta)``;
    ``cloglog``: ``log p = log(1 - exp(-exp(theta)))`` and ``log(1 - p) = -exp(theta)``;
    Poisson: ``r theta - exp(theta)`` (``theta`` includes ``log(exposure)``); ``probit``: ``r
    log Phi(theta) + (n - r) log Phi(-theta)``; ``log``: ``r theta' + (n - r) log(1 - e^theta')``
    with ``theta' = min(theta, -1e-16)``, gemtc's cap that keeps ``p`` below 1.
    """
    if likelihood == "poisson":
        return events * theta - xp.exp(theta)
    if likelihood == "normal":  # arm means (events) with standard errors (trials)
        return -0.5 * ((events - theta) / trials) ** 2
    if link == "cloglog":
        rate = xp.exp(theta)
        return events * log1mexp(xp, -rate) - (trials - events) * rate
    if link == "probit":
        return events * log_cdf(xp, theta, "probit") + (trials - events) * log_cdf(
            xp, -theta, "probit"
        )
    if link == "log":
        capped = xp.minimum(theta, LOG_CAP)
        return events * capped + (trials - events) * log1mexp(xp, capped)
    return events * theta - trials * softplus(xp, theta)


def arm_logpmf(theta, events, trials, likelihood: str, link: str) -> np.ndarray:
    """Exact log-probability of each arm's events (NumPy), normalising constants included.

    :func:`arm_loglik` plus ``log C(n, r)`` (binomial) or ``-log r!`` (Poisson): equals
    ``scipy.stats.binom.logpmf(r, n, p)`` and ``poisson.logpmf(r, E exp(theta - log E))``.
    ``theta`` broadcasts against ``events`` and ``trials`` (e.g. draws x arms).
    """
    if likelihood == "poisson":
        const = -gammaln(events + 1.0)
    elif likelihood == "normal":
        const = -np.log(trials) - 0.5 * np.log(2 * np.pi)
    else:
        const = gammaln(trials + 1.0) - gammaln(events + 1.0) - gammaln(trials - events + 1.0)
    return arm_loglik(np, theta, events, trials, likelihood, link) + const


def arm_fitted(theta, trials, likelihood: str, link: str) -> np.ndarray:
    """Fitted number of events ``rhat`` of each arm (NumPy; TSD2's ``rhat``).

    Binomial: ``n p`` with ``p = invlogit(theta)``, for cloglog ``1 - exp(-exp(theta))``, for
    probit ``Phi(theta)`` and for the log link ``exp(min(theta, 0))``;
    Poisson: ``exp(theta)`` (``theta`` includes ``log(exposure)``, so this is ``E lambda``).
    """
    theta = np.asarray(theta, dtype=float)
    if likelihood == "normal":
        return theta
    if likelihood == "poisson":
        return np.exp(theta)
    if link == "cloglog":
        return trials * -np.expm1(-np.exp(theta))
    if link == "probit":
        return trials * ndtr(theta)
    if link == "log":  # gemtc's cap: p = exp(min(theta, 0))
        return trials * np.exp(np.minimum(theta, 0.0))
    return trials * expit(theta)


def arm_deviance(events, trials, fitted, likelihood: str) -> np.ndarray:
    """Residual deviance of each arm given its fitted events (TSD2, Dias et al. 2011).

    Binomial: ``2 [r log(r / rhat) + (n - r) log((n - r) / (n - rhat))]``; Poisson:
    ``2 [(rhat - r) + r log(r / rhat)]``, with ``0 log 0 = 0`` (zero-event arms, and arms whose
    events all occurred). ``fitted`` (``rhat``) broadcasts against ``events`` and ``trials``.
    """
    events = np.asarray(events, dtype=float)
    fitted = np.asarray(fitted, dtype=float)
    if likelihood == "normal":  # ((y - theta) / se)^2
        return ((events - fitted) / np.asarray(trials, dtype=float)) ** 2
    if likelihood == "poisson":
        return 2.0 * ((fitted - events) + _xlog_ratio(events, fitted))
    trials = np.asarray(trials, dtype=float)
    return 2.0 * (_xlog_ratio(events, fitted) + _xlog_ratio(trials - events, trials - fitted))


def _xlog_ratio(a, b):
    """Return ``a log(a / b)`` with ``0 log 0 = 0`` (no warning where ``a = 0``)."""
    a, b = np.broadcast_arrays(a, b)
    positive = a > 0
    ratio = np.where(positive, a, 1.0) / np.where(positive, b, 1.0)
    return np.where(positive, a * np.log(ratio), 0.0)
