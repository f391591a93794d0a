"""The fit record: data, model spec and the posterior accessor, with summaries as delegates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from ..base import validate as VA
from ..base.html import fit_html
from ..engines.exact import ExactPosterior
from ..models.likelihood import ContrastData
from ..models.regression import RegressionDesign
from . import absolute as AB
from . import goodness_of_fit as MF
from . import ordered as ORD
from . import summaries
from . import tables as T
from .class_summaries import ClassSummaryMethods
from .convergence import compare_with_exact, convergence_problems, diagnostics_table
from .decisions import DecisionMethods
from .posterior import Posterior
from .regression import RegressionMethods

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from ..engines.nuts import SamplerSettings
    from ..models.spec import ModelSpec

__all__ = ["FitRecord"]


class FitRecord(ClassSummaryMethods, RegressionMethods, DecisionMethods):
    """A fitted network meta-analysis: data, model, settings and the posterior accessor.

    The summaries are functions of the accessor (:mod:`nma_bayes.results.tables`,
    :mod:`~nma_bayes.results.class_summaries`, :mod:`~nma_bayes.results.decisions`,
    :mod:`~nma_bayes.results.goodness_of_fit`, :mod:`~nma_bayes.results.convergence`); the
    methods below are thin delegates to them. Users get
    the subclass :class:`nma_bayes.NetworkFit`, which adds the exports (report, CSV, Excel).

    Parameters
    ----------
    network : Network
        The validated data.
    spec : ModelSpec
        Model and priors.
    idata : xarray.DataTree
        ArviZ data with a ``posterior`` group holding ``d`` (dims ``chain, draw, treatment``:
        every treatment but the reference) and, for random effects, ``tau``.
    settings : SamplerSettings
        How the posterior was sampled.
    seed : int
        The sampler's seed (refitting with it reproduces the draws).
    exact : ExactPosterior, optional
        The exact posterior, when the exact engine made the fit.
    data : ContrastData, optional
        The numeric arrays of the network, built once by ``fit_network`` and reused by goodness
        of fit (built on first use otherwise).
    regression : RegressionDesign, optional
        The meta-regression design, built once by ``fit_network`` (built from the network's
        covariates otherwise).

    Attributes
    ----------
    posterior : Posterior
        The accessor every summary reads.
    problems : list of str
        Convergence problems found after sampling (also issued as ``NMAConvergenceWarning``).
    """

    def __init__(
        self,
        network: Network,
        spec: ModelSpec,
        idata,
        settings: SamplerSettings,
        seed: int,
        exact: ExactPosterior | None = None,
        data: ContrastData | None = None,
        regression: RegressionDesign | None = None,
    ):
        self.network = network
        self.spec = spec
        self.settings = settings
        self.seed = int(seed)
        self.posterior = Posterior(network, spec, idata, exact, regression=regression)
        self._data = data
        # independent draws (the exact engine's; the Laplace engine's, whose importance weights
        # were checked instead) need no convergence checks
        independent = exact is not None or self.engine == "laplace"
        self.problems = [] if independent else convergence_problems(self.diagnostics())

    @property
    def idata(self):
        """The ArviZ DataTree of the fit (``posterior``: ``d``, ``tau``)."""
        return self.posterior.idata

    @property
    def engine(self) -> str:
        """The engine that ran: ``"exact"``, ``"laplace"`` or ``"pymc"`` (never ``"auto"``)."""
        return self.posterior.engine

    @property
    def exact(self) -> ExactPosterior:
        """The exact posterior of this model and data (computed on first use; < 1 s)."""
        return self.posterior.exact

    @property
    def model_data(self) -> ContrastData:
        """The network's numeric arrays (shared with the engines)."""
        if self._data is None:
            self._data = ContrastData.from_network(self.network)
        return self._data

    @property
    def treatments(self) -> tuple[str, ...]:
        """Treatments in the network's documented order."""
        return self.network.treatments

    @property
    def reference(self) -> str:
        """The model's reference treatment (``d = 0``)."""
        return self.network.reference

    def d_full(self) -> xr.DataArray:
        """Draws of every treatment's effect vs the model reference (treatment order)."""
        return self.posterior.d_full()

    def _direction(self, lower_is_better) -> bool:
        """Resolve the direction by the package's one rule (``validate.resolve_direction``)."""
        return VA.resolve_direction(lower_is_better, self.network, required=True)

    def _check_treatment(self, name: str) -> str:
        return T.check_treatment(self.posterior, name)

    # -------------------------------------------------------------- summaries
    def relative_effects(
        self,
        reference: str | None = None,
        *,
        all_pairs: bool = False,
        ci_prob: float = 0.95,
        scale: str | None = None,
        at: dict | None = None,
    ) -> pd.DataFrame:
        """Posterior relative effects.

        Parameters
        ----------
        reference : str, optional
            Comparator of every treatment (default: the model's reference).
        all_pairs : bool
            Return every unordered pair of treatments once (``treatment`` vs an earlier
            ``comparator`` in the treatment order) instead of every treatment vs ``reference``.
        ci_prob : float
            Probability of the equal-tailed credible interval.
        scale : str, optional
            ``None`` (default): the linear-predictor scale the model is fitted on (e.g. log odds
            ratios). For log-ratio measures, the ratio: ``"OR"`` (``logOR``, binomial logit),
            ``"HR"`` (``logHR``, cloglog), ``"RR"`` (``logRR``) or ``"rate ratio"``
            (``logRateRatio``, Poisson; ``"RR"``, ``"IRR"`` accepted); case-insensitive, long
            names such as ``"odds ratio"`` accepted. The median and interval ends are the
            exponentiated log-scale ones (quantiles map exactly); the mean and SD are those of the
            exponentiated posterior. Any other scale raises ``ModelSpecError``.
        at : dict, optional
            Meta-regression fits: covariate values ``{covariate: value}`` at which the effects
            are evaluated (``d_t - d_c + (beta_t - beta_c)' (x - x_bar)``, TSD3); by default
            the centring values (``fit.regression().attrs["center"]``) and first levels.

        Returns
        -------
        DataFrame
            ``treatment, comparator, mean, sd, median, ci_lower, ci_upper``; ``attrs["scale"]``
            names the scale.
        """
        return T.relative_effects(
            self.posterior.at(at), reference, all_pairs=all_pairs, ci_prob=ci_prob, scale=scale
        )

    def absolute_effects(
        self,
        baseline,
        *,
        time: float | None = None,
        exposure: float | None = None,
        ci_prob: float = 0.95,
        n_draws: int | None = None,
    ) -> pd.DataFrame:
        """Each treatment's absolute outcome given a baseline for the reference treatment.

        For arm-level outcome fits only (:mod:`nma_bayes.results.absolute`): the event
        probability (binomial logit; cloglog by ``time``) or rate (Poisson) of each treatment,
        from ``b + d_k`` with ``b ~ baseline`` drawn independently of the posterior (one draw per
        posterior draw, seeded by the fit's seed), as in TSD2.

        Parameters
        ----------
        baseline : Normal
            Distribution of the reference treatment's linear predictor (logit, cloglog per unit
            time, or log rate per unit exposure), e.g. ``nb.Normal(-4.2, 1 / 1.11**0.5)``.
        time : float, optional
            Follow-up time of a cloglog fit (required there), in the data's time units.
        exposure : float, optional
            Poisson fits: expected events in this exposure instead of the rate per unit.
        ci_prob : float
            Interval probability.
        n_draws : int, optional
            Number of posterior draws used, evenly spaced (default all).

        Returns
        -------
        DataFrame
            ``treatment, mean, sd, median, ci_lower, ci_upper, quantity, baseline`` and ``time``
            (cloglog) or ``exposure`` (Poisson).
        """
        return AB.absolute_effects(
            self.posterior, baseline, seed=self.seed, time=time, exposure=exposure,
            ci_prob=ci_prob, n_draws=n_draws,
        )  # fmt: skip

    def cutpoints(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Posterior summaries of an ordered categorical fit's cutpoints (the first is 0).

        See :func:`nma_bayes.results.ordered.cutpoint_table`: one row per cutpoint above the
        first, on the link's scale (probit or log odds), as multinma prints them.
        """
        return ORD.cutpoint_table(self.idata, self.network, ci_prob=ci_prob)

    def league_table(
        self,
        *,
        ci_prob: float = 0.95,
        digits: int = 2,
        stat: str = "median",
        scale: str | None = None,
        at: dict | None = None,
    ) -> pd.DataFrame:
        """League table of all pairwise effects (row treatment vs column treatment).

        Parameters
        ----------
        ci_prob : float
            Interval probability.
        digits : int
            Decimals shown.
        stat : {"median", "mean"}
            Point estimate shown.
        scale : str, optional
            As in :meth:`relative_effects` (e.g. ``"OR"``).
        at : dict, optional
            Covariate values of a meta-regression (see :meth:`relative_effects`).

        Returns
        -------
        DataFrame
            Square table of strings ``"estimate (lower, upper)"``, treatment names on the diagonal.
        """
        return T.league_table(
            self.posterior.at(at), ci_prob=ci_prob, digits=digits, stat=stat, scale=scale
        )

    def rank_probabilities(
        self, *, lower_is_better: bool, cumulative: bool = False, at: dict | None = None
    ) -> pd.DataFrame:
        """Probability that each treatment takes each rank (rank 1 = best), or that rank or better.

        Parameters
        ----------
        lower_is_better : bool
            Benefit direction; required (no default), e.g. ``True`` for symptom scores.
        cumulative : bool
            ``P(rank <= k)`` for every ``k`` (the cumulative ranking curves of Salanti et al.
            2011; 1 at the last rank, and SUCRA is their mean over the first ``T - 1`` ranks).
            With MCSEs: :meth:`top_k` with ``k=range(1, T + 1)``.
        at : dict, optional
            Covariate values of a meta-regression (see :meth:`relative_effects`).

        Returns
        -------
        DataFrame
            Treatment x rank.
        """
        return T.rank_probabilities(
            self.posterior.at(at), lower_is_better=lower_is_better, cumulative=cumulative
        )

    def sucra(
        self, *, lower_is_better: bool, ci_prob: float = 0.95, at: dict | None = None
    ) -> pd.DataFrame:
        """SUCRA (Salanti et al. 2011; Rücker & Schwarzer 2015) with its credible interval.

        Parameters
        ----------
        lower_is_better : bool
            Benefit direction; required.
        ci_prob : float
            Probability of the interval of the per-draw scaled rank ``(T - rank)/(T - 1)``.
        at : dict, optional
            Covariate values of a meta-regression (see :meth:`relative_effects`).

        Returns
        -------
        DataFrame
            ``treatment, sucra, mean_rank, ci_lower, ci_upper, p_best`` in treatment order.
        """
        return T.sucra(self.posterior.at(at), lower_is_better=lower_is_better, ci_prob=ci_prob)

    def heterogeneity(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Posterior summary of the between-study SD ``tau`` and variance ``tau^2``.

        Returns
        -------
        DataFrame
            Index ``tau, tau2``; columns ``mean, sd, median, ci_lower, ci_upper``.
        """
        return T.heterogeneity(self.posterior, ci_prob=ci_prob)

    def compare_exact(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Compare this fit's draws with the exact posterior, in Monte Carlo standard errors.

        For every parameter (``d`` vs the model reference, and ``tau``) and statistic (mean,
        median and the interval ends), the MCMC estimate minus the exact value (quadrature,
        :mod:`nma_bayes.engines.exact`) divided by the MCSE of that estimate (ArviZ ``mcse``, mean
        or quantile). For a correct sampler the ``z`` values behave like standard normal draws.

        Returns
        -------
        DataFrame
            ``parameter, stat, mcmc, exact, mcse, z``.
        """
        return compare_with_exact(self, ci_prob=summaries.check_ci_prob(ci_prob))

    # ------------------------------------------------------------------- model fit
    def model_fit(self, *, per_study: bool = False) -> pd.DataFrame:
        """Posterior mean residual deviance, pD and DIC (Dias et al. 2011, TSD2).

        Parameters
        ----------
        per_study : bool
            Per study: ``study, n_contrasts, resdev, leverage, dic``; with arm-level outcome
            studies ``study, data ("contrasts"/"arms"), n_data, resdev, leverage, dic``.

        Returns
        -------
        DataFrame
            One row ``resdev, pD, DIC, n_data`` (or per study).
        """
        return MF.model_fit_table(self, per_study=VA.check_bool(per_study, "per_study"))

    def loo(self):
        """PSIS-LOO through ArviZ, one observation per study, with per-study Pareto k."""
        return MF.loo(self)

    def prediction_interval(
        self,
        reference: str | None = None,
        *,
        all_pairs: bool = False,
        ci_prob: float = 0.95,
        at: dict | None = None,
    ) -> pd.DataFrame:
        """Relative effects with the interval of the effect in a new study (``d + tau z``).

        ``at``: covariate values of a meta-regression (see :meth:`relative_effects`).

        Returns
        -------
        DataFrame
            :meth:`relative_effects` columns plus ``pi_lower, pi_upper``.
        """
        all_pairs, ci_prob = VA.check_bool(all_pairs, "all_pairs"), VA.check_ci_prob(ci_prob)
        ref = self._check_treatment(reference if reference is not None else self.reference)
        return MF.prediction_table(self, ref, all_pairs=all_pairs, ci_prob=ci_prob, at=at)

    def diagnostics(self) -> pd.DataFrame:
        """R-hat, bulk/tail ESS and MCSE per parameter; ``attrs["divergences"]`` counts divergences.

        Problems (R-hat > 1.01, bulk ESS < 400, any divergence) were issued as
        :class:`~nma_bayes.base.errors.NMAConvergenceWarning` when the fit was made and are listed
        in :attr:`problems`.
        """
        return diagnostics_table(self.idata)

    def summary(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Posterior summary of the model parameters with their diagnostics.

        Returns
        -------
        DataFrame
            One row per parameter (``d[treatment]`` vs the reference, ``tau``): ``mean, sd,
            median, ci_lower, ci_upper, r_hat, ess_bulk, ess_tail``.
        """
        rel = self.relative_effects(ci_prob=ci_prob)
        stats = ["mean", "sd", "median", "ci_lower", "ci_upper"]
        rows = rel.assign(parameter=[f"d[{t}]" for t in rel["treatment"]])[["parameter", *stats]]
        if self.posterior.regression is not None:  # labelled as in diagnostics()
            reg = self.regression(ci_prob=ci_prob)
            names = [
                f"{p}[{g}, {t}]" if p == "beta" else f"{p}[{t}]"
                for p, g, t in zip(reg["parameter"], reg["group"], reg["term"], strict=True)
            ]
            rows = pd.concat([rows, reg.assign(parameter=names)[["parameter", *stats]]],
                             ignore_index=True)  # fmt: skip
        if self.spec.random:
            het = self.heterogeneity(ci_prob=ci_prob).loc[["tau"]].reset_index()
            rows = pd.concat([rows, het[["parameter", *stats]]], ignore_index=True)
        diag = self.diagnostics()[["parameter", "r_hat", "ess_bulk", "ess_tail"]]
        return rows.merge(diag, on="parameter", how="left").set_index("parameter")

    def describe(self) -> dict[str, str]:
        """Return the data, model, priors and sampler in words."""
        net = self.network
        s = self.settings
        return {
            "data": (
                f"{net.n_studies} studies, {net.n_treatments} treatments, "
                f"{int(np.sum(np.asarray(net.n_arms) > 2))} multi-arm studies"
            ),
            "reference": f"{net.reference}; {net.reference_rule}",
            **self.spec.describe(net, regression=self.posterior.regression),
            "sampler": (
                f"exact engine: quadrature over tau, {s.chains} x {s.draws} independent draws, "
                f"seed {self.seed}"
                if self.engine == "exact"
                else f"{s.sampler}: {s.chains} chains x {s.draws} draws after {s.tune} warm-up, "
                f"seed {self.seed}"
            ),
        }

    def __repr__(self) -> str:
        lines = [type(self).__name__] + [f"  {k}: {v}" for k, v in self.describe().items()]
        if self.problems:
            lines.append("  convergence problems: " + "; ".join(self.problems))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return fit_html(self)
