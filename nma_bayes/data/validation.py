"""The validation catalogue and the small, single-purpose validators that enforce it.

Every problem with the input is raised before any model is built, as one typed exception (a
subclass of :class:`~nma_bayes.base.errors.NMAInputError`, itself a ``ValueError``) whose ``rule``
attribute names the rule below and whose message names the column, lists the offending rows or
studies (first few plus a count), and says how to fix it. Nothing is silently dropped, coerced,
merged or reordered. ``docs/data.md`` documents the same catalogue; the test suite has one test
per rule.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..base.errors import (
    DisconnectedNetworkError,
    InvalidValueError,
    ModelSpecError,
    TreatmentNameWarning,
    UnknownTreatmentError,
    format_items,
)
from ..base.graph import connected_components
from ..base.validate import is_real
from .columns import check_columns, check_unique_columns, numeric_column

__all__ = ["Rule", "RULES", "check_columns", "check_unique_columns", "numeric_column"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Rule:
    """One entry of the validation catalogue."""

    id: str
    raises: str
    problem: str


RULES: tuple[Rule, ...] = (
    Rule("not-a-dataframe", "InvalidValueError", "data is not a pandas DataFrame"),
    Rule("empty-data", "InvalidValueError", "the data frame has no rows"),
    Rule("ragged-row", "InvalidValueError", "a CSV row has more or fewer fields than the header"),
    Rule("missing-column", "MissingColumnError", "a required column is absent"),
    Rule("bad-label", "InvalidValueError", "study/treatment label missing, empty or not a string"),
    Rule("non-numeric", "InvalidValueError", "a numeric column holds non-numeric values"),
    Rule("non-finite", "InvalidValueError", "NaN or infinite TE, seTE, mean, sd, n or se"),
    Rule("se-not-positive", "InvalidValueError", "a standard error (seTE, se_base, se) <= 0"),
    Rule("sd-not-positive", "InvalidValueError", "an arm's SD <= 0"),
    Rule("n-invalid", "InvalidValueError", "an arm's sample size < 2 or not an integer"),
    Rule("single-arm-study", "InvalidValueError", "an arm-level study with a single arm"),
    Rule("duplicate-rows", "InvalidValueError", "exact duplicate rows"),
    Rule("study-in-two-forms", "InvalidValueError", "a study given as both arms and contrasts"),
    Rule("disconnected", "DisconnectedNetworkError", "the network has several components"),
    Rule("unknown-component", "UnknownTreatmentError", "component= names no treatment"),
    Rule("unknown-reference", "UnknownTreatmentError", "the reference is not in the network"),
    Rule("treatments-mismatch", "UnknownTreatmentError", "treatments= differs from the data"),
    Rule("multiarm-no-covariance", "MultiArmError", "a multi-arm study lacks its covariance"),
    Rule("se-base-inconsistent", "MultiArmError", "se_base differs within a study or from SEs"),
    Rule("se-base-too-large", "MultiArmError", "se_base not smaller than every contrast SE"),
    Rule("closure", "MultiArmError", "pairwise multi-arm TEs do not close"),
    Rule("negative-base-variance", "MultiArmError", "a derived arm variance is <= 0"),
    Rule("pairwise-inconsistent", "MultiArmError", "pairwise SEs of a study are inconsistent"),
    Rule("pairwise-ambiguous", "MultiArmError", "pairwise form with a repeated treatment"),
    Rule("multiarm-form", "MultiArmError", "a study's rows fit neither multi-arm form"),
    Rule("similar-names", "TreatmentNameWarning", "names differ only by case/whitespace (warns)"),
    Rule("unknown-measure", "ModelSpecError", "an unknown effect measure"),
    Rule("measure-columns", "MissingColumnError", "the measure needs columns that are absent"),
    Rule("classes-incomplete", "InvalidValueError", "classes given for some treatments only"),
    Rule("class-not-constant", "InvalidValueError", "a treatment has several classes"),
    Rule("bad-option", "ModelSpecError", "an invalid option (closure_tol, column names, ...)"),
    Rule("unknown-likelihood", "ModelSpecError", "an unsupported likelihood/link of outcome data"),
    Rule("likelihood-columns", "MissingColumnError", "the likelihood's columns are absent"),
    Rule("events-invalid", "InvalidValueError", "events negative, non-integer or above n"),
    Rule("exposure-invalid", "InvalidValueError", "n, exposure or follow-up time not positive"),
    Rule("out-of-range", "InvalidValueError", "a number outside the bounds the engines compute in"),
    Rule("se-spread", "InvalidValueError", "largest / smallest standard error > SE_RATIO_MAX"),
    Rule("te-vs-se", "InvalidValueError", "largest |TE| / smallest SE > TE_SE_RATIO_MAX"),
    Rule("implausible-for-measure", "InvalidValueError", "|TE| or seTE beyond the measure's range"),
    Rule("bad-prior", "ModelSpecError", "a prior parameter not a finite number in its range"),
    Rule("single-treatment", "InvalidValueError", "the network has only one treatment"),
    Rule("duplicate-column", "InvalidValueError", "a column used is present twice under one name"),
    Rule("column-in-two-roles", "ModelSpecError", "one column named for two roles (TE=, seTE=)"),
    Rule("se-base-two-arm", "InvalidValueError", "se_base given for a two-arm study"),
    Rule("data-format", "ModelSpecError", "data hold complete arm and contrast columns"),
    Rule("unknown-option", "ModelSpecError", "a keyword the function does not take (a typo)"),
    Rule("option-not-applicable", "ModelSpecError", "an option the format or likelihood ignores"),
    Rule("covariate-column", "MissingColumnError", "a covariate is in neither studies= nor data"),
    Rule("covariate-missing", "InvalidValueError", "a covariate missing or non-finite in a study"),
    Rule("covariate-not-constant", "InvalidValueError", "a covariate differs within a study"),
    Rule("covariate-constant", "InvalidValueError", "a covariate has one value in every study"),
    Rule("studies-table", "InvalidValueError", "studies= malformed, or a study twice"),
    Rule("covariate-level-one-study", "CovariateWarning", "a level held by one study (warns)"),
    Rule("covariate-subgroup-empty", "CovariateWarning", "a comparison in one subgroup (warns)"),
    Rule("interaction-not-identified", "CovariateWarning", "an interaction only its prior informs"),
    Rule("baseline-risk-data", "ModelSpecError", "baseline_risk with non-outcome studies"),
    Rule("covariate-term-collision", "InvalidValueError", "two covariates give one term name"),
    Rule("exposure-too-large", "InvalidValueError", "exposure or follow-up above EXPOSURE_MAX"),
    Rule("design-separation", "IdentificationWarning", "a design's omega without finite MLE"),
    Rule("study-judgements", "InvalidValueError", "rob=/indirectness= lack a study or a level"),
    Rule("category-unknown", "ModelSpecError", "categories= lacks, repeats or adds a cutpoint"),
    Rule("category-duplicated", "InvalidValueError", "an arm reports one cutpoint twice"),
    Rule("category-order", "ModelSpecError", "cutpoints in two orders, or order undetermined"),
    Rule("category-counts", "InvalidValueError", "at-least counts rise, or categories exceed n"),
    Rule("category-arm-inconsistent", "InvalidValueError", "an arm's rows differ in n/treatment"),
    Rule("survival-times", "InvalidValueError", "interval times or event times/status invalid"),
    Rule("survival-intervals", "InvalidValueError", "an arm's intervals gap, overlap, or start >0"),
    Rule("survival-at-risk", "InvalidValueError", "n.risk does not follow from the previous row"),
)

# ------------------------------------------------------------------------ numeric ranges
# The bounds of the range rules, in one place (documented in docs/data.md).
#: ``out-of-range``: standard errors and SDs (``seTE, se_base, se, sd``) must lie in this
#: interval, so that their squares and fourth powers (used by both engines) are normal floats.
SE_BOUNDS = (1e-50, 1e50)
#: ``out-of-range``: largest ``|TE|`` and ``|mean|``.
ABS_VALUE_MAX = 1e50
#: ``out-of-range``: largest arm sample size ``n`` (and event count).
N_MAX = 1e9
#: ``exposure-too-large``: largest exposure (Poisson) or follow-up time (cloglog) of an arm. It
#: enters the model only through its log, the offset, so any finite positive float is computable;
#: the bound is a sanity check, not a numerical one. Person-days of every person alive (8e9) over
#: a century are 3e14, so no real arm exceeds 1e15 in any unit, while person-days or
#: person-hours of a large trial (beyond ``N_MAX``) pass. It also keeps the log rate per unit of
#: exposure of a few events within about 35 of 0, a third of an SD of the default vague baseline
#: prior ``normal(0, 100^2)``, which therefore stays vague.
EXPOSURE_MAX = 1e15
#: ``se-spread``: largest ratio of the largest to the smallest standard error in the network
#: (contrast SEs and their arm-level parts); precisions 1e12 apart make every engine
#: ill-conditioned.
SE_RATIO_MAX = 1e6
#: ``te-vs-se``: largest ``|TE|`` in the network in units of its smallest contrast SE.
TE_SE_RATIO_MAX = 1e6
#: ``implausible-for-measure``: per measure, the largest plausible ``|TE|`` and ``seTE`` (an SMD or
#: a log ratio of 100 is beyond any trial; a risk difference lies in [-1, 1]).
MEASURE_RANGES = {
    "SMD": (100.0, 100.0),
    "logOR": (100.0, 100.0),
    "logRR": (100.0, 100.0),
    "logHR": (100.0, 100.0),
    "logRateRatio": (100.0, 100.0),
    "probit": (100.0, 100.0),
    "RD": (1.0, 1.0),
}
#: ``bad-prior``: prior scales (``sd, scale, sigma``, Uniform bounds) lie in this interval
#: (issue 17: the exact engine is checked up to uniform(0, 1e10); 1e155 squares to overflow).
PRIOR_SCALE_BOUNDS = (1e-6, 1e10)  # uniform(0, 1e10) is a prior users write
#: ``bad-prior``: largest absolute prior location (``mean``, ``mu``).
PRIOR_LOCATION_MAX = 1e6
#: ``bad-prior``: log-scale priors on tau must keep tau's prior range within exp(+-this)
#: (1e-50 to 1e50): ``|mu| + 8 sigma`` on the scale of log(tau).
PRIOR_LOG_TAU_MAX = float(np.log(1e50))


# ------------------------------------------------------------------------------- frames
def check_frame(df: object) -> None:
    """Reject anything but a non-empty DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidValueError(
            f"The data must be a pandas DataFrame, got {type(df).__name__}. Read it with "
            "pandas first, e.g. pd.read_csv(path).",
            rule="not-a-dataframe",
        )
    if len(df) == 0:
        raise InvalidValueError(
            "The data frame has no rows; give one row per study contrast (or per arm).",
            rule="empty-data",
        )


