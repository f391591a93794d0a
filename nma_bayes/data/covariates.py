"""Study-level covariates of a network (network meta-regression): read and validate them.

A covariate holds one value per study. :func:`read_covariates` reads each one named in
``covariates=`` of :meth:`~nma_bayes.data.network.Network.from_data`:

* from the ``studies=`` table (one row per study, joined on the data's study column) when that
  table holds the column;
* else from the rows of the data (contrast rows and/or arm rows), where it must be constant
  within each study.

A column of numbers (int or float) is a *numeric* covariate; strings, booleans and pandas
Categoricals are *categorical* (levels sorted, in the Categorical's order, or ``False, True``; the
first level is the reference). The special name ``"baseline_risk"`` is not a column: it asks for
regression on each study's baseline risk, estimated from arm-level outcome data.

Only the studies of the network (:attr:`Network.studies`, in that order) are read: studies
excluded by ``component=`` and rows of the studies table for other studies are ignored. Problems
are raised as :class:`~nma_bayes.base.errors.NMAInputError` subclasses tagged with their rule
(``covariate-column``, ``covariate-missing``, ``covariate-not-constant``, ``covariate-constant``,
``studies-table``, ``baseline-risk-data``, ``covariate-term-collision``); weak information is
reported by a :class:`~nma_bayes.base.errors.CovariateWarning` (``covariate-level-one-study``,
``covariate-subgroup-empty``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..base.errors import (
    CovariateWarning,
    InvalidValueError,
    MissingColumnError,
    ModelSpecError,
    format_items,
)
from ..base.validate import is_real
from .columns import check_unique_columns

#: The :class:`~nma_bayes.data.network.Network` read from. Not imported, even for type checking:
#: ``data.network`` imports this module, and the house has no import circles.
Network = Any

__all__ = ["StudyCovariates", "read_covariates", "BASELINE_RISK", "SHOWN_COMPARISONS"]

#: The special covariate: each study's baseline risk (arm-level outcome data only).
BASELINE_RISK = "baseline_risk"
#: How many comparisons the ``covariate-subgroup-empty`` warning lists.
SHOWN_COMPARISONS = 10

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TABLE, _DATA = "studies table", "data"


@dataclass(frozen=True, eq=False)
class StudyCovariates:
    """Study-level covariates of a network, one value per study, validated.

    Attributes
    ----------
    names : tuple of str
        Covariate names (columns), in the order the user gave them.
    kinds : tuple of str
        Per name: ``"numeric"`` or ``"categorical"``.
    values : DataFrame
        Index: the network's study labels in network order (:attr:`Network.studies`); one column
        per name, float64 for numeric covariates and str (object dtype) for categorical ones.
    levels : dict
        Name to the tuple of its observed levels, for categorical covariates only; the first
        level is the reference.
    source : dict
        Name to where it was read: ``"data"`` or ``"studies table"``.
    baseline_risk : bool
        True when the special covariate ``"baseline_risk"`` was asked for. It is not a column:
        ``names`` is then empty and ``values`` has no column.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    values: pd.DataFrame = field(repr=False)
    levels: dict[str, tuple[str, ...]]
    source: dict[str, str]
    baseline_risk: bool = False

    def kind(self, name: str) -> str:
        """Return the kind of covariate ``name``: ``"numeric"`` or ``"categorical"``."""
        return self.kinds[self.names.index(name)]

    def terms(self) -> tuple[tuple[str, str], ...]:
        """Return ``(term, covariate)`` pairs: the name, or ``name[level]`` per non-first level."""
        return tuple(
            (name, name) if kind == "numeric" else (f"{name}[{level}]", name)
            for name, kind in zip(self.names, self.kinds, strict=True)
            for level in (self.levels[name][1:] if kind == "categorical" else (None,))
        )

    def subgroups(self, name: str) -> tuple | None:
        """Return the subgroups of covariate ``name``, or ``None`` if it is not a subgroup one.

        A subgroup covariate is categorical (its subgroups are its levels) or numeric with
        exactly two distinct values, such as 0/1 (its subgroups are the two values, ascending).
        """
        if self.kind(name) == "categorical":
            return self.levels[name]
        distinct = tuple(float(v) for v in np.unique(self.values[name].to_numpy(float)))
        return distinct if len(distinct) == 2 else None


