"""Typed exceptions and warnings raised by nma_bayes.

Every problem with the user's input is reported before any sampling as a subclass of
:class:`NMAInputError`, itself a :class:`ValueError`, so that ``except ValueError`` keeps working.
Messages name the column, the offending rows or studies, and the fix.
"""

from __future__ import annotations

__all__ = [
    "NMAInputError",
    "MissingColumnError",
    "InvalidValueError",
    "MultiArmError",
    "DisconnectedNetworkError",
    "UnknownTreatmentError",
    "ModelSpecError",
    "ExactEngineError",
    "NumericalError",
    "NMAConvergenceWarning",
]


class NMAInputError(ValueError):
    """Base class of every input-validation error.

    Parameters
    ----------
    message : str
        What is wrong, where (column, rows or studies) and how to fix it.
    rule : str, optional
        Identifier of the rule in the validation catalogue
        (:data:`nma_bayes.data.validation.RULES`, documented in ``docs/data.md``).
    """

    def __init__(self, message: str, *, rule: str | None = None):
        super().__init__(message)
        self.rule = rule


class MissingColumnError(NMAInputError):
    """A required column is absent from the data."""


class InvalidValueError(NMAInputError):
    """A column holds values that are missing, non-numeric, non-finite or out of range."""


class MultiArmError(NMAInputError):
    """A multi-arm study lacks, or contradicts, the information its covariance needs."""


class DisconnectedNetworkError(NMAInputError):
    """The network of treatments falls apart into several components."""


class UnknownTreatmentError(NMAInputError):
    """A treatment named by the user (e.g. the reference) is not in the network."""


class ModelSpecError(NMAInputError):
    """The model specification (effects, priors, options) is invalid."""


class ExactEngineError(ValueError):
    """The exact engine cannot vouch for its answer (unconverged quadrature, numerical breakdown).

    Raised instead of returning an unconverged result; the message says why and what to change
    (usually a proper prior on a plausible scale, or ``engine="pymc"``).
    """


class NumericalError(ValueError):
    """A summary would hold NaN or infinite values (floating-point breakdown of the posterior).

    Raised by the summary methods of :class:`~nma_bayes.NetworkFit` instead of returning a table
    with NaN in it; the message names the table and the entries affected.
    """


class NMAConvergenceWarning(UserWarning):
    """The sampler's diagnostics flag a problem (R-hat, effective sample size, divergences)."""


def format_items(items, limit: int = 5) -> str:
    """Format the first ``limit`` offending items plus a count, for error messages.

    Parameters
    ----------
    items : iterable
        Offending row labels or study names.
    limit : int
        How many to show before summarising the rest as a count.

    Returns
    -------
    str
        For example ``"'s1', 's2', 's3' (3 in total)"`` or ``"'a', 'b', ... (12 in total)"``.
    """
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:limit])
    if len(items) > limit:
        shown += ", ..."
    return f"{shown} ({len(items)} in total)"


class TreatmentNameWarning(UserWarning):
    """Treatment names differ only by letter case or surrounding whitespace (not merged)."""


__all__ += ["TreatmentNameWarning"]


class RuleWarning(UserWarning):
    """A warning of a rule of the validation catalogue (its identifier in ``rule``).

    Parameters
    ----------
    message : str
        What was found, where, and what it means.
    rule : str, optional
        Identifier of the rule in the validation catalogue
        (:data:`nma_bayes.data.validation.RULES`).
    """

    def __init__(self, message: str, *, rule: str | None = None):
        super().__init__(message)
        self.rule = rule


__all__ += ["RuleWarning"]


class IdentificationWarning(RuleWarning):
    """A parameter the data cannot pin down: its posterior follows its prior in one direction.

    Raised as a warning before fitting: e.g. an inconsistency parameter of the design-by-treatment
    model whose design's studies all have a zero-event (or all-event) arm on one side of the
    comparison (``design-separation``): the likelihood has no finite maximum there.
    """


__all__ += ["IdentificationWarning"]


class CovariateWarning(RuleWarning):
    """A study covariate gives little information on some of its effects (meta-regression).

    Raised as a warning, never an error: a categorical level held by a single study
    (``covariate-level-one-study``), or an observed comparison whose studies all fall in one
    subgroup (``covariate-subgroup-empty``).
    """


__all__ += ["CovariateWarning"]
