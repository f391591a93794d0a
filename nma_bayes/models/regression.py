r"""Network meta-regression: study covariates and treatment-by-covariate interactions (TSD3).

Dias et al. (2011, NICE DSU TSD3; Med Decis Making 2013) extend the mean of the study-specific
effect of arm ``k`` vs the study's base arm ``b`` by an interaction with a study covariate:

.. math::

    \delta_{ibk} \sim N\big(d_{k} - d_{b} + (\beta_{k} - \beta_{b})^\top (x_i - \bar x),\;
    \tau^2\big), \qquad \beta_{\text{ref}} = 0,

with ``x_i`` the study's covariate terms (numeric covariates centred at ``x_bar``, the mean over
studies by default, so that ``d`` are the effects at ``x_bar``; categorical ones dummy-coded
against their first level, so ``d`` are the effects in that level). The interaction structures:

* ``"shared"`` (TSD3's common interaction): ``beta_k = B`` for every treatment but the reference;
  comparisons of two non-reference treatments are unaffected by the covariate;
* ``"independent"``: one ``beta_k`` per treatment;
* ``"exchangeable"``: ``beta_k ~ N(B, sigma_beta^2)`` (written non-centred);
* ``"class"``: one ``beta`` per treatment class (all treatments of a class share it); the
  reference's class has none (``beta = 0`` for every treatment in it).

Baseline-risk meta-regression (TSD3 section 4; Achana et al. 2013) uses the study's own baseline
``mu_i`` (the linear predictor of its base arm, a model parameter) as the covariate, so its
measurement error is part of the model rather than plugged in from observed rates.

The model stays linear in ``(d, beta)``: the shift of every contrast is a dense design over the
free interaction parameters (:meth:`RegressionDesign.contrast_design`), which lets the exact
engine treat ``beta`` as part of its Gaussian block.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from ..base.errors import CovariateWarning, ModelSpecError, format_items
from ..data.covariates import BASELINE_RISK
from .likelihood import treatment_positions
from .ordered_likelihood import observed_information

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from .likelihood import ContrastData

__all__ = [
    "INTERACTIONS",
    "RegressionDesign",
    "BASELINE_RISK",
    "empirical_linear_predictor",
    "warn_unidentified",
]

#: Interaction structures between treatment and covariate.
INTERACTIONS = ("shared", "exchangeable", "independent", "class")


@dataclass(frozen=True, eq=False)
class RegressionDesign:
    """The covariate terms of every study and how interactions map onto treatments.

    Attributes
    ----------
    covariates : tuple of str
        Covariate names as given.
    terms : tuple of str
        Columns of ``x``: a numeric covariate is one term, a categorical one a term
        ``"name[level]"`` per level but the first.
    term_covariate : tuple of str
        The covariate of each term.
    x : ndarray (S, P)
        Term values per study (network order), centred (numeric) or 0/1 (categorical); zeros
        for baseline risk (the covariate is the parameter ``mu_i - center``).
    center : dict of str to float
        Centring value of each numeric covariate (0 when not centred).
    kinds : dict of str to str
        ``"numeric"`` or ``"categorical"`` per covariate.
    levels : dict of str to tuple
        Levels of each categorical covariate (the first is the reference level).
    interaction : str
        One of :data:`INTERACTIONS`.
    baseline_risk : bool
        Baseline-risk meta-regression.
    groups : tuple of str
        Names of the free interaction groups (``("shared",)``, treatments, or classes).
    group_pos : ndarray of int (T,)
        For each position of ``d_full = [0, d]``: 0 (no interaction: the reference) or ``g + 1``
        for group ``g``.
    """

    covariates: tuple[str, ...]
    terms: tuple[str, ...]
    term_covariate: tuple[str, ...]
    x: np.ndarray
    center: dict
    kinds: dict
    levels: dict
    interaction: str
    baseline_risk: bool
    groups: tuple[str, ...]
    group_pos: np.ndarray

    @classmethod
    def from_network(cls, network: Network, spec) -> RegressionDesign | None:
        """Build the design of ``network``'s covariates under ``spec`` (None without covariates).

        ``spec`` is the :class:`~nma_bayes.models.spec.ModelSpec` (its ``interaction`` and
        ``center``; not imported here, since the spec describes itself with this module).
        """
        cov = getattr(network, "covariates", None)
        if cov is None:
            return None
        interaction = spec.interaction or "shared"
        groups, group_pos = _groups(network, interaction)
        if cov.baseline_risk:
            center = _baseline_center(network, spec.center)
            x = np.zeros((network.n_studies, 1))
            return cls((BASELINE_RISK,), (BASELINE_RISK,), (BASELINE_RISK,), x,
                       {BASELINE_RISK: center}, {BASELINE_RISK: "numeric"}, {}, interaction,
                       True, groups, group_pos)  # fmt: skip
        centers = _centers(cov, spec.center)
        kinds = dict(zip(cov.names, cov.kinds, strict=True))
        terms, term_cov = zip(*cov.terms(), strict=True)  # names unique (covariate rules)
        cols = []
        for term, name in cov.terms():
            values = cov.values[name]
            if kinds[name] == "numeric":
                cols.append(values.to_numpy(dtype=float) - centers[name])
            else:  # the level of the term "name[level]"
                level = term[len(name) + 1 : -1]
                cols.append((values.astype(str).to_numpy() == level).astype(float))
        return cls(tuple(cov.names), tuple(terms), tuple(term_cov), np.column_stack(cols),
                   centers, kinds, dict(cov.levels), interaction, False, groups,
                   group_pos)  # fmt: skip

    # ---------------------------------------------------------------- sizes and names
    @property
    def n_terms(self) -> int:
        """Number of terms ``P``."""
        return len(self.terms)

    @property
    def n_free(self) -> int:
        """Number of free interaction parameters (groups x terms)."""
        return len(self.groups) * self.n_terms

    @property
    def baseline_center(self) -> float:
        """Centre of the baseline-risk covariate (0 for other regressions)."""
        return float(self.center.get(BASELINE_RISK, 0.0)) if self.baseline_risk else 0.0

    @property
    def linear(self) -> bool:
        """Whether ``beta`` enters the Gaussian block of the exact engine (no hyper-SD)."""
        return self.interaction != "exchangeable" and not self.baseline_risk

    def signature(self) -> tuple:
        """Return what the compiled graph depends on (not the covariate values)."""
        return (self.interaction, self.baseline_risk, self.terms, self.groups,
                self.group_pos.tobytes())  # fmt: skip

    def beta_map(self) -> np.ndarray:
        """Matrix ``M`` (T - 1, G) with ``beta_treatment = M @ beta_group`` per term.

        Rows are the non-reference treatments (network order), columns the groups.
        """
        m = np.zeros((len(self.group_pos) - 1, len(self.groups)))
        pos = self.group_pos[1:]
        rows = np.flatnonzero(pos > 0)
        m[rows, pos[rows] - 1] = 1.0
        return m

    # ---------------------------------------------------------------- designs
    def term_values(self, at: dict | None) -> np.ndarray:
        """Centred term values ``x - x_bar`` of the covariate values ``at`` (P,).

        Covariates not named in ``at`` stay at their centre (numeric) or reference level
        (categorical), where ``d`` is defined.
        """
        out = np.zeros(self.n_terms)
        for name, value in (at or {}).items():
            if self.kinds[name] == "numeric":
                out[self.terms.index(name)] = float(value) - self.center[name]
            elif str(value) != str(self.levels[name][0]):
                out[self.terms.index(f"{name}[{value}]")] = 1.0
        return out

    def check_covariate(self, name: str, what: str = "") -> str:
        """Return ``name`` if it is a covariate of the model, else raise ``bad-option``."""
        if not isinstance(name, str):
            raise ModelSpecError(
                f"{what + ' ' if what else ''}{name!r} ({type(name).__name__}): name one "
                f"covariate of this fit as a string; covariates: {format_items(self.covariates)}.",
                rule="bad-option",
            )
        if name not in self.covariates:
            raise ModelSpecError(
                f"{what + ' ' if what else ''}{name!r}, which is not a covariate of this fit; "
                f"covariates: {format_items(self.covariates)}.",
                rule="bad-option",
            )
        return name

    def check_at(self, at) -> dict:
        """Validate ``at=`` (``{covariate: value}``) and return it as a dict."""
        if at is None:
            return {}
        if not isinstance(at, dict):
            raise ModelSpecError(
                f"at= must be a dict {{covariate: value}}, got {type(at).__name__}.",
                rule="bad-option",
            )
        for name, value in at.items():
            self.check_covariate(name, "at= names")
            self.check_value(name, value, f"at={{{name!r}: {value!r}}}")
        return dict(at)

    def check_value(self, name: str, value: object, where: str) -> None:
        """Refuse a value of covariate ``name`` that is not a finite number (numeric) or a level.

        ``where`` names the argument in the message (e.g. ``"at={'age': 'x'}"``).
        """
        if self.kinds[name] == "numeric":
            if not _finite_number(value):
                raise ModelSpecError(
                    f"{where}: {name} is numeric; give a finite number.", rule="bad-option"
                )
        elif str(value) not in [str(v) for v in self.levels[name]]:
            raise ModelSpecError(
                f"{where}: not a level of {name}; levels: "
                f"{format_items([str(v) for v in self.levels[name]])}.",
                rule="bad-option",
            )

    def contrast_design(self, data: ContrastData) -> np.ndarray:
        """Dense design of the contrast shifts over the free parameters (S, K, G * P).

        Column ``g * P + p`` of slot ``(i, k)`` is ``x_ip (1[group(arm) = g] - 1[group(base)
        = g])``; padding slots are zero. The contrast means are ``X d + X_beta vec(beta)``.
        """
        s, k = data.mask.shape
        g, p = len(self.groups), self.n_terms
        onehot = np.zeros((len(self.group_pos), g + 1))
        onehot[np.arange(len(self.group_pos)), self.group_pos] = 1.0
        onehot = onehot[:, 1:]  # (T, G); the reference's row is zero
        diff = onehot[data.arm_pos] - onehot[data.base_pos][:, None, :]  # (S, K, G)
        out = diff[..., :, None] * self.x[:, None, None, :]  # (S, K, G, P)
        return (out * data.mask[..., None, None]).reshape(s, k, g * p)


def unidentified(reg: RegressionDesign, network: Network) -> list[tuple[str, str]]:
    """``(group, term)`` pairs whose interaction no study informs (only its prior does).

    An interaction coefficient enters the contrasts of arms whose group differs from their base
    arm's, through ``x_i``; if all of them have the same value of the term, it cannot be told
    apart from ``d`` (only ``d + beta x`` is estimated). Baseline risk is never flagged (its
    covariate is a parameter).
    """
    if reg.baseline_risk:
        return []
    pos = treatment_positions(network)
    seen: dict[tuple[int, int], set] = {}
    for i in range(network.n_studies):
        base = int(reg.group_pos[pos[network.base[i]]])
        for a in np.asarray(network.arm[i])[: int(network.n_arms[i]) - 1]:
            arm = int(reg.group_pos[pos[a]])
            for g in {arm, base} - {0} if arm != base else ():
                for p in range(reg.n_terms):
                    seen.setdefault((g - 1, p), set()).add(round(float(reg.x[i, p]), 12))
    return [(reg.groups[g], reg.terms[p]) for g in range(len(reg.groups))
            for p in range(reg.n_terms) if len(seen.get((g, p), ())) < 2]  # fmt: skip


def warn_unidentified(reg: RegressionDesign | None, network: Network) -> None:
    """Warn (``interaction-not-identified``) about interactions only their prior informs."""
    if reg is None:
        return
    flagged = unidentified(reg, network)
    if flagged:
        items = [f"{g} ({t})" for g, t in flagged]
        shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
        warnings.warn(
            CovariateWarning(
                f"Interactions not informed by the data: {shown}. Every study comparing these "
                "treatments (or classes) has the same covariate value, so their interaction "
                "cannot be separated from their effect: its posterior is its prior "
                f"({reg.interaction!r} interactions). "
                + ("Use interaction='shared', or a" if reg.interaction != "shared" else "Use a")
                + " covariate that varies within these comparisons. "
                "[rule interaction-not-identified]",
                rule="interaction-not-identified",
            ),
            stacklevel=3,
        )


def _groups(network: Network, interaction: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Interaction groups and the group of every position of ``d_full`` (0 = none)."""
    others = list(network.non_reference)
    t = network.n_treatments
    if interaction not in INTERACTIONS:
        raise ModelSpecError(
            f"interaction={interaction!r}: use one of {INTERACTIONS}.", rule="bad-option"
        )
    if interaction == "shared":
        return ("shared",), np.r_[0, np.ones(t - 1, dtype=np.int64)]
    if interaction in ("independent", "exchangeable"):
        return tuple(others), np.arange(t, dtype=np.int64)
    if not network.classes:
        raise ModelSpecError(
            "interaction='class' needs treatment classes: pass classes= (a column or a dict "
            "{treatment: class}).",
            rule="bad-option",
        )
    # the reference's class has no interaction (contrast coding of classes against it, as
    # multinma's class interactions and the TSD2 class model's zero reference-class mean)
    ref_class = network.classes[network.reference]
    classes = tuple(
        dict.fromkeys(network.classes[o] for o in others if network.classes[o] != ref_class)
    )
    if not classes:
        raise ModelSpecError(
            "interaction='class': every treatment is in the reference's class, which has no "
            "interaction; use interaction='shared' or 'independent'.",
            rule="bad-option",
        )
    pos = [classes.index(network.classes[o]) + 1 if network.classes[o] != ref_class else 0
           for o in others]  # fmt: skip
    return classes, np.r_[0, pos].astype(np.int64)