def read_covariates(
    covariates: str | list[str] | tuple[str, ...] | None,
    *,
    network: Network,
    studies_table: pd.DataFrame | None = None,
) -> StudyCovariates | None:
    """Read and validate the study covariates of a built network.

    Parameters
    ----------
    covariates : str, list or tuple of str, or None
        Covariate names (each a column of ``studies_table`` or of the data), or
        ``"baseline_risk"`` alone. ``None``: no covariates.
    network : Network
        The network built from the data; its ``data`` and ``arm_data`` are the input tables
        and ``columns["study"]`` their study column.
    studies_table : DataFrame, optional
        One row per study: the study column (same name as in the data) and covariate columns.

    Returns
    -------
    StudyCovariates or None
        ``None`` when ``covariates`` is ``None``.

    Raises
    ------
    NMAInputError
        ``bad-option``, ``studies-table``, ``covariate-column``, ``covariate-missing``,
        ``covariate-not-constant``, ``covariate-constant``, ``non-numeric``,
        ``duplicate-column``, ``baseline-risk-data`` or ``covariate-term-collision``.

    Warns
    -----
    CovariateWarning
        ``covariate-level-one-study`` and ``covariate-subgroup-empty``.
    """
    names = _check_names(covariates, studies_table)
    if names is None:
        return None
    study_col = network.columns["study"]
    index = pd.Index(list(network.studies), name=study_col, dtype=object)
    if BASELINE_RISK in names:
        _check_baseline_risk(names, network, studies_table)
        return StudyCovariates((), (), pd.DataFrame(index=index), {}, {}, baseline_risk=True)
    table = None if studies_table is None else _check_table(studies_table, study_col)
    read = {name: _read_one(name, network, table) for name in names}  # every error first
    values = pd.DataFrame(
        {n: pd.Series(r[1], index=index, dtype=float if r[0] == "numeric" else object)
         for n, r in read.items()},
        index=index,
    )  # fmt: skip
    out = StudyCovariates(
        names=names,
        kinds=tuple(r[0] for r in read.values()),
        values=values,
        levels={n: r[2] for n, r in read.items() if r[0] == "categorical"},
        source={n: r[3] for n, r in read.items()},
    )
    _check_term_names(out)
    for name in names:  # then the warnings
        _warn_single_study_levels(out, name)
        _warn_empty_subgroups(out, name, network)
    return out


# ----------------------------------------------------------------------------- options
def _check_names(covariates, studies_table) -> tuple[str, ...] | None:
    """Return ``covariates`` as a tuple of names (``bad-option`` if it is not one)."""
    if covariates is None:
        if studies_table is not None:
            raise ModelSpecError(
                "studies= (a table of study covariates) was given without covariates=, so it "
                "would be ignored. Name the covariates to use, e.g. covariates='age', or drop "
                "studies=.",
                rule="bad-option",
            )
        return None
    names = (covariates,) if isinstance(covariates, str) else covariates
    if not isinstance(names, list | tuple) or not names:
        raise ModelSpecError(
            f"covariates= must be a column name or a non-empty list of column names, got "
            f"{covariates!r}.",
            rule="bad-option",
        )
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    dups = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
    if bad or dups:
        what = f"{format_items(bad)} not non-empty strings" if bad else ""
        what += ("; " if bad and dups else "") + (f"{format_items(dups)} repeated" if dups else "")
        raise ModelSpecError(
            f"covariates= must name each covariate once, as a string: {what}.",
            rule="bad-option",
        )
    return tuple(names)


