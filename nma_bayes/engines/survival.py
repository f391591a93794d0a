"""NUTS (nutpie) for the survival models of :mod:`~nma_bayes.models.survival_model`.

A model is compiled once per structure (:meth:`SurvivalDesign.structure_key`; wrappers cached on
disk by :mod:`.compiled_cache`) from the default numbers of its prior families, and every fit
swaps its data and prior numbers in, so that a seeded fit's draws do not depend on what was
compiled before (as :func:`nma_bayes.engines.nuts._canonical` does for the NMA models).
"""

from __future__ import annotations

from dataclasses import replace

import xarray as xr

from ..models.survival_model import SurvivalDesign, SurvivalSpec
from .determinism import reproducible_numerics
from .nuts import SamplerSettings, run_nutpie

__all__ = ["sample_survival"]

_COMPILED: dict[tuple, object] = {}

_PRIORS = ("prior_d", "prior_baseline", "prior_tau", "prior_aux")


def _canonical(spec: SurvivalSpec) -> SurvivalSpec:
    """``spec`` with its prior families' default numbers (the numbers are data)."""
    return replace(spec, **{f: type(getattr(spec, f))() for f in _PRIORS
                            if getattr(spec, f) is not None})  # fmt: skip


def _compiled(design: SurvivalDesign, spec: SurvivalSpec):
    from ..models.survival_graph import build_survival_model, survival_prior_data
    from .compiled_cache import compile_model

    key = design.structure_key(spec)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = compile_model(build_survival_model(design, _canonical(spec)))
        _COMPILED[key] = compiled
    data = {**design.data(), **survival_prior_data(spec)}
    used = {var.name for var in compiled.shared_var_keys}
    return compiled.with_data(**{k: v for k, v in data.items() if k in used})


def sample_survival(design: SurvivalDesign, spec: SurvivalSpec, settings: SamplerSettings,
                    seed: int) -> xr.DataTree:  # fmt: skip
    """Sample the posterior of a survival model with nutpie; names on every dimension.

    Returns
    -------
    xarray.DataTree
        ``posterior`` (``d``, ``mu``, the auxiliary parameter, ``tau``...) over the design's
        treatments (all but the reference), studies and coefficients, and ``sample_stats``.
    """
    # a survival posterior is data-dominated and correlated (baselines with slopes): 0.9 with
    # a low-rank mass matrix; random effects 0.99 (few studies inform tau: at 0.95 the gemtcPlus
    # FP1 REINT model had 12-48 divergences per 8,000 draws); so do exchangeable classes or
    # interactions (a hierarchical SD that few treatments inform)
    tm = spec.treatment_model
    hierarchical = spec.random or (tm is not None and "exchangeable" in (tm.class_model,
                                                                         tm.interaction))
    target = settings.target_accept or (0.99 if hierarchical else 0.9)
    with reproducible_numerics():
        tree = run_nutpie(_compiled(design, spec), settings, seed, target)
    return _relabel(tree, design)


def _relabel(tree: xr.DataTree, design: SurvivalDesign) -> xr.DataTree:
    """Replace the compiled model's coordinates by this design's; keep what summaries read.

    A reused compiled model carries its first fit's coordinates.
    """
    post = tree["posterior"].to_dataset()
    coords = {"treatment": list(design.treatments[1:]), "study": list(design.studies),
              "re_arm": [design.arm_labels[i] for i in design.re_arms()],
              "arm": list(design.arm_labels)}  # fmt: skip
    if "coefficient" in post.dims:
        coords["coefficient"] = list(design.coefficients)
    post = post.assign_coords({k: v for k, v in coords.items() if k in post.dims})
    drop = [v for v in ("z", "rw_u") if v in post]
    return xr.DataTree.from_dict({
        "posterior": post.drop_vars(drop),
        "sample_stats": tree["sample_stats"].to_dataset(),
    })  # fmt: skip
