r"""Time-to-event data for survival NMA: grouped intervals and individual event times, validated.

Two inputs, as the survival NMA literature uses them:

* **grouped intervals** (gemtcPlus's ``grouped_TTE``; Jansen 2011; Ouwens et al. 2010): per arm,
  contiguous intervals ``[t.start, t.end)`` from time 0 with the events, the censored and the
  number at risk at the start of each (``n.risk`` of an interval is the previous one's less its
  events and censorings);
* **event times** (pseudo-IPD reconstructed from published Kaplan-Meier curves, Guyot et al.
  2012, or real IPD): per patient, a time and a status (1 event, 0 censored).

:func:`group_event_times` turns event times into grouped intervals at chosen cut points:
interval ``k`` is ``(c_{k-1}, c_k]`` (the last ends at the arm's last time), its events and
censorings are the times that fall in it, its ``n.risk`` the patients with a time above
``c_{k-1}``, and its ``exposure`` the person-time inside it (the exact piecewise-exponential
likelihood is Poisson in events over exposure). :func:`survival_intervals` validates and stacks
both kinds of study. Every problem is a typed error before any model is built, with its rule:
``survival-times``, ``survival-intervals``, ``survival-at-risk``, ``events-invalid``,
``study-in-two-forms``.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ (2012). Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol 12:9.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, ModelSpecError, format_items
from . import checks as C
from . import validation as V

__all__ = ["GROUPED_COLUMNS", "SEGMENT", "check_cutpoints", "check_event_times",
           "group_event_times", "segment_bounds", "segment_labels",
           "survival_intervals"]  # fmt: skip

#: Columns of grouped data (gemtcPlus's names), in the order of the tables returned here.
GROUPED_COLUMNS = ("study", "treatment", "t.start", "t.end", "n.event", "n.censored", "n.risk")


#: The study covariate of a piecewise-exponential fit: each study x segment unit's segment.
SEGMENT = "segment"


def segment_labels(cutpoints) -> list[str]:
    """Return the labels of the segments cut at ``cutpoints``: ``"[0,3)", "[3,10)", "[10,Inf)"``."""
    edges = [0.0, *(float(c) for c in cutpoints)]
    ends = [*(f"{c:g}" for c in edges[1:]), "Inf"]
    return [f"[{a:g},{b})" for a, b in zip(edges, ends, strict=True)]


def segment_bounds(label: str) -> tuple[float, float]:
    """Return ``(start, end)`` of a segment label made by :func:`segment_labels`."""
    start, end = label.strip("[)").split(",")
    return float(start), float(end)


def _numbers(df: pd.DataFrame, cols: Sequence[str]) -> dict[str, np.ndarray]:
    out = {}
    for col in cols:
        out[col] = V.numeric_column(df, col)
        V.check_finite(out[col], col, df.index, allow_nan=False)
    return out


def _bad(rows, what: str, fix: str, rule: str) -> InvalidValueError:
    return InvalidValueError(f"Rows {format_items(rows)} (by index label): {what}. {fix}",
                             rule=rule)  # fmt: skip


def _check_grouped_values(df: pd.DataFrame, v: dict) -> None:
    """Check times (``survival-times``) and counts (``events-invalid``, ``survival-at-risk``)."""
    idx = df.index
    bad = (v["t.start"] < 0) | (v["t.end"] <= v["t.start"])
    if bad.any():
        fix = "Intervals are [t.start, t.end) with 0 <= t.start < t.end."
        raise _bad(idx[bad], "an interval starts below 0 or does not end after it starts", fix,
                   "survival-times")  # fmt: skip
    for col in ("t.start", "t.end"):
        C.check_bounds(v[col], col, idx, "exposure")
    for col in ("n.event", "n.censored", "n.risk"):
        C.check_bounds(v[col], col, idx, "count")
        bad = (v[col] < 0) | (v[col] != np.round(v[col]))
        if bad.any():
            raise _bad(idx[bad], f"{col!r} is not a whole number >= 0",
                       "Counts are numbers of patients.", "events-invalid")  # fmt: skip
    bad = v["n.event"] + v["n.censored"] > v["n.risk"]
    if bad.any():
        raise _bad(idx[bad], "events plus censorings exceed the number at risk",
                   "Check the counts of these intervals.", "survival-at-risk")  # fmt: skip


def _check_arm(rows: np.ndarray, v: dict, idx: pd.Index) -> tuple[str, list] | None:
    """Return the first problem of one arm's intervals (sorted by start), or ``None``."""
    start, end = v["t.start"][rows], v["t.end"][rows]
    if start[0] != 0:
        return "survival-intervals", [idx[rows[0]]]
    joins = np.flatnonzero(start[1:] != end[:-1])
    if joins.size:  # a gap or an overlap between consecutive intervals
        return "survival-intervals", [idx[rows[j + 1]] for j in joins]
    left = v["n.risk"][rows][:-1] - v["n.event"][rows][:-1] - v["n.censored"][rows][:-1]
    wrong = np.flatnonzero(v["n.risk"][rows][1:] != left)
    if wrong.size:
        return "survival-at-risk", [idx[rows[j + 1]] for j in wrong]
    return None


