"""Column-level validators: column names and roles, and numeric columns read cell by cell.

Part of the validation catalogue (:data:`nma_bayes.data.validation.RULES`): ``missing-column``,
``column-in-two-roles``, ``duplicate-column``, ``bad-option`` (column names) and
``non-numeric``. A numeric column is never coerced: cells that do not parse are named one by one
(row label and raw value), with a hint for the usual CSV culprits (a Unicode minus sign, a decimal
comma).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, MissingColumnError, ModelSpecError, format_items
from ..base.validate import is_real

__all__ = ["check_columns", "check_unique_columns", "numeric_column"]


def check_columns(
    df: pd.DataFrame, columns: dict[str, str], required: Sequence[str], constructor: str
) -> None:
    """Check the column names of each role, and that the required ones are present once each.

    Raises ``bad-option`` (a name that is not a string), ``column-in-two-roles`` (one column
    named for two roles, e.g. ``TE="seTE"``), ``duplicate-column`` (the DataFrame holds a named
    column twice) and ``missing-column``.
    """
    roles: dict[str, list[str]] = {}
    for role, name in columns.items():
        if not isinstance(name, str):
            raise ModelSpecError(
                f"Column name for {role}= must be a string, got {name!r}.", rule="bad-option"
            )
        roles.setdefault(name, []).append(role)
    shared = {n: r for n, r in roles.items() if len(r) > 1}
    if shared:
        what = "; ".join(
            f"{n!r} for {' and '.join(f'{r}=' for r in rs)}" for n, rs in shared.items()
        )
        first = next(iter(shared.values()))
        example = ", ".join(f"{r}='<column of {r}>'" for r in first)
        raise ModelSpecError(
            f"One column is named for two roles: {what}. Each role needs its own column; pass "
            f"the right names, e.g. {constructor}(df, {example}).",
            rule="column-in-two-roles",
        )
    check_unique_columns(df, roles)
    missing = [r for r in required if columns[r] not in df.columns]
    if missing:
        what = ", ".join(f"{columns[r]!r} (role {r!r})" for r in missing)
        kw = ", ".join(f"{r}='<your column>'" for r in missing)
        raise MissingColumnError(
            f"Required column(s) {what} not found. Columns present: "
            f"{format_items([str(c) for c in df.columns], limit=12)}. If the data use other "
            f"names, rename them with keyword arguments, e.g. {constructor}(df, {kw}).",
            rule="missing-column",
        )


def check_unique_columns(df: pd.DataFrame, names: Iterable[object]) -> None:
    """Refuse a column used by the analysis that the DataFrame holds twice under one name."""
    dup = [n for n in dict.fromkeys(names) if int((df.columns == n).sum()) > 1]
    if dup:
        raise InvalidValueError(
            f"The data frame has several columns named {format_items(dup)}, so it is ambiguous "
            "which one to use. Rename or drop the duplicates, e.g. df = df.loc[:, "
            "~df.columns.duplicated()] once you have checked they hold the same values.",
            rule="duplicate-column",
        )


def _parses(v: object) -> bool:
    if is_real(v) or v is None or v is pd.NA:
        return True
    if not isinstance(v, str) or "_" in v:
        return False
    try:
        float(v)
    except ValueError:
        return False
    return True


def _cell_hint(cells: list[object]) -> str:
    text = "".join(v for v in cells if isinstance(v, str))
    odd = sorted({c for c in text if not c.isascii()})
    if odd:
        names = ", ".join(f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})" for c in odd[:3])
        return f" They contain non-ASCII characters: {names}; use ASCII ('-', '.', digits)."
    if "," in text:
        return " Decimal commas? Read the file with pd.read_csv(..., decimal=',')."
    return ""


def numeric_column(df: pd.DataFrame, col: str) -> np.ndarray:
    """Return ``col`` as float64 without coercing strings; missing values become NaN.

    Raises ``non-numeric`` naming only the cells that do not parse as numbers (row label and raw
    value), or, if every cell parses, saying that the column holds numbers stored as text.
    """
    s = df[col]
    dt = s.dtype
    if (
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and not pd.api.types.is_complex_dtype(dt)
    ):
        return s.to_numpy(dtype=float, na_value=np.nan)
    values = s.to_numpy(dtype=object)
    cells = list(zip(df.index, values, strict=True))
    text = pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt)
    bad = [(lab, v) for lab, v in cells if not (text and _parses(v))]
    if bad:
        raise InvalidValueError(
            f"Column {col!r} must be numeric (dtype {dt}), but {len(bad)} cell(s) hold "
            f"non-numeric values: {', '.join(f'row {lab}: {v!r}' for lab, v in bad[:5])}"
            f"{', ...' if len(bad) > 5 else ''} (by index label).{_cell_hint([v for _, v in bad])}"
            f" Fix those cells; nothing is converted automatically (then convert the column "
            f"explicitly, e.g. df[{col!r}] = pd.to_numeric(df[{col!r}])).",
            rule="non-numeric",
        )
    as_text = [(lab, v) for lab, v in cells if isinstance(v, str)]
    if as_text:
        raise InvalidValueError(
            f"Column {col!r} must be numeric (dtype {dt}), but rows "
            f"{format_items([lab for lab, _ in as_text])} (by index label) hold numbers stored as "
            f"text (e.g. {as_text[0][1]!r}); values are not converted automatically. Convert the "
            f"column explicitly, e.g. df[{col!r}] = pd.to_numeric(df[{col!r}]).",
            rule="non-numeric",
        )
    return np.array([np.nan if v is None or v is pd.NA else float(v) for v in values])