def _centers(cov, center) -> dict[str, float]:
    """Centring value of each numeric covariate: the mean over studies unless told otherwise."""
    numeric = [n for n, k in zip(cov.names, cov.kinds, strict=True) if k == "numeric"]
    given = _check_center(center, numeric)
    out = {}
    for name in numeric:
        if center is False:
            out[name] = 0.0
        elif name in given:
            out[name] = given[name]
        else:  # unweighted mean over studies (TSD3; gemtc and multinma centre the same way)
            out[name] = float(cov.values[name].to_numpy(dtype=float).mean())
    return out


def _finite_number(value) -> bool:
    """Whether ``value`` is a finite real number (not a bool, not a string)."""
    real = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    return real and bool(np.isfinite(float(value)))


def _check_center(center, numeric) -> dict[str, float]:
    if isinstance(center, tuple):  # ModelSpec stores a dict as sorted pairs
        center = dict(center)
    if center is None or isinstance(center, bool):
        return {}
    if not isinstance(center, dict):
        raise ModelSpecError(
            "center= must be True (mean over studies, the default), False (no centring) or a "
            f"dict {{covariate: value}}; got {type(center).__name__}.",
            rule="bad-option",
        )
    for name, value in center.items():
        if name not in numeric:
            raise ModelSpecError(
                f"center= names {name!r}, which is not a numeric covariate of the model "
                f"(numeric covariates: {format_items(numeric) if numeric else 'none'}).",
                rule="bad-option",
            )
        if not _finite_number(value):
            raise ModelSpecError(
                f"center={{{name!r}: {value!r}}}: give a finite number.", rule="bad-option"
            )
    return {k: float(v) for k, v in center.items()}


