"""Decision rules of a threshold analysis (Phillippo et al. 2018, 2019; nmathresh 0.1.6).

Along data point ``m`` (or a set of data points adjusted by a common bias) the posterior means
move linearly with the adjustment ``x``: ``E(d)(x) = E(d) + x H[:, m]``, so every contrast
``E(d_ab)(x) = E(d_ab) + x (D H)[ab, m]``. A threshold is the smallest adjustment in each
direction at which the decision changes. Three rules:

* **maximal efficacy** (``mcid = 0``; Phillippo et al. 2018): the optimal treatment ``k*`` has the
  best posterior mean; it changes to ``a`` where ``E(d_{a k*})`` reaches 0, at
  ``U[ab, m] = -E(d_ab) / (D H)[ab, m]`` (nmathresh's ``get.int``).
* **change** (``mcid_type="change"``): the maximal-efficacy rule, but the decision changes only
  when an alternative beats ``k*`` by at least the MCID ``epsilon``:
  ``U[ab, m] = (-E(d_ab) - sign(E(d_ab)) epsilon) / (D H)[ab, m]``.
* **decision** (``mcid_type="decision"``, ``mcid > 0``; Phillippo et al. 2019): the optimal *set*
  holds every treatment ``k`` that beats treatment 1 by at least ``epsilon`` and is within
  ``epsilon`` of the best (higher is better: ``E(d_k) >= epsilon`` and
  ``max_a E(d_a) - E(d_k) <= epsilon``; mirrored when lower is better). Its membership changes
  only where some contrast ``E(d_ab)(x)`` (``d_1 = 0`` included) crosses ``+epsilon`` or
  ``-epsilon``; the threshold is the first such crossing beyond which the set differs from the
  base case's, found exactly by evaluating the set between consecutive crossings (nmathresh
  steps through one crossing per contrast with a heuristic instead).

Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
recommendations to bias in network meta-analysis. J R Stat Soc A 181:843-867.
Phillippo DM, Dias S, Welton NJ, Caldwell DM, Taske N, Ades AE (2019). Threshold analysis as an
alternative to GRADE for assessing confidence in guideline recommendations based on network
meta-analyses. Ann Intern Med 170:538-546.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.validate import check_choice, check_nonnegative

__all__ = ["MCID_TYPES", "Decision", "check_mcid", "decide", "optimal_sets", "get_int"]

#: nmathresh's ``mcid.type``: an MCID in the decision rule itself, or only for changing it.
MCID_TYPES = ("decision", "change")


@dataclass(frozen=True)
class Decision:
    """The decision and the thresholds of every influence column (treatments coded ``1..K``).

    ``kstar`` is a code (one optimal treatment) or a tuple of codes (the optimal set of the
    MCID decision rule). ``U`` holds nmathresh's threshold solutions, ``rows`` the rows of ``U``
    with ``k*`` (``Ukstar``), and ``ends[m] = (lower, new at lower, upper, new at upper)``, the
    new decision a code or a tuple of codes (``None`` at an infinite end).
    """

    kstar: int | tuple[int, ...]
    U: np.ndarray
    rows: list[int]
    ends: list[tuple[float, object, float, object]]


def check_mcid(mcid: object, mcid_type: object) -> tuple[float, str]:
    """Validate the MCID (a finite number >= 0) and its type (``"decision"`` or ``"change"``)."""
    return check_nonnegative(mcid, "mcid"), check_choice(mcid_type, "mcid_type", MCID_TYPES)


def get_int(column: np.ndarray, others: list[int]) -> tuple[float, int | None, float, int | None]:
    """Return nmathresh's ``get.int`` (maximal-efficacy rule, one k*) for one column of ``U_k*``.

    The upper threshold is the smallest positive finite solution, the lower the largest negative
    one; infinite at an end without a solution. ``others[i]`` is the treatment (1-based) that is
    not k* in contrast ``i``: the new optimal treatment at a threshold. A NaN solution (contrast
    0/0, where nmathresh stops with an error) counts as no solution.
    """
    finite = np.isfinite(column)
    pos = finite & (column > 0)
    neg = finite & (column < 0)
    hi, hi_k, lo, lo_k = np.inf, None, -np.inf, None
    if pos.any():
        hi = float(column[pos].min())
        hi_k = others[int(np.flatnonzero(column == hi)[0])]
    if neg.any():
        lo = float(column[neg].max())
        lo_k = others[int(np.flatnonzero(column == lo)[0])]
    return lo, lo_k, hi, hi_k


def optimal_sets(means: np.ndarray, mcid: float, lower_is_better: bool) -> np.ndarray:
    """Membership of the MCID optimal set (Phillippo et al. 2019) at each row of ``means``.

    ``means`` holds ``E(d_2..d_K)`` per row; the result (rows x K, treatment 1 first) is True for
    ``k`` with ``E(d_k) >= mcid`` and ``max_a E(d_a) - E(d_k) <= mcid`` (higher is better;
    mirrored otherwise). Treatment 1 beats itself by 0, so it is never in the set when
    ``mcid > 0``; the set may be empty.
    """
    means = np.atleast_2d(means)
    full = np.hstack([np.zeros((means.shape[0], 1)), means])  # d_1 = 0
    benefit = -full if lower_is_better else full  # larger is better from here on
    best = benefit.max(axis=1, keepdims=True)
    return (benefit >= mcid) & (best - benefit <= mcid)


def _first_change(points, direction, mean, h_col, base, mcid, lower_is_better):
    """First of ``points`` (ordered away from 0) beyond which the optimal set leaves ``base``.

    The set is constant between consecutive crossings, so it is evaluated once per gap: at the
    midpoint of each pair of consecutive points, and past the last one. Returns
    ``(threshold, new set as a tuple of codes)``, or ``(direction * inf, None)``.
    """
    if points.size == 0:
        return direction * np.inf, None
    last = points[-1] + direction * max(abs(points[-1]), 1.0)  # any point past the last crossing
    probes = np.append((points[:-1] + points[1:]) / 2, last)
    sets = optimal_sets(mean[None, :] + probes[:, None] * h_col[None, :], mcid, lower_is_better)
    differs = np.flatnonzero((sets != base[None, :]).any(axis=1))
    if differs.size == 0:
        return direction * np.inf, None
    first = int(differs[0])
    return float(points[first]), tuple(int(k) + 1 for k in np.flatnonzero(sets[first]))


def _set_ends(mean, contr, slope, h_col, base, mcid, lower_is_better):
    """Exact thresholds of the MCID decision rule along one influence column.

    Every candidate breakpoint is an ``x`` at which some contrast ``E(d_ab)(x) = E(d_ab) +
    x slope_ab`` (all pairs, treatment 1 included) equals ``+mcid`` or ``-mcid``; a contrast
    that does not move (slope 0) has none. A crossing at exactly 0 (the base case on a boundary)
    is a candidate in both directions.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        cand = np.concatenate([(mcid - contr) / slope, (-mcid - contr) / slope])
    cand = np.unique(cand[np.isfinite(cand)])  # sorted, duplicates (ties) once
    hi, hi_set = _first_change(cand[cand >= 0], 1.0, mean, h_col, base, mcid, lower_is_better)
    lo, lo_set = _first_change(cand[cand <= 0][::-1], -1.0, mean, h_col, base, mcid,
                               lower_is_better)  # fmt: skip
    return lo, lo_set, hi, hi_set


