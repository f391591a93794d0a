"""The second half of the collapsed sampler: draws of ``d`` given each draw of ``tau``.

NUTS samples ``tau`` from the collapsed model (:mod:`nma_bayes.models.collapsed`, ``d``
integrated out); each kept draw of ``tau`` then gets one draw of ``d`` from its exact Gaussian
conditional ``N(P^{-1} b, P^{-1})`` (:func:`nma_bayes.models.collapsed_kernel.draw_d`). The pairs
``(tau, d)`` are draws from the joint posterior (Liu 1994, the collapsed Gibbs sampler): the
chain structure of ``tau`` carries over, and ``d`` is independent across draws given ``tau``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..models.collapsed_kernel import draw_d
from ..models.likelihood import ContrastData
from ..models.spec import ModelSpec

__all__ = ["add_conditional_d", "D_STREAM"]

#: Second entry of the seed of the standard normals behind ``d | tau`` (NUTS uses the seed alone).
D_STREAM = 0x644D


def add_conditional_d(tree: xr.DataTree, data: ContrastData, spec: ModelSpec, seed: int):
    """Add ``d`` (chain, draw, treatment) drawn given the posterior draws of ``tau`` in ``tree``.

    Parameters
    ----------
    tree : xarray.DataTree
        The sampler's output; its ``posterior`` has ``tau`` (chain, draw).
    data : ContrastData
        The network's arrays (no shape-bucket padding: padded entries of ``d`` are independent
        of the data and are not drawn).
    spec : ModelSpec
        The model; ``prior_d`` is normal.
    seed : int
        The fit's seed; the standard normals come from ``default_rng([seed, D_STREAM])``.
    """
    post = tree["posterior"].to_dataset()
    tau = np.asarray(post["tau"].values, dtype=np.float64)
    n_chain, n_draw = tau.shape
    n_d = data.n_full - 1
    z = np.random.default_rng([int(seed), D_STREAM]).standard_normal((n_chain * n_draw, n_d))
    prior = spec.prior_d.params()
    d = draw_d(
        (tau**2).reshape(-1), z, data.y, data.var, data.cov, data.u, data.cov_u, data.mask,
        data.arm_pos, data.base_pos, float(prior["mean"]), float(prior["sd"]),
    )  # fmt: skip
    post["d"] = (("chain", "draw", "treatment"), d.reshape(n_chain, n_draw, n_d))
    post.attrs["collapsed"] = "tau sampled by NUTS; d drawn exactly given tau"
    tree["posterior"] = xr.DataTree(post)
    return tree
