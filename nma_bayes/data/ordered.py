r"""Ordered categorical outcomes (PASI 50/75/90, ACR 20/50/70), validated and made cumulative.

The data are long: one row per arm and reported threshold (a *cutpoint* of the ordered scale),
the study's base arm first. Two layouts are read (multinma's ``multi(..., inclusive=)``):

* ``cumulative=True`` (default): the count is the number of patients who reached *at least* that
  cutpoint (``r`` of PASI 50 counts everyone with PASI 50, 75 or 90), so along an arm's cutpoints
  the counts do not increase;
* ``cumulative=False``: the count is the number in the category that *starts* at that cutpoint
  and ends at the arm's next reported cutpoint (the top one is open); the category below the
  arm's first cutpoint holds the rest, ``n`` minus the sum.

Arms report any subset of the cutpoints (TSD2's psoriasis example: 50/75/90, 50/75, 50 or 75
only), and the likelihood uses each arm's observed categories only. The order of the cutpoints is
``categories=`` (lowest first) or, if not given, the one order that every arm's rows agree with.
Arms are told apart by ``arm=`` (a column naming the arm within its study: two arms of one
treatment, as in TSD2's Ellis 1991, stay apart) or else by the treatment. Every problem is a typed
error with its rule of the catalogue (``category-*``, ``events-invalid``, ``exposure-invalid``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, MissingColumnError, ModelSpecError, format_items
from . import checks as C
from . import validation as V
from .arm_data import rows_by_study
from .outcomes import StudyOutcomes, check_counts

__all__ = ["ORDERED_ROLES", "parse_ordered"]

#: Column roles of ordered categorical data (``arm`` optional).
ORDERED_ROLES = ("study", "treatment", "category", "events", "n")


def _check_columns(df: pd.DataFrame, cols: dict) -> None:
    roles = [*ORDERED_ROLES, *(["arm"] if cols.get("arm") is not None else [])]
    missing = [r for r in roles if cols.get(r) is None or cols[r] not in df.columns]
    if missing:
        why = {"category": "the cutpoint (threshold) of each row, e.g. 'PASI50' (category=)",
               "events": "the number of patients counted at that cutpoint (events=)",
               "n": "each arm's number of patients (n=)", "arm": "the arm within its study"}
        raise MissingColumnError(
            "likelihood='ordered' needs one row per arm and reported cutpoint with "
            + "; ".join(f"column {cols.get(r)!r} ({why.get(r, r)})" for r in missing)
            + f". Columns present: {format_items([str(c) for c in df.columns], limit=12)}. "
            "Name the columns with category=, events=, n= (and arm=).",
            rule="likelihood-columns",
        )  # fmt: skip


def _arm_keys(df: pd.DataFrame, cols: dict, labels: dict) -> np.ndarray:
    """Each row's arm within its study: the ``arm`` column as text, or the treatment."""
    if cols.get("arm") is None:
        return labels["treatment"]
    values = df[cols["arm"]].to_numpy(dtype=object)
    bad = pd.isna(values)
    if bad.any():
        raise InvalidValueError(
            f"Column {cols['arm']!r} (the arm of each row) is missing in rows "
            f"{format_items(df.index[bad])}. Name every row's arm.",
            rule="bad-label",
        )
    return np.array([str(v) for v in values], dtype=object)


def _check_categories(given, found: list[str], idx: pd.Index, col: str, cats: np.ndarray):
    """Validate ``categories=`` against the data (rule ``category-unknown``)."""
    if isinstance(given, str) or not isinstance(given, Sequence) or len(given) < 1:
        raise ModelSpecError(
            f"categories= must be a list of the cutpoint names, lowest first, got {given!r}.",
            rule="category-unknown",
        )
    given = [str(g) for g in given]
    twice = sorted({g for g in given if given.count(g) > 1})
    unknown = ~np.isin(cats, given)
    unused = [g for g in given if g not in found]
    if twice or unknown.any() or unused:
        parts = []
        if twice:
            parts.append(f"categories= lists {format_items(twice)} twice")
        if unknown.any():
            extra = format_items(sorted(set(cats[unknown])))
            parts.append(f"rows {format_items(idx[unknown])} of column {col!r} hold cutpoints "
                         f"{extra} that categories= lacks")  # fmt: skip
        if unused:
            parts.append(f"no arm reports {format_items(unused)}, so its cutpoint is not "
                         "identified")  # fmt: skip
        raise ModelSpecError(
            "; ".join(parts) + f". categories= must list each cutpoint of column {col!r} once, "
            "lowest first, and only those.",
            rule="category-unknown",
        )
    return given