def decide(
    mean: np.ndarray,
    d_mat: np.ndarray,
    pairs: list[tuple[int, int]],
    h_mat: np.ndarray,
    *,
    lower_is_better: bool,
    mcid: float = 0.0,
    mcid_type: str = "decision",
) -> Decision:
    """Apply a decision rule to every influence column (module docstring).

    Parameters
    ----------
    mean : ndarray (K-1,)
        Posterior means of ``d_2..d_K``.
    d_mat : ndarray (K(K-1)/2, K-1)
        Contrasts of ``pairs`` over the basic parameters.
    pairs : list of (int, int)
        The contrasts ``(a, b)``, ``a < b``, 1-based, nmathresh's order.
    h_mat : ndarray (K-1, C)
        Influence columns (data points, and sets adjusted by a common bias).
    lower_is_better : bool
        Direction of benefit.
    mcid, mcid_type : float, str
        The MCID and its rule (validated by :func:`check_mcid`).

    Returns
    -------
    Decision
        The optimal treatment (or set), nmathresh's ``U`` and the thresholds of every column.
    """
    contr = d_mat @ mean
    dh = d_mat @ h_mat
    if mcid == 0:
        target = -contr  # E(d_ab) reaches 0
    else:
        # nmathresh: "change" needs the contrast overturned by an extra mcid; "decision" stops at
        # the mcid margin on the contrast's own side.
        sign = np.sign(contr)
        target = -contr - sign * mcid if mcid_type == "change" else -contr + sign * mcid
    with np.errstate(divide="ignore", invalid="ignore"):
        # As R: 1 / 0 is +-Inf (no threshold), and -0 * Inf is NaN (treated as none).
        u_mat = (1.0 / dh) * target[:, None]
    if mcid > 0 and mcid_type == "decision":
        base = optimal_sets(mean, mcid, lower_is_better)[0]
        kstar = tuple(int(k) + 1 for k in np.flatnonzero(base))
        # nmathresh's Ukstar rows: contrasts with any member of the set (a or b)
        rows = [i for i, (a, b) in enumerate(pairs) if base[a - 1] or base[b - 1]]
        ends = [_set_ends(mean, contr, dh[:, m], h_mat[:, m], base, mcid, lower_is_better)
                for m in range(h_mat.shape[1])]  # fmt: skip
        return Decision(kstar, u_mat, rows, ends)
    # k*: R's order(c(0, mean), decreasing = opt.max)[1], the first on ties.
    effects = np.concatenate([[0.0], mean])
    kstar = int(np.argmin(effects) if lower_is_better else np.argmax(effects)) + 1
    rows = [i for i, (a, b) in enumerate(pairs) if (a == kstar) != (b == kstar)]
    others = [b if a == kstar else a for a, b in (pairs[i] for i in rows)]
    ends = [get_int(u_mat[rows, m], others) for m in range(h_mat.shape[1])]
    return Decision(kstar, u_mat, rows, ends)
