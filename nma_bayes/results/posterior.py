"""One accessor for the posterior of a fit, whichever engine produced it.

The summaries of :mod:`nma_bayes.results.tables` ask the accessor for what they need (draws of
``d`` and ``tau``, or summaries of contrasts of ``d`` and of ``tau``) and never look at the engine:
with the exact engine the summaries come from the quadrature (no Monte Carlo error), with NUTS from
the draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from ..base.errors import ModelSpecError, NumericalError
from ..engines.exact import ExactPosterior
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
    """

    def __init__(self, network: Network, spec: ModelSpec, idata, exact: ExactPosterior | None):
        self.network, self.spec, self.idata = network, spec, idata
        self.engine = "exact" if exact is not None else "pymc"
        self._exact = exact

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
            self._exact = ExactPosterior(self.network, self.spec)
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
        return full.sel(treatment=order).transpose("chain", "draw", "treatment")

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
            stats = self.exact.contrast_summary(pos[plus], pos[minus], ci_prob)
            stats = {k: stats[k] for k in STATS}
            moments = self._exact_ratio_moments(pos[plus], pos[minus]) if ratio else None
        else:
            flat = summaries.flat_draws(self.d_full())
            diff = flat[:, plus] - flat[:, minus]
            stats = summaries.describe_draws(diff, ci_prob)
            moments = summaries.ratio_moments(diff) if ratio else None
        if moments is None:
            return stats
        quantiles = {k: np.exp(stats[k]) for k in ("median", "ci_lower", "ci_upper")}
        return {"mean": moments[0], "sd": moments[1], **quantiles}

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
        g, n = ex.means.shape
        means = np.concatenate([ex.means, np.zeros((g, 1))], axis=1)  # index -1: reference
        covs = np.zeros((g, n + 1, n + 1))
        covs[:, :n, :n] = ex.covs
        mu = means[:, plus] - means[:, minus]
        var = np.maximum(covs[:, plus, plus] + covs[:, minus, minus] - 2 * covs[:, plus, minus], 0)
        with np.errstate(divide="ignore"):  # a node of weight 0 contributes exp(-inf) = 0
            logw = np.log(ex.weights / ex.weights.sum())[:, None]
        logs = {}
        for k, what in ((1, "mean"), (2, "SD")):
            terms = logw + k * mu + k * k * var / 2
            logs[k] = logsumexp(terms, axis=0)
            # share of the two outermost nodes (Simpson weights alternate between them)
            flag = np.exp(terms[-2:].max(axis=0) - logs[k]) > RATIO_TAIL_MAX
            if len(terms) > 1 and flag.any():
                names = [*ex.treatments, self.network.reference]  # -1: the reference
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
