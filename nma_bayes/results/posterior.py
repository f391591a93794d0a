"""One accessor for the posterior of a fit, whichever engine produced it.

The summaries of :mod:`nma_bayes.results.tables` ask the accessor for what they need (draws of
``d`` and ``tau``, or summaries of contrasts of ``d`` and of ``tau``) and never look at the engine:
with the exact engine the summaries come from the quadrature (no Monte Carlo error), with NUTS from
the draws.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from ..base.errors import ModelSpecError, NumericalError
from ..engines.exact import ExactPosterior
from ..models.regression import RegressionDesign
from . import summaries

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from ..models.spec import ModelSpec

__all__ = ["Posterior"]

#: Largest share of a ratio's moment the outermost quadrature nodes of ``tau`` may carry.
RATIO_TAIL_MAX = 1e-4
#: Statistics of every summary row, in order.
STATS = ("mean", "sd", "median", "ci_lower", "ci_upper")


class Posterior:
    """The posterior of ``d`` (and ``tau``) of one fit.

    Parameters
    ----------
    network : Network
        The data the model was fitted to.
    spec : ModelSpec
        The model.
    idata : xarray.DataTree
        ArviZ data with a ``posterior`` group (``d`` over the non-reference treatments, ``tau``).
    exact : ExactPosterior, optional
        The exact posterior when the exact engine produced the draws.
    regression : RegressionDesign, optional
        The meta-regression design of the fit (built if not given).
    """

    def __init__(
        self,
        network: Network,
        spec: ModelSpec,
        idata,
        exact: ExactPosterior | None,
        *,
        regression: RegressionDesign | None = None,
    ):
        self.network, self.spec, self.idata = network, spec, idata
        # draws without the exact posterior are summarised as draws: NUTS ("pymc") or Laplace's
        laplace = idata["posterior"].attrs.get("engine") == "laplace"
        self.engine = "exact" if exact is not None else ("laplace" if laplace else "pymc")
        self._exact = exact
        if regression is None:  # not handed down: the exact engine's, or built here
            regression = (
                exact.regression
                if exact is not None
                else RegressionDesign.from_network(network, spec)
            )
        self.regression = regression
        #: centred covariate terms the effects are evaluated at (None: at the centre)
        self.shift: np.ndarray | None = None
        self.at_values: dict = {}

    def at(self, at: dict | None) -> Posterior:
        """Return a view of the posterior with effects at covariate values ``at`` (regression).

        The relative effect of ``t`` vs ``c`` at covariate terms ``x`` (centred) is
        ``d_t - d_c + (beta_t - beta_c)' x`` (TSD3); every summary of the returned view
        (:mod:`nma_bayes.results.tables`) uses it. ``None`` returns this posterior (effects at
        the centre, where ``d`` is defined).
        """
        if at is None:
            return self
        if self.regression is None:
            raise ModelSpecError(
                "at= evaluates a meta-regression at covariate values, but this fit has no "
                "covariates (fit with covariates=...).",
                rule="bad-option",
            )
        values = self.regression.check_at(at)
        view = copy.copy(self)
        view.shift, view.at_values = self.regression.term_values(values), values
        return view

    def beta_full(self) -> xr.DataArray:
        """Draws of every treatment's interactions (chain, draw, treatment, term); 0: reference."""
        beta = self.idata["posterior"]["beta"]
        zero = xr.zeros_like(beta.isel(treatment=0)).expand_dims(treatment=[self.network.reference])
        full = xr.concat([zero, beta], "treatment").sel(treatment=list(self.network.treatments))
        return full.transpose("chain", "draw", "treatment", "term")

    @property
    def exact(self) -> ExactPosterior:
        """The exact posterior of this model and data (computed on first use for NUTS fits)."""
        if self._exact is None:
            if np.asarray(self.network.outcome).any():
                raise ModelSpecError(
                    "The exact posterior covers normal contrast likelihoods only; this fit has "
                    f"arm-level {self.network.likelihood} outcomes (compare_exact() does not "
                    "apply).",
                    rule="bad-option",
                )
            self._exact = ExactPosterior(self.network, self.spec, regression=self.regression)
        return self._exact

    def d_full(self) -> xr.DataArray:
        """Draws of every treatment's effect vs the model reference (0 for the reference).

        Returns
        -------
        DataArray (chain, draw, treatment)
            Treatments in network order.
        """
        d = self.idata["posterior"]["d"]
        zero = xr.zeros_like(d.isel(treatment=0)).expand_dims(treatment=[self.network.reference])
        full = xr.concat([zero, d], "treatment")
        order = list(self.network.treatments)
        full = full.sel(treatment=order).transpose("chain", "draw", "treatment")
        if self.shift is not None:  # effects at the chosen covariate values: + beta' x
            full = full + (self.beta_full() * xr.DataArray(self.shift, dims="term")).sum("term")
        return full

    def tau_draws(self) -> np.ndarray:
        """Flat draws of ``tau`` (random effects)."""
        return np.asarray(self.idata["posterior"]["tau"]).reshape(-1)

    def contrasts(
        self, plus: np.ndarray, minus: np.ndarray, ci_prob: float, *, ratio: bool = False
    ) -> dict:
        """Summaries of ``d[plus] - d[minus]`` (positions in the network's treatment order).

        Exact engine: quadrature (three covariance entries per pair and node). NUTS: draws.

        Parameters
        ----------
        plus, minus : ndarray of int
            Positions of the treatment and the comparator of each contrast.
        ci_prob : float
            Interval probability.
        ratio : bool
            Summarise ``exp(d[plus] - d[minus])`` (a ratio, for log-ratio measures): its mean and
            SD are those of the exponentiated posterior (quadrature: lognormal moments of each
            node; NUTS: of the exponentiated draws); the median and interval ends are the
            exponentiated log-scale quantiles (``exp`` is monotone, so quantiles map exactly).

        Returns
        -------
        dict of str to ndarray
            ``mean, sd, median, ci_lower, ci_upper``.
        """
        if self.engine == "exact":
            col = {t: i for i, t in enumerate(self.exact.treatments)}  # -1: the model reference
            pos = np.array([col.get(t, -1) for t in self.network.treatments])
            if self.shift is None:
                stats = self.exact.contrast_summary(pos[plus], pos[minus], ci_prob)
            else:  # a linear combination of (d, beta): exact mixture summaries of it
                stats = self.exact.linear_summary(self._combos(plus, minus), ci_prob)
            stats = {k: stats[k] for k in STATS}
            moments = self._exact_ratio_moments(plus, minus) if ratio else None
        else:
            flat = summaries.flat_draws(self.d_full())
            diff = flat[:, plus] - flat[:, minus]
            stats = summaries.describe_draws(diff, ci_prob)
            moments = summaries.ratio_moments(diff) if ratio else None
        if moments is None:
            return stats
        quantiles = {k: np.exp(stats[k]) for k in ("median", "ci_lower", "ci_upper")}
        return {"mean": moments[0], "sd": moments[1], **quantiles}

    def _combos(self, plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
        """Rows of ``(d, free interactions)`` giving ``d[plus] - d[minus]`` at ``self.shift``.

        ``plus``/``minus`` are positions in the network's treatment order; in the exact
        engine's parameter vector ``d`` covers the non-reference treatments, followed by the
        free interactions group-major (``g * P + p``).
        """
        ex, reg = self.exact, self.regression
        n_d = len(ex.treatments)
        col = {t: i for i, t in enumerate(ex.treatments)}
        names = self.network.treatments
        group = dict(zip(names, reg.group_pos[_d_full_positions(self.network)], strict=True))
        out = np.zeros((len(plus), n_d + reg.n_free))
        for row, (a, b) in enumerate(zip(plus, minus, strict=True)):
            for name, sign in ((names[a], 1.0), (names[b], -1.0)):
                if name in col:
                    out[row, col[name]] += sign
                if group[name] > 0:
                    start = n_d + (group[name] - 1) * reg.n_terms
                    out[row, start : start + reg.n_terms] += sign * self.shift
        return out

    def _exact_ratio_moments(self, plus: np.ndarray, minus: np.ndarray):
        """Mean and SD of ``exp(d[plus] - d[minus])`` under the exact Gaussian mixture.

        Each quadrature node is Gaussian, ``N(m_g, v_g)``, so ``E[exp(kX)] = sum_g w_g
        exp(k m_g + k^2 v_g / 2)`` (``k = 1, 2``), combined in log space to avoid overflow. The
        variance ``v_g`` grows like ``tau^2``, so these integrands decay more slowly than the
        posterior of ``tau`` and may not decay at all (an infinite moment: a sparse comparison
        under a prior on ``tau`` with a heavy tail). If the outermost nodes carry more than
        :data:`RATIO_TAIL_MAX` of a moment, the quadrature does not resolve it and
        :class:`~nma_bayes.base.errors.NumericalError` is raised instead of a truncated value.
        """
        ex = self.exact
        if self.shift is None:  # d[plus] - d[minus]: three covariance entries per node
            g, n = ex.means.shape
            col = {t: i for i, t in enumerate(ex.treatments)}  # -1: the model reference
            pos = np.array([col.get(t, -1) for t in self.network.treatments])
            means = np.concatenate([ex.means, np.zeros((g, 1))], axis=1)
            covs = np.zeros((g, n + 1, n + 1))
            covs[:, :n, :n] = ex.covs
            a, b = pos[plus], pos[minus]
            mu = means[:, a] - means[:, b]
            var = np.maximum(covs[:, a, a] + covs[:, b, b] - 2 * covs[:, a, b], 0)
        else:  # a linear combination of (d, beta)
            combos = self._combos(plus, minus)
            mu = ex.means @ combos.T
            var = np.maximum(((combos @ ex.covs) * combos).sum(-1), 0)
        with np.errstate(divide="ignore"):  # a node of weight 0 contributes exp(-inf) = 0
            logw = np.log(ex.weights / ex.weights.sum())[:, None]
        logs = {}
        for k, what in ((1, "mean"), (2, "SD")):
            terms = logw + k * mu + k * k * var / 2
            logs[k] = logsumexp(terms, axis=0)
            # share of the two outermost nodes (Simpson weights alternate between them)
            flag = np.exp(terms[-2:].max(axis=0) - logs[k]) > RATIO_TAIL_MAX
            if len(terms) > 1 and flag.any():
                names = self.network.treatments
                pairs = zip(plus[flag], minus[flag], strict=True)
                raise _unresolved_moment(what, [f"{names[p]} vs {names[m]}" for p, m in pairs])
        mean = np.exp(logs[1])
        # Var = E[Y^2] - E[Y]^2 = E[Y]^2 (exp(log m2 - 2 log m1) - 1)
        sd = mean * np.sqrt(np.maximum(np.expm1(logs[2] - 2 * logs[1]), 0.0))
        return mean, sd

    def heterogeneity(self, ci_prob: float) -> tuple[dict, dict]:
        """Summaries of ``tau`` and ``tau^2`` (quadrature or draws)."""
        if self.engine == "exact":
            ex = self.exact
            t, w = ex.tau, ex.weights
            tau = ex.tau_summary(ci_prob)
            m2 = float((w * t**2).sum())
            tau2 = {
                "mean": m2,
                "sd": float(np.sqrt(max((w * t**4).sum() - m2**2, 0.0))),
                # tau^2 is monotone in tau >= 0: its quantiles are the squared quantiles of tau
                **{k: tau[k] ** 2 for k in ("median", "ci_lower", "ci_upper")},
            }
            return tau, tau2
        tau = self.tau_draws()
        stats = summaries.describe_draws(np.stack([tau, tau**2], axis=1), ci_prob)
        return ({k: float(v[0]) for k, v in stats.items()},
                {k: float(v[1]) for k, v in stats.items()})  # fmt: skip


def _d_full_positions(network: Network) -> np.ndarray:
    """Position in ``d_full = [0, d]`` of each treatment (network order)."""
    from ..models.likelihood import treatment_positions

    return treatment_positions(network)


def _unresolved_moment(what: str, pairs: list[str]) -> NumericalError:
    shown = ", ".join(pairs[:5]) + (", ..." if len(pairs) > 5 else "")
    return NumericalError(
        f"The posterior {what} of the ratio (exp of the effect) of {shown} is infinite or not "
        "resolved by the quadrature over tau: given tau the log ratio is normal with a variance "
        "growing like tau^2, so exp(effect) has moments only if the posterior of tau has a "
        "light enough upper tail (sparse comparisons under wide priors on tau have none). The "
        "median and interval on the ratio scale are exact: use the log-scale table "
        "(relative_effects() without scale) and exponentiate its median and interval ends, "
        "use league_table(scale=..., stat='median'), or choose a prior on tau with a lighter "
        "tail."
    )
