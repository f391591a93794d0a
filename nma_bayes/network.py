"""A validated, immutable network of study contrasts.

:meth:`Network.from_contrasts` validates a long table of contrasts (``TE`` = ``treat1`` minus
``treat2``), resolves every multi-arm study into contrasts against its base arm with their exact
within-study covariance, and stores padded per-study arrays for the models. Every problem with the
input is raised as a subclass of :class:`~nma_bayes.errors.NMAInputError` before anything else;
nothing is dropped, coerced, merged or reordered silently.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._contrast_forms import StudyContrasts, StudyRow, resolve_study
from .errors import (
    DisconnectedNetworkError,
    InvalidValueError,
    MissingColumnError,
    ModelSpecError,
    TreatmentNameWarning,
    UnknownTreatmentError,
    format_items,
)

__all__ = ["Network"]

_REQUIRED = ("study", "treat1", "treat2", "TE", "seTE")
_LABEL_ROLES = ("study", "treat1", "treat2")


# ----------------------------------------------------------------------------- validators
def _check_frame(df: object) -> None:
    """Reject anything but a non-empty DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"Network.from_contrasts expects a pandas DataFrame, got {type(df)!r}.")
    if len(df) == 0:
        raise InvalidValueError("The data frame has no rows; give one row per study contrast.")


def _check_closure_tol(closure_tol: object) -> float:
    """Return ``closure_tol`` as a float after checking it is a finite number >= 0."""
    ok = isinstance(closure_tol, int | float | np.integer | np.floating) and not isinstance(
        closure_tol, bool | np.bool_
    )
    if not ok or not np.isfinite(closure_tol) or closure_tol < 0:
        raise ModelSpecError(
            f"closure_tol must be a finite number >= 0 (a rounding tolerance on TE), "
            f"got {closure_tol!r}."
        )
    return float(closure_tol)


def _check_columns(df: pd.DataFrame, columns: dict[str, str]) -> None:
    """Raise MissingColumnError for a required role whose column is absent."""
    for role, name in columns.items():
        if not isinstance(name, str):
            raise TypeError(f"Column name for {role}= must be a string, got {name!r}.")
    missing = [r for r in _REQUIRED if columns[r] not in df.columns]
    if missing:
        what = ", ".join(f"{columns[r]!r} (role {r!r})" for r in missing)
        kw = ", ".join(f"{r}='<your column>'" for r in missing)
        raise MissingColumnError(
            f"Required column(s) {what} not found. Columns present: "
            f"{format_items([str(c) for c in df.columns], limit=12)}. If the data use other "
            f"names, rename them with keyword arguments, e.g. Network.from_contrasts(df, {kw})."
        )


def _check_labels(df: pd.DataFrame, col: str) -> np.ndarray:
    """Require non-empty string labels in ``col``; return them as an object array."""
    values = df[col].to_numpy(dtype=object)
    idx = df.index
    missing, not_str, empty = [], [], []
    for i, v in enumerate(values):
        if isinstance(v, str):
            if not v.strip():
                empty.append(idx[i])
        elif v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            missing.append(idx[i])
        else:
            not_str.append(idx[i])
    if missing:
        raise InvalidValueError(
            f"Column {col!r} is missing (NaN/None) in rows {format_items(missing)} (by index "
            f"label). Every row needs a label; fill them in or remove those rows yourself."
        )
    if empty:
        raise InvalidValueError(
            f"Column {col!r} holds empty or whitespace-only labels in rows "
            f"{format_items(empty)} (by index label). Give every row a non-empty label."
        )
    if not_str:
        example = values[idx.get_indexer([not_str[0]])[0]] if idx.is_unique else None
        raise InvalidValueError(
            f"Column {col!r} must hold strings, but rows {format_items(not_str)} (by index label) "
            f"hold other types (e.g. {example!r}). Labels are not converted automatically; "
            f"convert them explicitly, e.g. df[{col!r}] = df[{col!r}].astype(str)."
        )
    return values