def empirical_linear_predictor(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Observed linear predictor of every outcome arm (offset removed) and its variance.

    Arrays (S, K + 1): slot 0 the base arm; zeros for studies that are not outcome studies.

    Counts of 0 (or ``n``) are replaced by 0.5 (or ``n - 0.5``). Binomial logit:
    ``log(p / (1 - p))``, variance ``1 / (n p (1 - p))``; cloglog: ``log(-log(1 - p))`` minus
    ``log(time)``, variance ``p / (n (1 - p) log(1 - p)^2)`` (delta method); Poisson:
    ``log(r / E)``, variance ``1 / r``; normal arms: the arm mean, variance ``se^2``; probit:
    ``Phi^-1(p)``, variance ``p (1 - p) / (n phi^2)``; log: ``log p``, variance ``(1 - p) / (n
    p)``; ordered data: the at-least count of each arm's first reported cutpoint, by its link
    (the cutpoint itself is not removed: these values only tune the sampler and centre
    baseline-risk covariates), variance the inverse of the information of all its categories
    (:func:`~nma_bayes.models.ordered_likelihood.observed_information`). The mean
    of the base arms' values is the default centre of baseline-risk meta-regression; the values
    place studies on regression plots and set the NUTS parametrisation's weights
    (:mod:`~nma_bayes.models.arm_param`).
    """
    r, n = np.asarray(network.events, float), np.asarray(network.trials, float)
    ordered_info = None
    if r.ndim == 3:  # ordered categories: the at-least count of each arm's first cutpoint
        ordered_info = observed_information(r, n, network.link)
        first = np.argmax(np.isfinite(r), axis=2)
        r = np.nan_to_num(np.take_along_axis(r, first[..., None], axis=2)[..., 0], nan=1.0)
    outcome = np.asarray(network.outcome)[:, None]
    r, n = np.where(outcome, r, 1.0), np.where(outcome, n, 2.0)  # placeholders elsewhere
    if network.likelihood == "normal":  # events are the arm means, trials their SEs
        theta, var = r, n**2
    elif network.likelihood == "poisson":
        rc = np.maximum(r, 0.5)
        theta, var = np.log(rc / n), 1.0 / rc
    else:
        p = np.clip(r, 0.5, n - 0.5) / n
        if network.link == "cloglog":
            theta = np.log(-np.log1p(-p)) - network.offset
            var = p / (n * (1 - p) * np.log1p(-p) ** 2)
        elif network.link == "probit":  # delta method: var = p (1 - p) / (n phi(theta)^2)
            theta = ndtri(p)
            var = p * (1 - p) / (n * np.exp(-(theta**2)) / (2 * np.pi))
        elif network.link == "log":
            theta, var = np.log(p), (1 - p) / (n * p)
        else:
            theta, var = np.log(p / (1 - p)), 1.0 / (n * p * (1 - p))
    if ordered_info is not None:  # all of an arm's categories inform theta
        var = 1.0 / np.maximum(ordered_info, 1e-12)
    return np.where(outcome, theta, 0.0), np.where(outcome, var, 0.0)


def _baseline_center(network: Network, center) -> float:
    """Centre of the baseline-risk covariate: given, or the mean observed base-arm predictor."""
    given = _check_center(center, [BASELINE_RISK])
    if center is False:
        return 0.0
    if BASELINE_RISK in given:
        return given[BASELINE_RISK]
    return float(empirical_linear_predictor(network)[0][:, 0].mean())
