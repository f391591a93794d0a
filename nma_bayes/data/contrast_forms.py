"""Turn the rows of one study into contrasts against the study's base arm.

A study is given either as a single row (two-arm study), in *base form* (one row per non-base
arm, all rows sharing ``treat2``, with the base arm's SE in ``se_base``) or in *pairwise form*
(one row for every pair of the study's distinct treatments). :func:`resolve_study` checks which
form applies, checks it is complete and consistent, and returns the study's contrasts against its
base arm together with the base arm's SE, from which the within-study covariance follows exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..base.errors import MultiArmError, format_items

__all__ = ["StudyRow", "StudyContrasts", "resolve_study", "FORMS_HELP"]

#: Relative tolerance for ``se_base`` being "identical" within a base-form study.
SE_BASE_REL_TOL = 1e-9
#: Relative tolerance between a given ``se_base`` and the one derived from pairwise SEs.
DERIVED_SE_BASE_REL_TOL = 1e-3
#: Largest relative residual allowed when deriving arm variances from >= 6 pairwise variances.
PAIRWISE_VARIANCE_REL_TOL = 1e-3
#: Absolute slack added to ``closure_tol`` so that floating-point noise never fails exact data.
_CLOSURE_SLACK = 1e-12

FORMS_HELP = (
    "A multi-arm study can be given in one of two forms: (a) base form: one row per non-base arm, "
    "every row with the same `treat2` (the study's base arm) and the base arm's standard error in "
    "the `se_base` column (the covariance of any two contrasts of the study is se_base**2); or "
    "(b) pairwise form: exactly one row for each of the m*(m-1)/2 pairs of the study's m distinct "
    "treatments (either orientation), from which se_base is derived."
)


@dataclass(frozen=True)
class StudyRow:
    """One validated input row of a study.

    Attributes
    ----------
    label : object
        Index label of the row in the user's DataFrame (used in messages).
    treat1, treat2 : str
        Treatments compared; ``TE`` is ``treat1`` minus ``treat2``.
    TE, seTE : float
        Contrast estimate and its standard error.
    se_base : float
        Standard error of the base arm, ``nan`` where not given.
    """

    label: object
    treat1: str
    treat2: str
    TE: float
    seTE: float
    se_base: float


@dataclass(frozen=True)
class StudyContrasts:
    """Contrasts of one study against its base arm.

    Attributes
    ----------
    study : str
        Study label.
    form : str
        ``"two-arm"``, ``"base"`` or ``"pairwise"``.
    base : str
        Base-arm treatment.
    arms : tuple of str
        Treatment of each non-base arm (may repeat, and may equal ``base``, in base form).
    TE, seTE : tuple of float
        Contrast of each non-base arm vs the base arm and its standard error.
    se_base : float
        Standard error of the base arm (``nan`` for two-arm studies, whose contrasts have no
        covariance).
    """

    study: str
    form: str
    base: str
    arms: tuple[str, ...]
    TE: tuple[float, ...]
    seTE: tuple[float, ...]
    se_base: float

    @property
    def n_arms(self) -> int:
        """Number of arms, base arm included."""
        return len(self.arms) + 1


def _fmt_rows(rows: Sequence[StudyRow]) -> str:
    return format_items(
        [f"row {r.label}: {r.treat1} vs {r.treat2}, TE={r.TE:g}, seTE={r.seTE:g}" for r in rows]
    )


def resolve_study(
    study: str,
    rows: Sequence[StudyRow],
    *,
    treatment_order: Mapping[str, int],
    closure_tol: float,
    se_base_col: str = "se_base",
) -> StudyContrasts:
    """Resolve the rows of one study into contrasts against its base arm.

    Parameters
    ----------
    study : str
        Study label (for messages).
    rows : sequence of StudyRow
        The study's rows, in their original order.
    treatment_order : mapping of str to int
        Position of every treatment in the network's treatment order; used to order the non-base
        arms of pairwise-form studies.
    closure_tol : float
        Largest allowed closure discrepancy of a pairwise-form study.
    se_base_col : str
        User's name of the ``se_base`` column (for messages).

    Returns
    -------
    StudyContrasts
        The study's contrasts.

    Raises
    ------
    MultiArmError
        If the study is in neither form, or its form is incomplete or inconsistent.
    """
    if len(rows) == 1:
        r = rows[0]
        return StudyContrasts(study, "two-arm", r.treat2, (r.treat1,), (r.TE,), (r.seTE,), np.nan)
    if len({r.treat2 for r in rows}) == 1:
        return _base_form(study, rows, se_base_col)
    return _pairwise_form(study, rows, treatment_order, closure_tol, se_base_col)


def _check_se_base_below_seTE(study: str, rows: Sequence[StudyRow], se_base: float, how: str):
    bad = [r for r in rows if not r.seTE > se_base]
    if bad:
        raise MultiArmError(
            f"Study {study!r}: the base-arm SE ({how} se_base = {se_base:.6g}) must be strictly "
            f"smaller than the SE of every contrast of the study (seTE**2 = var(arm) + "
            f"se_base**2), but it is not for {_fmt_rows(bad)}. Check the study's SEs and se_base.",
            rule="se-base-too-large",
        )


def _base_form(study: str, rows: Sequence[StudyRow], se_base_col: str) -> StudyContrasts:
    base = rows[0].treat2
    missing = [r for r in rows if np.isnan(r.se_base)]
    if missing:
        raise MultiArmError(
            f"Study {study!r} has {len(rows) + 1} arms given as {len(rows)} contrasts against "
            f"{base!r} (base form), but column {se_base_col!r} (the SE of the base arm, needed for "
            f"the covariance of its contrasts) is missing in {_fmt_rows(missing)}. "
            f"{FORMS_HELP} Fill in {se_base_col!r} for this study, or give all its pairwise "
            f"contrasts instead.",
            rule="multiarm-no-covariance",
        )
    values = np.array([r.se_base for r in rows])
    if np.max(np.abs(values - values[0])) > SE_BASE_REL_TOL * np.max(np.abs(values)):
        raise MultiArmError(
            f"Study {study!r} (base form, base arm {base!r}): column {se_base_col!r} must hold the "
            f"same value in every row of the study (it is one number, the SE of the base arm), but "
            f"it holds {format_items(sorted(set(values.tolist())))}. Use a single value.",
            rule="se-base-inconsistent",
        )
    se_base = float(values[0])
    _check_se_base_below_seTE(study, rows, se_base, "given")
    return StudyContrasts(
        study,
        "base",
        base,
        tuple(r.treat1 for r in rows),
        tuple(r.TE for r in rows),
        tuple(r.seTE for r in rows),
        se_base,
    )


def _pairwise_structure(study: str, rows: Sequence[StudyRow]) -> list[str]:
    """Check the rows are all pairs of distinct treatments; return them in appearance order."""
    treats: list[str] = []
    for r in rows:
        for t in (r.treat1, r.treat2):
            if t not in treats:
                treats.append(t)
    pair_counts = Counter(frozenset((r.treat1, r.treat2)) for r in rows)
    self_rows = [r for r in rows if r.treat1 == r.treat2]
    dup_rows = [r for r in rows if pair_counts[frozenset((r.treat1, r.treat2))] > 1]
    if self_rows or dup_rows:
        raise MultiArmError(
            f"Study {study!r}: its rows do not all share `treat2`, so they are read as pairwise "
            f"form, but they compare a treatment with itself or repeat a pair "
            f"({_fmt_rows(self_rows or dup_rows)}). A study with two arms of the same treatment is "
            f"ambiguous in pairwise form: give this study in base form (one row per non-base arm "
            f"against the same base arm, plus se_base). {FORMS_HELP}",
            rule="pairwise-ambiguous",
        )
    m = len(treats)
    if len(rows) != m * (m - 1) // 2:
        present = set(pair_counts)
        missing = [
            f"{a} vs {b}"
            for i, a in enumerate(treats)
            for b in treats[i + 1 :]
            if frozenset((a, b)) not in present
        ]
        raise MultiArmError(
            f"Study {study!r} has {len(rows)} rows over {m} treatments that neither share one "
            f"`treat2` (base form) nor form all {m * (m - 1) // 2} pairs (pairwise form); missing "
            f"pairs: {format_items(missing)}. {FORMS_HELP}",
            rule="multiarm-form",
        )
    return treats


def _derive_arm_variances(study: str, rows: Sequence[StudyRow], treats: list[str]) -> np.ndarray:
    """Least-squares arm variances s_j**2 from pairwise variances v_jk = s_j**2 + s_k**2."""
    pos = {t: i for i, t in enumerate(treats)}
    design = np.zeros((len(rows), len(treats)))
    for i, r in enumerate(rows):
        design[i, pos[r.treat1]] = design[i, pos[r.treat2]] = 1.0
    v = np.array([r.seTE**2 for r in rows])
    s2 = np.linalg.lstsq(design, v, rcond=None)[0]
    rel = np.abs(design @ s2 - v) / v
    if rel.max() > PAIRWISE_VARIANCE_REL_TOL:
        worst = [r for r, e in zip(rows, rel, strict=True) if e > PAIRWISE_VARIANCE_REL_TOL]
        raise MultiArmError(
            f"Study {study!r} (pairwise form): the pairwise variances seTE**2 are not consistent "
            f"with one variance per arm (v_jk = s_j**2 + s_k**2); largest relative residual "
            f"{rel.max():.3g} > {PAIRWISE_VARIANCE_REL_TOL:g} for {_fmt_rows(worst)}. Check the "
            f"SEs, or give the study in base form with se_base.",
            rule="pairwise-inconsistent",
        )
    return s2


def _pairwise_form(
    study: str,
    rows: Sequence[StudyRow],
    treatment_order: Mapping[str, int],
    closure_tol: float,
    se_base_col: str,
) -> StudyContrasts:
    treats = _pairwise_structure(study, rows)
    # Base arm: the treatment that is `treat2` in most rows; ties go to the earliest such row.
    counts = Counter(r.treat2 for r in rows)
    top = max(counts.values())
    base = next(r.treat2 for r in rows if counts[r.treat2] == top)
    s2 = _derive_arm_variances(study, rows, treats)
    b = treats.index(base)
    if s2[b] <= 0:
        rb = [r for r in rows if base in (r.treat1, r.treat2)]
        raise MultiArmError(
            f"Study {study!r} (pairwise form): negative derived base-arm variance for {base!r}: "
            f"s_base**2 = {s2[b]:.6g} from the pairwise variances "
            f"{', '.join(f'{r.treat1} vs {r.treat2}: {r.seTE**2:.6g}' for r in rows)}. "
            f"Rows with the base arm: {_fmt_rows(rb)}. The SEs cannot come from one set of "
            f"independent arms; check them or give the study in base form with se_base.",
            rule="negative-base-variance",
        )
    bad = [f"{t}: {v:.6g}" for t, v in zip(treats, s2, strict=True) if v <= 0]
    if bad:
        raise MultiArmError(
            f"Study {study!r} (pairwise form): derived arm variances must be positive, but "
            f"{format_items(bad)}. Check the study's SEs or give it in base form with se_base.",
            rule="negative-base-variance",
        )
    se_base = float(np.sqrt(s2[b]))
    given = [r for r in rows if not np.isnan(r.se_base)]
    off = [r for r in given if abs(r.se_base - se_base) > DERIVED_SE_BASE_REL_TOL * se_base]
    if off:
        raise MultiArmError(
            f"Study {study!r} (pairwise form): column {se_base_col!r} gives "
            f"{format_items(sorted({r.se_base for r in off}))} but the pairwise SEs imply "
            f"se_base = {se_base:.6g} for base arm {base!r} (relative tolerance "
            f"{DERIVED_SE_BASE_REL_TOL:g}). Leave {se_base_col!r} empty for this study or "
            f"correct it.",
            rule="se-base-inconsistent",
        )
    # Contrast of every other arm vs the base, from the row linking them.
    vs_base: dict[str, tuple[float, float, StudyRow]] = {}
    for r in rows:
        if r.treat2 == base:
            vs_base[r.treat1] = (r.TE, r.seTE, r)
        elif r.treat1 == base:
            vs_base[r.treat2] = (-r.TE, r.seTE, r)
    arms = sorted((t for t in treats if t != base), key=lambda t: treatment_order[t])
    _check_se_base_below_seTE(study, [vs_base[t][2] for t in arms], se_base, "derived")
    _check_closure(study, rows, base, vs_base, closure_tol)
    return StudyContrasts(
        study,
        "pairwise",
        base,
        tuple(arms),
        tuple(vs_base[t][0] for t in arms),
        tuple(vs_base[t][1] for t in arms),
        se_base,
    )


def _check_closure(
    study: str,
    rows: Sequence[StudyRow],
    base: str,
    vs_base: Mapping[str, tuple[float, float, StudyRow]],
    closure_tol: float,
) -> None:
    problems = []
    for r in rows:
        if base in (r.treat1, r.treat2):
            continue
        implied = vs_base[r.treat1][0] - vs_base[r.treat2][0]
        gap = abs(r.TE - implied)
        if gap > closure_tol + _CLOSURE_SLACK:
            problems.append(
                f"row {r.label}: {r.treat1} vs {r.treat2} TE={r.TE:g} but "
                f"({r.treat1} vs {base}) - ({r.treat2} vs {base}) = {implied:g}, "
                f"discrepancy {gap:.3g}"
            )
    if problems:
        raise MultiArmError(
            f"Study {study!r} (pairwise form, base arm {base!r}): the contrasts do not close "
            f"(TE_jk must equal TE_jb - TE_kb up to closure_tol={closure_tol:g}, a rounding "
            f"tolerance): {format_items(problems)}. Correct the TEs, raise closure_tol if the "
            f"discrepancy is rounding, or give the study in base form.",
            rule="closure",
        )
