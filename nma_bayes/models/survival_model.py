r"""Survival NMA models beyond the piecewise-exponential one: their design and log-likelihood.

Every model has, for arm ``a`` of study ``s`` (arm 1 the study's base), study baselines and
treatment contrasts on the same terms, as in TSD2's arm-based models (Dias et al. 2011):

* **Fractional polynomial** on grouped intervals (``model="fp"``; Jansen 2011, gemtcPlus):
  ``log h_sa(t) = sum_j f_j(t) (mu_sj + d_{t_sa j} - d_{t_s1 j})`` with ``f_0 = 1`` and the
  powers' terms (:func:`~nma_bayes.models.survival_basis.fp_basis`) at each interval's
  midpoint; the events of an interval are ``Binomial(n.risk, 1 - exp(-h dt))``.
* **Parametric models** on event times (pseudo-IPD), with ``eta_sa = mu_s + d_{t_sa} -
  d_{t_s1}`` and an auxiliary parameter per study (Ouwens et al. 2010; multinma's
  parametrisations, Phillippo et al. 2024). Proportional hazards (``d`` are log hazard ratios):
  ``exponential`` ``h = e^eta``; ``weibull`` ``h = a t^(a-1) e^eta``, ``H = t^a e^eta`` (shape
  ``a``); ``gompertz`` ``h = e^(eta + g t)``, ``H = e^eta (e^(g t) - 1) / g`` (rate ``g``, any
  sign); ``mspline`` ``h = e^eta sum_j c_sj M_j(t)`` (cubic M-splines on each study's knots,
  :mod:`~nma_bayes.models.survival_basis`; ``c_s`` on the simplex with multinma's random-walk
  prior). Accelerated failure time (``d`` are log time ratios, > 0 longer survival):
  ``lognormal`` ``log T ~ N(eta, sigma^2)``; ``loglogistic`` ``S = 1 / (1 + (t e^-eta)^k)``.
  A patient's log-likelihood is ``status log h(t) - H(t)`` (right censoring).
* **Non-proportional hazards** (``shape_by_treatment=True``; Weibull, Gompertz, log-normal,
  log-logistic): the auxiliary parameter gets treatment contrasts too, on the log scale for the
  positive ones (``log a_sa = log a_s + g_{t_sa} - g_{t_s1}``) and as a difference for the
  Gompertz rate. An M-spline gets its coefficients (and random-walk SD) per arm instead of per
  study (multinma's ``aux_by = c(".study", ".trt")``).
* **Random effects** on the intercept contrast (gemtcPlus's ``REINT``):
  ``delta_sa ~ N(d_{t_sa 0} - d_{t_s1 0}, tau^2)`` with the multi-arm correlation 1/2.

Dias S, Welton NJ, Sutton AJ, Ades AE (2011). NICE DSU TSD2. Jansen JP (2011). Network
meta-analysis of survival data with fractional polynomials. BMC Med Res Methodol 11:61. Ouwens
MJNM, Philips Z, Jansen JP (2010). Network meta-analysis of parametric survival curves. Res
Synth Methods 1:258-271.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base.errors import (
    DisconnectedNetworkError,
    ModelSpecError,
    UnknownTreatmentError,
    format_items,
)
from ..base.graph import connected_components
from .ordered_likelihood import log1mexp, log_cdf, softplus
from .priors import (
    DEFAULT_PRIOR_BASELINE,
    DEFAULT_PRIOR_D,
    DEFAULT_PRIOR_TAU,
    HalfNormal,
    Normal,
    Prior,
)
from .survival_basis import (
    constant_hazard_coefficients,
    fp_basis,
    fp_labels,
    mspline_basis,
    quantile_knots,
)

if TYPE_CHECKING:  # pragma: no cover
    from .classes import ClassStructure
    from .regression import RegressionDesign
    from .spec import ModelSpec

__all__ = ["AFT", "EVENT_MODELS", "PH", "SurvivalDesign", "SurvivalSpec", "event_loglik",
           "grouped_loglik"]  # fmt: skip

#: Proportional-hazards families of event times; their ``d`` are log hazard ratios.
PH = ("exponential", "weibull", "gompertz", "mspline")
#: Accelerated-failure-time families; their ``d`` are log time ratios.
AFT = ("lognormal", "loglogistic")
EVENT_MODELS = PH + AFT
#: Families whose auxiliary parameter is positive (sampled and contrasted on the log scale).
POSITIVE_AUX = ("weibull", "lognormal", "loglogistic")
#: Name of each family's auxiliary parameter in the posterior.
AUX_NAME = {"weibull": "shape", "gompertz": "rate", "lognormal": "sdlog", "loglogistic": "shape",
            "mspline": "rw_sd"}  # fmt: skip


@dataclass(frozen=True)
class SurvivalSpec:
    """Model and priors of a survival fit (:mod:`~nma_bayes.fitting.survival`).

    ``prior_aux`` is the prior of each study's auxiliary parameter: half-normal(10) for the
    positive ones (multinma's default), normal for the Gompertz rate; for ``mspline`` it is the
    prior of the random walk's SD (half-normal(1), multinma's). ``treatment_model`` (a
    :class:`~nma_bayes.models.spec.ModelSpec`, parametric models only) holds the class model
    and the meta-regression of the treatment effects, with their priors, as for ``fit_network``
    (TSD2's class models, TSD3's interactions): its ``class_model, class_sd, prior_class_mean,
    prior_class_sd, interaction, prior_beta, prior_beta_sd, center``.
    """

    model: str
    random: bool = False
    powers: tuple[float, ...] = ()
    shape_by_treatment: bool = False
    n_knots: int = 7
    prior_d: Prior = field(default=DEFAULT_PRIOR_D)
    prior_baseline: Prior = field(default=DEFAULT_PRIOR_BASELINE)
    prior_tau: Prior = field(default=DEFAULT_PRIOR_TAU)
    prior_aux: Prior | None = None
    treatment_model: ModelSpec | None = None

    @property
    def aux_prior(self) -> Prior | None:
        """``prior_aux`` or the model's default (None: the model has no auxiliary parameter)."""
        if self.model in ("fp", "exponential"):
            return None
        if self.prior_aux is not None:
            return self.prior_aux
        if self.model == "gompertz":
            return Normal(0.0, 10.0)
        return HalfNormal(1.0 if self.model == "mspline" else 10.0)


