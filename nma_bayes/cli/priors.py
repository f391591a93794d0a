"""Priors by name on the command line: ``--prior-tau "halfnormal(0.5)"``, ``"turner(...)"``.

A small, strict parser: ``NAME(ARGS)`` where ``NAME`` is a prior family (case-insensitive; ``-``
and ``_`` are ignored, so ``half-normal`` is ``halfnormal``) and ``ARGS`` are comma-separated
values, positional or ``key=value``:

* ``normal(mean, sd)``, ``halfnormal(scale)``, ``uniform(lower, upper)``,
  ``lognormal(mu, sigma)`` (of ``log(tau)``), ``halfcauchy(scale)``, ``truncnormal(mean, sd)``
  (:mod:`nma_bayes.models.priors`): every parameter given, each a plain decimal number;
* ``turner(outcome, comparison)`` and ``rhodes(outcome, comparison[, area])``
  (:func:`~nma_bayes.models.empirical_priors.turner2015`,
  :func:`~nma_bayes.models.empirical_priors.rhodes2015`; also ``turner2015``, ``rhodes2015``):
  the published predictive distributions of the heterogeneity, by their labels (a unique prefix
  is enough, e.g. ``turner(all-cause, pharma vs placebo)``); ``turner()`` and ``rhodes()`` are
  the general settings. Labels may be quoted and contain no comma.

Each option accepts the families its parameter accepts (:data:`OPTION_FORMS`); anything else is a
:class:`~nma_bayes.base.errors.ModelSpecError` (rule ``bad-prior``) whose one-line message names
the option, repeats the text and lists the accepted forms.
"""

from __future__ import annotations

import re

from ..base.errors import ModelSpecError
from ..models.empirical_priors import rhodes2015, turner2015
from ..models.priors import (
    HalfCauchy,
    HalfNormal,
    LogNormal,
    Normal,
    Prior,
    TruncatedNormal,
    Uniform,
)

__all__ = ["OPTION_FORMS", "PRIOR_OPTIONS", "parse_prior"]

#: Numeric families: name -> (class, parameter names, in order).
_FAMILIES = {
    "normal": (Normal, ("mean", "sd")),
    "halfnormal": (HalfNormal, ("scale",)),
    "uniform": (Uniform, ("lower", "upper")),
    "lognormal": (LogNormal, ("mu", "sigma")),
    "halfcauchy": (HalfCauchy, ("scale",)),
    "truncnormal": (TruncatedNormal, ("mean", "sd")),
}
#: Empirical priors of the heterogeneity: name -> (function, its label arguments, in order).
_EMPIRICAL = {
    "turner": (turner2015, ("outcome", "comparison")),
    "rhodes": (rhodes2015, ("outcome", "comparison", "area")),
}
_ALIASES = {"turner2015": "turner", "rhodes2015": "rhodes"}

#: The families each command-line option accepts.
OPTION_FORMS = {
    "--prior-d": ("normal",),
    "--prior-tau": ("halfnormal", "uniform", "lognormal", "halfcauchy", "turner", "rhodes"),
    "--prior-class-mean": ("normal",),
    "--prior-class-sd": ("halfnormal", "uniform", "lognormal", "truncnormal"),
}
#: The ``fit_network`` keyword of each option.
PRIOR_OPTIONS = {
    "--prior-d": "prior_d",
    "--prior-tau": "prior_tau",
    "--prior-class-mean": "prior_class_mean",
    "--prior-class-sd": "prior_class_sd",
}

_CALL = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*\((.*)\)\s*", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_KEY = re.compile(r"([A-Za-z_]+)\s*=\s*(.*)", re.DOTALL)


def _form(name: str) -> str:
    """Return the accepted form of one family, e.g. ``normal(mean, sd)``."""
    if name in _FAMILIES:
        return f"{name}({', '.join(_FAMILIES[name][1])})"
    params = _EMPIRICAL[name][1]
    return f"{name}([{', '.join(params[:2])}{'[, area]' if len(params) > 2 else ''}])"