def _check_baseline_risk(names: tuple[str, ...], network: Network, studies_table) -> None:
    """``baseline_risk`` comes alone, without ``studies=``, and needs arm-level outcomes."""
    if len(names) > 1 or studies_table is not None:
        extra = "other covariates" if len(names) > 1 else "a studies= table (it is not used)"
        raise ModelSpecError(
            f"covariates={BASELINE_RISK!r} cannot be combined with {extra} in this version: "
            f"the baseline risk is estimated from the data, not read from a column. Pass "
            f"covariates={BASELINE_RISK!r} alone.",
            rule="bad-option",
        )
    outcome = np.asarray(network.outcome, dtype=bool)
    if not outcome.all():
        others = [s for s, o in zip(network.studies, outcome, strict=True) if not o]
        raise ModelSpecError(
            f"covariates={BASELINE_RISK!r} regresses on each study's baseline risk, which is "
            "estimated from arm-level outcome data (arms= with likelihood=, e.g. "
            f"likelihood='binomial'); studies {format_items(others)} are given as contrasts or "
            "continuous arms, so they have no baseline risk. Give every study as arm-level "
            "events, or remove those studies from the data yourself.",
            rule="baseline-risk-data",
        )


def _check_table(table: object, study_col: str) -> pd.DataFrame:
    """Rule ``studies-table``: a DataFrame with a column of string study labels."""
    if not isinstance(table, pd.DataFrame):
        raise InvalidValueError(
            f"studies= must be a pandas DataFrame with one row per study (a {study_col!r} "
            f"column and covariate columns), got {type(table).__name__}.",
            rule="studies-table",
        )
    if study_col not in table.columns:
        raise InvalidValueError(
            f"The studies table (studies=) has no study column {study_col!r}, the study column "
            f"of the data, on which it is joined. Columns present: "
            f"{format_items([str(c) for c in table.columns], limit=12)}. Rename its study "
            f"column to {study_col!r}.",
            rule="studies-table",
        )
    check_unique_columns(table, [study_col])
    labels = table[study_col].to_numpy(dtype=object)
    bad = [i for i, v in zip(table.index, labels, strict=True) if not _label(v)]
    if bad:
        raise InvalidValueError(
            f"Column {study_col!r} of the studies table (studies=) must hold the study labels "
            f"of the data (non-empty strings), but rows {format_items(bad)} (by index label) "
            "hold missing, empty or non-string values. Fix those labels (e.g. "
            f"table[{study_col!r}] = table[{study_col!r}].astype(str)).",
            rule="studies-table",
        )
    return table


def _check_term_names(cov: StudyCovariates) -> None:
    """Rule ``covariate-term-collision``: two covariates may not give one term name."""
    owners: dict[str, list[str]] = {}
    for term, name in cov.terms():
        owners.setdefault(term, []).append(name)
    clash = [(t, n) for t, n in owners.items() if len(n) > 1]
    if clash:
        shown = "; ".join(f"term {t!r} from " + " and ".join(f"{n!r} ({cov.kind(n)})" for n in ns)
                          for t, ns in clash)  # fmt: skip
        name = clash[0][1][-1]
        raise InvalidValueError(
            f"Covariates give the same term name: {shown}. A categorical covariate's terms are "
            "named 'covariate[level]', so these terms could not be told apart (in at=, the "
            f"regression table and the posterior). Rename one covariate's column (e.g. {name!r} "
            f"to {name.replace('[', '_').replace(']', '')!r}), or recode the level.",
            rule="covariate-term-collision",
        )


def _label(v: object) -> bool:
    return isinstance(v, str) and bool(v.strip())