def _arms(table: pd.DataFrame, reference: str | None):
    """Treatments (reference first, then sorted), studies and arms in order of appearance."""
    treatments = sorted(table["treatment"].unique())
    if reference is None:
        reference = treatments[0]
    elif reference not in treatments:
        raise UnknownTreatmentError(
            f"reference={reference!r} is not a treatment of the data; the treatments are "
            f"{format_items(treatments)}.",
            rule="unknown-reference",
        )
    treatments = [reference, *(t for t in treatments if t != reference)]
    arms = table[["study", "treatment"]].drop_duplicates().reset_index(drop=True)
    studies = list(dict.fromkeys(arms["study"]))
    comps = connected_components(
        treatments, [(a, b) for _, g in arms.groupby("study", sort=False)
                     for a, b in zip(g["treatment"].iloc[:-1], g["treatment"].iloc[1:],
                                     strict=True)],
    )  # fmt: skip
    if len(comps) > 1:
        raise DisconnectedNetworkError(
            f"The studies do not connect the treatments: {len(comps)} components "
            f"({'; '.join(format_items(c) for c in comps)}). Add studies that link them or fit "
            "each component apart.",
            rule="disconnected",
        )
    t_index = {t: i for i, t in enumerate(treatments)}
    s_index = {s: i for i, s in enumerate(studies)}
    arm_study = arms["study"].map(s_index).to_numpy()
    arm_treatment = arms["treatment"].map(t_index).to_numpy()
    first = arms.groupby("study", sort=False)["treatment"].transform("first").map(t_index)
    return treatments, studies, arms, arm_study, arm_treatment, first.to_numpy()


