"""A validated, immutable network: the object every model consumes.

Build it once from study contrasts (:meth:`Network.from_contrasts`), arm-level continuous data
(:meth:`Network.from_arms`) or both (:meth:`Network.from_data`). Every study becomes contrasts of
its non-base arms against its base arm with the exact within-study covariance

    Cov(y_i) = diag(var_i) + cov_i * 11' + cov_u_i * u_i u_i'

(the last term is non-zero only for standardised mean differences from arm data), stored in arrays
padded to the largest number of contrasts. Every problem with the input is raised, before anything
else, as a subclass of :class:`~nma_bayes.base.errors.NMAInputError` tagged with its rule in
:data:`nma_bayes.data.validation.RULES`; nothing is dropped, coerced, merged or reordered silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError, UnknownTreatmentError, format_items
from . import checks as C
from .arm_data import ARM_MEASURES
from .assembly import StudyRecord, contrast_table, padded_arrays, study_records
from .covariates import StudyCovariates, read_covariates
from .inputs import SMD_METHODS as SMD_METHODS  # re-exported: its home before the split
from .inputs import check_build_options, parse_inputs
from .layout import resolve_layout
from .outcomes import check_likelihood, check_outcome_options
from .views import NetworkViews

__all__ = ["Network", "MEASURES"]

#: Effect measures a network may carry (contrast data may use any; arm data MD or SMD).
MEASURES = {
    "SMD": "standardised mean difference (Hedges' g)",
    "MD": "mean difference",
    "logOR": "log odds ratio",
    "logRR": "log risk ratio",
    "logHR": "log hazard ratio",
    "logRateRatio": "log rate ratio",
    "probit": "probit difference",
    "RD": "risk difference",
    "generic": "generic effect on an additive scale",
}


def _readonly(a) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _check_family(likelihood, link, measure, *, arms: bool):
    """Return ``((likelihood, link) or None, measure)`` for the data given.

    Outcome data (``likelihood=``) fix the measure from the family (log OR, log HR, log rate
    ratio); a conflicting ``measure=`` is refused.
    """
    if likelihood is None and link is None:
        return None, _check_measure(measure, arms=arms)
    if not arms:
        raise ModelSpecError(
            f"likelihood={likelihood!r} describes arm-level outcome data (events per arm), but no "
            "arm-level table was given. Pass arms= (study, treatment, events, n ...), or drop "
            "likelihood= for contrast data.",
            rule="likelihood-columns",
        )
    lik, lnk, implied = check_likelihood(likelihood, link)
    if measure not in (None, implied):
        raise ModelSpecError(
            f"measure={measure!r} conflicts with likelihood={lik!r}, link={lnk!r}, whose "
            f"relative effects are {implied}. Drop measure= (it follows from the likelihood).",
            rule="unknown-measure",
        )
    return (lik, lnk), implied


def _check_measure(measure, *, arms: bool) -> str | None:
    allowed = ARM_MEASURES if arms else tuple(MEASURES)
    if measure is None and not arms:
        return None
    if measure not in allowed:
        raise ModelSpecError(
            f"Unknown effect measure {measure!r}"
            + (" for arm-level data" if arms else "")
            + f". Use one of: {', '.join(allowed)}.",
            rule="unknown-measure",
        )
    return measure


@dataclass(frozen=True, eq=False, repr=False)
class Network(NetworkViews):
    """A validated network of studies with exact within-study covariance.

    Build it with :meth:`from_contrasts`, :meth:`from_arms` or :meth:`from_data`. For study ``i``
    with ``k = mask[i].sum()`` contrasts, the contrasts ``y[i, mask[i]]`` of its non-base arms vs
    its base arm have covariance :meth:`study_covariance` ``(i)``.

    Attributes
    ----------
    treatments : tuple of str
        Treatment order used by every index array: ``treatments=`` if given, else ``sorted()``.
    reference : str
        Reference treatment; ``reference_rule`` says in words how it was chosen.
    studies : tuple of str
        Study labels in order of first appearance (contrast data first, then arm data).
    base : ndarray of int (S,)
        Index into ``treatments`` of each study's base arm.
    arm : ndarray of int (S, K)
        Index into ``treatments`` of each non-base arm (padding 0).
    y : ndarray (S, K)
        Contrast of each non-base arm vs the base arm (padding 0).
    var, cov, u, cov_u : ndarray
        Covariance parts: ``diag(var[i]) + cov[i] 11' + cov_u[i] u[i] u[i]'`` over real slots.
        ``var`` padding is 1; ``cov`` is ``se_base**2`` (0 for two-arm contrast studies).
    mask : ndarray of bool (S, K)
        True for real contrasts.
    n_arms : ndarray of int (S,)
        Arms per study, base arm included.
    base_n, arm_n : ndarray of float (S,), (S, K)
        Sample sizes of the base and non-base arms (NaN where unknown, e.g. contrast data).
    form : tuple of str
        Per study: ``"two-arm"``, ``"base"``, ``"pairwise"`` (contrast data) or ``"arms"``.
    contrasts : DataFrame
        The normalised contrasts used: ``study, treatment, base, TE, seTE, se_base, n_arms,
        form``.
    data, arm_data : DataFrame or None
        Copies of the contrast and arm-level inputs.
    columns : dict
        Role to column name.
    measure : str or None
        Effect measure (see :data:`MEASURES`); ``lower_is_better`` its direction if given.
    classes : dict or None
        Treatment to class, for every treatment, in treatment order.
    excluded_studies : tuple of str
        Studies outside the chosen ``component`` of a disconnected network.
    smd_method : str
        SMD definition used for arm data (``"escalc"`` or ``"netmeta"``).
    likelihood, link : str
        ``"normal"``/``"identity"`` for contrasts and continuous arms; for arm-level outcomes
        a family of :data:`nma_bayes.data.outcomes.LIKELIHOODS` (e.g. ``"binomial"``,
        ``"logit"``).
    events, trials, offset : ndarray (S, K + 1)
        Arm-level outcomes, slot 0 the base arm then the arms of ``arm``: events, trials (``n``,
        or exposure for Poisson) and the offset of the linear predictor (``log(time)`` for
        cloglog, ``log(exposure)`` for Poisson, else 0). Zero for other studies.
    outcome : ndarray of bool (S,)
        True for studies given as arm-level outcomes (their contrast slots are not data).
    covariates : StudyCovariates or None
        Study-level covariates for meta-regression (``covariates=``), indexed by ``studies``.
    categories : tuple of str or None
        Ordered data: the cutpoints, lowest first; ``events`` is then (S, K + 1, J), the number
        of each arm reaching at least each cutpoint (NaN where not reported).
    """

    treatments: tuple[str, ...]
    reference: str
    reference_rule: str
    studies: tuple[str, ...]
    base: np.ndarray
    arm: np.ndarray
    y: np.ndarray
    var: np.ndarray
    cov: np.ndarray
    mask: np.ndarray
    n_arms: np.ndarray
    form: tuple[str, ...]
    contrasts: pd.DataFrame = field(repr=False)
    data: pd.DataFrame | None = field(repr=False)
    columns: dict[str, str] = field(default_factory=dict)
    closure_tol: float = 0.01
    u: np.ndarray | None = None
    cov_u: np.ndarray | None = None
    base_n: np.ndarray | None = None
    arm_n: np.ndarray | None = None
    arm_data: pd.DataFrame | None = field(default=None, repr=False)
    measure: str | None = None
    lower_is_better: bool | None = None
    classes: dict[str, str] | None = None
    excluded_studies: tuple[str, ...] = ()
    smd_method: str = "escalc"
    likelihood: str = "normal"
    link: str = "identity"
    events: np.ndarray | None = None
    trials: np.ndarray | None = None
    offset: np.ndarray | None = None
    outcome: np.ndarray | None = None
    covariates: StudyCovariates | None = field(default=None, repr=False)
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        s, k = self.y.shape
        defaults = {"u": np.zeros((s, k)), "cov_u": np.zeros(s), "base_n": np.full(s, np.nan)}
        defaults["arm_n"] = np.full((s, k), np.nan)
        defaults |= {"events": np.zeros((s, k + 1)), "trials": np.ones((s, k + 1))}
        defaults |= {"offset": np.zeros((s, k + 1)), "outcome": np.zeros(s, dtype=bool)}
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("base", "arm", "y", "var", "cov", "mask", "n_arms", *defaults):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    # ------------------------------------------------------------------------ constructors
    @classmethod
    def from_contrasts(cls, df: pd.DataFrame, **kwargs) -> Network:
        """Build a network from a long table of study contrasts.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per contrast: ``study, treat1, treat2, TE, seTE`` and optionally
            ``se_base``. ``TE`` is ``treat1`` minus ``treat2``. Two-arm studies have one row; a
            multi-arm study is given in base form (one row per non-base arm, all sharing
            ``treat2``, with ``se_base``, the SE of the base arm) or in pairwise form (one row
            for every pair of its distinct treatments; arm variances are derived by least
            squares from ``seTE_jk**2 = s_j**2 + s_k**2``, base = the treatment that is
            ``treat2`` in most rows).
        **kwargs
            Column names (``study, treat1, treat2, TE, seTE, se_base``) and options of
            :meth:`from_data`.

        Returns
        -------
        Network
        """
        _check_options(kwargs, "Network.from_contrasts", "contrast data", VA.ARM_ONLY)
        return cls.from_data(contrasts=df, **kwargs)

    @classmethod
    def from_arms(cls, df: pd.DataFrame, *, measure: str, **kwargs) -> Network:
        """Build a network from arm-level continuous data (means, SDs, sample sizes).

        Parameters
        ----------
        df : pandas.DataFrame
            One row per arm: ``study, treatment, mean, sd, n`` (for ``measure="MD"`` an ``se``
            column may replace ``sd`` and ``n``: pass ``se="<column>"``). The first row of each
            study is its base arm.
        measure : {"SMD", "MD"}
            ``"SMD"``: Hedges' g with pooled SD and small-sample correction (``smd_method``
            selects metafor's or netmeta's definition); ``"MD"``: mean difference.
        **kwargs
            Column names (``study, treatment, mean, sd, n, se``) and options of
            :meth:`from_data`.

        Returns
        -------
        Network
        """
        _check_options(kwargs, "Network.from_arms", "arm-level data", VA.CONTRAST_ONLY)
        return cls.from_data(arms=df, measure=measure, **kwargs)

    @classmethod
    def from_data(
        cls,
        *,
        contrasts: pd.DataFrame | None = None,
        arms: pd.DataFrame | None = None,
        measure: str | None = None,
        lower_is_better: bool | None = None,
        reference: str | None = None,
        treatments: Sequence[str] | None = None,
        classes: str | dict[str, str] | None = None,
        component: str | None = None,
        closure_tol: float = 0.01,
        smd_method: str = "escalc",
        study: str = "study",
        treat1: str = "treat1",
        treat2: str = "treat2",
        TE: str = "TE",
        seTE: str = "seTE",
        se_base: str = "se_base",
        treatment: str = "treatment",
        mean: str = "mean",
        sd: str = "sd",
        n: str = "n",
        se: str | None = None,
        likelihood: str | None = None,
        link: str | None = None,
        events: str | None = None,
        exposure: str | None = None,
        time: str | None = None,
        category: str | None = None,
        arm: str | None = None,
        categories: Sequence[str] | None = None,
        cumulative: bool = True,
        covariates: str | Sequence[str] | None = None,
        studies: pd.DataFrame | None = None,
    ) -> Network:
        """Build a network from contrast data, arm-level data, or both (different studies).

        Parameters
        ----------
        contrasts, arms : DataFrame, optional
            Contrast-level and arm-level data (see :meth:`from_contrasts`, :meth:`from_arms`).
            A study may appear in only one of them.
        measure : str, optional
            Effect measure (:data:`MEASURES`); required for arm data (``"SMD"`` or ``"MD"``).
        lower_is_better : bool, optional
            Benefit direction of the measure, recorded for summaries and plots.
        reference : str, optional
            Reference treatment. Default: the treatment in the most studies (ties: first in
            ``treatments`` order); ``reference_rule`` records the choice.
        treatments : sequence of str, optional
            Treatment order; must list exactly the treatments in the data. Default ``sorted()``.
        classes : str or dict, optional
            Treatment classes: a dict ``{treatment: class}``, or a column name. For arm data the
            column holds each arm's class; for contrast data columns ``f"{treat1}_{classes}"``
            and ``f"{treat2}_{classes}"`` hold the classes of both treatments.
        component : str, optional
            For a disconnected network: a treatment whose component is kept. The other studies
            are excluded explicitly and listed in ``excluded_studies``.
        closure_tol : float
            Rounding tolerance on ``TE`` for pairwise-form multi-arm studies.
        smd_method : {"escalc", "netmeta"}
            Definition of the SMD from arm data (see :mod:`nma_bayes.data.effect_sizes`).
        study, treat1, treat2, TE, seTE, se_base, treatment, mean, sd, n, se : str
            Column names.
        likelihood, link : str, optional
            Arm-level *outcome* data (``arms`` with events): ``"binomial"`` with link
            ``"logit"`` (log odds ratios) or ``"cloglog"`` (log hazard ratios, with a follow-up
            ``time`` column), or ``"poisson"`` with link ``"log"`` (log rate ratios, with an
            ``exposure`` column). Contrast studies may be added (mixed evidence) on the same
            scale. See :mod:`nma_bayes.data.outcomes`.
        events, exposure, time : str, optional
            Column names of outcome data (with ``n`` for binomial trials); by default
            ``"events"``, ``"exposure"`` and ``"time"``. Given for data that do not use them
            (``time=`` with the logit link, ``exposure=`` with a binomial likelihood, any of
            them without ``likelihood=``), they are refused (``option-not-applicable``), as is
            ``se=`` with a binomial or Poisson likelihood. Also ``"binomial"`` with ``"probit"``
            or ``"log"`` (risk ratios, capped at 1 as gemtc), and ``"ordered"`` (``"probit"`` or
            ``"logit"``): ordered categorical data (:mod:`nma_bayes.data.ordered`).
        category, arm, categories, cumulative
            Ordered data: the cutpoint column, a column naming each row's arm (optional), the
            cutpoints lowest first (optional), and whether counts are at-least counts (default)
            or exclusive categories (:func:`~nma_bayes.data.ordered.parse_ordered`).
        covariates : str or list of str, optional
            Study-level covariates for meta-regression: columns of ``studies`` or of the data
            (constant within each study), numeric or categorical; or ``"baseline_risk"`` (arm-level
            outcome data only). Read into :attr:`covariates` by
            :func:`~nma_bayes.data.covariates.read_covariates`.
        studies : DataFrame, optional
            One row per study: the study column (named as in the data, ``study=``) and covariate
            columns, joined on it. Rows of studies not in the network are ignored.

        Returns
        -------
        Network

        Raises
        ------
        NMAInputError
            Any subclass, tagged with its rule (:data:`nma_bayes.data.validation.RULES`).

        Warns
        -----
        TreatmentNameWarning
            If treatment names differ only by case or surrounding whitespace.
        CovariateWarning
            If a covariate level is held by one study, or a comparison lies in one subgroup.
        """
        tol = check_build_options(
            contrasts, arms, lower_is_better, smd_method, closure_tol, classes
        )
        family, measure = _check_family(likelihood, link, measure, arms=arms is not None)
        optional = dict(events=events, exposure=exposure, time=time, se=se, category=category,
                        arm=arm, categories=categories)  # fmt: skip
        given = {k: v for k, v in optional.items() if v is not None}
        given |= {} if cumulative is True else {"cumulative": cumulative}
        check_outcome_options(family, given, arms=arms is not None)
        names = dict(study=study, treat1=treat1, treat2=treat2, TE=TE, seTE=seTE, se_base=se_base)
        names |= dict(treatment=treatment, mean=mean, sd=sd, n=n, se=se)
        names |= {k: given.get(k, k) for k in ("events", "exposure", "time")}  # default: the role
        is_ordered = family is not None and family[0] == "ordered"
        names |= {"category": given.get("category", "category") if is_ordered else None, "arm": arm}
        ordered = {"categories": categories, "cumulative": cumulative}
        parsed = parse_inputs(
            contrasts, arms, names, classes=classes, measure=measure, family=family,
            ordered=ordered if is_ordered else None,
        )  # fmt: skip
        layout = resolve_layout(
            parsed, component=component, treatments=treatments, reference=reference, classes=classes
        )
        records = study_records(layout.studies, layout.treatments, closure_tol=tol,
                                se_base_col=se_base, measure=measure, smd_method=smd_method)
        network = cls._assemble(
            records, trts=layout.treatments, **layout.network_attributes(),
            data=None if contrasts is None else contrasts.copy(),
            arm_data=None if arms is None else arms.copy(), columns=parsed.columns,
            closure_tol=tol, measure=measure, lower_is_better=lower_is_better,
            smd_method=smd_method, categories=parsed.categories,
            **({} if family is None else {"likelihood": family[0], "link": family[1]}),
        )  # fmt: skip
        C.check_network_ranges(network)  # rules on the assembled contrasts (se-spread, ...)
        cov = read_covariates(covariates, network=network, studies_table=studies)
        return network if cov is None else replace(network, covariates=cov)

    @classmethod
    def _assemble(cls, resolved: list[StudyRecord], *, trts, **attrs) -> Network:
        """Build a network from study records, without validation.

        ``attrs`` are the remaining constructor fields (``reference``, ``data``, ...). Also used
        by :mod:`nma_bayes.data.transforms` to build transformed networks.
        """
        return cls(
            treatments=trts,
            studies=tuple(st.study for st in resolved),
            n_arms=np.array([len(st.arms) + 1 for st in resolved], dtype=np.int64),
            form=tuple(st.form for st in resolved),
            contrasts=contrast_table(resolved),
            **padded_arrays(resolved, {t: i for i, t in enumerate(trts)}),
            **attrs,
        )

    # ------------------------------------------------------------------------- convenience
    @property
    def n_studies(self) -> int:
        """Number of studies ``S``."""
        return len(self.studies)

    @property
    def n_treatments(self) -> int:
        """Number of treatments."""
        return len(self.treatments)

    @property
    def n_contrasts(self) -> int:
        """Number of contrasts (non-base arms) over all studies."""
        return int(self.mask.sum())

    @property
    def non_reference(self) -> tuple[str, ...]:
        """Treatments other than the reference, in treatment order (the basic parameters)."""
        return tuple(t for t in self.treatments if t != self.reference)

    def treatment_index(self, name: str) -> int:
        """Return the position of treatment ``name`` in :attr:`treatments`.

        Raises
        ------
        UnknownTreatmentError
            If ``name`` is not in the network.
        """
        try:
            return self.treatments.index(name)
        except ValueError:
            raise UnknownTreatmentError(
                f"{name!r} is not a treatment in the network. Available treatments: "
                f"{format_items(self.treatments, limit=20)}.",
                rule="unknown-reference",
            ) from None

    def study_covariance(self, i: int) -> np.ndarray:
        """Return the within-study covariance matrix of study ``i``'s contrasts.

        Returns
        -------
        ndarray (k, k)
            ``diag(var) + cov 11' + cov_u u u'`` over the study's ``k`` contrasts.
        """
        m = self.mask[i]
        v, u = self.var[i, m], self.u[i, m]
        return np.diag(v) + self.cov[i] * np.ones((v.size, v.size)) + self.cov_u[i] * np.outer(u, u)

    def __repr__(self) -> str:
        multi = int((self.n_arms > 2).sum())
        measure = f", measure={self.measure!r}" if self.measure else ""
        return (
            f"Network({self.n_studies} studies, {self.n_treatments} treatments, "
            f"{self.n_contrasts} contrasts, {multi} multi-arm studies, "
            f"reference={self.reference!r}{measure})"
        )


# ---------------------------------------------------------------------------- options
def data_options() -> tuple[str, ...]:
    """Return the options of :meth:`Network.from_data` that take a data frame's settings."""
    params = inspect.signature(Network.from_data).parameters
    return tuple(p for p in params if p not in ("contrasts", "arms"))


def _check_options(options: dict, caller: str, detected: str, inapplicable) -> None:
    VA.check_keywords(options, data_options(), caller)
    VA.check_applicable(options, inapplicable, detected)
