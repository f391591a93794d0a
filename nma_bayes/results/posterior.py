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

from ..engines.exact import ExactPosterior
from . import summaries

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from ..models.spec import ModelSpec

__all__ = ["Posterior"]

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

    def contrasts(self, plus: np.ndarray, minus: np.ndarray, ci_prob: float) -> dict:
        """Summaries of ``d[plus] - d[minus]`` (positions in the network's treatment order).

        Exact engine: quadrature (three covariance entries per pair and node). NUTS: draws.

        Returns
        -------
        dict of str to ndarray
            ``mean, sd, median, ci_lower, ci_upper``.
        """
        if self.engine == "exact":
            col = {t: i for i, t in enumerate(self.exact.treatments)}  # -1: the model reference
            pos = np.array([col.get(t, -1) for t in self.network.treatments])
            stats = self.exact.contrast_summary(pos[plus], pos[minus], ci_prob)
            return {k: stats[k] for k in STATS}
        flat = summaries.flat_draws(self.d_full())
        return summaries.describe_draws(flat[:, plus] - flat[:, minus], ci_prob)

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