def check_closure_tol(closure_tol: object) -> float:
    """Return ``closure_tol`` as a float after checking it is a finite number >= 0."""
    if not is_real(closure_tol) or not np.isfinite(closure_tol) or closure_tol < 0:
        raise ModelSpecError(
            f"closure_tol must be a finite number >= 0 (a rounding tolerance on TE), "
            f"got {closure_tol!r}.",
            rule="bad-option",
        )
    return float(closure_tol)


# ------------------------------------------------------------------------------- values
def check_labels(df: pd.DataFrame, col: str) -> np.ndarray:
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
            f"label). Every row needs a label; fill them in or remove those rows yourself.",
            rule="bad-label",
        )
    if empty:
        raise InvalidValueError(
            f"Column {col!r} holds empty or whitespace-only labels in rows "
            f"{format_items(empty)} (by index label). Give every row a non-empty label.",
            rule="bad-label",
        )
    if not_str:
        example = values[idx.get_indexer([not_str[0]])[0]] if idx.is_unique else None
        raise InvalidValueError(
            f"Column {col!r} must hold strings, but rows {format_items(not_str)} (by index label) "
            f"hold other types (e.g. {example!r}). Labels are not converted automatically; "
            f"convert them explicitly, e.g. df[{col!r}] = df[{col!r}].astype(str).",
            rule="bad-label",
        )
    return values


