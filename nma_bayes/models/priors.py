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

from ..base.errors import ModelSpecError
from ..base.validate import is_real
from ..data import validation as V

__all__ = [
    "Prior",
    "Normal",
    "HalfNormal",
    "Uniform",
    "LogNormal",
    "TruncatedNormal",
    "HalfCauchy",
    "LogNormalTau2",
    "LogStudentTTau2",
    "DEFAULT_PRIOR_D",
    "DEFAULT_PRIOR_BASELINE",
    "DEFAULT_PRIOR_CUTPOINT",
    "DEFAULT_PRIOR_TAU",
]


def _number(name: str, value: object) -> float:
    """Return a prior parameter as a float: a finite int or float, never a string or a bool."""
    if not is_real(value) or not math.isfinite(float(value)):
        raise ModelSpecError(
            f"Prior parameter {name!r} must be a finite number (int or float), got {value!r} "
            f"({type(value).__name__}). Pass a number, e.g. Normal(0, 10).",
            rule="bad-prior",
        )
    return float(value)


def _check_positive_finite(name: str, value: object) -> float:
    """Check a scale parameter: a number within ``validation.PRIOR_SCALE_BOUNDS``."""
    lo, hi = V.PRIOR_SCALE_BOUNDS
    if not lo <= _number(name, value) <= hi:
        raise ModelSpecError(
            f"Prior parameter {name!r} (a scale) must lie between {lo:g} and {hi:g}, got "
            f"{value!r}. Choose a scale suited to the effect measure (e.g. 1-100 for d).",
            rule="bad-prior",
        )
    return float(value)


def _check_finite(name: str, value: object) -> float:
    """Check a location parameter: a number with ``|value| <= PRIOR_LOCATION_MAX``."""
    if abs(_number(name, value)) > V.PRIOR_LOCATION_MAX:
        raise ModelSpecError(
            f"Prior parameter {name!r} (a location) must be at most {V.PRIOR_LOCATION_MAX:g} in "
            f"absolute value, got {value!r}.",
            rule="bad-prior",
        )
    return float(value)


