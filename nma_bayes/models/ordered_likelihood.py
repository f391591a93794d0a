r"""The ordered categorical likelihood (NICE DSU TSD2, section on ordered categorical data).

Arm ``a`` of study ``i`` has linear predictor ``theta_a = mu_i + delta_a`` (as in
:mod:`nma_bayes.models.arm_likelihood`) and, for the cutpoints ``c_1 = 0 < c_2 < ... < c_J``,

.. math::

    P(\text{at least cutpoint } j) = F(\theta_a - c_j),

with ``F`` the standard normal CDF (probit) or the logistic CDF (logit; a proportional-odds
model). This is multinma's sign convention: ``d > 0`` means a higher chance of reaching every
cutpoint (TSD2 writes ``F(c_j - theta)`` and prints effects with the other sign). Each arm's
reported cutpoints ``j_1 < ... < j_m`` split its patients into ``m + 1`` categories, and its
counts are multinomial over them (TSD2; multinma's ``likelihood = "ordered"``):

.. math::

    \log L_a = \sum_{\text{categories } [j, j')} O_{a,[j, j')}
               \log\big(F(\theta_a - c_j) - F(\theta_a - c_{j'})\big),

with ``F(theta - c_{j_0}) = 1`` below the first reported cutpoint and ``F(theta - c_{j_{m+1}}) =
0`` above the last. Every difference is computed on the log scale from the tail in which it is
small (:func:`log_interval`), so a category far in either tail keeps full precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, log_ndtr, ndtri

__all__ = ["OrderedCells", "cell_logp", "log1mexp", "log_cdf", "log_interval",
           "observed_information", "softplus"]  # fmt: skip

#: Where the two branches of the standard normal log-CDF meet (PyMC's ``normal_lcdf`` does the
#: same: ``erfcx`` in the lower tail, ``log1p(-erfc/2)`` above).
_PROBIT_SPLIT = -1.0


@dataclass(frozen=True)
class OrderedCells:
    """The multinomial categories of every arm, bottom ones first, then middle, then top.

    Attributes
    ----------
    arm : ndarray of int (C,)
        The arm (index into the outcome arms) of each category.
    lo, hi : ndarray of int (C,)
        Index of the cutpoint the category starts at and the one it ends below; ``-1`` for
        the open bottom (``lo``) and the open top (``hi``).
    count : ndarray (C,)
        Patients in each category.
    n_bottom, n_top : int
        The first ``n_bottom`` categories are bottom ones, the last ``n_top`` top ones.
    """

    arm: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray
    n_bottom: int
    n_top: int

    @classmethod
    def from_counts(cls, at_least: np.ndarray, n: np.ndarray) -> OrderedCells:
        """Categories from at-least counts ``(A, J)`` (NaN where unreported) and arm sizes."""
        kinds: dict[str, list] = {"bottom": [], "middle": [], "top": []}
        for a, row in enumerate(np.asarray(at_least, dtype=float)):
            js = np.flatnonzero(np.isfinite(row))
            r = row[js]
            kinds["bottom"].append((a, -1, js[0], n[a] - r[0]))
            for m in range(len(js) - 1):
                kinds["middle"].append((a, js[m], js[m + 1], r[m] - r[m + 1]))
            kinds["top"].append((a, js[-1], -1, r[-1]))
        rows = kinds["bottom"] + kinds["middle"] + kinds["top"]
        arm, lo, hi, count = (np.asarray(c) for c in zip(*rows, strict=True))
        return cls(arm.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64),
                   count.astype(float), len(kinds["bottom"]), len(kinds["top"]))  # fmt: skip

    def key(self) -> tuple:
        """Return what a compiled graph depends on (the counts are data)."""
        return tuple(a.tobytes() for a in (self.arm, self.lo, self.hi))

    def arm_sum(self, values: np.ndarray, n_arms: int) -> np.ndarray:
        """Sum per-category values (..., C) over each arm's categories: (..., A)."""
        onehot = np.zeros((len(self.arm), n_arms))
        onehot[np.arange(len(self.arm)), self.arm] = 1.0
        return values @ onehot

    def log_multinomial_coef(self, n: np.ndarray) -> np.ndarray:
        """``log(n! / prod O!)`` of each arm (the multinomial's normalising constant)."""
        return gammaln(np.asarray(n, float) + 1.0) - self.arm_sum(gammaln(self.count + 1.0), len(n))


def log_cdf(xp, x, link: str):
    """``log F(x)``: standard normal (probit) or logistic (logit), stable in both tails."""
    if link == "logit":  # log(1 / (1 + e^-x)) = -softplus(-x)
        return -softplus(xp, -x)
    if xp is np:
        return log_ndtr(x)
    # the two branches get arguments clipped to their own side, so neither yields inf/nan (and a
    # nan gradient) where the other is chosen
    low = xp.minimum(x, _PROBIT_SPLIT)
    high = xp.maximum(x, _PROBIT_SPLIT)
    lower_tail = xp.log(xp.erfcx(-low / np.sqrt(2.0)) / 2.0) - low**2 / 2.0
    upper_tail = xp.log1p(-xp.erfc(high / np.sqrt(2.0)) / 2.0)
    return xp.switch(x < _PROBIT_SPLIT, lower_tail, upper_tail)


