"""CINeMA's domain rules at each boundary (hand-built intervals; exact computations).

The range of equivalence is (-0.3, 0.3) throughout; an interval end exactly on a boundary does
not cross it (nma_bayes.results.cinema_rules).
"""

import numpy as np
import pytest

from nma_bayes.results import cinema_rules as R

ZONE = (-0.3, 0.3)


@pytest.mark.parametrize(
    ("ci", "level"),
    [((0.35, 0.9), 1),    # beyond the upper boundary: crosses none
     ((0.1, 0.2), 1),     # inside the range of equivalence: crosses none
     ((0.3, 0.6), 1),     # an end on the boundary does not cross it
     ((0.29, 0.6), 2),    # crosses the upper boundary only
     ((-0.31, 0.29), 2),  # crosses the lower boundary only
     ((-0.31, 0.31), 3),  # crosses both
     ((-2.0, 2.0), 3)],
)  # fmt: skip
def test_imprecision_counts_the_boundaries_the_interval_crosses(ci, level):
    assert R.imprecision_level(*ci, ZONE) == level


@pytest.mark.parametrize(
    ("ci", "pi", "level"),
    [((0.4, 0.6), (0.35, 0.7), 1),    # 0 and 0 crossings
     ((0.4, 0.6), (0.2, 0.8), 2),     # the PI crosses one boundary more
     ((0.4, 0.6), (-0.5, 1.0), 3),    # two more
     ((0.2, 0.5), (0.1, 0.6), 1),     # 1 and 1
     ((0.2, 0.5), (-0.4, 0.6), 2),    # 1 and 2
     ((-0.5, 0.5), (-1.0, 1.0), 1),   # 2 and 2
     ((0.4, 0.6), (0.3, 0.7), 1)],    # the PI's end on the boundary: no crossing
)  # fmt: skip
def test_heterogeneity_is_cinemas_table_of_ci_and_pi_crossings(ci, pi, level):
    assert R.heterogeneity_level(ci, pi, ZONE) == level


@pytest.mark.parametrize(
    ("direct", "indirect", "level"),
    [((0.4, 0.6), (0.5, 0.9), 1),     # both above: agree on all three regions
     ((0.4, 0.6), (0.1, 0.5), 2),     # the indirect also reaches the zone: agree on two
     ((0.4, 0.6), (-0.6, -0.4), 3),   # opposite sides: agree on one (neither in the zone)
     ((-0.5, 0.5), (0.4, 0.6), 3),    # everywhere vs above only: agree on one
     ((-0.1, 0.1), (-0.2, 0.2), 1)],  # both within
)  # fmt: skip
def test_incoherence_of_mixed_evidence_compares_regions(direct, indirect, level):
    assert R.incoherence_mixed_level(direct, indirect, ZONE) == level
    assert R.incoherence_mixed_level(indirect, direct, ZONE) == level  # symmetric


@pytest.mark.parametrize(("p", "level"), [(0.5, 1), (0.1000001, 1), (0.10, 2), (0.05, 2),
                                          (0.01, 2), (0.0099, 3), (1e-6, 3)])  # fmt: skip
def test_global_test_thresholds(p, level):
    assert R.global_test_level(p) == level


@pytest.mark.parametrize(
    ("levels", "weights", "rule", "level"),
    [([1, 3], [0.51, 0.49], "majority", 1),   # 49% high: the majority is low
     ([1, 3], [0.49, 0.51], "majority", 3),   # 51% high
     ([1, 3], [0.50, 0.50], "majority", 3),   # a tie goes to the higher level
     ([1, 2, 3], [0.4, 0.3, 0.3], "majority", 1),  # the largest share, not a half
     ([1, 3], [0.50, 0.50], "average", 2),
     ([1, 2], [0.50, 0.50], "average", 2),    # 1.5 rounds up
     ([1, 2], [0.51, 0.49], "average", 1),    # 1.49
     ([1, 3], [0.76, 0.24], "average", 1),    # 1.48
     ([1, 3], [0.74, 0.26], "average", 2),    # 1.52
     ([1, 3], [1.0, 0.0], "highest", 1),      # a study that does not contribute is ignored
     ([1, 3], [0.99, 0.01], "highest", 3)],
)  # fmt: skip
def test_study_judgements_summarised_by_contribution(levels, weights, rule, level):
    assert R.study_bias_level(np.array(levels), np.array(weights), rule) == level


@pytest.mark.parametrize(
    ("levels", "rating"),
    [((1, 1, 1, 1, 1, 1), "high"), ((2, 1, 1, 1, 1, 1), "moderate"),
     ((2, 2, 1, 1, 1, 1), "low"), ((3, 1, 1, 1, 1, 1), "low"), ((3, 2, 1, 1, 1, 1), "very low"),
     ((3, 3, 3, 3, 3, 3), "very low"), ((0, 2, 1, 1, 1, 1), "moderate")],  # 0: not assessed
)  # fmt: skip
def test_overall_rating_downgrades_one_level_per_some_and_two_per_major(levels, rating):
    assert R.rating(levels) == rating
