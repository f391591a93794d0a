"""The first steps of :meth:`Network.from_data`: check its options and read the input tables.

:func:`check_build_options` checks the options that do not depend on the data;
:func:`parse_inputs` validates the contrast and arm-level tables row by row and groups them by
study (:class:`ParsedInput`), before any treatment, reference or component is chosen. Problems are
raised as :class:`~nma_bayes.base.errors.NMAInputError` subclasses tagged with their rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, ModelSpecError, format_items
from . import checks as C
from . import validation as V
from .arm_data import parse_arms
from .contrast_forms import StudyRow
from .ordered import parse_ordered
from .outcomes import OUTCOME_ROLES, parse_outcomes

__all__ = [
    "CONTRAST_REQUIRED",
    "CONTRAST_ROLES",
    "ARM_ROLES",
    "SMD_METHODS",
    "ParsedInput",
    "check_build_options",
    "parse_inputs",
    "parse_contrasts",
]

#: Columns that contrast data must have (by role).
CONTRAST_REQUIRED = ("study", "treat1", "treat2", "TE", "seTE")
#: Column roles of contrast data besides ``study``, in the order of ``Network.columns``.
CONTRAST_ROLES = ("treat1", "treat2", "TE", "seTE", "se_base")
#: Column roles of arm-level data besides ``study`` (``se`` may be ``None``: not used).
ARM_ROLES = ("treatment", "mean", "sd", "n", "se")
#: Definitions of the SMD from arm data (see :mod:`nma_bayes.data.effect_sizes`).
SMD_METHODS = ("escalc", "netmeta")


@dataclass(frozen=True)
class ParsedInput:
    """The input tables, validated row by row and grouped by study.

    Attributes
    ----------
    columns : dict
        Role to column name: ``study``, then the contrast roles, then the arm roles used.
    studies : list of (kind, study, data)
        In order of first appearance, contrast data first: ``("contrasts", study, rows)`` with
        the study's list of :class:`~nma_bayes.data.contrast_forms.StudyRow`, or
        ``("arms", study, StudyArms)``.
    class_pairs : list of (treatment, class)
        Pairs read from the class column(s) (empty unless ``classes=`` names a column).
    """

    columns: dict[str, str]
    studies: list[tuple[str, str, object]]
    class_pairs: list[tuple[str, object]]
    categories: tuple[str, ...] | None = None

    def study_sets(self) -> dict[str, set[str]]:
        """Return each study's set of treatments."""
        return {
            s: (
                {t for r in obj for t in (r.treat1, r.treat2)}
                if kind == "contrasts"
                else set(obj.treatments)
            )
            for kind, s, obj in self.studies
        }


def check_build_options(
    contrasts, arms, lower_is_better, smd_method, closure_tol, classes
) -> float:
    """Check the options of :meth:`Network.from_data` that do not depend on the data.

    The parameters are the options of the same name of :meth:`Network.from_data`, checked in
    this order.

    Returns
    -------
    float
        ``closure_tol`` as a float.

    Raises
    ------
    InvalidValueError
        If neither table is given (``empty-data``).
    ModelSpecError
        For an invalid ``lower_is_better``, ``smd_method``, ``closure_tol`` or ``classes``
        (``bad-option``).
    """
    if contrasts is None and arms is None:
        raise InvalidValueError(
            "Give contrast data (contrasts=) or arm-level data (arms=).", rule="empty-data"
        )
    if lower_is_better is not None and not isinstance(lower_is_better, bool):
        raise ModelSpecError(
            f"lower_is_better must be True, False or None, got {lower_is_better!r}.",
            rule="bad-option",
        )
    if smd_method not in SMD_METHODS:
        raise ModelSpecError(
            f"smd_method={smd_method!r}: use one of {SMD_METHODS}.", rule="bad-option"
        )
    tol = V.check_closure_tol(closure_tol)
    if classes is not None and not isinstance(classes, str | dict):
        raise ModelSpecError(
            f"classes= must be a column name or a dict {{treatment: class}}, got "
            f"{type(classes).__name__} {classes!r}.",
            rule="bad-option",
        )
    return tol