def _infer_order(sequences: dict[tuple, list[str]], col: str) -> list[str]:
    """Return the one order of the cutpoints that every arm's rows follow (``category-order``).

    Each arm's rows give precedences (each cutpoint before the next); Kahn's topological sort
    takes them in order and must find exactly one candidate at every step.
    """
    after: dict[str, set[str]] = {}
    before_count: dict[str, int] = {}
    who: dict[tuple[str, str], str] = {}
    for (study, _), seq in sequences.items():
        for c in seq:
            after.setdefault(c, set())
            before_count.setdefault(c, 0)
        for a, b in zip(seq, seq[1:], strict=False):
            if b not in after[a]:
                after[a].add(b)
                before_count[b] += 1
                who.setdefault((a, b), study)
    order: list[str] = []
    ready = [c for c in before_count if before_count[c] == 0]
    while ready:
        if len(ready) > 1:
            raise ModelSpecError(
                f"The order of the cutpoints {format_items(sorted(ready))} in column {col!r} "
                "cannot be told from the data: no arm reports them together. Give the order, "
                "lowest first, with categories=[...].",
                rule="category-order",
            )
        c = ready.pop()
        order.append(c)
        for b in sorted(after[c]):
            before_count[b] -= 1
            if before_count[b] == 0:
                ready.append(b)
    if len(order) < len(before_count):  # a cycle: two arms list cutpoints in opposite orders
        left = sorted(set(before_count) - set(order))
        studies = sorted({s for (a, b), s in who.items() if a in left and b in left})
        raise ModelSpecError(
            f"The cutpoints {format_items(left)} of column {col!r} are listed in two orders "
            f"(studies {format_items(studies)}). List every arm's cutpoints lowest first, or "
            "give the order with categories=[...].",
            rule="category-order",
        )
    return order


def _cumulative(counts: np.ndarray, n: float, cumulative: bool) -> np.ndarray | None:
    """Return an arm's at-least counts over its reported cutpoints, or ``None`` if invalid."""
    if not cumulative:
        if counts.sum() > n:
            return None
        counts = np.cumsum(counts[::-1])[::-1]  # at least cutpoint j = categories j, j+1, ...
    elif np.any(np.diff(counts) > 0):
        return None
    return counts


def _arms(rows: list[int], pos: np.ndarray, n_cuts: int, values: dict, cumulative: bool):
    """Cumulative counts ``(J,)`` (NaN where not reported) and ``n`` of one arm (``None``: bad)."""
    order = np.argsort(pos[rows], kind="stable")
    rows = [rows[i] for i in order]
    n = values["n"][rows]
    out = np.full(n_cuts, np.nan)
    cum = _cumulative(values["events"][rows], float(n[0]), cumulative)
    if cum is None:
        return None, float(n[0])
    out[pos[rows]] = cum
    return out, float(n[0])


def _check_arm_rows(arm_rows: dict, labels: dict, values: dict, cols: dict, idx) -> None:
    """Rows of one arm: one per cutpoint (``category-duplicated``), one ``n`` and treatment."""
    twice, mixed = [], []
    for (_, _), rows in arm_rows.items():
        cats = labels["category"][rows]
        if len(set(cats)) < len(cats):
            twice += [idx[r] for r in rows]
        if len(set(values["n"][rows])) > 1 or len(set(labels["treatment"][rows])) > 1:
            mixed += [idx[r] for r in rows]
    if twice:
        raise InvalidValueError(
            f"Rows {format_items(twice)} report one cutpoint of column {cols['category']!r} "
            "twice for the same arm. Keep one row per arm and cutpoint; two arms of one "
            "treatment in a study need arm= (a column naming the arm).",
            rule="category-duplicated",
        )
    if mixed:
        raise InvalidValueError(
            f"Rows {format_items(mixed)} belong to one arm but give different values of "
            f"{cols['n']!r} or {cols['treatment']!r}. All rows of an arm share its size and "
            "treatment; two arms of one treatment need arm= (a column naming the arm).",
            rule="category-arm-inconsistent",
        )


