"""CINeMA's rules for the six domains and the overall confidence rating, NumPy only.

Each function maps numbers to a level ``1`` (no concerns), ``2`` (some concerns) or ``3`` (major
concerns), following the CINeMA framework (Nikolakopoulou et al. 2020, PLoS Med 17:e1003082) and
the rules its web application pre-populates (CINeMA documentation, github.com/esm-ispm-unibe-ch/
cinema, ``docs/documentation.md``; Papakonstantinou et al. 2020, Campbell Syst Rev 16:e1080).

The *range of equivalence* (the clinically important zone) is the open interval
``(zone[0], zone[1])`` around no effect on the model's scale (``(-mcid, mcid)`` for a symmetric
MCID; for ratio measures the log of CINeMA's ``(1/OR, OR)``). An interval *crosses* a boundary
when the boundary lies strictly inside it: an interval end exactly on a boundary does not cross
it (CINeMA's application leaves that case to its floating-point arithmetic).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LEVELS",
    "RATINGS",
    "crossings",
    "regions",
    "imprecision_level",
    "heterogeneity_level",
    "incoherence_mixed_level",
    "global_test_level",
    "study_bias_level",
    "downgrades",
    "rating",
]

#: Level names, index ``level - 1``.
LEVELS = ("no concerns", "some concerns", "major concerns")
#: Confidence ratings, index = number of levels downgraded (at most 3).
RATINGS = ("high", "moderate", "low", "very low")
#: CINeMA's heterogeneity table: rows CI crossings, columns PI crossings (0 marks "cannot
#: happen": a prediction interval contains its credible interval).
_HETEROGENEITY = np.array([[1, 2, 3], [0, 1, 2], [0, 0, 1]])
#: Bias-summary rules for within-study bias and indirectness (CINeMA's three).
BIAS_RULES = ("majority", "average", "highest")


def crossings(lower: float, upper: float, zone: tuple[float, float]) -> int:
    """Count the boundaries of the range of equivalence strictly inside ``(lower, upper)``."""
    return sum(int(lower < b < upper) for b in zone)


def regions(lower: float, upper: float, zone: tuple[float, float]) -> tuple[bool, bool, bool]:
    """Whether the interval reaches below the zone, into it, and above it (CINeMA's A, B, C)."""
    low, high = zone
    return bool(lower < low), bool(upper > low and lower < high), bool(upper > high)


def imprecision_level(lower: float, upper: float, zone: tuple[float, float]) -> int:
    """Judge imprecision from the boundaries the credible interval crosses.

    No concerns when it crosses neither boundary of the range of equivalence, some concerns
    when it crosses one, major concerns when both (CINeMA documentation, "Imprecision").
    """
    return 1 + crossings(lower, upper, zone)


def heterogeneity_level(ci: tuple[float, float], pi: tuple[float, float], zone) -> int:
    """Judge heterogeneity by CINeMA's table of the credible (CI) and prediction (PI) intervals.

    The level rises by one for each boundary of the range of equivalence the PI crosses beyond
    those the CI crosses: equal counts, no concerns; one more, some; two more, major.
    """
    ci_n, pi_n = crossings(*ci, zone), crossings(*pi, zone)
    return max(int(_HETEROGENEITY[ci_n, max(pi_n, ci_n)]), 1)


def incoherence_mixed_level(direct: tuple[float, float], indirect: tuple[float, float],
                            zone) -> int:  # fmt: skip
    """Judge the incoherence of a comparison with direct and indirect evidence.

    CINeMA documentation, "Incoherence": the regions (below, within, above the range of
    equivalence) each interval reaches are compared; agreement on all three, no concerns; on
    two, some concerns; on one or none, major concerns.
    """
    both = zip(regions(*direct, zone), regions(*indirect, zone), strict=True)
    agree = sum(a == b for a, b in both)
    return {3: 1, 2: 2}.get(agree, 3)


def global_test_level(p_value: float) -> int:
    """Judge the incoherence of an indirect-only comparison from the global test's p-value.

    The global (design-by-treatment) test: p > 0.10 no concerns, 0.01 <= p <= 0.10 some
    concerns, p < 0.01 major concerns.
    """
    if p_value > 0.10:
        return 1
    return 2 if p_value >= 0.01 else 3


def study_bias_level(levels: np.ndarray, weights: np.ndarray, rule: str) -> int:
    """Summarise study levels (1-3) by their contributions to one estimate (CINeMA's rules).

    ``"majority"``: the level with the largest total contribution (a tie goes to the higher
    level); ``"average"``: the contribution-weighted mean level, rounded half up;
    ``"highest"``: the highest level among studies that contribute.
    """
    levels, weights = np.asarray(levels, dtype=int), np.asarray(weights, dtype=float)
    weights = np.where(weights > 0, weights, 0.0)  # contributions are proportions >= 0
    if rule == "highest":
        return int(levels[weights > 0].max())
    if rule == "average":
        mean = float(weights @ levels / weights.sum())
        return int(np.floor(mean + 0.5 + 1e-12))  # half up, e.g. 1.5 -> 2
    totals = np.array([weights[levels == k].sum() for k in (1, 2, 3)])
    return int(3 - np.argmax(totals[::-1]))  # argmax on the reversed order: ties go up


def downgrades(levels) -> int:
    """Levels to downgrade from high: one per domain with some concerns, two per major."""
    return int(sum(int(v) - 1 for v in levels if v in (1, 2, 3)))


def rating(levels) -> str:
    """CINeMA/GRADE overall rating: start at high and downgrade (at most to very low)."""
    return RATINGS[min(downgrades(levels), 3)]