def _is_real_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _numeric_column(df: pd.DataFrame, col: str) -> np.ndarray:
    """Return ``col`` as float64 without coercing strings; missing values become NaN."""
    s = df[col]
    dt = s.dtype
    if (
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and not pd.api.types.is_complex_dtype(dt)
    ):
        return s.to_numpy(dtype=float, na_value=np.nan)
    values = s.to_numpy(dtype=object)
    bad = [
        (lab, v)
        for lab, v in zip(df.index, values, strict=True)
        if not (_is_real_number(v) or v is None or v is pd.NA)
    ]
    if bad or not pd.api.types.is_object_dtype(dt):
        bad = bad or list(zip(df.index, values, strict=True))
        raise InvalidValueError(
            f"Column {col!r} must be numeric (dtype {dt}), but rows "
            f"{format_items([lab for lab, _ in bad])} (by index label) hold non-numeric values "
            f"such as {bad[0][1]!r}. Values are not converted automatically; fix the entries or "
            f"convert the column explicitly, e.g. df[{col!r}] = pd.to_numeric(df[{col!r}])."
        )
    return np.array([np.nan if v is None or v is pd.NA else float(v) for v in values])


def _check_finite(values: np.ndarray, col: str, index: pd.Index, *, allow_nan: bool) -> None:
    """Reject infinite values, and NaN unless ``allow_nan``."""
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    if bad.any():
        what = "infinite" if allow_nan else "missing (NaN) or infinite"
        raise InvalidValueError(
            f"Column {col!r} holds {what} values in rows {format_items(index[bad])} (by index "
            f"label). Every contrast needs a finite value; fix or remove those rows yourself."
        )


def _check_positive(values: np.ndarray, col: str, index: pd.Index) -> None:
    """Reject values <= 0 (NaN is ignored: it means 'not given')."""
    bad = values <= 0
    if bad.any():
        raise InvalidValueError(
            f"Column {col!r} must be > 0 (it is a standard error), but rows "
            f"{format_items(index[bad])} (by index label) hold {format_items(values[bad])}. "
            f"Correct those standard errors."
        )


def _check_duplicates(
    study: np.ndarray, t1: np.ndarray, t2: np.ndarray, te: np.ndarray, se: np.ndarray, cols, index
) -> None:
    """Reject rows that repeat another row's study, treat1, treat2, TE and seTE exactly."""
    key = pd.DataFrame({"s": study, "a": t1, "b": t2, "te": te, "se": se})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        studies = list(dict.fromkeys(study[dup]))
        raise InvalidValueError(
            f"Rows {format_items(index[dup])} (by index label) are exact duplicates (same "
            f"{cols['study']!r}, {cols['treat1']!r}, {cols['treat2']!r}, {cols['TE']!r} and "
            f"{cols['seTE']!r}) in studies {format_items(studies)}. Remove the repeated rows, or "
            f"label the studies distinctly if they really are different studies."
        )


def _warn_similar_names(names: Iterable[str]) -> None:
    """Warn about treatment names that differ only by case or surrounding whitespace."""
    groups: dict[str, list[str]] = {}
    for n in sorted(set(names)):
        groups.setdefault(n.strip().casefold(), []).append(n)
    similar = [g for g in groups.values() if len(g) > 1]
    if similar:
        shown = format_items([" / ".join(repr(n) for n in g) for g in similar])
        warnings.warn(
            f"Treatment names differ only by letter case or surrounding whitespace: {shown}. "
            f"They are kept as distinct treatments; if they are the same treatment, harmonise the "
            f"names in the data (e.g. df[col].str.strip()).",
            TreatmentNameWarning,
            stacklevel=3,
        )


def _resolve_treatments(observed: set[str], treatments: Sequence[str] | None) -> tuple[str, ...]:
    """Return the treatment order: the user's list (checked) or ``sorted(observed)``."""
    if treatments is None:
        return tuple(sorted(observed))
    if isinstance(treatments, str) or not isinstance(treatments, Iterable):
        raise InvalidValueError(
            f"treatments= must be a list of treatment names, got {treatments!r}."
        )
    order = list(treatments)
    non_str = [t for t in order if not isinstance(t, str)]
    if non_str:
        raise InvalidValueError(
            f"treatments= must hold strings; got {format_items(non_str)}. Convert with str()."
        )
    dups = sorted({t for t in order if order.count(t) > 1})
    if dups:
        raise InvalidValueError(f"treatments= lists {format_items(dups)} more than once.")
    extra = [t for t in order if t not in observed]
    absent = sorted(observed - set(order))
    if extra or absent:
        parts = []
        if extra:
            parts.append(f"{format_items(extra)} listed but not in the data")
        if absent:
            parts.append(f"{format_items(absent)} in the data but not listed")
        raise UnknownTreatmentError(
            f"treatments= must list exactly the treatments in the data: "
            f"{'; '.join(parts)}. Treatments in the data: {format_items(sorted(observed), 20)}."
        )
    return tuple(order)


