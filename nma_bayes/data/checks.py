"""Validators of the catalogue's range and structure rules.

The bounds live in :mod:`nma_bayes.data.validation` (``SE_BOUNDS``, ``ABS_VALUE_MAX``, ``N_MAX``,
``EXPOSURE_MAX``, ``SE_RATIO_MAX``, ``TE_SE_RATIO_MAX``, ``MEASURE_RANGES``) and are documented in
``docs/data.md``. Two kinds of rule:

* hard bounds on the input columns (``out-of-range``): numbers whose squares, fourth powers and
  sums of squares the engines cannot compute in floating point; a sanity bound on exposures and
  follow-up times (``exposure-too-large``);
* unit-free plausible ranges of the network's contrasts (``se-spread``, ``te-vs-se``) and, for
  measures on a known scale, absolute ones (``implausible-for-measure``).

Structure rules: ``single-treatment`` and ``se-base-two-arm``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError
from . import validation as V

if TYPE_CHECKING:  # pragma: no cover
    from .contrast_forms import StudyRow

#: The assembled :class:`~nma_bayes.data.network.Network` these rules check. Not imported, even
#: for type checking: ``data.network`` imports this module, and the house has no import circles.
Network = Any

__all__ = [
    "check_bounds",
    "check_network_ranges",
    "check_two_treatments",
    "check_se_base_two_arm",
]

_FIX = (
    "Check the units and the entries (a mistyped exponent, a variance or a CI width entered as a "
    "standard error, a value in the wrong column); if the values are right, rescale the data to "
    "ordinary units."
)


def _listed(items: Sequence[str], limit: int = 5) -> str:
    """Like :func:`format_items`, for items already formatted as text (no quotes)."""
    shown = ", ".join(items[:limit]) + (", ..." if len(items) > limit else "")
    return f"{shown} ({len(items)} in total)"


def check_bounds(values: np.ndarray, col: str, index: pd.Index, kind: str) -> None:
    """Apply the hard bounds of rule ``out-of-range`` to one input column (NaN ignored).

    Parameters
    ----------
    values : ndarray
        The column as floats.
    col : str
        Column name (for the message).
    index : Index
        Row labels.
    kind : {"se", "abs", "n", "count", "exposure"}
        Standard errors and SDs (within ``SE_BOUNDS``), effects and means (``|x| <=
        ABS_VALUE_MAX``), sample sizes or event counts (``<= N_MAX``), or exposures and follow-up
        times (``<= EXPOSURE_MAX``, rule ``exposure-too-large``).
    """
    if kind == "exposure":
        _check_exposure(values, col, index)
        return
    with np.errstate(invalid="ignore"):
        if kind == "se":
            lo, hi = V.SE_BOUNDS
            bad = (values < lo) | (values > hi)
            allowed = f"between {lo:g} and {hi:g} (a standard error or SD)"
        elif kind == "abs":
            bad = np.abs(values) > V.ABS_VALUE_MAX
            allowed = f"at most {V.ABS_VALUE_MAX:g} in absolute value"
        else:
            bad = values > V.N_MAX
            what = "an event count" if kind == "count" else "a sample size"
            allowed = f"at most {V.N_MAX:g} ({what} per arm)"
    if bad.any():
        cells = [f"row {lab}: {v:.6g}" for lab, v in zip(index[bad], values[bad], strict=True)]
        raise InvalidValueError(
            f"Column {col!r} must hold values {allowed}, but {_listed(cells)} (by index label) "
            f"lie outside; squares and sums of squares of such numbers are not computable in "
            f"floating point. {_FIX}",
            rule="out-of-range",
        )


def _check_exposure(values: np.ndarray, col: str, index: pd.Index) -> None:
    """Rule ``exposure-too-large``: an exposure or follow-up time above ``EXPOSURE_MAX``."""
    with np.errstate(invalid="ignore"):
        bad = values > V.EXPOSURE_MAX
    if bad.any():
        cells = [f"row {lab}: {v:.6g}" for lab, v in zip(index[bad], values[bad], strict=True)]
        raise InvalidValueError(
            f"Column {col!r} (exposure or follow-up time per arm) must be at most "
            f"{V.EXPOSURE_MAX:g}, but {_listed(cells)} (by index label) exceed it: more than the "
            "person-days of the world's population over a century. Check the entries for a "
            "mistyped exponent or a column in the wrong units (e.g. person-seconds); if they are "
            "right, express the exposure in larger units (person-years, or thousands of them): "
            "the rate ratios do not change.",
            rule="exposure-too-large",
        )


def check_two_treatments(treatments: Sequence[str], columns: Mapping[str, str]) -> None:
    """Rule ``single-treatment``: a network compares at least two treatments."""
    if len(treatments) < 2:
        cols = [columns[r] for r in ("treat1", "treat2", "treatment") if r in columns]
        raise InvalidValueError(
            f"The network has a single treatment, {treatments[0]!r} (columns "
            f"{', '.join(map(repr, cols))}): every study compares it with itself, so there is "
            "no relative effect to estimate. A network meta-analysis needs at least two "
            "treatments; check the treatment columns.",
            rule="single-treatment",
        )


def check_se_base_two_arm(rows: Mapping[str, Sequence[StudyRow]], col: str) -> None:
    """Rule ``se-base-two-arm``: ``se_base`` is meaningless for a two-arm (one-row) study."""
    bad = [(s, r[0]) for s, r in rows.items() if len(r) == 1 and not np.isnan(r[0].se_base)]
    if bad:
        cells = [f"study {s!r} (row {r.label}: {r.se_base:g})" for s, r in bad]
        raise InvalidValueError(
            f"Column {col!r} (the SE of the base arm of a multi-arm study) is given for two-arm "
            f"studies, where it has no meaning and would be ignored: {_listed(cells)}. Leave "
            f"{col!r} empty (NaN) for two-arm studies; if a study has more arms, add its other "
            "contrasts.",
            rule="se-base-two-arm",
        )


# ------------------------------------------------------------------------ network-level
def _source(net: Network, se_only: bool = False) -> str:
    cols, forms = net.columns, set(net.form)
    parts = []
    if forms - {"arms"} and se_only:
        base = f" and {cols['se_base']!r}" if forms - {"arms", "two-arm"} else ""
        parts.append(f"column {cols['seTE']!r}{base}")
    elif forms - {"arms"}:
        parts.append(f"columns {cols['TE']!r} and {cols['seTE']!r}")
    if "arms" in forms:
        names = [cols[r] for r in ("mean", "sd", "n", "se") if r in cols]
        parts.append(f"contrasts computed from arm columns {', '.join(map(repr, names))}")
    return " and ".join(parts)


_SCALE_HINTS = {
    "SMD": "standardised, not raw mean differences",
    "RD": "risk differences as proportions, not percentages",
    "log": "log ratios, not ratios or percentages",
}


def _where(c: pd.DataFrame) -> list[str]:
    return [
        f"study {s!r} ({t} vs {b})" for s, t, b in zip(c.study, c.treatment, c.base, strict=True)
    ]


def check_network_ranges(net: Network) -> None:
    """Rules ``implausible-for-measure``, ``se-spread`` and ``te-vs-se`` on a built network.

    They apply to the contrasts; a network of arm-level outcomes only has none to check.
    """
    c = net.contrasts
    if c.empty:
        return
    te, se, where = c["TE"].to_numpy(float), c["seTE"].to_numpy(float), _where(c)
    if net.measure in V.MEASURE_RANGES:
        max_te, max_se = V.MEASURE_RANGES[net.measure]
        bad = (np.abs(te) > max_te) | (se > max_se)
        if bad.any():
            cells = [f"{w}: TE={t:.4g}, seTE={s:.4g}" for w, t, s, b in
                     zip(where, te, se, bad, strict=True) if b]  # fmt: skip
            raise InvalidValueError(
                f"measure={net.measure!r}: |TE| must be at most {max_te:g} and seTE at most "
                f"{max_se:g} on this scale, but {_listed(cells)} ({_source(net)}) are not. "
                f"Check that the data are on the {net.measure} scale "
                f"({_SCALE_HINTS.get(net.measure, _SCALE_HINTS['log'])}) and that measure= is "
                f"right. {_FIX}",
                rule="implausible-for-measure",
            )
    _check_se_spread(net, se, where)
    ratio = np.abs(te).max() / se.min()
    if ratio > V.TE_SE_RATIO_MAX:
        big = np.abs(te) > V.TE_SE_RATIO_MAX * se.min()
        cells = [f"{w}: TE={t:.4g}" for w, t, b in zip(where, te, big, strict=True) if b]
        i = int(np.argmin(se))
        raise InvalidValueError(
            f"|TE| reaches {ratio:.3g} times the smallest standard error of the network "
            f"({where[i]}: seTE={se[i]:.4g}), more than {V.TE_SE_RATIO_MAX:g} ({_source(net)}); "
            f"effects this large: {_listed(cells)}. No trial measures an effect to one part in "
            f"a million, and every engine loses precision here. {_FIX}",
            rule="te-vs-se",
        )


def _check_se_spread(net: Network, se: np.ndarray, where: list[str]) -> None:
    """Rule ``se-spread`` over contrast SEs and the arm-level parts of the covariance."""
    values, labels = list(se), [f"{w}: seTE" for w in where]
    for i, study in enumerate(net.studies):
        m = net.mask[i]
        if net.cov[i] > 0:
            values.append(float(np.sqrt(net.cov[i])))
            labels.append(f"study {study!r} (base arm {net.treatments[net.base[i]]}: SE)")
        for t, v in zip(net.arm[i, m], net.var[i, m], strict=True):
            if net.cov[i] > 0 or net.form[i] == "arms":
                values.append(float(np.sqrt(v)))
                labels.append(f"study {study!r} (arm {net.treatments[t]}: SE)")
    values = np.asarray(values)
    lo, hi = values.min(), values.max()
    if hi / lo > V.SE_RATIO_MAX:
        order = np.argsort(values)
        small = [f"{labels[j]}={values[j]:.4g}" for j in order if values[j] * V.SE_RATIO_MAX < hi]
        large = [f"{labels[j]}={values[j]:.4g}" for j in order[::-1] if values[j] > lo * 1e3]
        raise InvalidValueError(
            f"Standard errors in the network span a factor of {hi / lo:.3g}, more than "
            f"{V.SE_RATIO_MAX:g} ({_source(net, se_only=True)}; the arm SEs of multi-arm studies "
            f"count too: se_base and sqrt(seTE**2 - se_base**2)). Smallest: {_listed(small)}; "
            f"largest: {_listed(large, 3)}. Precisions this far apart make every engine "
            "ill-conditioned. "
            f"{_FIX}",
            rule="se-spread",
        )
