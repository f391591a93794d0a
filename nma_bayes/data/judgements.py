"""Study-level judgements for CINeMA: risk of bias and indirectness (rule ``study-judgements``).

CINeMA (Nikolakopoulou et al. 2020, PLoS Med 17:e1003082; its documentation, "My projects")
takes one judgement per study for within-study bias and one for indirectness, each low, some
concerns (unclear) or high, coded 1, 2, 3 or ``L``, ``U``/``M``/``S``, ``H``. This module reads
them, for every study of the network and no other, before anything is computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, format_items

__all__ = ["check_judgements", "JUDGEMENT_CODES"]

#: Accepted spellings of the three levels (case and surrounding space ignored).
JUDGEMENT_CODES: dict[str, int] = {
    "1": 1, "l": 1, "low": 1, "low risk": 1, "no concerns": 1,
    "2": 2, "u": 2, "m": 2, "s": 2, "unclear": 2, "moderate": 2, "some concerns": 2,
    "3": 3, "h": 3, "high": 3, "high risk": 3, "major concerns": 3,
}  # fmt: skip


def _code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return int(value) if float(value) in (1.0, 2.0, 3.0) else None
    if isinstance(value, str):
        return JUDGEMENT_CODES.get(value.strip().lower())
    return None


def check_judgements(values, studies: Sequence[str], *, name: str) -> np.ndarray:
    """Return the level (1 low, 2 some concerns, 3 high) of every study, in ``studies`` order.

    Parameters
    ----------
    values : mapping or Series
        Study label -> judgement (1/2/3, ``"L"/"U"/"H"``, ``"low"``, ``"some concerns"``,
        ``"high"``, ...).
    studies : sequence of str
        The network's studies: each needs exactly one judgement.
    name : str
        The argument's name, for messages (``"rob"``, ``"indirectness"``).

    Raises
    ------
    InvalidValueError
        (rule ``study-judgements``) Not a mapping, a study of the network without a judgement,
        a judgement for a study the network does not have, or a value that is not a level.
    """
    if isinstance(values, pd.Series):
        values = values.to_dict()
    if not isinstance(values, Mapping):
        raise InvalidValueError(
            f"{name}= must map each study to its judgement (a dict or a Series indexed by "
            f"study), got {type(values).__name__}. E.g. {name}=studies.set_index('study')"
            f"['{name}'].",
            rule="study-judgements",
        )
    labels = {str(k): v for k, v in values.items()}
    known = set(studies)  # built once: the membership tests below run per label
    missing = [s for s in studies if s not in labels]
    unknown = [k for k in labels if k not in known]
    bad = [f"{k!r}: {v!r}" for k, v in labels.items() if k in known and _code(v) is None]
    problems = []
    if missing:
        problems.append(f"no judgement for {len(missing)} studies: {format_items(missing)}")
    if unknown:
        problems.append(f"studies not in the network: {format_items(unknown)}")
    if bad:
        problems.append(f"values that are not a level: {format_items(bad)}")
    if problems:
        raise InvalidValueError(
            f"{name}=: " + "; ".join(problems) + ". Give every study of the network exactly one "
            "of 1/2/3, 'L'/'U'/'H', 'low'/'some concerns'/'high' (rule study-judgements).",
            rule="study-judgements",
        )
    return np.array([_code(labels[s]) for s in studies], dtype=int)