def _resolve_reference(
    reference: str | None, treatments: tuple[str, ...], study_sets: dict[str, set[str]]
) -> tuple[str, str]:
    """Return ``(reference, reference_rule)``."""
    if reference is not None:
        if reference not in treatments:
            same = [t for t in treatments if t.strip().casefold() == str(reference).casefold()]
            close = same or difflib.get_close_matches(str(reference), treatments, n=3)
            hint = f" Did you mean {format_items(close)}?" if close else ""
            raise UnknownTreatmentError(
                f"reference={reference!r} is not a treatment in the network.{hint} Available "
                f"treatments: {format_items(treatments, limit=20)}."
            )
        return reference, f"given by the user (reference={reference!r})"
    n = {t: 0 for t in treatments}
    for ts in study_sets.values():
        for t in ts:
            n[t] += 1
    top = max(n.values())
    tied = [t for t in treatments if n[t] == top]  # in `treatments` order
    ref = tied[0]
    rule = (
        f"chosen automatically as the treatment in the most studies: {ref!r} is in {top} of "
        f"{len(study_sets)} studies"
    )
    if len(tied) > 1:
        rule += f"; tied with {format_items(tied[1:])}, broken by the order of `treatments`"
    return ref, rule


def _check_connected(
    treatments: tuple[str, ...], study_sets: dict[str, set[str]], study_col: str
) -> None:
    """Raise DisconnectedNetworkError unless every treatment is linked through studies."""
    parent = {t: t for t in treatments}

    def find(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for ts in study_sets.values():
        first, *rest = sorted(ts)
        for t in rest:
            parent[find(t)] = find(first)
    comps: dict[str, list[str]] = {}
    for t in treatments:
        comps.setdefault(find(t), []).append(t)
    if len(comps) == 1:
        return
    lines = []
    for i, members in enumerate(comps.values(), 1):
        studies = [s for s, ts in study_sets.items() if ts <= set(members)]
        lines.append(
            f"component {i}: treatments {format_items(members)}; studies {format_items(studies, 3)}"
        )
    raise DisconnectedNetworkError(
        f"The network is disconnected: no study links its {len(comps)} components, so effects "
        f"between them are not estimable. " + "; ".join(lines) + ". Fit the components "
        f"separately by subsetting the data to the studies of one component, e.g. "
        f"df[df[{study_col!r}].isin([...])], or add studies that connect them."
    )


# ----------------------------------------------------------------------------- the network
def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False, repr=False)
class Network:
    """A validated network of study contrasts with exact multi-arm covariance.

    Build it with :meth:`from_contrasts`. For study ``i`` with ``k = mask[i].sum()`` contrasts, the
    contrasts ``y[i, mask[i]]`` of its non-base arms vs its base arm have covariance
    ``diag(var[i, mask[i]]) + cov[i] * ones((k, k))``.

    Attributes
    ----------
    treatments : tuple of str
        Treatment order used by every index array: the user's ``treatments=`` if given, otherwise
        ``sorted()`` on the names.
    reference : str
        Reference treatment.
    reference_rule : str
        How the reference was chosen, in words.
    studies : tuple of str
        Study labels in order of first appearance in the data.
    base : ndarray of int, shape (S,)
        Index into ``treatments`` of each study's base arm.
    arm : ndarray of int, shape (S, K)
        Index into ``treatments`` of each non-base arm (padding 0). ``K`` is the largest number of
        non-base arms of any study.
    y : ndarray of float, shape (S, K)
        Contrast of each non-base arm vs the base arm (padding 0.0).
    var : ndarray of float, shape (S, K)
        ``seTE**2 - se_base**2``, the non-base arm's own variance (padding 1.0); ``seTE**2`` for
        two-arm studies.
    cov : ndarray of float, shape (S,)
        ``se_base**2``, the covariance of any two contrasts of the study (0.0 for two-arm studies).
    mask : ndarray of bool, shape (S, K)
        True for real contrasts.
    n_arms : ndarray of int, shape (S,)
        Number of arms per study, base arm included.
    form : tuple of str
        Per study: ``"two-arm"``, ``"base"`` or ``"pairwise"`` (the form it was given in).
    contrasts : pandas.DataFrame
        The normalised long table used: ``study, treatment, base, TE, seTE, se_base, n_arms,
        form``; one row per non-base arm, in study order. ``se_base`` is NaN for two-arm studies.
    data : pandas.DataFrame
        A copy of the input data.
    columns : dict
        Role (``study``, ``treat1``, ``treat2``, ``TE``, ``seTE``, ``se_base``) to column name.
    closure_tol : float
        Closure tolerance used for pairwise-form studies.
    """

    treatments: tuple[str, ...]
    reference: str
    reference_rule: str
    studies: tuple[str, ...]
    base: np.ndarray
    arm: np.ndarray
    y: np.ndarray
    var: np.ndarray
    cov: np.ndarray
    mask: np.ndarray
    n_arms: np.ndarray
    form: tuple[str, ...]
    contrasts: pd.DataFrame = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    columns: dict[str, str] = field(default_factory=dict)
    closure_tol: float = 0.01

    def __post_init__(self) -> None:
        for name in ("base", "arm", "y", "var", "cov", "mask", "n_arms"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    @classmethod
    def from_contrasts(
        cls,
        df: pd.DataFrame,
        *,
        study: str = "study",
        treat1: str = "treat1",
        treat2: str = "treat2",
        TE: str = "TE",
        seTE: str = "seTE",
        se_base: str = "se_base",
        reference: str | None = None,
        treatments: Sequence[str] | None = None,
        closure_tol: float = 0.01,
    ) -> Network:
        """Build a network from a long table of study contrasts.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per contrast. Rows of a study are identified by the ``study`` column (they need
            not be contiguous). Two-arm studies have one row; a multi-arm study is given either in
            base form (one row per non-base arm, all sharing ``treat2``, with ``se_base``) or in
            pairwise form (one row for every pair of its distinct treatments).
        study, treat1, treat2, TE, seTE, se_base : str
            Column names. ``TE`` is the effect of ``treat1`` relative to ``treat2`` (treat1 minus
            treat2) with standard error ``seTE``; ``se_base`` is the SE of the base arm of a
            multi-arm study (its contrasts' covariance is ``se_base**2``). The ``se_base`` column is
            optional; an absent column means "missing everywhere".
        reference : str, optional
            Reference treatment. Default: the treatment appearing in the most studies, ties broken
            by the order of ``treatments``.
        treatments : sequence of str, optional
            Treatment order; must list exactly the treatments in the data. Default: ``sorted()``.
        closure_tol : float
            Rounding tolerance for pairwise-form studies: every row ``(j, k)`` not involving the
            base arm ``b`` must satisfy ``|TE_jk - (TE_jb - TE_kb)| <= closure_tol``.

        Returns
        -------
        Network
            The validated network.

        Raises
        ------
        MissingColumnError, InvalidValueError, MultiArmError, DisconnectedNetworkError,
        UnknownTreatmentError, ModelSpecError
            For invalid input (all subclasses of NMAInputError / ValueError).

        Warns
        -----
        TreatmentNameWarning
            If treatment names differ only by case or surrounding whitespace.

        Notes
        -----
        In a pairwise-form study the base arm is the treatment that is ``treat2`` in most of its
        rows (ties: the earliest such row), the other arms are ordered as in ``treatments``, and the
        base-arm variance is derived by least squares from ``seTE_jk**2 = s_j**2 + s_k**2``.
        """
        _check_frame(df)
        tol = _check_closure_tol(closure_tol)
        cols = {"study": study, "treat1": treat1, "treat2": treat2, "TE": TE, "seTE": seTE}
        cols["se_base"] = se_base
        _check_columns(df, cols)
        idx = df.index
        labels = {r: _check_labels(df, cols[r]) for r in _LABEL_ROLES}
        te = _numeric_column(df, TE)
        se = _numeric_column(df, seTE)
        sb = _numeric_column(df, se_base) if se_base in df.columns else np.full(len(df), np.nan)
        _check_finite(te, TE, idx, allow_nan=False)
        _check_finite(se, seTE, idx, allow_nan=False)
        _check_finite(sb, se_base, idx, allow_nan=True)
        _check_positive(se, seTE, idx)
        _check_positive(sb, se_base, idx)
        s_lab, t1, t2 = labels["study"], labels["treat1"], labels["treat2"]
        _check_duplicates(s_lab, t1, t2, te, se, cols, idx)
        _warn_similar_names(np.concatenate([t1, t2]).tolist())

        rows_by_study: dict[str, list[StudyRow]] = {}
        for i in range(len(df)):
            row = StudyRow(idx[i], t1[i], t2[i], float(te[i]), float(se[i]), float(sb[i]))
            rows_by_study.setdefault(s_lab[i], []).append(row)
        study_sets = {
            s: {t for r in rows for t in (r.treat1, r.treat2)} for s, rows in rows_by_study.items()
        }
        trts = _resolve_treatments(set().union(*study_sets.values()), treatments)
        ref, rule = _resolve_reference(reference, trts, study_sets)
        _check_connected(trts, study_sets, study)
        order = {t: i for i, t in enumerate(trts)}
        resolved = [
            resolve_study(s, rows, treatment_order=order, closure_tol=tol, se_base_col=se_base)
            for s, rows in rows_by_study.items()
        ]
        return cls._assemble(resolved, trts, ref, rule, df, cols, tol)

    @classmethod
    def _assemble(
        cls,
        resolved: list[StudyContrasts],
        trts: tuple[str, ...],
        ref: str,
        rule: str,
        df: pd.DataFrame,
        cols: dict[str, str],
        tol: float,
    ) -> Network:
        order = {t: i for i, t in enumerate(trts)}
        n_s, k = len(resolved), max(len(sc.arms) for sc in resolved)
        base = np.zeros(n_s, dtype=np.int64)
        arm = np.zeros((n_s, k), dtype=np.int64)
        y = np.zeros((n_s, k))
        var = np.ones((n_s, k))
        cov = np.zeros(n_s)
        mask = np.zeros((n_s, k), dtype=bool)
        records = []
        for i, sc in enumerate(resolved):
            m = len(sc.arms)
            c = 0.0 if sc.form == "two-arm" else sc.se_base**2
            base[i], cov[i] = order[sc.base], c
            arm[i, :m] = [order[t] for t in sc.arms]
            y[i, :m] = sc.TE
            var[i, :m] = np.square(sc.seTE) - c
            mask[i, :m] = True
            for t, te, se in zip(sc.arms, sc.TE, sc.seTE, strict=True):
                records.append((sc.study, t, sc.base, te, se, sc.se_base, sc.n_arms, sc.form))
        contrasts = pd.DataFrame.from_records(
            records,
            columns=["study", "treatment", "base", "TE", "seTE", "se_base", "n_arms", "form"],
        )
        return cls(
            treatments=trts,
            reference=ref,
            reference_rule=rule,
            studies=tuple(sc.study for sc in resolved),
            base=base,
            arm=arm,
            y=y,
            var=var,
            cov=cov,
            mask=mask,
            n_arms=np.array([sc.n_arms for sc in resolved], dtype=np.int64),
            form=tuple(sc.form for sc in resolved),
            contrasts=contrasts,
            data=df.copy(),
            columns=dict(cols),
            closure_tol=tol,
        )

    # ------------------------------------------------------------------------- convenience
    @property
    def n_studies(self) -> int:
        """Number of studies ``S``."""
        return len(self.studies)

    @property
    def n_treatments(self) -> int:
        """Number of treatments."""
        return len(self.treatments)

    @property
    def n_contrasts(self) -> int:
        """Number of contrasts (non-base arms) over all studies."""
        return int(self.mask.sum())

    def treatment_index(self, name: str) -> int:
        """Return the position of treatment ``name`` in :attr:`treatments`.

        Parameters
        ----------
        name : str
            Treatment name.

        Returns
        -------
        int
            Index into :attr:`treatments`.

        Raises
        ------
        UnknownTreatmentError
            If ``name`` is not in the network.
        """
        try:
            return self.treatments.index(name)
        except ValueError:
            raise UnknownTreatmentError(
                f"{name!r} is not a treatment in the network. Available treatments: "
                f"{format_items(self.treatments, limit=20)}."
            ) from None

    def study_covariance(self, i: int) -> np.ndarray:
        """Return the within-study covariance matrix of study ``i``'s contrasts.

        Parameters
        ----------
        i : int
            Study position in :attr:`studies`.

        Returns
        -------
        ndarray, shape (k, k)
            ``diag(var[i, mask[i]]) + cov[i]``, ``k`` the study's number of contrasts.
        """
        v = self.var[i, self.mask[i]]
        return np.diag(v) + self.cov[i] * np.ones((v.size, v.size))

    def __repr__(self) -> str:
        multi = int((self.n_arms > 2).sum())
        return (
            f"Network({self.n_studies} studies, {self.n_treatments} treatments, "
            f"{self.n_contrasts} contrasts, {multi} multi-arm studies, "
            f"reference={self.reference!r})"
        )
