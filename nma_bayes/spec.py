"""Model specification: what is fitted, separate from the data and from the PyMC graph.

A :class:`ModelSpec` says which model (random or fixed effects) and which priors. It is
validated on construction and describes itself in words for summaries and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ModelSpecError
from .priors import DEFAULT_PRIOR_D, DEFAULT_PRIOR_TAU, TAU_FAMILIES, Normal, Prior

__all__ = ["ModelSpec", "EFFECTS"]

EFFECTS = ("random", "fixed")


@dataclass(frozen=True)
class ModelSpec:
    """Specification of a contrast-based NMA model (Dias et al., NICE DSU TSD2).

    Parameters
    ----------
    effects : {"random", "fixed"}
        ``"random"``: study-specific effects ``delta_i ~ N(d_t - d_b, tau^2)`` with covariance
        ``tau^2 / 2`` between contrasts of the same multi-arm study, integrated out analytically.
        ``"fixed"``: one common effect per comparison (``tau = 0``).
    prior_d : Normal
        Prior of each relative effect ``d_t`` (vs the reference). Default ``normal(0, 10^2)``.
    prior_tau : HalfNormal, Uniform or LogNormal
        Prior of the between-study SD ``tau`` (random effects only).
        Default ``half-normal(0, 1^2)``.
    """

    effects: str = "random"
    prior_d: Prior = field(default=DEFAULT_PRIOR_D)
    prior_tau: Prior = field(default=DEFAULT_PRIOR_TAU)

    def __post_init__(self):
        if self.effects not in EFFECTS:
            raise ModelSpecError(
                f"effects={self.effects!r} is not a model: use 'random' or 'fixed'."
            )
        if not isinstance(self.prior_d, Normal):
            raise ModelSpecError(
                f"prior_d must be nma_bayes.priors.Normal, got {type(self.prior_d).__name__}."
            )
        if not isinstance(self.prior_tau, TAU_FAMILIES):
            names = ", ".join(c.__name__ for c in TAU_FAMILIES)
            raise ModelSpecError(
                f"prior_tau must be one of {names}, got {type(self.prior_tau).__name__}."
            )

    @property
    def random(self) -> bool:
        """Whether the model has random effects."""
        return self.effects == "random"

    def structure_key(self) -> tuple:
        """Return what determines the PyMC graph's structure (not its numbers).

        Two specs with the same key share a compiled model; only data change between them.
        """
        return (self.effects, self.prior_d.family, self.prior_tau.family if self.random else None)

    def describe(self) -> dict[str, str]:
        """Return the model and its priors in words, for summaries and reports."""
        out = {
            "model": (
                "random effects (Dias et al. 2011, TSD2), study effects integrated out"
                if self.random
                else "fixed (common) effect (Dias et al. 2011, TSD2)"
            ),
            "likelihood": "normal on study contrasts, exact multi-arm covariance",
            "prior d": self.prior_d.describe(),
        }
        if self.random:
            out["prior tau"] = self.prior_tau.describe()
        return out