# ----------------------------------------------------------------------------- reading
def _read_one(name: str, network: Network, table: pd.DataFrame | None):
    """Return ``(kind, values in network order, levels or None, source)`` of one covariate."""
    study_col = network.columns["study"]
    if table is not None and name in table.columns:
        source, frames = _TABLE, [table]
    else:
        source = _DATA
        frames = [df for df in (network.data, network.arm_data) if df is not None]
        frames = [df for df in frames if name in df.columns]
    where = _where(name, source)
    if not frames:
        raise _no_column(name, network, table)
    roles = [r for r, c in network.columns.items() if c == name]
    if name == study_col or (source == _DATA and roles):
        raise ModelSpecError(
            f"covariates={name!r} names a column the data use for another role (their "
            f"{'/'.join(roles)} column), not a study-level covariate. Name the covariate's own "
            "column.",
            rule="bad-option",
        )
    for df in frames:
        check_unique_columns(df, [name])
    keep = [df[df[study_col].isin(network.studies)] for df in frames]
    labels = np.concatenate([df[study_col].to_numpy(dtype=object) for df in keep])
    kind, cells, order = _normalise(pd.concat([df[name] for df in keep]), where)
    per: dict[str, list] = {s: [] for s in network.studies}
    for s, v in zip(labels, cells, strict=True):
        per[s].append(v)
    if source == _TABLE:  # a table listing a study twice is malformed: say so first
        _check_constant_within(per, where, source)
    _check_missing(per, kind, where, source)
    _check_constant_within(per, where, source)
    values = [v[0] for v in per.values()]
    distinct = sorted(set(values), key=str)
    if len(distinct) < 2:
        raise InvalidValueError(
            f"Covariate {where} takes the same value, {distinct[0]!r}, in every study of the "
            f"network ({len(values)} studies), so its effect is not identifiable (it is "
            "confounded with the treatment effects). Drop it from covariates=.",
            rule="covariate-constant",
        )
    if kind == "numeric":
        return kind, np.asarray(values, dtype=float), None, source
    levels = [lv for lv in order if lv in distinct] if order else sorted(distinct)
    return kind, np.asarray(values, dtype=object), tuple(levels), source


def _where(name: str, source: str) -> str:
    return f"{name!r} (column {name!r} of the {'studies table' if source == _TABLE else 'data'})"


def _no_column(name: str, network: Network, table: pd.DataFrame | None) -> MissingColumnError:
    """Rule ``covariate-column``: the column is neither in the studies table nor in the data."""
    frames = [df for df in (network.data, network.arm_data) if df is not None]
    cols = sorted({str(c) for df in frames for c in df.columns})
    places = f"in the data (columns: {format_items(cols, limit=12)})"
    if table is not None:
        tcols = [str(c) for c in table.columns]
        places = f"in the studies table (columns: {format_items(tcols, limit=12)}) nor {places}"
    return MissingColumnError(
        f"Covariate {name!r} is not a column {places}. Add the column (one value per study) to "
        "the studies table given as studies=, or to the data (constant within each study), or "
        "correct the name in covariates=.",
        rule="covariate-column",
    )


def _missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and bool(np.isnan(v))


def _cell_kind(v: object) -> str:
    if _missing(v):
        return "missing"
    if isinstance(v, bool | np.bool_):
        return "bool"
    if is_real(v):
        return "numeric"
    return "str" if isinstance(v, str) else type(v).__name__


