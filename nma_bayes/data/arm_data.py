"""Arm-level continuous data (means, SDs, sample sizes) to contrasts against each study's base arm.

The first row of each study is its base arm. Each study's contrasts and their exact within-study
covariance come from :func:`nma_bayes.data.effect_sizes.study_contrasts` (mean differences, or
standardised mean differences with the covariance of two SMDs sharing the base arm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, MissingColumnError, ModelSpecError, format_items
from . import checks as C
from . import validation as V
from .effect_sizes import study_contrasts

__all__ = ["StudyArms", "ARM_MEASURES", "parse_arms"]

#: Effect measures computed from arm-level continuous data.
ARM_MEASURES = ("MD", "SMD")


@dataclass(frozen=True)
class StudyArms:
    """One study's arm-level data, validated (arm 0 is the base arm)."""

    study: str
    treatments: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    se: np.ndarray

    def contrasts(self, measure: str, smd_method: str):
        """Contrasts of arms 1.. vs arm 0 with their structured covariance (ArmContrasts)."""
        return study_contrasts(
            self.mean,
            self.sd,
            self.n,
            measure=measure,
            se=None if np.isnan(self.se).any() else self.se,
            smd_method=smd_method,
        )


def _required(measure: str, cols: dict[str, str | None], df: pd.DataFrame) -> list[str]:
    """Roles needed for ``measure``; MD takes ``se`` or (``sd`` and ``n``)."""
    if measure == "SMD":
        if cols.get("se") is not None:
            raise ModelSpecError(
                f"se={cols['se']!r} does not apply to measure='SMD': a standardised mean "
                "difference needs each arm's SD and sample size (sd=, n=), and an arm's SE would "
                "be ignored. Remove se=, or use measure='MD'.",
                rule="option-not-applicable",
            )
        return ["study", "treatment", "mean", "sd", "n"]
    if cols.get("se") is not None and cols["se"] in df.columns:
        return ["study", "treatment", "mean", "se"]
    if cols.get("se") is not None:
        raise MissingColumnError(
            f"se={cols['se']!r} was given but there is no such column; columns present: "
            f"{format_items([str(c) for c in df.columns], limit=12)}.",
            rule="measure-columns",
        )
    missing = [r for r in ("sd", "n") if cols[r] not in df.columns]
    if missing:
        raise MissingColumnError(
            f"measure='MD' from arm data needs each arm's standard error (se='<column>') or its "
            f"SD and sample size; column(s) {', '.join(repr(cols[r]) for r in missing)} not "
            f"found. Columns present: {format_items([str(c) for c in df.columns], limit=12)}.",
            rule="measure-columns",
        )
    return ["study", "treatment", "mean", "sd", "n"]


def read_arm_columns(df: pd.DataFrame, cols: dict, required: list[str]) -> tuple[dict, dict]:
    """Return the labels (``study``, ``treatment``) and the finite numeric columns of ``required``.

    ``required`` starts with ``study, treatment``; the other roles are read cell by cell
    (``non-numeric``) and must be finite (``non-finite``).
    """
    labels = {r: V.check_labels(df, cols[r]) for r in ("study", "treatment")}
    values = {}
    for role in required[2:]:
        values[role] = V.numeric_column(df, cols[role])
        V.check_finite(values[role], cols[role], df.index, allow_nan=False)
    return labels, values


def rows_by_study(studies: np.ndarray, treatment_col: str) -> dict[str, list[int]]:
    """Row positions of each study, in order of first appearance (rule ``single-arm-study``).

    Raises
    ------
    InvalidValueError
        If a study has a single arm.
    """
    rows: dict[str, list[int]] = {}
    for i, s in enumerate(studies):
        rows.setdefault(s, []).append(i)
    single = [s for s, r in rows.items() if len(r) < 2]
    if single:
        raise InvalidValueError(
            f"Studies {format_items(single)} have a single arm in column {treatment_col!r}; a "
            "study needs at least two arms to contribute a comparison. Add the missing arms or "
            "remove those studies yourself.",
            rule="single-arm-study",
        )
    return rows


def parse_arms(df: pd.DataFrame, cols: dict[str, str | None], measure: str) -> list[StudyArms]:
    """Validate arm-level data and group it by study (studies in order of first appearance).

    Parameters
    ----------
    df : DataFrame
        One row per arm.
    cols : dict
        Role (``study, treatment, mean, sd, n, se``) to column name (``se`` may be ``None``).
    measure : {"MD", "SMD"}
        Effect measure to compute.

    Returns
    -------
    list of StudyArms
    """
    V.check_frame(df)
    required = _required(measure, cols, df)
    V.check_columns(df, {r: cols[r] for r in required}, required, "Network.from_arms")
    idx = df.index
    labels, values = read_arm_columns(df, cols, required)
    if "n" not in values and cols.get("n") in df.columns:  # optional: patients per arm
        values["n"] = V.numeric_column(df, cols["n"])
        V.check_finite(values["n"], cols["n"], idx, allow_nan=False)
    if "sd" in values:
        V.check_positive(values["sd"], cols["sd"], idx, what="a standard deviation")
    if "se" in values:
        V.check_positive(values["se"], cols["se"], idx)
    if "n" in values:
        V.check_sample_sizes(values["n"], cols["n"], idx)
    kinds = {"mean": "abs", "sd": "se", "se": "se", "n": "n"}
    for role, v in values.items():
        C.check_bounds(v, cols[role], idx, kinds[role])
    key = pd.DataFrame({cols[r]: labels[r] for r in labels})
    for role, v in values.items():
        key[cols[role]] = v
    V.check_duplicates(key, labels["study"], idx)
    V.warn_similar_names(labels["treatment"].tolist())

    rows = rows_by_study(labels["study"], cols["treatment"])
    nan = np.full(len(df), np.nan)
    out = []
    for s, r in rows.items():
        r = np.asarray(r)
        out.append(
            StudyArms(
                study=s,
                treatments=tuple(labels["treatment"][r]),
                mean=values["mean"][r],
                sd=values.get("sd", nan)[r],
                n=values.get("n", nan)[r],
                se=values.get("se", nan)[r],
            )
        )
    return out
