"""Prior distributions for the NMA parameters, as explicit, printable objects.

Priors are small frozen dataclasses: they carry their parameters, describe themselves in words
(for the fit summary and reports) and know how to emit their PyMC distribution. The numeric
parameters enter the PyMC graph as data, so that changing a prior's *parameters* never recompiles
a model; changing its *family* does.

Defaults (:data:`DEFAULT_PRIOR_D`, :data:`DEFAULT_PRIOR_TAU`) are chosen for the standardised mean
difference (SMD) scale: ``d ~ N(0, 10^2)`` is vague for SMDs (|SMD| > 2 is exceptional), and
``tau ~ half-N(0, 1^2)`` is weakly informative for between-study SDs on the SMD scale (prior median
0.67, 95% below 1.96). For other scales (mean differences in natural units, log odds ratios) choose
priors on that scale. References: Dias S, Welton NJ, Sutton AJ, Ades AE (2011, updated 2016),
NICE DSU Technical Support Document 2, section on prior distributions; Röver C et al. (2021),
"On weakly informative prior distributions for the heterogeneity parameter in Bayesian
random-effects meta-analysis", Res Synth Methods 12:448-474.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .errors import ModelSpecError

__all__ = [
    "Prior",
    "Normal",
    "HalfNormal",
    "Uniform",
    "LogNormal",
    "TruncatedNormal",
    "DEFAULT_PRIOR_D",
    "DEFAULT_PRIOR_TAU",
]


def _check_positive_finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ModelSpecError(
            f"Prior parameter {name!r} must be a positive finite number, got {value!r}."
        )
    return value


@dataclass(frozen=True)
class Prior:
    """Base class of prior distributions."""

    #: Name of the distribution family; part of the compiled-model cache key.
    family = "prior"

    def params(self) -> dict[str, float]:
        """Return the numeric parameters as a dict (names as in the constructor)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    def describe(self) -> str:
        """Return the prior in words, e.g. ``'half-normal(0, 1^2)'``."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Normal(Prior):
    """Normal prior ``N(mean, sd^2)``, the prior of the relative effects ``d`` (TSD2).

    Parameters
    ----------
    mean : float
        Prior mean; 0 expresses no prior preference between treatments.
    sd : float
        Prior standard deviation (not variance). TSD2 uses ``sd = 100``; gemtc uses
        ``15 * om.scale``.
    """

    mean: float = 0.0
    sd: float = 10.0
    family = "normal"

    def __post_init__(self):
        if not math.isfinite(float(self.mean)):
            raise ModelSpecError(f"Normal prior mean must be finite, got {self.mean!r}.")
        _check_positive_finite("sd", self.sd)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"normal({self.mean:g}, {self.sd:g}^2)"


@dataclass(frozen=True)
class HalfNormal(Prior):
    """Half-normal prior on the heterogeneity SD ``tau``: ``|N(0, scale^2)|``.

    Parameters
    ----------
    scale : float
        Scale of the underlying normal. multinma's default for ``tau`` is ``scale = 5``.
    """

    scale: float = 1.0
    family = "halfnormal"

    def __post_init__(self):
        _check_positive_finite("scale", self.scale)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"half-normal(0, {self.scale:g}^2)"


@dataclass(frozen=True)
class Uniform(Prior):
    """Uniform prior ``U(lower, upper)`` on ``tau``.

    TSD2 uses ``U(0, 5)``; gemtc ``U(0, om.scale)``.

    Parameters
    ----------
    lower, upper : float
        Bounds, ``0 <= lower < upper``.
    """

    lower: float = 0.0
    upper: float = 5.0
    family = "uniform"

    def __post_init__(self):
        lower, upper = float(self.lower), float(self.upper)
        if not (math.isfinite(lower) and math.isfinite(upper) and 0 <= lower < upper):
            raise ModelSpecError(
                "Uniform prior needs finite bounds with 0 <= lower < upper, "
                f"got ({lower}, {upper})."
            )

    def describe(self) -> str:
        """Return the prior in words."""
        return f"uniform({self.lower:g}, {self.upper:g})"


@dataclass(frozen=True)
class LogNormal(Prior):
    """Log-normal prior on ``tau``: ``log(tau) ~ N(mu, sigma^2)``.

    Parameters
    ----------
    mu : float
        Mean of ``log(tau)``.
    sigma : float
        SD of ``log(tau)``.
    """

    mu: float = -1.0
    sigma: float = 1.0
    family = "lognormal"

    def __post_init__(self):
        if not math.isfinite(float(self.mu)):
            raise ModelSpecError(f"LogNormal prior mu must be finite, got {self.mu!r}.")
        _check_positive_finite("sigma", self.sigma)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"log-normal({self.mu:g}, {self.sigma:g}^2) on tau"


@dataclass(frozen=True)
class TruncatedNormal(Prior):
    """Normal prior ``N(mean, sd^2)`` truncated to positive values, for SDs.

    multinma's ``normal(0.33, 0.1)`` prior on within-class SDs (Perren et al. 2025; the social
    anxiety vignette) is this prior.

    Parameters
    ----------
    mean : float
        Mean of the untruncated normal.
    sd : float
        SD of the untruncated normal.
    """

    mean: float = 0.33
    sd: float = 0.1
    family = "truncnormal"

    def __post_init__(self):
        if not math.isfinite(float(self.mean)):
            raise ModelSpecError(f"TruncatedNormal prior mean must be finite, got {self.mean!r}.")
        _check_positive_finite("sd", self.sd)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"normal({self.mean:g}, {self.sd:g}^2) truncated to > 0"


#: Default prior of the relative effects (SMD scale).
DEFAULT_PRIOR_D = Normal(0.0, 10.0)
#: Default prior of the between-study SD (SMD scale).
DEFAULT_PRIOR_TAU = HalfNormal(1.0)

#: Families accepted for ``tau``.
TAU_FAMILIES = (HalfNormal, Uniform, LogNormal)
#: Families accepted for within-class SDs.
CLASS_SD_FAMILIES = (HalfNormal, Uniform, LogNormal, TruncatedNormal)
#: Default prior of class means (exchangeable class model), as in multinma's vignettes.
DEFAULT_PRIOR_CLASS_MEAN = Normal(0.0, 10.0)
#: Default prior of within-class SDs (SMD scale): weakly informative.
DEFAULT_PRIOR_CLASS_SD = HalfNormal(0.5)