def parse_ordered(df: pd.DataFrame, cols: dict, *, categories=None, cumulative: bool = True):
    """Validate ordered categorical data and group it by study and arm.

    Parameters
    ----------
    df : DataFrame
        One row per arm and reported cutpoint (module docstring).
    cols : dict
        Role (``study, treatment, category, events, n`` and optionally ``arm``) to column name.
    categories : sequence of str, optional
        The cutpoints, lowest first; inferred from the rows' order if not given.
    cumulative : bool
        Whether counts are "at least this cutpoint" (default) or exclusive categories.

    Returns
    -------
    studies : list of StudyOutcomes
        ``events`` (arms, J): the number reaching at least each cutpoint, NaN where an arm does
        not report it; ``trials`` the arm sizes; ``offset`` zero.
    categories : tuple of str
        The cutpoints, lowest first.
    """
    V.check_frame(df)
    _check_columns(df, cols)
    idx = df.index
    labels = {r: V.check_labels(df, cols[r]) for r in ("study", "treatment", "category")}
    values = {}
    for role in ("events", "n"):
        values[role] = V.numeric_column(df, cols[role])
        V.check_finite(values[role], cols[role], idx, allow_nan=False)
        C.check_bounds(values[role], cols[role], idx, "count" if role == "events" else "n")
    check_counts(values, cols, idx, "binomial")
    arm_key = _arm_keys(df, cols, labels)
    arm_rows: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(labels["study"], arm_key, strict=True)):
        arm_rows.setdefault(key, []).append(i)
    _check_arm_rows(arm_rows, labels, values, cols, idx)
    found = list(dict.fromkeys(labels["category"]))
    if categories is None:
        seqs = {k: list(labels["category"][r]) for k, r in arm_rows.items()}
        order = _infer_order(seqs, cols["category"])
    else:
        order = _check_categories(categories, found, idx, cols["category"], labels["category"])
    pos = np.array([order.index(c) for c in labels["category"]])
    arms, bad = {}, []
    for key, rows in arm_rows.items():
        arms[key] = _arms(rows, pos, len(order), values, cumulative)
        if arms[key][0] is None:
            bad += [idx[r] for r in rows]
    if bad:
        what = ("the at-least counts increase from a lower to a higher cutpoint" if cumulative
                else "the category counts add up to more than n")  # fmt: skip
        raise InvalidValueError(
            f"Rows {format_items(bad)}: {what} in column {cols['events']!r}. With "
            f"cumulative={cumulative}, " + ("each count is the number reaching at least that "
            "cutpoint (pass cumulative=False for counts of exclusive categories)." if cumulative
            else "each count is the number in the category from that cutpoint to the next "
            "(pass cumulative=True for at-least counts)."),
            rule="category-counts",
        )  # fmt: skip
    V.warn_similar_names(labels["treatment"].tolist())
    return _group(arm_rows, arms, labels, cols), tuple(order)


def _group(arm_rows: dict, arms: dict, labels: dict, cols: dict) -> list[StudyOutcomes]:
    """Studies in order of first appearance, arms in order of first appearance (base first)."""
    keys = list(arm_rows)
    by_study = rows_by_study(np.array([k[0] for k in keys], dtype=object), cols["treatment"])
    out = []
    for study, members in by_study.items():
        members = [keys[m] for m in members]
        out.append(
            StudyOutcomes(
                study=study,
                treatments=tuple(labels["treatment"][arm_rows[k][0]] for k in members),
                events=np.array([arms[k][0] for k in members]),
                trials=np.array([arms[k][1] for k in members]),
                offset=np.zeros(len(members)),
            )
        )
    return out
