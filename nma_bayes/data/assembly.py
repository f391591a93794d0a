"""Study records (contrasts vs the base arm) and their assembly into a network's padded arrays.

Every study, whatever its input form (contrast rows in two-arm, base or pairwise form, or arm-level
data), becomes one :class:`StudyRecord`: the contrasts of its non-base arms against its base arm,
the parts of their within-study covariance ``diag(var) + cov 11' + cov_u u u'`` and its arm sizes.
:func:`padded_arrays` stacks the records into the ``(S, K)`` arrays of a
:class:`~nma_bayes.data.network.Network`, padded to the largest number of contrasts ``K``, and
:func:`contrast_table` lists them as one long table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .arm_data import StudyArms
from .contrast_forms import StudyContrasts, resolve_study
from .outcomes import StudyOutcomes

__all__ = [
    "StudyRecord",
    "CONTRAST_COLUMNS",
    "record_from_contrasts",
    "record_from_arms",
    "study_records",
    "padded_arrays",
    "contrast_table",
]

#: Columns of :func:`contrast_table` (a network's ``contrasts`` attribute).
CONTRAST_COLUMNS = ("study", "treatment", "base", "TE", "seTE", "se_base", "n_arms", "form")


@dataclass(frozen=True)
class StudyRecord:
    """One study's contrasts vs its base arm, with the structured covariance and arm sizes.

    Attributes
    ----------
    study : str
        Study label.
    form : str
        ``"two-arm"``, ``"base"``, ``"pairwise"`` (contrast data) or ``"arms"``.
    base : str
        Treatment of the base arm.
    arms : tuple of str
        Treatment of each non-base arm.
    y : ndarray (k,)
        Contrast of each non-base arm vs the base arm.
    var : ndarray (k,)
        Variance part of each contrast (the non-base arm's variance).
    cov : float
        Variance shared by all contrasts (the base arm's; 0 for two-arm contrast studies).
    u, cov_u : ndarray (k,), float
        Rank-one covariance term ``cov_u u u'`` (non-zero only for SMDs from arm data).
    base_n : float
        Sample size of the base arm (NaN if unknown).
    arm_n : ndarray (k,)
        Sample sizes of the non-base arms (NaN if unknown).
    """

    study: str
    form: str
    base: str
    arms: tuple[str, ...]
    y: np.ndarray
    var: np.ndarray
    cov: float
    u: np.ndarray
    cov_u: float
    base_n: float
    arm_n: np.ndarray
    events: np.ndarray | None = None
    trials: np.ndarray | None = None
    offset: np.ndarray | None = None


def record_from_outcomes(so: StudyOutcomes) -> StudyRecord:
    """Return the record of a study given as arm-level outcomes (arm 0 is the base arm).

    Such a study has no contrasts: it enters the model through its arms' likelihood, so its
    contrast slots hold neutral values that the contrast likelihood masks out.
    """
    k = len(so.treatments) - 1
    return StudyRecord(
        study=so.study, form="outcomes", base=so.treatments[0], arms=so.treatments[1:],
        y=np.zeros(k), var=np.ones(k), cov=0.0, u=np.zeros(k), cov_u=0.0,
        base_n=float(so.trials[0]), arm_n=np.asarray(so.trials[1:], dtype=float),
        events=so.events, trials=so.trials, offset=so.offset,
    )  # fmt: skip


def record_from_contrasts(sc: StudyContrasts) -> StudyRecord:
    """Return the record of a study given as contrast rows (resolved to its base arm).

    A multi-arm study's contrasts share the base arm's variance ``se_base**2``; each keeps the
    rest of its ``seTE**2`` as its own variance. Arm sizes are unknown.
    """
    c = 0.0 if sc.form == "two-arm" else sc.se_base**2
    k = len(sc.arms)
    return StudyRecord(
        study=sc.study,
        form=sc.form,
        base=sc.base,
        arms=sc.arms,
        y=np.array(sc.TE),
        var=np.square(sc.seTE) - c,
        cov=c,
        u=np.zeros(k),
        cov_u=0.0,
        base_n=np.nan,
        arm_n=np.full(k, np.nan),
    )


def record_from_arms(sa: StudyArms, measure: str, smd_method: str) -> StudyRecord:
    """Return the record of a study given as arm-level data (arm 0 is the base arm)."""
    ac = sa.contrasts(measure, smd_method)
    return StudyRecord(
        study=sa.study,
        form="arms",
        base=sa.treatments[0],
        arms=sa.treatments[1:],
        y=ac.y,
        var=ac.var,
        cov=ac.cov,
        u=ac.u,
        cov_u=ac.cov_u,
        base_n=float(sa.n[0]),
        arm_n=np.asarray(sa.n[1:], dtype=float),
    )


def study_records(
    studies: Sequence[tuple[str, str, object]],
    treatments: Sequence[str],
    *,
    closure_tol: float,
    se_base_col: str,
    measure: str | None,
    smd_method: str,
) -> list[StudyRecord]:
    """Return the record of each parsed study, in order.

    Parameters
    ----------
    studies : sequence of (kind, study, data)
        ``("contrasts", study, rows)`` with the study's list of ``StudyRow``, or
        ``("arms", study, StudyArms)``.
    treatments : sequence of str
        Treatment order of the network (a pairwise-form study's base arm is chosen by it).
    closure_tol : float
        Rounding tolerance on ``TE`` for pairwise-form studies.
    se_base_col : str
        Name of the ``se_base`` column (for messages).
    measure, smd_method : str
        Effect measure and SMD definition for arm-level studies.

    Returns
    -------
    list of StudyRecord
    """
    treatment_order = {t: i for i, t in enumerate(treatments)}
    return [
        record_from_contrasts(
            resolve_study(
                s,
                obj,
                treatment_order=treatment_order,
                closure_tol=closure_tol,
                se_base_col=se_base_col,
            )
        )
        if kind == "contrasts"
        else record_from_outcomes(obj)
        if kind == "outcomes"
        else record_from_arms(obj, measure, smd_method)
        for kind, s, obj in studies
    ]


def padded_arrays(records: Sequence[StudyRecord], order: Mapping[str, int]) -> dict:
    """Stack study records into arrays padded to the largest number of contrasts.

    Parameters
    ----------
    records : sequence of StudyRecord
        The network's studies, in order (at least one).
    order : mapping
        Treatment to its index in the network's treatments.

    Returns
    -------
    dict of str to ndarray
        ``base`` (S,), ``arm`` (S, K), ``y``, ``var`` (padding 1), ``u``, ``mask``, ``arm_n``
        (S, K) and ``cov``, ``cov_u``, ``base_n`` (S,): the array attributes of a Network.
    """
    n_s, k = len(records), max(len(st.arms) for st in records)
    # ordered categorical outcomes: events per arm and cutpoint (S, K + 1, J), NaN if unreported
    cuts = [st.events.shape[1] for st in records if st.events is not None and st.events.ndim == 2]
    events = np.full((n_s, k + 1, cuts[0]), np.nan) if cuts else np.zeros((n_s, k + 1))
    arrays = {
        "base": np.zeros(n_s, dtype=np.int64),
        "arm": np.zeros((n_s, k), dtype=np.int64),
        "y": np.zeros((n_s, k)),
        "var": np.ones((n_s, k)),
        "cov": np.zeros(n_s),
        "u": np.zeros((n_s, k)),
        "cov_u": np.zeros(n_s),
        "mask": np.zeros((n_s, k), dtype=bool),
        "base_n": np.full(n_s, np.nan),
        "arm_n": np.full((n_s, k), np.nan),
        # arm-level outcomes, slot 0 the base arm (all zero for studies given otherwise)
        "events": events,
        "trials": np.ones((n_s, k + 1)),
        "offset": np.zeros((n_s, k + 1)),
        "outcome": np.zeros(n_s, dtype=bool),
    }
    for i, st in enumerate(records):
        m = len(st.arms)  # real contrasts; slots m.. keep their padding
        arrays["base"][i] = order[st.base]
        arrays["arm"][i, :m] = [order[t] for t in st.arms]
        for name in ("y", "var", "u", "arm_n"):
            arrays[name][i, :m] = getattr(st, name)
        for name in ("cov", "cov_u", "base_n"):
            arrays[name][i] = getattr(st, name)
        arrays["mask"][i, :m] = True
        if st.events is not None:
            for name in ("events", "trials", "offset"):
                arrays[name][i, : m + 1] = getattr(st, name)
            arrays["outcome"][i] = True
    return arrays


def contrast_table(records: Sequence[StudyRecord]) -> pd.DataFrame:
    """Return the contrasts of the records as a long table (columns :data:`CONTRAST_COLUMNS`).

    ``seTE`` is each contrast's total standard error and ``se_base`` the base arm's (NaN for
    two-arm contrast studies, which have no shared variance).
    """
    rows = []
    for st in (st for st in records if st.events is None):  # outcome studies have no contrasts
        se_te = np.sqrt(st.var + st.cov + st.cov_u * st.u**2)
        se_b = np.sqrt(st.cov) if st.form != "two-arm" else np.nan
        for t, te, s in zip(st.arms, st.y, se_te, strict=True):
            rows.append((st.study, t, st.base, te, s, se_b, len(st.arms) + 1, st.form))
    return pd.DataFrame.from_records(rows, columns=list(CONTRAST_COLUMNS))