def softplus(xp, x):
    """``log(1 + e^x)``; in NumPy as ``max(x, 0) + log1p(e^-|x|)`` (exact, 1.7x ``logaddexp``)."""
    if xp is np:
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return xp.softplus(x)


def log1mexp(xp, x):
    """``log(1 - e^x)`` for ``x < 0`` (Maechler's switch at ``-log 2``)."""
    if xp is np:
        return np.where(x > -0.693, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))
    return xp.log1mexp(x)


def log_interval(xp, a, b, link: str):
    """``log(F(a) - F(b))`` for ``a > b``, from the tail where the difference is small.

    Below zero ``F(a) - F(b) = F(a) (1 - F(b)/F(a))``; above it, by symmetry (``F(x) = 1 -
    F(-x)``), ``F(-b) - F(-a)`` is computed the same way. Both branches are finite for ``a > b``,
    so the switch passes finite gradients.
    """
    upper = a + b > 0
    choose = np.where if xp is np else xp.switch
    s_a, s_b = choose(upper, -b, a), choose(upper, -a, b)
    la, lb = log_cdf(xp, s_a, link), log_cdf(xp, s_b, link)
    return la + log1mexp(xp, lb - la)


def cell_logp(xp, theta, cut, cells: OrderedCells, link: str):
    """``log P`` of every category (C,), in the order of ``cells``.

    ``theta`` (A, ...) the arms' linear predictors, ``cut`` (J, ...) the cutpoints (``cut[0] =
    0``); trailing axes (draws) broadcast. NumPy arrays or PyTensor tensors.
    """
    nb, nt = cells.n_bottom, cells.n_top
    n_cells = len(cells.arm)
    bottom = slice(0, nb)
    middle = slice(nb, n_cells - nt)
    top = slice(n_cells - nt, n_cells)
    th = theta[cells.arm]
    # bottom: 1 - F(theta - c_hi) = F(c_hi - theta); top: F(theta - c_lo)
    p_bottom = log_cdf(xp, cut[cells.hi[bottom]] - th[bottom], link)
    p_top = log_cdf(xp, th[top] - cut[cells.lo[top]], link)
    a = th[middle] - cut[cells.lo[middle]]
    b = th[middle] - cut[cells.hi[middle]]
    p_middle = log_interval(xp, a, b, link)
    return xp.concatenate([p_bottom, p_middle, p_top], axis=0)


def observed_information(at_least: np.ndarray, n: np.ndarray, link: str) -> np.ndarray:
    r"""Fisher information about ``theta`` of each arm's categories, at its observed proportions.

    With ``p_j`` the share reaching at least reported cutpoint ``j`` (counts of 0 or ``n`` moved
    by 0.5), ``F(theta - c_j) = p_j`` gives ``f_j = F'(F^{-1}(p_j))`` without the cutpoints, and
    the multinomial's information is ``n sum_c (f_lo - f_hi)^2 / (p_lo - p_hi)`` over the
    categories (``p = 1, f = 0`` below the first cutpoint, ``p = 0, f = 0`` above the last). One
    cutpoint gives the binomial's ``n f^2 / (p (1 - p))``. Arrays ``(..., J)`` and ``(...)``.
    """
    at_least = np.asarray(at_least, dtype=float)
    n = np.asarray(n, dtype=float)[..., None]
    reported = np.isfinite(at_least)
    p = np.clip(np.where(reported, at_least, 0.0), 0.5, n - 0.5) / n
    if link == "probit":
        dens = np.exp(-0.5 * ndtri(p) ** 2) / np.sqrt(2 * np.pi)
    else:  # logistic: F' = F (1 - F) = p (1 - p)
        dens = p * (1 - p)
    info = np.zeros(at_least.shape[:-1])
    # walk the reported cutpoints in order, carrying the category's lower bound (p, f)
    p_lo, f_lo = np.ones(info.shape), np.zeros(info.shape)
    for j in range(at_least.shape[-1]):
        on = reported[..., j]
        gap = np.maximum(p_lo - p[..., j], 0.5 / n[..., 0])
        info += np.where(on, (f_lo - dens[..., j]) ** 2 / gap, 0.0)
        p_lo, f_lo = np.where(on, p[..., j], p_lo), np.where(on, dens[..., j], f_lo)
    info += f_lo**2 / np.maximum(p_lo, 0.5 / n[..., 0])  # the top category
    return n[..., 0] * info
