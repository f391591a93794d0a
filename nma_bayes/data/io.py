"""Reading a CSV table of study data without pandas' silent guesses.

:func:`read_csv_table` is what the command line uses, and what a Python user can use to read the
same files the same way. Compared with a plain ``pd.read_csv(path)`` it

* keeps label columns (``study``, ``treat1``, ``treat2``, ``treatment`` and any extra label
  columns, e.g. the classes column) as the strings in the file: integer study ids or treatment
  codes (``1``, ``2``) are labels ``"1"``, ``"2"``, and ``NA``, ``None`` or ``null`` stay labels
  instead of becoming missing values;
* parses every other column as numbers where every cell is a number or empty (an empty cell, or a
  usual missing-value token such as ``NA``, is missing); a column with any other text is kept as
  text, so that validation names the offending rows;
* refuses a header that repeats a column name (pandas renames the second ``TE`` to ``TE.1``;
  rule ``duplicate-column``) and a row with more or fewer fields than the header, which shifts
  or pads the columns (rule ``ragged-row``), naming the column or the line numbers.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pandas as pd

from ..base.errors import InvalidValueError, NMAInputError, format_items

__all__ = ["LABEL_COLUMNS", "read_csv_table"]

#: Columns read as text labels by default (contrast and arm-level layouts).
LABEL_COLUMNS = ("study", "treat1", "treat2", "treatment")

#: Cell texts read as missing in numeric columns (pandas' default missing-value tokens).
MISSING_TOKENS = frozenset(
    {
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
        "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
    }
)  # fmt: skip


def _records(handle: IO[str], name: str) -> tuple[list[str], list[list[str]]]:
    """Parse the header and the data records, checking every record's field count."""
    reader = csv.reader(handle, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    ragged: list[tuple[int, int]] = []
    line = 0
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if header is None:
                header = record
            elif len(record) != len(header):
                ragged.append((start, len(record)))
            else:
                rows.append(record)
    except csv.Error as exc:
        raise NMAInputError(f"cannot read {name}: line {reader.line_num}: {exc}.") from exc
    if header is None:
        raise InvalidValueError(
            f"{name} is empty: it has no header and no rows.", rule="empty-data"
        )
    if ragged:
        first, n = ragged[0]
        raise InvalidValueError(
            f"Rows of {name} have a different number of fields from the header "
            f"({len(header)}): lines {format_items([ln for ln, _ in ragged])} (line {first} has "
            f"{n} fields). A stray or missing delimiter shifts the columns; fix those lines (quote "
            'fields that contain a comma, e.g. "a, b", and write empty fields explicitly).',
            rule="ragged-row",
        )
    return header, rows


def _column_names(header: list[str], name: str) -> list[str]:
    """Check the header for repeated names; name empty header cells as pandas does."""
    counts = Counter(h for h in header if h != "")
    repeated = [h for h, k in counts.items() if k > 1]
    if repeated:
        where = "; ".join(
            f"{h!r} in columns {', '.join(str(i + 1) for i, x in enumerate(header) if x == h)}"
            for h in repeated
        )
        raise InvalidValueError(
            f"The header of {name} repeats column names: {where}. pandas would silently rename "
            f"the repeat (e.g. {repeated[0]!r} to '{repeated[0]}.1') and the wrong column could "
            "be analysed; rename or remove the repeated column.",
            rule="duplicate-column",
        )
    return [h if h != "" else f"Unnamed: {i}" for i, h in enumerate(header)]


def _numeric_or_text(values: list[str]) -> pd.Series:
    """Numbers if every cell is a number or missing; otherwise text (missing cells as None)."""
    missing = [v.strip() in MISSING_TOKENS for v in values]
    text = pd.Series([None if m else v for v, m in zip(values, missing, strict=True)], dtype=object)
    try:
        return pd.to_numeric(text)
    except (ValueError, TypeError):
        return text


def read_csv_table(
    source: str | os.PathLike | IO[str], *, labels: Iterable[str] = ()
) -> pd.DataFrame:
    """Read a CSV file of contrasts or arms, keeping labels as text and refusing malformed rows.

    Parameters
    ----------
    source : str, path or text file object
        The CSV file (UTF-8, with or without a byte-order mark; comma-separated, ``"`` quotes).
    labels : iterable of str
        Columns read as text labels besides :data:`LABEL_COLUMNS` (e.g. a classes column).

    Returns
    -------
    DataFrame
        One row per data line (blank lines are skipped), with a default integer index. Label
        columns hold the file's strings unchanged (an empty cell is an empty string, which
        validation then refuses); the other columns are numeric where possible, else text.

    Raises
    ------
    NMAInputError
        The file cannot be opened or decoded, or is not well-formed CSV (with the line number).
    InvalidValueError
        The file is empty (rule ``empty-data``), the header repeats a column name (rule
        ``duplicate-column``), or a row has more or fewer fields than the header (rule
        ``ragged-row``).
    """
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "the CSV input"))
        header, rows = _records(source, name)
    else:
        name = str(source)
        try:
            with Path(source).open(newline="", encoding="utf-8-sig") as handle:
                header, rows = _records(handle, name)
        except UnicodeDecodeError as exc:
            raise NMAInputError(
                f"cannot read {name}: it is not UTF-8 text ({exc}). Save it as CSV UTF-8."
            ) from exc
        except OSError as exc:
            raise NMAInputError(f"cannot read {name}: {exc.strerror or exc}.") from exc
    columns = _column_names(header, name)
    label_set = set(LABEL_COLUMNS) | set(labels)
    data = {}
    for j, col in enumerate(columns):
        values = [row[j] for row in rows]
        if col in label_set:
            data[col] = pd.Series(values, dtype=object)
        else:
            data[col] = _numeric_or_text(values)
    return pd.DataFrame(data, columns=columns)