def check_finite(values: np.ndarray, col: str, index: pd.Index, *, allow_nan: bool) -> None:
    """Reject infinite values, and NaN unless ``allow_nan``."""
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    if bad.any():
        what = "infinite" if allow_nan else "missing (NaN) or infinite"
        raise InvalidValueError(
            f"Column {col!r} holds {what} values in rows {format_items(index[bad])} (by index "
            f"label). Every row needs a finite value; fix or remove those rows yourself.",
            rule="non-finite",
        )


def check_positive(
    values: np.ndarray, col: str, index: pd.Index, *, what: str = "a standard error"
) -> None:
    """Reject values <= 0 (NaN is ignored: it means 'not given')."""
    bad = values <= 0
    if bad.any():
        raise InvalidValueError(
            f"Column {col!r} must be > 0 (it is {what}), but rows "
            f"{format_items(index[bad])} (by index label) hold {format_items(values[bad])}. "
            f"Correct those values.",
            rule="sd-not-positive" if "standard deviation" in what else "se-not-positive",
        )


def check_sample_sizes(values: np.ndarray, col: str, index: pd.Index) -> None:
    """Require integer sample sizes of at least 2 (an SD needs two observations)."""
    bad = (values < 2) | (values != np.round(values))
    if bad.any():
        raise InvalidValueError(
            f"Column {col!r} must hold whole numbers >= 2 (arm sample sizes), but rows "
            f"{format_items(index[bad])} (by index label) hold {format_items(values[bad])}. "
            "Correct the sample sizes (non-integers are not rounded for you).",
            rule="n-invalid",
        )


