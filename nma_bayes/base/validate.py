"""Validators of keyword arguments: one small function per kind of argument.

Every option of :func:`nma_bayes.fit_network`, :class:`~nma_bayes.engines.nuts.SamplerSettings` and
the summary methods of :class:`~nma_bayes.NetworkFit` is checked here before anything is
computed. Each validator returns the value in its canonical type (``int``, ``float``, ``bool``)
or raises :class:`~nma_bayes.base.errors.ModelSpecError` tagged with a rule of the validation
catalogue (:data:`nma_bayes.data.validation.RULES`): ``bad-option`` for a value of the wrong type or
out of range, ``unknown-option`` for a keyword the function does not take, and
``option-not-applicable`` for an option that does not apply to the data's format. Nothing is
converted silently: ``"0.9"`` is not a probability and ``1`` is not a boolean.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import numpy as np

from .errors import ModelSpecError, format_items

__all__ = [
    "check_bool",
    "check_int",
    "check_probability",
    "check_ci_prob",
    "check_lower_is_better",
    "resolve_direction",
    "check_seed",
    "check_keywords",
    "check_applicable",
    "check_scale",
    "check_choice",
    "check_nonnegative",
    "RATIO_SCALES",
    "SEED_MAX",
    "CONTRAST_ONLY",
    "ARM_ONLY",
]

#: Options of :meth:`nma_bayes.Network.from_data` that apply to contrast data only.
CONTRAST_ONLY = ("treat1", "treat2", "TE", "seTE", "se_base", "closure_tol")
#: Options of :meth:`nma_bayes.Network.from_data` that apply to arm-level data only (the
#: columns of arm-level outcomes among them).
ARM_ONLY = ("treatment", "mean", "sd", "n", "se", "smd_method", "events", "exposure", "time",
            "category", "arm", "categories", "cumulative")
#: The ratio scale of each log-ratio effect measure and the names accepted for it (compared
#: case-insensitively, with ``_`` and ``-`` read as spaces). ``"RR"`` is the risk ratio of a
#: ``logRR`` network and the rate ratio of a ``logRateRatio`` network (a network has one measure).
RATIO_SCALES = {
    "logOR": ("OR", ("or", "odds ratio")),
    "logRR": ("RR", ("rr", "risk ratio", "relative risk")),
    "logHR": ("HR", ("hr", "hazard ratio")),
    "logRateRatio": (
        "rate ratio",
        ("rate ratio", "rateratio", "rr", "irr", "incidence rate ratio"),
    ),
}
#: Seeds must satisfy ``0 <= seed < SEED_MAX`` (the samplers take unsigned 64-bit seeds).
SEED_MAX = 2**64


def is_int(value: object) -> bool:
    """Return whether ``value`` is an integer and not a boolean."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_real(value: object) -> bool:
    """Return whether ``value`` is a real number (int or float, not a boolean or a string)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _bad(name: str, wanted: str, value: object, fix: str = "") -> ModelSpecError:
    return ModelSpecError(
        f"{name} must be {wanted}, got {value!r} ({type(value).__name__}).{fix}",
        rule="bad-option",
    )


def check_bool(value: object, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` if it is ``True`` or ``False`` (or ``None`` when allowed).

    Strings such as ``"no"`` and numbers such as ``0`` are refused: they would count as true or
    false by accident.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, bool | np.bool_):
        wanted = "True, False or None" if allow_none else "True or False"
        raise _bad(name, wanted, value, f" Pass {name}=True or {name}=False.")
    return bool(value)


def check_int(value: object, name: str, *, minimum: int, allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` after checking it is an integer >= ``minimum``.

    Booleans (``draws=True``), floats (``draws=1000.0``) and strings are refused.
    """
    if value is None and allow_none:
        return None
    if not is_int(value) or value < minimum:
        extra = " or None" if allow_none else ""
        raise _bad(name, f"an integer >= {minimum}{extra} (not a bool, float or string)", value)
    return int(value)