def _check_log_tau_range(prior: str, centre: float, half_width: float) -> None:
    """Check that a log-scale prior keeps tau within exp(+-PRIOR_LOG_TAU_MAX) (1e-50 to 1e50)."""
    if abs(centre) + half_width > V.PRIOR_LOG_TAU_MAX:
        raise ModelSpecError(
            f"{prior}: the prior's range of log(tau) (centre {centre:g} +- {half_width:g}) "
            f"reaches beyond +-{V.PRIOR_LOG_TAU_MAX:.4g} (tau outside 1e-50 to 1e50), which no "
            "engine can integrate. Use a smaller location or spread.",
            rule="bad-prior",
        )


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
        _check_finite("mean", self.mean)
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
        lower, upper = _number("lower", self.lower), _number("upper", self.upper)
        lo, hi = V.PRIOR_SCALE_BOUNDS
        if not (0 <= lower < upper and lo <= upper <= hi):
            raise ModelSpecError(
                f"Uniform prior needs bounds with 0 <= lower < upper and {lo:g} <= upper <= "
                f"{hi:g}, got ({self.lower!r}, {self.upper!r}).",
                rule="bad-prior",
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
        mu, sigma = _check_finite("mu", self.mu), _check_positive_finite("sigma", self.sigma)
        _check_log_tau_range("LogNormal", mu, 8 * sigma)

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
        _check_finite("mean", self.mean)
        _check_positive_finite("sd", self.sd)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"normal({self.mean:g}, {self.sd:g}^2) truncated to > 0"


@dataclass(frozen=True)
class HalfCauchy(Prior):
    """Half-Cauchy prior on the heterogeneity SD ``tau``: ``|Cauchy(0, scale)|``.

    Heavy-tailed and weakly informative (Gelman 2006, Bayesian Analysis 1:515-534; Röver et al.
    2021): the prior median of ``tau`` is ``scale``, and 10% of its mass lies above
    ``6.3 * scale``.

    Parameters
    ----------
    scale : float
        Scale (the median of ``tau``).
    """

    scale: float = 0.5
    family = "halfcauchy"

    def __post_init__(self):
        _check_positive_finite("scale", self.scale)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"half-Cauchy(0, {self.scale:g})"


def _check_label(label: object) -> None:
    if not isinstance(label, str):
        raise ModelSpecError(f"label must be a string, got {label!r}.", rule="bad-prior")


@dataclass(frozen=True)
class _Tau2Prior(Prior):
    """Base of priors stated on the between-study variance ``tau^2`` (with a source label)."""

    def params(self) -> dict[str, float]:
        """Return the numeric parameters as a dict (the ``label`` is not a parameter)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self) if f.name != "label"}

    def _suffix(self) -> str:
        return f" [{self.label}]" if self.label else ""


@dataclass(frozen=True)
class LogNormalTau2(_Tau2Prior):
    """Log-normal prior on the between-study *variance*: ``log(tau^2) ~ N(mu, sigma^2)``.

    The form of the predictive distributions of Turner et al. (2015, Stat Med 34:984-998) for
    log odds ratios; :func:`nma_bayes.models.empirical_priors.turner2015` returns them by outcome
    and comparison type. The model's parameter is ``tau``: equivalently ``log(tau) ~ N(mu/2,
    (sigma/2)^2)``, a :class:`LogNormal` with halved parameters (density of ``tau``:
    ``f(tau^2) * 2 tau``).

    Parameters
    ----------
    mu : float
        Mean of ``log(tau^2)``. Default -2.56, Turner et al.'s general-setting value.
    sigma : float
        SD of ``log(tau^2)``. Default 1.74 (Turner et al., general setting).
    label : str
        Where the values come from, shown by :meth:`describe` (not a parameter).
    """

    mu: float = -2.56
    sigma: float = 1.74
    label: str = ""
    family = "lognormal_tau2"

    def __post_init__(self):
        mu, sigma = _check_finite("mu", self.mu), _check_positive_finite("sigma", self.sigma)
        _check_label(self.label)
        _check_log_tau_range("LogNormalTau2", mu / 2, 8 * sigma / 2)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"log-normal({self.mu:g}, {self.sigma:g}^2) on tau^2" + self._suffix()


@dataclass(frozen=True)
class LogStudentTTau2(_Tau2Prior):
    """Log-Student-t prior on the between-study *variance*: ``log(tau^2) ~ t_nu(mu, sigma)``.

    ``(log(tau^2) - mu) / sigma`` has a Student-t distribution with ``nu`` degrees of freedom.
    The form of the predictive distributions of Rhodes et al. (2015, J Clin Epidemiol 68:52-60)
    for standardised mean differences (``nu = 5``);
    :func:`nma_bayes.models.empirical_priors.rhodes2015` returns them by outcome and comparison
    type. The model's parameter is ``tau`` (density ``f(tau^2) * 2 tau``). The prior density of
    ``tau`` has an integrable peak at 0 (the t tail of ``log(tau^2)``); a few percent of the prior
    mass lies below ``tau = 0.01``.

    Parameters
    ----------
    mu : float
        Location of ``log(tau^2)``. Default -3.44, Rhodes et al.'s general-setting value.
    sigma : float
        Scale of ``log(tau^2)``. Default 2.59 (Rhodes et al., general setting).
    nu : float
        Degrees of freedom; default 5.
    label : str
        Where the values come from, shown by :meth:`describe` (not a parameter).
    """

    mu: float = -3.44
    sigma: float = 2.59
    nu: float = 5.0
    label: str = ""
    family = "logt_tau2"

    def __post_init__(self):
        from scipy.special import stdtrit

        mu, sigma = _check_finite("mu", self.mu), _check_positive_finite("sigma", self.sigma)
        nu = _check_positive_finite("nu", self.nu)
        _check_label(self.label)
        q = float(stdtrit(nu, 1 - 1e-4))  # the exact engine's integration range
        _check_log_tau_range("LogStudentTTau2", mu / 2, q * sigma / 2)

    def describe(self) -> str:
        """Return the prior in words."""
        return f"log-t_{self.nu:g}({self.mu:g}, {self.sigma:g}) on tau^2" + self._suffix()


#: Default prior of the relative effects (SMD scale).
DEFAULT_PRIOR_D = Normal(0.0, 10.0)
#: Default prior of the between-study SD (SMD scale).
DEFAULT_PRIOR_TAU = HalfNormal(1.0)
#: Default prior of each study baseline ``mu_i`` of arm-level outcome models (TSD2: vague).
DEFAULT_PRIOR_BASELINE = Normal(0.0, 100.0)
#: Default prior of the increments between the cutpoints of an ordered categorical model.
DEFAULT_PRIOR_CUTPOINT = Uniform(0.0, 10.0)

#: Families accepted for ``tau``.
TAU_FAMILIES = (HalfNormal, Uniform, LogNormal, HalfCauchy, LogNormalTau2, LogStudentTTau2)
#: Families accepted for within-class SDs.
CLASS_SD_FAMILIES = (HalfNormal, Uniform, LogNormal, TruncatedNormal)
#: Default prior of class means (exchangeable class model), as in multinma's vignettes.
DEFAULT_PRIOR_CLASS_MEAN = Normal(0.0, 10.0)
#: Default prior of within-class SDs (SMD scale): weakly informative.
DEFAULT_PRIOR_CLASS_SD = HalfNormal(0.5)
#: Default prior of meta-regression interactions (or of their mean, exchangeable).
DEFAULT_PRIOR_BETA = Normal(0.0, 10.0)
#: Default prior of the SD of exchangeable interactions.
DEFAULT_PRIOR_BETA_SD = HalfNormal(1.0)