def parse_inputs(
    contrasts: pd.DataFrame | None,
    arms: pd.DataFrame | None,
    names: Mapping[str, str | None],
    *,
    classes: str | dict | None,
    measure: str | None,
    family: tuple[str, str] | None = None,
    ordered: dict | None = None,
) -> ParsedInput:
    """Validate the contrast and arm-level tables and group their rows by study.

    Parameters
    ----------
    contrasts, arms : DataFrame or None
        The tables given to :meth:`Network.from_data`.
    names : mapping
        Role to column name for ``study`` and every role of :data:`CONTRAST_ROLES` and
        :data:`ARM_ROLES`.
    classes : str, dict or None
        ``classes=`` of :meth:`Network.from_data` (a column name is read here).
    measure : str or None
        Effect measure (checked; required for arm data).
    family : (likelihood, link), optional
        Arm-level outcome data (events) of this likelihood family instead of continuous arms.
    ordered : dict, optional
        ``categories`` and ``cumulative`` of ordered categorical data
        (:func:`~nma_bayes.data.ordered.parse_ordered`).

    Returns
    -------
    ParsedInput

    Raises
    ------
    NMAInputError
        For any problem of the rows, or a study given both as contrasts and as arms.
    """
    cols = {"study": names["study"]}
    studies: list[tuple[str, str, object]] = []
    class_pairs: list[tuple[str, object]] = []
    categories = None
    if contrasts is not None:
        cols |= {role: names[role] for role in CONTRAST_ROLES}
        rows, pairs = parse_contrasts(contrasts, cols, classes)
        class_pairs += pairs
        studies += [("contrasts", s, r) for s, r in rows.items()]
    if arms is not None:
        roles = ARM_ROLES if family is None else ("treatment", *OUTCOME_ROLES)
        arm_cols = {"study": names["study"], **{role: names[role] for role in roles}}
        cols |= {k: v for k, v in arm_cols.items() if v is not None}
        if family is None:
            kind, parsed = "arms", parse_arms(arms, arm_cols, measure)
        elif family[0] == "ordered":
            kind = "outcomes"
            parsed, categories = parse_ordered(arms, arm_cols, **(ordered or {}))
        else:
            kind, parsed = "outcomes", parse_outcomes(arms, arm_cols, *family)
        if isinstance(classes, str):
            class_pairs += _arm_class_pairs(arms, names["treatment"], classes)
        studies += [(kind, sa.study, sa) for sa in parsed]
    _check_one_form_per_study(studies)
    return ParsedInput(columns=cols, studies=studies, class_pairs=class_pairs,
                       categories=categories)  # fmt: skip


def parse_contrasts(df: pd.DataFrame, cols: dict[str, str], classes):
    """Validate contrast rows; return the rows grouped by study and (treatment, class) pairs.

    Parameters
    ----------
    df : DataFrame
        Contrast data.
    cols : dict
        Role to column name (``study`` and :data:`CONTRAST_ROLES`).
    classes : str, dict or None
        ``classes=``; a column name reads the class columns of both treatments.

    Returns
    -------
    rows : dict of str to list of StudyRow
        Each study's rows, studies in order of first appearance.
    pairs : list of (treatment, class)
    """
    labels, te, se, sb = _contrast_values(df, cols)
    s_lab, t1, t2 = labels["study"], labels["treat1"], labels["treat2"]
    idx = df.index
    rows: dict[str, list[StudyRow]] = {}
    for i in range(len(df)):
        row = StudyRow(idx[i], t1[i], t2[i], float(te[i]), float(se[i]), float(sb[i]))
        rows.setdefault(s_lab[i], []).append(row)
    C.check_se_base_two_arm(rows, cols["se_base"])
    pairs = _contrast_class_pairs(df, cols, classes, t1, t2) if isinstance(classes, str) else []
    return rows, pairs


