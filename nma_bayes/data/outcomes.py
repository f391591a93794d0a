"""Arm-level binary and count outcomes (events out of n, events over exposure), validated.

The likelihood families of the TSD2 arm-based model (Dias et al. 2011, NICE DSU TSD2):

========================  ======================  ============================  ===========
``likelihood, link``      data per arm            linear predictor              measure
========================  ======================  ============================  ===========
``binomial, logit``       events, n               ``logit(p)``                  log OR
``binomial, cloglog``     events, n, time         ``cloglog(p) - log(time)``    log HR
``binomial, probit``      events, n               ``Phi^-1(p)``                 probit difference
``binomial, log``         events, n               ``log(p)``, capped at 0       log RR
``poisson, log``          events, exposure        ``log(rate)``                 log rate ratio
``normal, identity``      mean, se (or sd and n)  the arm mean                  MD
``ordered, probit``       category, events, n     ``Phi^-1(P(>= cutpoint))``    probit difference
``ordered, logit``        category, events, n     ``logit(P(>= cutpoint))``     log OR
========================  ======================  ============================  ===========

Ordered categorical data (one row per arm and reported cutpoint) are read by
:mod:`nma_bayes.data.ordered`. The log link keeps every fitted probability at most 1 as gemtc
does: ``log p = min(mu + delta, 0)``, with the study baselines' prior truncated to ``mu <= 0``.

The first row of each study is its base arm. The likelihood is exact, so arms with zero events or
with all events need no continuity correction: nothing is added to any cell. The normal family
fits arm means with their standard errors (``se``, or ``sd / sqrt(n)``): the arm-based
alternative to the contrast route of ``measure="MD"``; :class:`StudyOutcomes` then holds the
means in ``events`` and their SEs in ``trials``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..base.errors import InvalidValueError, MissingColumnError, ModelSpecError, format_items
from . import checks as C
from . import validation as V
from .arm_data import read_arm_columns, rows_by_study

__all__ = [
    "LIKELIHOODS",
    "OUTCOME_ROLES",
    "StudyOutcomes",
    "check_counts",
    "check_likelihood",
    "check_outcome_options",
    "parse_outcomes",
]

#: Likelihood families of arm-level outcome data, their links and the measure of ``d``.
LIKELIHOODS = {
    ("binomial", "logit"): "logOR",
    ("binomial", "cloglog"): "logHR",
    ("binomial", "probit"): "probit",
    ("binomial", "log"): "logRR",
    ("poisson", "log"): "logRateRatio",
    ("normal", "identity"): "MD",
    ("ordered", "probit"): "probit",
    ("ordered", "logit"): "logOR",
}
#: Column roles of outcome data (besides ``study`` and ``treatment``).
OUTCOME_ROLES = ("events", "n", "exposure", "time", "mean", "sd", "se", "category", "arm")
#: Default link of each family.
DEFAULT_LINK = {"binomial": "logit", "poisson": "log", "normal": "identity", "ordered": "probit"}


#: Range rule of each role (:func:`nma_bayes.data.checks.check_bounds`); ``n`` is a sample size.
_BOUND_KIND = {"mean": "abs", "sd": "se", "se": "se", "events": "count", "exposure": "exposure",
               "time": "exposure"}  # fmt: skip
#: Column options whose default is ``None`` (not given), and the data that use them.
_OPTIONAL_USERS = {
    "events": "arm-level outcome data (likelihood='binomial' or 'poisson')",
    "exposure": "Poisson rates (likelihood='poisson')",
    "time": "log hazard ratios (likelihood='binomial', link='cloglog')",
    "se": "arm means (likelihood='normal', or arms with measure='MD')",
    "category": "ordered categorical data (likelihood='ordered')",
    "arm": "ordered categorical data (likelihood='ordered'), to name each row's arm",
    "categories": "ordered categorical data (likelihood='ordered'): the cutpoints' order",
    "cumulative": "ordered categorical data (likelihood='ordered'): the counts' layout",
}


@dataclass(frozen=True)
class StudyOutcomes:
    """One study's arm-level outcomes, validated (arm 0 is the base arm).

    ``trials`` is ``n`` (binomial) or the exposure (Poisson); ``offset`` is ``log(time)``
    (cloglog), ``log(exposure)`` (Poisson) or 0 (logit), per arm.
    """

    study: str
    treatments: tuple[str, ...]
    events: np.ndarray
    trials: np.ndarray
    offset: np.ndarray


def check_likelihood(likelihood, link) -> tuple[str, str, str]:
    """Return ``(likelihood, link, measure)``, or raise ``unknown-likelihood``.

    A ``likelihood`` or ``link`` that is neither a string nor ``None`` raises ``bad-option``
    (e.g. ``likelihood=["binomial"]``).
    """
    for name, value in (("likelihood", likelihood), ("link", link)):
        if value is not None and not isinstance(value, str):
            families = sorted({f for f, _ in LIKELIHOODS})
            raise ModelSpecError(
                f"{name}= must be a string, got {value!r} ({type(value).__name__}). Pass one "
                f"name, e.g. likelihood='binomial', link='logit' (likelihoods: "
                f"{', '.join(families)}).",
                rule="bad-option",
            )
    if link is None and likelihood in DEFAULT_LINK:
        link = DEFAULT_LINK[likelihood]
    if (likelihood, link) not in LIKELIHOODS:
        options = ", ".join(f"likelihood={f!r}, link={k!r}" for f, k in LIKELIHOODS)
        raise ModelSpecError(
            f"likelihood={likelihood!r}, link={link!r} is not a supported family of arm-level "
            f"outcome data. Use one of: {options}.",
            rule="unknown-likelihood",
        )
    return likelihood, link, LIKELIHOODS[likelihood, link]


def check_outcome_options(family: tuple[str, str] | None, given: dict, *, arms: bool) -> None:
    """Refuse column options that the data would not use (rule ``option-not-applicable``).

    Parameters
    ----------
    family : (likelihood, link) or None
        The family of arm-level outcome data, or ``None`` (contrasts, continuous arms).
    given : dict
        The options among ``events, exposure, time, se`` that the user gave (not ``None``).
    arms : bool
        Whether an arm-level table was given (continuous arms use ``se=``).

    Raises
    ------
    ModelSpecError
        If an option is not used: ``events=`` without ``likelihood=``, ``exposure=`` with a
        binomial likelihood, ``time=`` with the logit link or a Poisson likelihood, ``se=`` with
        a binomial or Poisson likelihood, or any of them with contrast data only.
    """
    if family is None:
        used, what = ({"se"}, "continuous arm-level data") if arms else (set(), "contrast data")
    else:
        used = set(_roles(*family)) | ({"se"} if family[0] == "normal" else set())
        used |= {"arm", "categories", "cumulative"} if family[0] == "ordered" else set()
        what = f"likelihood={family[0]!r}, link={family[1]!r}"
    unused = [k for k in given if k not in used]
    if unused:
        uses = "; ".join(f"{k}= is for {_OPTIONAL_USERS[k]}" for k in unused)
        raise ModelSpecError(
            f"Option(s) {', '.join(f'{k}={given[k]!r}' for k in unused)} do not apply to "
            f"{what}: they would be ignored ({uses}). Remove them, or choose the likelihood (and "
            "link) that uses them.",
            rule="option-not-applicable",
        )


def _roles(likelihood: str, link: str, cols: dict | None = None, df=None) -> list[str]:
    """Columns a family needs (normal: the mean and its SE, or the SD and n)."""
    if likelihood == "normal":
        has_se = cols is not None and cols.get("se") is not None and cols["se"] in df.columns
        return ["study", "treatment", "mean", *(["se"] if has_se else ["sd", "n"])]
    if likelihood == "poisson":
        return ["study", "treatment", "events", "exposure"]
    if likelihood == "ordered":
        return ["study", "treatment", "category", "events", "n"]
    return ["study", "treatment", "events", "n"] + (["time"] if link == "cloglog" else [])


def _check_columns(df: pd.DataFrame, cols: dict, likelihood: str, link: str) -> list[str]:
    required = _roles(likelihood, link, cols, df)
    missing = [r for r in required if cols[r] not in df.columns]
    if missing:
        why = {"time": "the follow-up time of each arm (cloglog link: log hazard ratios)",
               "mean": "each arm's mean", "sd": "each arm's SD (or se=)",
               "exposure": "each arm's exposure (e.g. person-years)",
               "n": "each arm's number of patients", "events": "each arm's number of events"}
        raise MissingColumnError(
            f"likelihood={likelihood!r}, link={link!r} needs "
            + "; ".join(f"column {cols[r]!r} ({why.get(r, r)})" for r in missing)
            + f". Columns present: {format_items([str(c) for c in df.columns], limit=12)}. "
            "Name the columns with events=, n=, exposure=, time=, or choose the likelihood that "
            "matches the data.",
            rule="likelihood-columns",
        )  # fmt: skip
    return required


def check_counts(values: dict, cols: dict, idx: pd.Index, likelihood: str) -> None:
    """Events: whole numbers >= 0, at most n; n: whole >= 1; exposure and time: > 0."""
    if likelihood == "normal":
        for role in ("se", "sd"):
            if role in values:
                V.check_positive(values[role], cols[role], idx, what=f"a standard {role[-1:]}")
        if "n" in values:
            V.check_sample_sizes(values["n"], cols["n"], idx)
        return
    ev = values["events"]
    bad = (ev < 0) | (ev != np.round(ev))
    if likelihood == "binomial":
        bad |= ev > values["n"]
    if bad.any():
        what = "whole numbers >= 0" + (" and at most n" if likelihood == "binomial" else "")
        raise InvalidValueError(
            f"Column {cols['events']!r} must hold {what}; rows {format_items(idx[bad])} do not. "
            "Check the counts (events are patients with the outcome, not percentages).",
            rule="events-invalid",
        )
    for role in ("n", "exposure", "time"):
        if role not in values:
            continue
        v = values[role]
        bad = v <= 0 if role != "n" else (v < 1) | (v != np.round(v))
        if bad.any():
            need = "whole numbers >= 1" if role == "n" else "positive"
            raise InvalidValueError(
                f"Column {cols[role]!r} must be {need}; rows {format_items(idx[bad])} are not. "
                "An arm without patients or follow-up carries no information: remove it.",
                rule="exposure-invalid",
            )


def parse_outcomes(df: pd.DataFrame, cols: dict, likelihood: str, link: str) -> list:
    """Validate arm-level outcome data and group it by study (in order of first appearance).

    Parameters
    ----------
    df : DataFrame
        One row per arm.
    cols : dict
        Role (``study, treatment, events, n, exposure, time``) to column name.
    likelihood, link : str
        A family of :data:`LIKELIHOODS`.

    Returns
    -------
    list of StudyOutcomes
    """
    V.check_frame(df)
    required = _check_columns(df, cols, likelihood, link)
    V.check_columns(df, {r: cols[r] for r in required}, required, "Network.from_data")
    idx = df.index
    labels, values = read_arm_columns(df, cols, required)
    for role, v in values.items():
        C.check_bounds(v, cols[role], idx, _BOUND_KIND.get(role, "n"))
    check_counts(values, cols, idx, likelihood)
    columns = {cols[r]: labels[r] for r in labels} | {cols[r]: v for r, v in values.items()}
    key = pd.DataFrame(columns)
    V.check_duplicates(key, labels["study"], idx)
    V.warn_similar_names(labels["treatment"].tolist())
    return _group(labels, values, cols, likelihood, link)


def _group(labels, values, cols, likelihood, link) -> list[StudyOutcomes]:
    rows = rows_by_study(labels["study"], cols["treatment"])
    if likelihood == "normal":  # arm means and their standard errors
        se = values["se"] if "se" in values else values["sd"] / np.sqrt(values["n"])
        values = {**values, "events": values["mean"]}
        trials = se
    else:
        trials = values["exposure"] if likelihood == "poisson" else values["n"]
    # offsets of the linear predictor: log follow-up (cloglog), log exposure (Poisson rates)
    if link == "cloglog":
        offset = np.log(values["time"])
    elif likelihood == "poisson":
        offset = np.log(values["exposure"])
    else:
        offset = np.zeros(len(trials))
    return [
        StudyOutcomes(
            study=s,
            treatments=tuple(labels["treatment"][r]),
            events=values["events"][r],
            trials=trials[r],
            offset=offset[r],
        )
        for s, r in ((s, np.asarray(r)) for s, r in rows.items())
    ]