@dataclass(frozen=True, eq=False)
class SurvivalDesign:
    """The arrays of a survival model: arms, rows (intervals or patients) and the time basis.

    Built once by :meth:`from_grouped` or :meth:`from_event_times` and passed down (graph,
    engine, summaries). Rows are intervals (``fp``) or patients; ``row_arm`` maps each to its arm.
    """

    model: str
    treatments: tuple[str, ...]
    studies: tuple[str, ...]
    arm_labels: tuple[str, ...]
    arm_study: np.ndarray
    arm_treatment: np.ndarray
    arm_base: np.ndarray
    row_arm: np.ndarray
    arrays: dict
    coefficients: tuple[str, ...] = ("intercept",)
    knots: tuple = ()
    follow_up: float = 0.0
    regression: RegressionDesign | None = None
    class_structure: ClassStructure | None = None

    @classmethod
    def from_grouped(cls, table: pd.DataFrame, *, powers, reference=None) -> SurvivalDesign:
        """Build the fractional polynomial design of validated grouped intervals."""
        treatments, studies, arms, a_study, a_trt, a_base = _arms(table, reference)
        row_arm = _row_arm(table, arms)
        mid = (table["t.start"].to_numpy(float) + table["t.end"].to_numpy(float)) / 2
        basis = fp_basis(mid, powers)
        centre, scale = basis.mean(axis=0), basis.std(axis=0)
        centre[0], scale[0] = 0.0, 1.0
        arrays = {
            "basis": basis, "basis_centre": centre, "basis_scale": scale,
            "events": table["n.event"].to_numpy(float),
            "at_risk": table["n.risk"].to_numpy(float),
            "width": (table["t.end"] - table["t.start"]).to_numpy(float),
        }
        exposure = arrays["at_risk"] * arrays["width"]
        arrays["rate_offset"] = _log_rate(arrays["events"], exposure, a_study[row_arm], studies)
        return cls("fp", tuple(treatments), tuple(studies), _arm_labels(arms), a_study, a_trt,
                   a_base, row_arm, arrays, tuple(fp_labels(powers)),
                   follow_up=float(table["t.end"].max()))  # fmt: skip

    @classmethod
    def from_event_times(cls, table: pd.DataFrame, *, model: str, reference=None,
                         n_knots: int = 7) -> SurvivalDesign:  # fmt: skip
        """Build the design of validated event times (``study, treatment, time, status``)."""
        treatments, studies, arms, a_study, a_trt, a_base = _arms(table, reference)
        row_arm = _row_arm(table, arms)
        time, status = table["time"].to_numpy(float), table["status"].to_numpy(float)
        arrays = {"time": time, "status": status, "log_time": np.log(time),
                  "rate_offset": _log_rate(status, time, a_study[row_arm], studies)}
        knots = ()
        if model == "mspline":
            row_study = a_study[row_arm]
            knots = tuple(
                quantile_knots(time[row_study == s], status[row_study == s] == 1,
                               n_internal=n_knots) for s in range(len(studies))
            )  # fmt: skip
            m = np.empty((time.size, n_knots + 4))
            i = np.empty_like(m)
            for s, k in enumerate(knots):
                rows = row_study == s
                m[rows], i[rows] = mspline_basis(time[rows], k)
            centre = np.log(np.stack([constant_hazard_coefficients(k) for k in knots]))
            arrays.update(m_basis=m, i_basis=i, rw_centre=centre - centre[:, :1])
        return cls(model, tuple(treatments), tuple(studies), _arm_labels(arms), a_study, a_trt,
                   a_base, row_arm, arrays, knots=knots,
                   follow_up=float(time.max()))  # fmt: skip

    @property
    def n_rows(self) -> int:
        """Number of rows (intervals or patients)."""
        return int(self.row_arm.size)

    def re_arms(self) -> np.ndarray:
        """Return the indices of the non-base arms (those with a random study effect)."""
        return np.flatnonzero(self.arm_treatment != self.arm_base)

    def re_cholesky(self) -> np.ndarray:
        """Block-diagonal Cholesky factor of the non-base arms' correlation ``(I + J) / 2``."""
        arms = self.re_arms()
        out = np.zeros((arms.size, arms.size))
        study = self.arm_study[arms]
        for s in np.unique(study):
            pos = np.flatnonzero(study == s)
            k = pos.size
            out[np.ix_(pos, pos)] = np.linalg.cholesky((np.eye(k) + np.ones((k, k))) / 2)
        return out

    def structure_key(self, spec: SurvivalSpec) -> tuple:
        """Return what a compiled model depends on: model, prior families and array shapes."""
        priors = (spec.prior_d, spec.prior_baseline, spec.prior_tau, spec.aux_prior)
        tm = spec.treatment_model
        if tm is not None:
            priors += (tm.prior_class_sd, tm.prior_beta_sd)
        shapes = tuple((k, np.shape(v)) for k, v in sorted(self.data().items()))
        effects = (None if self.regression is None else self.regression.signature(),
                   None if self.class_structure is None else self.class_structure.signature())
        return ("survival", spec.model, spec.random, spec.shape_by_treatment, len(self.treatments),
                len(self.studies), self.arm_study.size, self.re_arms().size, shapes, effects,
                tuple(p.family if p is not None else None for p in priors))  # fmt: skip

    def data(self) -> dict[str, np.ndarray]:
        """Return the arrays the graph reads as data nodes (index arrays included)."""
        out = {"row_arm": self.row_arm, "arm_study": self.arm_study,
               "arm_treatment": self.arm_treatment, "arm_base": self.arm_base,
               "re_index": self.re_arms(), "re_chol": self.re_cholesky()}  # fmt: skip
        if self.regression is not None:
            out["reg_x"] = self.regression.x  # (studies, terms), centred
        return {**out, **self.arrays}

    def regression_shift(self, beta_full: np.ndarray) -> np.ndarray:
        """Each arm's ``(beta_{t_sa} - beta_{t_s1}) . x_s`` (TSD3): ``beta_full`` (N, T, P)."""
        x = self.regression.x[self.arm_study]  # (A, P)
        diff = beta_full[..., self.arm_treatment, :] - beta_full[..., self.arm_base, :]
        return (diff * x).sum(axis=-1)