def accepted_forms(option: str) -> str:
    """Return the prior forms ``option`` accepts, for messages and ``--help``."""
    return ", ".join(_form(name) for name in OPTION_FORMS[option])


def _split_arguments(body: str) -> tuple[list[str], dict[str, str]]:
    """Split ``a, b, key=c`` into positional and keyword values (positional ones first)."""
    if not body.strip():
        return [], {}
    positional, keywords = [], {}
    for item in (part.strip() for part in body.split(",")):
        if not item:
            raise ValueError("an empty argument")
        match = _KEY.fullmatch(item)
        if match is None:
            if keywords:
                raise ValueError(f"the positional value {item!r} after a keyword one")
            positional.append(item)
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if key in keywords:
            raise ValueError(f"{key!r} given twice")
        keywords[key] = value
    return positional, keywords


def _bind(name: str, params: tuple, positional: list, keywords: dict) -> dict[str, str]:
    """Match the values to the parameter names of family ``name``."""
    if len(positional) > len(params):
        raise ValueError(f"{len(positional)} values for {_form(name)}")
    bound = dict(zip(params, positional, strict=False))
    for key, value in keywords.items():
        if key not in params:
            raise ValueError(f"no parameter {key!r} in {_form(name)}")
        if key in bound:
            raise ValueError(f"{key!r} given twice")
        bound[key] = value
    return bound


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _build(name: str, bound: dict[str, str]) -> Prior:
    """Construct the prior of family ``name`` from its bound (text) values."""
    if name in _EMPIRICAL:
        function = _EMPIRICAL[name][0]
        return function(**{key: _unquote(value) for key, value in bound.items()})
    cls, params = _FAMILIES[name]
    missing = [p for p in params if p not in bound]
    if missing:
        raise ValueError(f"{_form(name)} needs {', '.join(missing)}")
    values = {}
    for key, text in bound.items():
        if _NUMBER.fullmatch(text) is None:
            raise ValueError(f"{key}={text!r} is not a number")
        values[key] = float(text)
    return cls(**values)


def parse_prior(option: str, text: str) -> Prior:
    """Parse the prior given to a command-line option.

    Parameters
    ----------
    option : str
        The option, one of :data:`OPTION_FORMS` (e.g. ``"--prior-tau"``); it decides which
        families are accepted.
    text : str
        The prior, e.g. ``"halfnormal(0.5)"``, ``"uniform(0, 5)"``, ``"normal(mean=0, sd=10)"``
        or ``"turner(all-cause mortality, pharmacological vs placebo/control)"``.

    Returns
    -------
    Prior
        The prior object (``turner``/``rhodes``: the value of ``turner2015``/``rhodes2015``).

    Raises
    ------
    ModelSpecError
        Rule ``bad-prior``: the text is not one of the forms the option accepts, or its values
        are refused by the prior (a scale out of range, an unknown outcome label); the message
        names the option and lists the accepted forms.
    """
    forms = accepted_forms(option)
    match = _CALL.fullmatch(text)
    name = re.sub(r"[-_]", "", match.group(1).lower()) if match else None
    name = _ALIASES.get(name, name)
    if name not in OPTION_FORMS[option]:
        what = "is not a prior" if name is None else f"is not accepted (unknown family {name!r})"
        if name in _FAMILIES or name in _EMPIRICAL:
            what = f"is not accepted ({name} is not a prior of this parameter)"
        raise ModelSpecError(
            f"{option} {text!r} {what}; accepted forms: {forms}.", rule="bad-prior"
        )
    params = _FAMILIES[name][1] if name in _FAMILIES else _EMPIRICAL[name][1]
    try:
        positional, keywords = _split_arguments(match.group(2))
        return _build(name, _bind(name, params, positional, keywords))
    except ValueError as exc:  # a ModelSpecError from the prior too: its values are refused
        detail = str(exc).rstrip(". ")
        raise ModelSpecError(
            f"{option} {text!r}: {detail}; accepted forms: {forms}.", rule="bad-prior"
        ) from exc