def _check_arms(df: pd.DataFrame, study: np.ndarray, treatment: np.ndarray, v: dict) -> None:
    """Per arm: contiguous intervals from 0 and at-risk counts that follow from the previous."""
    problems: dict[str, list] = {"survival-intervals": [], "survival-at-risk": []}
    keys = pd.MultiIndex.from_arrays([study, treatment])
    for key in dict.fromkeys(keys):
        rows = np.flatnonzero(keys == key)
        rows = rows[np.argsort(v["t.start"][rows], kind="stable")]
        found = _check_arm(rows, v, df.index)
        if found is not None:
            problems[found[0]] += found[1]
    if problems["survival-intervals"]:
        raise _bad(problems["survival-intervals"],
                   "an arm's intervals do not start at 0 or leave a gap or overlap before this row",
                   "Each arm needs contiguous intervals [0, t1), [t1, t2), ... (t.start of each = "
                   "t.end of the one before).", "survival-intervals")  # fmt: skip
    if problems["survival-at-risk"]:
        raise _bad(problems["survival-at-risk"],
                   "n.risk differs from the previous interval's n.risk - n.event - n.censored",
                   "Recompute the numbers at risk (or the censorings) of these arms.",
                   "survival-at-risk")  # fmt: skip


def _check_grouped(df: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Validate grouped intervals; return them with the standard column names, sorted per arm."""
    V.check_frame(df)
    roles = list(GROUPED_COLUMNS)
    V.check_columns(df, {r: names.get(r, r) for r in roles}, roles, "survival_intervals")
    df = df.rename(columns={names.get(r, r): r for r in roles})[roles]
    study, treatment = (V.check_labels(df, c) for c in ("study", "treatment"))
    v = _numbers(df, roles[2:])
    _check_grouped_values(df, v)
    _check_arms(df, study, treatment, v)
    out = pd.DataFrame({"study": study, "treatment": treatment, **v})
    # arms (and their studies) in order of first appearance, each arm's intervals by time
    arms = list(zip(study, treatment, strict=True))
    first = {arm: i for i, arm in reversed(list(enumerate(arms)))}
    studies = {s: i for i, s in reversed(list(enumerate(study)))}
    order = np.lexsort((v["t.start"], [first[a] for a in arms], [studies[s] for s in study]))
    return out.iloc[order].reset_index(drop=True)


def _check_event_times(df: pd.DataFrame, names: dict) -> pd.DataFrame:
    V.check_frame(df)
    roles = ["study", "treatment", "time", "status"]
    V.check_columns(df, {r: names.get(r, r) for r in roles}, roles, "group_event_times")
    df = df.rename(columns={names.get(r, r): r for r in roles})[roles]
    study, treatment = (V.check_labels(df, c) for c in ("study", "treatment"))
    v = _numbers(df, ["time", "status"])
    bad = v["time"] <= 0
    if bad.any():
        raise _bad(df.index[bad], "event or censoring times must be > 0",
                   "A time of 0 carries no follow-up: check the units, or drop the row.",
                   "survival-times")  # fmt: skip
    C.check_bounds(v["time"], "time", df.index, "exposure")
    bad = ~np.isin(v["status"], (0.0, 1.0))
    if bad.any():
        raise _bad(df.index[bad], "status must be 1 (event) or 0 (censored)",
                   "Recode the status column.", "survival-times")  # fmt: skip
    return pd.DataFrame({"study": study, "treatment": treatment, **v})


def check_event_times(data: pd.DataFrame, *, columns: dict | None = None) -> pd.DataFrame:
    """Validate individual event times; return ``study, treatment, time, status``.

    ``columns`` maps the roles ``study, treatment, time, status`` to other column names. Rules:
    ``survival-times`` (times > 0, status 0 or 1) and the label rules of every data set.
    """
    return _check_event_times(data, dict(columns or {}))


def check_cutpoints(cutpoints) -> np.ndarray:
    """Return ``cutpoints`` as increasing positive floats, or raise ``bad-option``."""
    cuts = np.asarray(cutpoints if cutpoints is not None else [], dtype=object)
    ok = cuts.ndim == 1 and all(
        V.is_real(c) and np.isfinite(float(c)) and float(c) > 0 for c in cuts
    )
    values = np.asarray(cuts, dtype=float) if ok else None
    if not ok or (values.size > 1 and np.any(np.diff(values) <= 0)):
        raise ModelSpecError(
            f"cutpoints= must be increasing positive times, e.g. [3, 10]; got {cutpoints!r}.",
            rule="bad-option",
        )
    return values


def group_event_times(ipd: pd.DataFrame, *, cutpoints, study: str = "study",
                      treatment: str = "treatment", time: str = "time",
                      status: str = "status") -> pd.DataFrame:  # fmt: skip
    """Group individual event times into intervals at ``cutpoints`` (module docstring).

    Parameters
    ----------
    ipd : DataFrame
        One row per patient: study, treatment, time (> 0) and status (1 event, 0 censored).
    cutpoints : sequence of float
        Increasing times that end the intervals; an arm's last interval ends at its last time
        (cut points beyond it are not used for that arm).
    study, treatment, time, status : str
        Column names.

    Returns
    -------
    DataFrame
        :data:`GROUPED_COLUMNS` plus ``exposure`` (person-time inside the interval), per arm in
        order of first appearance.
    """
    names = {"study": study, "treatment": treatment, "time": time, "status": status}
    data = _check_event_times(ipd, names)
    cuts = check_cutpoints(cutpoints)
    rows = []
    for (s, t), arm in data.groupby(["study", "treatment"], sort=False):
        times, events = arm["time"].to_numpy(), arm["status"].to_numpy() == 1
        edges = np.concatenate([[0.0], cuts[cuts < times.max()], [times.max()]])
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            inside, at_risk = (times > a) & (times <= b), times > a
            person_time = float((np.minimum(times[at_risk], b) - a).sum())
            rows.append((s, t, a, b, int((inside & events).sum()), int((inside & ~events).sum()),
                         int(at_risk.sum()), person_time))  # fmt: skip
    return pd.DataFrame(rows, columns=[*GROUPED_COLUMNS, "exposure"])


def survival_intervals(grouped: pd.DataFrame | None = None, *, event_times=None, cutpoints=None,
                       columns: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Validate grouped intervals and/or event times and return one grouped table.

    Parameters
    ----------
    grouped : DataFrame, optional
        Grouped intervals with gemtcPlus's columns :data:`GROUPED_COLUMNS` (rename others with
        ``columns=``, e.g. ``{"t.start": "start"}``).
    event_times : DataFrame, optional
        Individual event times (``study, treatment, time, status``), grouped at ``cutpoints``
        by :func:`group_event_times`.
    cutpoints : sequence of float, optional
        Cut points for ``event_times`` (required with it).
    columns : dict, optional
        Role to column name for the grouped table.

    Returns
    -------
    DataFrame
        :data:`GROUPED_COLUMNS` (plus ``exposure`` where known: event-time studies), grouped
        studies first.

    Raises
    ------
    NMAInputError
        Any rule of the module docstring; ``study-in-two-forms`` for a study given both ways.
    """
    if grouped is None and event_times is None:
        raise ModelSpecError("Give grouped intervals (grouped=) or event times (event_times=).",
                             rule="empty-data")  # fmt: skip
    parts = []
    if grouped is not None:
        parts.append(_check_grouped(grouped, dict(columns or {})))
    if event_times is not None:
        if cutpoints is None:
            raise ModelSpecError("event_times= needs cutpoints= (the ends of the intervals).",
                                 rule="bad-option")  # fmt: skip
        parts.append(group_event_times(event_times, cutpoints=cutpoints))
    if len(parts) == 2:
        both = sorted(set(parts[0]["study"]) & set(parts[1]["study"]))
        if both:
            raise InvalidValueError(
                f"Studies {format_items(both)} are given both as grouped intervals and as event "
                "times. Give each study once: group its event times (group_event_times) or drop "
                "its intervals.",
                rule="study-in-two-forms",
            )
    return pd.concat(parts, ignore_index=True)