def _log_rate(events, exposure, row_study, studies) -> np.ndarray:
    """Each study's log crude event rate (0.5 added to its events): the samplers' start."""
    n = len(studies)
    e = np.bincount(row_study, weights=events, minlength=n) + 0.5
    return np.log(e / np.bincount(row_study, weights=exposure, minlength=n))


def _row_arm(table: pd.DataFrame, arms: pd.DataFrame) -> np.ndarray:
    pairs = zip(arms["study"], arms["treatment"], strict=True)
    index = {(s, t): i for i, (s, t) in enumerate(pairs)}
    return np.array([index[k] for k in zip(table["study"], table["treatment"], strict=True)])


def _arm_labels(arms: pd.DataFrame) -> tuple[str, ...]:
    return tuple(f"{s}: {t}" for s, t in zip(arms["study"], arms["treatment"], strict=True))


def check_survival_model(model: str, *, grouped: bool) -> None:
    """Raise ``bad-option`` for a model name that is not built or does not fit the data's form."""
    known = ("pwe", "fp", *EVENT_MODELS)
    if model not in known:
        raise ModelSpecError(f"model={model!r}: use one of {format_items(known)}.",
                             rule="bad-option")  # fmt: skip
    if grouped and model in EVENT_MODELS:
        raise ModelSpecError(
            f"model={model!r} is fitted to event times (study, treatment, time, status), not to "
            "grouped intervals; use model='pwe' or 'fp' for grouped data.",
            rule="bad-option",
        )


def grouped_loglik(xp, log_h, events, at_risk, width):
    """Each interval's ``log Bin(r | n, 1 - exp(-h dt))`` without ``log C(n, r)`` (gemtcPlus)."""
    cum = xp.exp(log_h) * width
    return events * log1mexp(xp, -cum) - (at_risk - events) * cum


def event_loglik(xp, model: str, eta, aux, arrays: dict, baseline=None):
    """Each patient's log-likelihood ``status log h(t) - H(t)`` (module docstring).

    ``eta`` and ``aux`` are per row; ``baseline`` (mspline) is ``(h_0, H_0)`` per row.
    """
    t, log_t, status = arrays["time"], arrays["log_time"], arrays["status"]
    if model in PH:
        if model == "exponential":
            log_h, cum = eta, xp.exp(eta) * t
        elif model == "weibull":
            log_h, cum = eta + xp.log(aux) + (aux - 1) * log_t, xp.exp(eta + aux * log_t)
        elif model == "gompertz":  # H = e^eta (e^{g t} - 1) / g, with g -> 0 kept away from 0
            g = xp.where(abs(aux) < 1e-9, 1e-9, aux)
            log_h, cum = eta + aux * t, xp.exp(eta) * xp.expm1(g * t) / g
        else:  # mspline
            log_h, cum = eta + xp.log(baseline[0]), xp.exp(eta) * baseline[1]
        return status * log_h - cum
    u = (log_t - eta) / aux if model == "lognormal" else aux * (log_t - eta)
    if model == "lognormal":  # f = phi(z) / (sigma t), S = Phi(-z)
        log_f = -0.5 * u**2 - xp.log(aux) - log_t - 0.5 * np.log(2 * np.pi)
        return status * log_f + (1 - status) * log_cdf(xp, -u, "probit")
    # log-logistic: S = 1 / (1 + e^u), h = (k / t) e^u / (1 + e^u)
    log_s = -softplus(xp, u)
    return status * (xp.log(aux) - log_t + u + log_s) + log_s