def check_probability(value: object, name: str, *, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float after checking it is a number strictly between 0 and 1."""
    if value is None and allow_none:
        return None
    if not is_real(value) or not 0 < float(value) < 1:
        extra = " or None" if allow_none else ""
        raise _bad(name, f"a number strictly between 0 and 1{extra} (not a string)", value)
    return float(value)


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices`` (compared exactly)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise _bad(name, f"one of {', '.join(map(repr, choices))}", value)
    return value


def check_nonnegative(value: object, name: str, *, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float after checking it is a finite number >= 0."""
    if value is None and allow_none:
        return None
    if not is_real(value) or not np.isfinite(float(value)) or float(value) < 0:
        extra = " or None" if allow_none else ""
        raise _bad(name, f"a finite number >= 0{extra} (not a bool or string)", value)
    return float(value)


def check_ci_prob(ci_prob: object) -> float:
    """Validate a credible-interval probability (a number strictly between 0 and 1)."""
    if not is_real(ci_prob) or not 0 < float(ci_prob) < 1:
        raise _bad(
            "ci_prob",
            "a number strictly between 0 and 1 (the probability of the credible interval)",
            ci_prob,
            " E.g. ci_prob=0.95.",
        )
    return float(ci_prob)


def check_lower_is_better(value: object) -> bool:
    """Validate the benefit direction of rankings (required: ``True`` or ``False``)."""
    if not isinstance(value, bool | np.bool_):
        raise ModelSpecError(
            f"lower_is_better must be True or False, got {value!r}: say whether smaller "
            "effects are better (e.g. True for symptom scores, False for response rates).",
            rule="bad-option",
        )
    return bool(value)


def check_seed(value: object) -> int | None:
    """Validate a random seed: ``None`` or an integer with ``0 <= seed < 2**64``."""
    if value is None:
        return None
    if not is_int(value) or not 0 <= value < SEED_MAX:
        raise _bad(
            "random_seed",
            "an integer with 0 <= random_seed < 2**64, or None",
            value,
            " Omit it to draw a seed (stored in fit.seed).",
        )
    return int(value)


def check_keywords(given: Iterable[str], allowed: Iterable[str], function: str) -> None:
    """Refuse keywords that ``function`` does not take, suggesting the closest valid ones.

    Parameters
    ----------
    given : iterable of str
        Keywords passed by the user.
    allowed : iterable of str
        Every keyword ``function`` takes.
    function : str
        Name shown in the message, e.g. ``"fit_network"``.
    """
    allowed = sorted(set(allowed))
    unknown = [k for k in given if k not in allowed]
    if not unknown:
        return
    hints = []
    for k in unknown:
        close = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
        hints.append(f"{k}= (did you mean {close[0]}=?)" if close else f"{k}=")
    raise ModelSpecError(
        f"{function}() got unknown keyword argument(s) {', '.join(hints)}. Valid options: "
        f"{', '.join(allowed)}.",
        rule="unknown-option",
    )


def check_applicable(given: Mapping[str, object], inapplicable: Iterable[str], detected: str):
    """Refuse options that do not apply to the detected data format.

    Parameters
    ----------
    given : mapping
        Options passed by the user.
    inapplicable : iterable of str
        Options meaningless for this format (e.g. ``treatment=`` for contrast data).
    detected : str
        The detected format and why, e.g. ``"contrast data (column 'treat1' present)"``.
    """
    bad = [k for k in inapplicable if k in given]
    if bad:
        raise ModelSpecError(
            f"Option(s) {format_items([f'{k}=' for k in bad])} do not apply to {detected}; they "
            "would be ignored. Remove them, or, if the data are in the other format, make the "
            "format explicit (Network.from_contrasts / Network.from_arms).",
            rule="option-not-applicable",
        )


def resolve_direction(lower_is_better: object, network: object, *, required: bool) -> bool | None:
    """Return the benefit direction of rankings by the one rule of the package.

    The rule, in order:

    1. an explicit ``lower_is_better=True`` or ``False`` wins;
    2. if it is ``None``, the direction recorded on the network (``network.lower_is_better``,
       set with ``Network.from_data(..., lower_is_better=...)``) is used;
    3. if that is unknown too, the result is ``None`` when the direction is not ``required``
       (the caller then leaves out what needs it, e.g. the rankings of a report), and a
       :class:`~nma_bayes.base.errors.ModelSpecError` is raised when it is.

    Parameters
    ----------
    lower_is_better : bool or None
        The direction given by the user: ``True`` when smaller effects are better (e.g. symptom
        scores), ``False`` when larger effects are better (e.g. response rates), ``None`` when
        not given. Anything else (``1``, ``"yes"``) is refused.
    network : Network or None
        The network whose recorded direction is the fallback; ``None`` (or an object without a
        ``lower_is_better`` attribute) records none.
    required : bool
        Whether the caller cannot proceed without a direction.

    Returns
    -------
    bool or None
        The direction; ``None`` only when it is unknown and not ``required``.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``lower_is_better`` or the network's direction is neither a
        boolean nor ``None``, or if the direction is ``required`` and unknown.

    Examples
    --------
    >>> resolve_direction(False, None, required=True)
    False
    >>> resolve_direction(None, None, required=False) is None
    True
    """
    if lower_is_better is None:
        # not given: fall back to the direction recorded on the network (may be None too)
        lower_is_better = getattr(network, "lower_is_better", None)
    if lower_is_better is None:
        if not required:
            return None
        raise ModelSpecError(
            "The benefit direction is unknown: pass lower_is_better=True (smaller effects are "
            "better, e.g. symptom scores) or lower_is_better=False (larger effects are better, "
            "e.g. response rates), or set it on the network with "
            "Network.from_data(..., lower_is_better=...).",
            rule="bad-option",
        )
    return check_lower_is_better(lower_is_better)


def check_scale(scale: object, measure: str | None) -> str | None:
    """Return the canonical name of a summary scale: ``None`` (linear predictor) or a ratio.

    ``None``, ``"linear"`` and the measure's own name (e.g. ``"logOR"``; ``"log"`` for a log
    ratio) mean the scale the model is fitted on. A ratio scale exponentiates log ratios:
    ``"OR"`` (measure ``logOR``), ``"HR"`` (``logHR``), ``"RR"`` (``logRR``: risk ratio) and
    ``"rate ratio"`` (``logRateRatio``; ``"RR"`` and ``"IRR"`` are accepted too), with the aliases
    of :data:`RATIO_SCALES`.

    Parameters
    ----------
    scale : str or None
        The scale asked for.
    measure : str or None
        The effect measure of the network (``Network.measure``).

    Returns
    -------
    str or None
        ``None`` for the linear-predictor scale, else the ratio's canonical name (``"OR"``,
        ``"HR"``, ``"RR"``, ``"rate ratio"``).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``scale`` is not a string or ``None``, or names a scale that
        does not apply to ``measure`` (a ratio scale for a measure that is not a log ratio).
    """
    ratio = RATIO_SCALES.get(measure) if measure is not None else None
    valid = ["None (the linear-predictor scale)"] + ([repr(ratio[0])] if ratio else [])
    if scale is None:
        return None
    if not isinstance(scale, str):
        raise _bad("scale", f"a string or None ({', '.join(valid)})", scale)
    key = " ".join(scale.strip().lower().replace("_", " ").replace("-", " ").split())
    if key == "linear" or (ratio and key == "log") or (measure and key == measure.lower()):
        return None
    if ratio is not None and key in ratio[1]:
        return ratio[0]
    why = (
        f"the effects are {measure} (log ratios), whose ratio scale is {ratio[0]!r}"
        if ratio
        else f"the effects ({measure}) are not log ratios, so they have no ratio scale"
        if measure is not None
        else "the network records no effect measure, so its effects are not known to be log "
        "ratios (record it with Network.from_data(..., measure='logOR'), for example)"
    )
    raise ModelSpecError(
        f"scale={scale!r} does not apply: {why}. Valid scales: {', '.join(valid)}.",
        rule="bad-option",
    )