def _contrast_values(df: pd.DataFrame, cols: dict[str, str]):
    """Check the contrast table's columns and values; return labels, TE, seTE and se_base."""
    V.check_frame(df)
    V.check_columns(df, cols, CONTRAST_REQUIRED, "Network.from_contrasts")
    idx = df.index
    labels = {r: V.check_labels(df, cols[r]) for r in ("study", "treat1", "treat2")}
    te = V.numeric_column(df, cols["TE"])
    se = V.numeric_column(df, cols["seTE"])
    has_sb = cols["se_base"] in df.columns
    sb = V.numeric_column(df, cols["se_base"]) if has_sb else np.full(len(df), np.nan)
    V.check_finite(te, cols["TE"], idx, allow_nan=False)
    V.check_finite(se, cols["seTE"], idx, allow_nan=False)
    V.check_finite(sb, cols["se_base"], idx, allow_nan=True)  # NaN: se_base not given
    V.check_positive(se, cols["seTE"], idx)
    V.check_positive(sb, cols["se_base"], idx)
    for values, role, kind in ((te, "TE", "abs"), (se, "seTE", "se"), (sb, "se_base", "se")):
        C.check_bounds(values, cols[role], idx, kind)
    s_lab, t1, t2 = labels["study"], labels["treat1"], labels["treat2"]
    # duplicates are judged on the columns that define a contrast, not on extra columns
    key = pd.DataFrame({cols["study"]: s_lab, cols["treat1"]: t1, cols["treat2"]: t2})
    key[cols["TE"]], key[cols["seTE"]] = te, se
    V.check_duplicates(key, s_lab, idx)
    V.warn_similar_names(np.concatenate([t1, t2]).tolist())
    return labels, te, se, sb


def _contrast_class_pairs(df: pd.DataFrame, cols: dict[str, str], classes: str, t1, t2):
    """(treatment, class) pairs from the class columns ``f"{treat1}_{classes}"`` and treat2's."""
    names = [f"{cols['treat1']}_{classes}", f"{cols['treat2']}_{classes}"]
    absent = [c for c in names if c not in df.columns]
    if absent:
        raise ModelSpecError(
            f"classes={classes!r}: contrast data need class columns {names[0]!r} and "
            f"{names[1]!r} (the classes of treat1 and treat2); missing {absent}. Or pass a "
            "dict {treatment: class}.",
            rule="bad-option",
        )
    V.check_unique_columns(df, names)
    pairs = []
    for tcol, ccol in zip((t1, t2), names, strict=True):
        pairs += list(zip(tcol, df[ccol].to_numpy(dtype=object), strict=True))
    return pairs


def _arm_class_pairs(df: pd.DataFrame, treatment: str, classes: str):
    """(treatment, class) pairs from the class column of arm-level data."""
    if classes not in df.columns:
        raise ModelSpecError(
            f"classes={classes!r} is not a column of the arm data; columns: "
            f"{format_items([str(c) for c in df.columns], limit=12)}.",
            rule="bad-option",
        )
    V.check_unique_columns(df, [classes])
    return list(zip(df[treatment], df[classes].to_numpy(dtype=object), strict=True))


def _check_one_form_per_study(studies) -> None:
    """Refuse a study given both as contrasts and as arms (``study-in-two-forms``)."""
    kinds: dict[str, set[str]] = {}
    for kind, s, _ in studies:
        kinds.setdefault(s, set()).add(kind)
    both = [s for s, k in kinds.items() if len(k) > 1]
    if both:
        raise InvalidValueError(
            f"Studies {format_items(both)} are given both as contrasts and as arms. Give each "
            "study once, in one form (remove it from one of the two tables).",
            rule="study-in-two-forms",
        )
