"""The public ``fit_network``: NMA fits, and survival fits with ``likelihood="survival"``.

``fit_network(data, likelihood="survival", model=..., ...)`` is routed to
:func:`~nma_bayes.fitting.survival.fit_survival` (the issue's proposed entry point); every other
call is :func:`nma_bayes.fitting.fit.fit_network` unchanged (same signature and documentation).
The routing lives here so that ``fitting.survival`` may build on ``fitting.fit`` without an
import circle.
"""

from __future__ import annotations

import functools
import inspect

from ..base.errors import ModelSpecError
from . import fit as _fit
from .survival import fit_survival

__all__ = ["fit_network"]


#: fit_network's options that a survival fit (likelihood="survival") also takes.
_SURVIVAL_SHARED = ("reference", "effects", "prior_d", "prior_tau", "prior_baseline",
                    "random_seed", "draws", "tune", "chains", "cores", "target_accept",
                    "progressbar", "class_model", "prior_class_mean", "prior_class_sd",
                    "class_sd", "interaction", "prior_beta", "prior_beta_sd",
                    "center")  # fmt: skip


def _fit_survival(data, columns: dict, named: dict):
    """``fit_network(likelihood="survival", model=...)``: route to :func:`fit_survival`.

    Its own options (``model, cutpoints, powers, ...``) come in ``columns``; fit_network's
    options that survival models do not have must keep their defaults.
    """
    defaults = inspect.signature(_fit.fit_network).parameters
    odd = sorted(k for k, v in named.items()
                 if k not in _SURVIVAL_SHARED and v != defaults[k].default)  # fmt: skip
    if odd:
        raise ModelSpecError(
            f"{', '.join(odd)}: not options of the survival models (likelihood='survival').",
            rule="option-not-applicable",
        )
    shared = {k: named[k] for k in _SURVIVAL_SHARED if named[k] != defaults[k].default}
    if "effects" not in shared:  # fit_network's default
        shared["effects"] = named["effects"]
    options = {k: v for k, v in columns.items() if k != "likelihood"}
    return fit_survival(data, **shared, **options)


@functools.wraps(_fit.fit_network)
def fit_network(data, **options):  # noqa: D103 - the docstring is fit.fit_network's (wraps)
    if options.get("likelihood") == "survival":
        names = inspect.signature(_fit.fit_network).parameters
        named = {k: options.pop(k, p.default) for k, p in names.items()
                 if k not in ("data", "columns")}  # fmt: skip
        return _fit_survival(data, options, named)
    return _fit.fit_network(data, **options)