def check_duplicates(key: pd.DataFrame, studies: np.ndarray, index: pd.Index) -> None:
    """Reject rows that repeat another row exactly in every column of ``key``."""
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        names = ", ".join(repr(str(c)) for c in key.columns)
        raise InvalidValueError(
            f"Rows {format_items(index[dup])} (by index label) are exact duplicates (same "
            f"{names}) in studies {format_items(list(dict.fromkeys(studies[dup])))}. Remove the "
            "repeated rows, or label the studies distinctly if they really are different studies.",
            rule="duplicate-rows",
        )


def warn_similar_names(names: Iterable[str]) -> None:
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
            f"names in the data (e.g. df[col].str.strip()). [rule similar-names]",
            TreatmentNameWarning,
            skip_file_prefixes=(_PACKAGE_DIR,),  # point at the user's call, however deep
        )


# --------------------------------------------------------------------------- treatments
def resolve_treatments(observed: set[str], treatments: Sequence[str] | None) -> tuple[str, ...]:
    """Return the treatment order: the user's list (checked) or ``sorted(observed)``."""
    if treatments is None:
        return tuple(sorted(observed))
    if isinstance(treatments, str) or not isinstance(treatments, Iterable):
        raise ModelSpecError(
            f"treatments= must be a list of treatment names, got {treatments!r}.",
            rule="bad-option",
        )
    order = list(treatments)
    non_str = [t for t in order if not isinstance(t, str)]
    dups = sorted({t for t in order if isinstance(t, str) and order.count(t) > 1})
    extra = [t for t in order if t not in observed]
    absent = sorted(observed - set(order))
    if non_str or dups or extra or absent:
        parts = []
        if non_str:
            parts.append(f"{format_items(non_str)} not strings")
        if dups:
            parts.append(f"{format_items(dups)} listed more than once")
        if extra:
            parts.append(f"{format_items(extra)} listed but not in the data")
        if absent:
            parts.append(f"{format_items(absent)} in the data but not listed")
        raise UnknownTreatmentError(
            f"treatments= must list exactly the treatments in the data, once each: "
            f"{'; '.join(parts)}. Treatments in the data: {format_items(sorted(observed), 20)}.",
            rule="treatments-mismatch",
        )
    return tuple(order)


def _unknown_treatment(name: object, treatments: Sequence[str], what: str, rule: str):
    same = [t for t in treatments if t.strip().casefold() == str(name).strip().casefold()]
    close = same or difflib.get_close_matches(str(name), treatments, n=3)
    hint = f" Did you mean {format_items(close)}?" if close else ""
    return UnknownTreatmentError(
        f"{what}={name!r} is not a treatment in the network.{hint} Available treatments: "
        f"{format_items(treatments, limit=20)}.",
        rule=rule,
    )


def resolve_reference(
    reference: str | None, treatments: tuple[str, ...], study_sets: dict[str, set[str]]
) -> tuple[str, str]:
    """Return ``(reference, reference_rule)``; automatic choice: the treatment in most studies."""
    if reference is not None:
        if reference not in treatments:
            raise _unknown_treatment(reference, treatments, "reference", "unknown-reference")
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