def _normalise(s: pd.Series, where: str) -> tuple[str, list, tuple[str, ...] | None]:
    """Return ``(kind, cells, level order or None)``: floats, or str with None for missing."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        order = tuple(str(c) for c in dt.categories)
        return "categorical", [None if _missing(v) else str(v) for v in s.to_numpy(object)], order
    if pd.api.types.is_bool_dtype(dt):
        cells = [None if _missing(v) else str(bool(v)) for v in s.to_numpy(object)]
        return "categorical", cells, ("False", "True")
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
        return "numeric", s.to_numpy(dtype=float, na_value=np.nan).tolist(), None
    raw = s.to_numpy(dtype=object)
    kinds = {_cell_kind(v) for v in raw} - {"missing"}
    if kinds <= {"numeric"}:
        return "numeric", [np.nan if _missing(v) else float(v) for v in raw], None
    if kinds == {"str"}:
        return "categorical", [v if isinstance(v, str) and v.strip() else None for v in raw], None
    if kinds == {"bool"}:
        cells = [None if _missing(v) else str(bool(v)) for v in raw]
        return "categorical", cells, ("False", "True")
    raise InvalidValueError(
        f"Covariate {where} mixes values of types {', '.join(sorted(kinds))}. A numeric "
        "covariate holds numbers only, a categorical one strings (or booleans, or a pandas "
        "Categorical); nothing is converted automatically. Convert the column explicitly, e.g. "
        "pd.to_numeric(...) or .astype(str).",
        rule="non-numeric",
    )


def _check_missing(per: dict[str, list], kind: str, where: str, source: str) -> None:
    """Rule ``covariate-missing``: every study needs a (finite) value."""
    absent = [s for s, v in per.items() if not v]
    bad = [s for s, v in per.items() if any(_missing(x) or not _finite(x, kind) for x in v)]
    if not absent and not bad:
        return
    parts = []
    if bad:
        what = "missing or not finite" if kind == "numeric" else "missing (NaN/None/empty)"
        parts.append(f"it is {what} in studies {format_items(bad)}")
    if absent:
        table = "the studies table" if source == _TABLE else "the data table holding the column"
        parts.append(f"studies {format_items(absent)} are not in {table}")
    raise InvalidValueError(
        f"Covariate {where} must have a value for every study of the network, but "
        + "; ".join(parts)
        + ". Covariates are not imputed: fill in those values, or remove those studies from the "
        "data yourself.",
        rule="covariate-missing",
    )


def _finite(x: object, kind: str) -> bool:
    return kind != "numeric" or bool(np.isfinite(x))


def _check_constant_within(per: dict[str, list], where: str, source: str) -> None:
    """Rule ``covariate-not-constant`` (``studies-table`` for a study listed twice)."""
    per = {s: list(dict.fromkeys(None if _missing(x) else x for x in v)) for s, v in per.items()}
    several = {s: v for s, v in per.items() if len(v) > 1}
    if not several:
        return
    shown = format_items([f"{s}: {' / '.join(map(str, v))}" for s, v in several.items()])
    if source == _TABLE:
        raise InvalidValueError(
            f"The studies table (studies=) lists studies more than once with different values "
            f"of covariate {where}: {shown}. Give each study one row (or identical rows).",
            rule="studies-table",
        )
    raise InvalidValueError(
        f"Covariate {where} must be constant within each study (a study-level covariate), but "
        f"it differs between the rows of studies {shown}. Give each study one value in all its "
        "rows, or give the covariates in a studies table (studies=, one row per study).",
        rule="covariate-not-constant",
    )


# ---------------------------------------------------------------------------- warnings
def _warn_single_study_levels(cov: StudyCovariates, name: str) -> None:
    """Rule ``covariate-level-one-study``: a categorical level held by a single study."""
    if cov.kind(name) != "categorical":
        return
    col = cov.values[name]
    single = [lv for lv in cov.levels[name] if int((col == lv).sum()) == 1]
    if single:
        held = [f"{lv!r} (study {col.index[col == lv][0]!r})" for lv in single]
        _warn(
            f"Covariate {_where(name, cov.source[name])}: levels held by a single study: "
            f"{', '.join(held[:SHOWN_COMPARISONS])}"
            f"{', ...' if len(held) > SHOWN_COMPARISONS else ''} ({len(held)} in total). Their "
            "effects rest on that study alone (confounded with its own effects); consider "
            "merging rare levels.",
            "covariate-level-one-study",
        )


def _warn_empty_subgroups(cov: StudyCovariates, name: str, network: Network) -> None:
    """Rule ``covariate-subgroup-empty``: a comparison whose studies are all in one subgroup."""
    groups = cov.subgroups(name)
    if groups is None:
        return
    col = cov.values[name]
    lines = []
    for t1, t2, studies in network.comparisons()[["treatment1", "treatment2", "studies"]].values:
        seen = set(col.loc[list(studies)].tolist())
        if len(seen) == 1:
            only = next(iter(seen))
            none = ", ".join(f"{g!r}" for g in groups if g != only)
            lines.append(
                f"{t2} vs {t1} ({len(studies)} stud{'y' if len(studies) == 1 else 'ies'}, "
                f"all with {name}={only!r}; none with {none})"
            )
    if lines:
        shown = "; ".join(lines[:SHOWN_COMPARISONS])
        more = f"; ... ({len(lines)} in total)" if len(lines) > SHOWN_COMPARISONS else ""
        _warn(
            f"Subgroup covariate {_where(name, cov.source[name])}: the studies of these "
            f"comparisons all fall in one subgroup: {shown}{more}. The interaction of these "
            "comparisons is informed only through the rest of the network (by consistency), "
            "not by their own studies.",
            "covariate-subgroup-empty",
        )


def _warn(message: str, rule: str) -> None:
    warnings.warn(
        CovariateWarning(f"{message} [rule {rule}]", rule=rule),
        skip_file_prefixes=(_PACKAGE_DIR,),  # point at the user's call, however deep
    )