def components(study_sets: dict[str, set[str]]) -> list[list[str]]:
    """Return the connected components of the treatment graph.

    Parameters
    ----------
    study_sets : dict of str to set of str
        Each study's treatments; a study links all of its treatments.

    Returns
    -------
    list of list of str
        Each component's treatments sorted by name; components ordered by their first name.
    """
    nodes = sorted({t for ts in study_sets.values() for t in ts})
    # a study joins its (sorted) first treatment to each of its others
    edges = [(ts[0], t) for ts in map(sorted, study_sets.values()) for t in ts[1:]]
    return connected_components(nodes, edges)


def select_component(
    study_sets: dict[str, set[str]], component: str | None, study_col: str
) -> tuple[str, ...]:
    """Return the studies to drop: none if connected, else those outside ``component``.

    Raises DisconnectedNetworkError when the network is disconnected and no component is chosen.
    """
    comps = components(study_sets)
    all_treatments = sorted(t for c in comps for t in c)
    if component is not None and component not in all_treatments:
        raise _unknown_treatment(component, all_treatments, "component", "unknown-component")
    if len(comps) == 1:
        return ()
    if component is None:
        lines = []
        for i, members in enumerate(comps, 1):
            studies = [s for s, ts in study_sets.items() if ts <= set(members)]
            lines.append(
                f"component {i}: treatments {format_items(members)}; "
                f"studies {format_items(studies, 3)}"
            )
        raise DisconnectedNetworkError(
            f"The network is disconnected: no study links its {len(comps)} components, so "
            "effects between them are not estimable. " + "; ".join(lines) + ". Choose one "
            "component explicitly with component='<a treatment in it>' (the other studies are "
            f"then excluded and listed in network.excluded_studies), subset the data yourself "
            f"(df[df[{study_col!r}].isin([...])]), or add studies that connect them.",
            rule="disconnected",
        )
    keep = next(c for c in comps if component in c)
    return tuple(s for s, ts in study_sets.items() if not ts <= set(keep))


# ------------------------------------------------------------------------------ classes
def resolve_classes(
    classes: dict[str, str] | None, treatments: Sequence[str], pairs: Iterable[tuple[str, object]]
) -> dict[str, str] | None:
    """Validate a treatment -> class mapping (from a dict or from (treatment, class) pairs).

    Parameters
    ----------
    classes : dict or None
        A mapping given by the user (``None`` if classes come from a column, via ``pairs``).
    treatments : sequence of str
        Every treatment of the network.
    pairs : iterable of (treatment, class)
        Treatment-class pairs read from the data's class column(s); empty when ``classes`` is a
        dict.

    Returns
    -------
    dict or None
        ``{treatment: class}`` for every treatment, in treatment order.
    """
    mapping: dict[str, set[str]] = {}
    if classes is not None:
        if not isinstance(classes, dict):
            raise ModelSpecError(
                f"classes= must be a dict {{treatment: class}} or a column name, got "
                f"{type(classes).__name__}.",
                rule="bad-option",
            )
        pairs = classes.items()
    for t, c in pairs:
        if c is None or (isinstance(c, float) and np.isnan(c)) or c is pd.NA:
            continue
        if not isinstance(c, str):
            raise InvalidValueError(
                f"Class labels must be strings; treatment {t!r} has class {c!r}. Convert them "
                "with .astype(str).",
                rule="bad-label",
            )
        mapping.setdefault(t, set()).add(c)
    several = {t: sorted(c) for t, c in mapping.items() if len(c) > 1}
    if several:
        shown = format_items([f"{t!r}: {' / '.join(c)}" for t, c in several.items()])
        raise InvalidValueError(
            f"Each treatment must belong to exactly one class, but {shown} have several. Make the "
            "class column constant per treatment.",
            rule="class-not-constant",
        )
    if not mapping:
        return None
    unknown = [t for t in mapping if t not in treatments]
    missing = [t for t in treatments if t not in mapping]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"no class for {format_items(missing)}")
        if unknown:
            parts.append(f"classes given for {format_items(unknown)}, not in the network")
        raise InvalidValueError(
            "Classes must be given for every treatment of the network and only for them: "
            + "; ".join(parts)
            + ". Give each treatment a class (a class may hold a single treatment).",
            rule="classes-incomplete",
        )
    return {t: next(iter(mapping[t])) for t in treatments}
