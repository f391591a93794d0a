"""Sampling: compiled-model reuse, sampler choice and seeding.

Compiling a model for nutpie (PyMC 6's default NUTS) costs 5-20 s (numba type inference and
LLVM), sampling these marginal models well under a second. A compiled model is therefore cached
per *structure*: the model (random/fixed), the prior families and a *shape bucket* of the number
of non-reference treatments (padded up to a multiple of 8 with prior-only entries, dropped from
the posterior). Data and prior parameters enter the graph as data and are swapped in with
``with_data``, so a later fit in the same session (new data of any number of studies or arms,
new prior parameters, any number of treatments in the same bucket) does not recompile.

nutpie adapts a low-rank-updated mass matrix (``adaptation="low_rank"``): the relative effects
``d`` are strongly correlated through shared comparators, and a diagonal mass matrix leaves the
bulk ESS of some of them below 400 from 4000 draws on social_anxiety (vs > 4000 with low rank).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..base.html import in_jupyter_kernel
from ..models.arm_likelihood import OutcomeData
from ..models.likelihood import ContrastData
from ..models.regression import RegressionDesign
from ..models.spec import ModelSpec
from .determinism import reproducible_numerics
from .posterior_labels import relabel

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network
    from ..models.classes import ClassStructure

__all__ = ["SamplerSettings", "sample_posterior", "clear_compiled_cache", "clear_cache", "warmup"]

SAMPLERS = ("nutpie", "pymc")
_COMPILED: dict[tuple, object] = {}


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample.

    Parameters
    ----------
    draws : int
        Kept draws per chain.
    tune : int
        Warm-up (adaptation) draws per chain, discarded: at least 1 with nutpie (it cannot
        sample without adaptation), 0 or more with PyMC's NUTS.
    chains : int
        Number of chains (4 by default, so that R-hat is meaningful).
    cores : int or None
        Parallel chains; ``None`` uses ``min(chains, os.cpu_count())``.
    sampler : {"nutpie", "pymc"}
        ``"nutpie"`` (default, compiled once per model structure and reused) or PyMC's own NUTS.
    target_accept : float or None
        Target acceptance rate of NUTS' step-size adaptation. ``None`` (default) chooses by
        network size (:func:`auto_target_accept`): 0.99 below 30 studies, where ``tau`` is poorly
        identified and a rare divergence appears at lower targets (parkinsons, 7 studies: 1 run
        in 40 at 0.95, none in 40 at 0.99), and 0.9 from 30 studies on, where no divergence was
        seen at 0.8-0.9 and 0.99 costs 2-4x the time (500 studies: 5.2 s vs 1.4 s). The
        collapsed model (``tau`` alone) gets 0.9 unless its ``tau`` prior is light-tailed;
        random-effects models of arm-level outcomes without meta-regression get 0.95.
    progressbar : bool or None
        Show the sampler's progress bar. ``None`` (default): shown when running inside a Jupyter
        (IPython) kernel, where nutpie and PyMC draw it in the notebook, and hidden otherwise
        (:func:`nma_bayes.base.html.in_jupyter_kernel`); ``True``/``False`` force it.
    collapse : bool or None
        Sample the collapsed model (``tau`` only, ``d`` integrated out and drawn exactly given
        ``tau``; :mod:`nma_bayes.models.collapsed`). ``None`` (default): below 30 studies,
        wherever it applies (:func:`use_collapsed`); ``False``: never; ``True``: required.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    sampler: str = "nutpie"
    target_accept: float | None = None
    progressbar: bool | None = None
    collapse: bool | None = None

    def __post_init__(self):
        if not isinstance(self.sampler, str) or self.sampler not in SAMPLERS:
            raise ModelSpecError(
                f"sampler={self.sampler!r}: use one of {SAMPLERS}.", rule="bad-option"
            )
        # nutpie panics without warm-up (nuts-rs asserts a non-empty adaptation window)
        minimum = {"draws": 1, "tune": int(self.sampler == "nutpie"), "chains": 1, "cores": 1}
        for name, low in minimum.items():
            value = VA.check_int(getattr(self, name), name, minimum=low, allow_none=name == "cores")
            object.__setattr__(self, name, value)
        value = VA.check_probability(self.target_accept, "target_accept", allow_none=True)
        object.__setattr__(self, "target_accept", value)
        object.__setattr__(self, "progressbar", _check_progressbar(self.progressbar))
        collapse = VA.check_bool(self.collapse, "collapse", allow_none=True)
        object.__setattr__(self, "collapse", collapse)

    def n_cores(self) -> int:
        """Return the number of chains to run in parallel."""
        return self.cores or max(1, min(self.chains, os.cpu_count() or 1))

    def show_progress(self) -> bool:
        """Return whether the sampler shows its progress bar (``None``: inside a Jupyter kernel)."""
        return self.progressbar if self.progressbar is not None else in_jupyter_kernel()


def _check_progressbar(value: object) -> bool | None:
    """Return ``value`` if it is ``True``, ``False`` or ``None`` (else ``bad-option``)."""
    if value is None:
        return None
    try:
        return VA.check_bool(value, "progressbar")
    except ModelSpecError:
        raise ModelSpecError(
            f"progressbar must be True or False, or None (shown inside a Jupyter kernel only), "
            f"got {value!r} ({type(value).__name__}).",
            rule="bad-option",
        ) from None


#: Networks with fewer studies get the cautious target acceptance rate.
SMALL_NETWORK = 30


#: tau priors whose upper tail, on the log scale NUTS samples, falls faster than exponentially.
LIGHT_TAILED_TAU = ("halfnormal", "truncnormal")


def auto_target_accept(
    network: Network, *, collapsed: bool = False, tau_family=None, random: bool = False
) -> float:
    """Return the default target acceptance rate for ``network`` (see SamplerSettings).

    Random-effects models of arm-level outcomes without meta-regression (partially non-centred,
    ``models.arm_param``) get 0.95 at any size. At 0.9 smoking and diabetes had no divergence
    in 5 seeds each, but certolizumab had 0-21 per 4,000 draws (9 seeds), dietary fat 0-8 and
    statins 0-3. At 0.95 the counts were 0-2, 0-2 and 0-3, for 1.25x the gradients per draw.
    At 0.99 certolizumab had none, for 2.3x the gradients and no more ESS. With meta-regression
    the small-network rule below applies: at 0.9, certolizumab's baseline-risk model had
    43-85 divergences per 8,000 draws, and 0-5 at 0.99.

    The collapsed model (one dimension, ``tau``) gets 0.9, where its ESS per draw is higher than
    at 0.99 (parkinsons, U(0, 5): mean bulk ESS 1275 vs ~1000 from 4 x 1000 draws; no
    divergence in 30 fits, nor with a log-normal prior), except under a half-normal or truncated
    normal prior: on ``log tau`` their tail decays like ``exp(-e^{2x})``, whose curvature grows
    without bound, and 7 of 30 parkinsons fits had a divergence at 0.9 (none at 0.99).
    """
    if collapsed:
        return 0.99 if tau_family in LIGHT_TAILED_TAU else 0.9
    if random and network.outcome.any() and network.covariates is None:
        return 0.95
    return 0.99 if network.n_studies < SMALL_NETWORK else 0.9


def clear_compiled_cache() -> None:
    """Forget every compiled model of this process (the disk cache stays)."""
    _COMPILED.clear()


def clear_cache() -> list:
    """Forget every compiled model, in this process and in the disk cache.

    Returns
    -------
    list of Path
        The entries removed (:func:`nma_bayes.engines.compiled_cache.clear_cache`, which says
        what it removes, and raises ``CacheClearError`` when something could not be removed).
    """
    from .compiled_cache import clear_cache as clear_disk

    _COMPILED.clear()
    return clear_disk()


def warmup(*, buckets=(8, 16), effects=("random", "fixed")) -> list[tuple]:
    """Compile the common model structures now, filling the disk cache of compiled models.

    Contrast-level models with the default prior families, for each ``effects`` and shape
    ``bucket`` (networks of up to 8, 16, ... non-reference treatments). A later process then
    starts its first fit of these structures from the cache (see
    :mod:`nma_bayes.engines.compiled_cache`). Worth running once after installing or upgrading
    (``nma-bayes warmup``), e.g. in a Docker image or before a teaching session; never needed
    for correctness.

    Returns
    -------
    list of tuple
        The ``(effects, bucket)`` pairs compiled.

    Raises
    ------
    nma_bayes.engines.compiled_cache.CompiledCacheError
        Nothing can be cached (e.g. a read-only folder); it names the folder, reason and fix.
    """
    from .compiled_cache import require_disk_cache

    done = []
    # a model that cannot be cached raises (no fallback); the kernels are those fits compile
    with require_disk_cache(), reproducible_numerics():
        for kind in effects:
            for bucket in buckets:
                bucket = BUCKET * -(-VA.check_int(bucket, "bucket", minimum=1) // BUCKET)
                net = _template(bucket)
                spec = ModelSpec(kind)
                _COMPILED.pop(_structure_key(net, spec, None), None)  # maybe compiled uncached
                _compiled_for(net, spec, ContrastData.from_network(net), None)
                done.append((kind, bucket))
    return done


#: Non-reference treatment counts are padded up to a multiple of this (shape buckets), so that
#: networks of 1-8, 9-16, ... treatments share a compiled model.
BUCKET = 8


def _bucket(network: Network) -> int:
    n_d = network.n_treatments - 1
    return BUCKET * -(-n_d // BUCKET)


def _structure_key(
    network: Network,
    spec: ModelSpec,
    classes: ClassStructure | None,
    regression=None,
    collapsed: bool = False,
) -> tuple:
    if regression is not None:  # meta-regression: compiled per network layout and design
        sig = classes.signature() if classes is not None else None
        outcomes = OutcomeData.from_network(network).structure_key()
        return (*spec.structure_key(), "regression", regression.signature(),
                spec.prior_beta_sd.family, network.treatments, network.reference,
                network.y.shape, sig, outcomes)  # fmt: skip
    if network.outcome.any():  # arm-level outcomes: one baseline per study, compiled per layout
        outcomes = OutcomeData.from_network(network)
        sig = classes.signature() if classes is not None else None
        shape = network.y.shape
        return (*spec.structure_key(), network.treatments, network.reference, shape, sig,
                outcomes.structure_key())  # fmt: skip
    if classes is not None:
        return (*spec.structure_key(), network.treatments, network.reference, classes.signature())
    return (*spec.structure_key(), _bucket(network), "collapsed" if collapsed else "full")


def _template(n_d: int) -> Network:
    """Build a fixed small network with ``n_d + 1`` treatments (a 3-arm study, a chain of pairs).

    Compiled models are always built from this template, never from the user's first network:
    nutpie's compiled model keeps traces of the data it was compiled with, so compiling from
    whichever network came first would make the draws of a seeded fit depend on the history of
    the session. With a fixed template the same seed gives the same draws in any session.
    """
    import pandas as pd

    from ..data.network import Network

    names = [f"t{i:03d}" for i in range(n_d + 1)]
    rows = [("s0", names[1], names[0], 0.1, 0.3, 0.2), ("s0", names[2], names[0], 0.2, 0.3, 0.2)]
    rows += [(f"s{i}", names[i + 1], names[i], 0.1, 0.3, None) for i in range(2, n_d)]
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    return Network.from_contrasts(df, reference=names[0])


def _compiled_for(
    network: Network,
    spec: ModelSpec,
    data: ContrastData,
    classes: ClassStructure | None,
    regression: RegressionDesign | None = None,
    collapsed: bool = False,
):
    from ..models.pymc_graph import build_model, prior_data, regression_data
    from .compiled_cache import compile_model

    key = _structure_key(network, spec, classes, regression, collapsed)
    compiled = _COMPILED.get(key)
    if compiled is None:
        if collapsed:
            from ..models.collapsed import build_collapsed_model

            bucket = _bucket(network)
            model = build_collapsed_model(_template(bucket), _canonical(spec), pad_to=bucket)
        elif classes is None and regression is None and not network.outcome.any():
            bucket = _bucket(network)
            model = build_model(_template(bucket), _canonical(spec), pad_to=bucket)
        else:  # class structures, regressions and outcome layouts are network-specific
            model = build_model(network, _canonical(spec), classes=classes, regression=regression)
        compiled = compile_model(model)  # wrappers cached on disk (compiled_cache)
        _COMPILED[key] = compiled
    outcomes = OutcomeData.from_network(network)
    priors = prior_data(spec, baselines=outcomes.n_studies > 0, regression=regression)
    data = {**data.arrays(), **priors, **outcomes.arrays()}
    if outcomes.n_studies and spec.random:  # the sampler's parametrisation of this data set
        from ..models.arm_param import reparam_arrays

        data.update(reparam_arrays(network, outcomes))
    if regression is not None:
        data.update(regression_data(regression))
    used = {var.name for var in compiled.shared_var_keys}  # e.g. prior_d is unused by classes
    return compiled.with_data(**{k: v for k, v in data.items() if k in used})


#: The priors of a ModelSpec whose numbers are data of the compiled model.
_PRIOR_FIELDS = ("prior_d", "prior_tau", "prior_class_mean", "prior_class_sd", "prior_baseline",
                 "prior_beta", "prior_beta_sd", "prior_cutpoint")  # fmt: skip


def _canonical(spec: ModelSpec) -> ModelSpec:
    """Return ``spec`` with the default numbers of its prior families (swapped in as data).

    Every compiled model is built from it: nutpie's ``with_data`` swaps the numbers of the log
    density, not of the initial point, so a model built with the first fit's priors would start
    a later fit of its structure where those put it (a history-dependent draw). Built with default
    numbers, a compiled model, initial point included, depends on its structure key alone.
    """
    return replace(spec, **{f: type(getattr(spec, f))() for f in _PRIOR_FIELDS})


def sample_posterior(
    network: Network,
    spec: ModelSpec,
    settings: SamplerSettings,
    seed: int,
    *,
    data: ContrastData | None = None,
    classes: ClassStructure | None = None,
    regression: RegressionDesign | None = None,
):
    """Sample the posterior of ``spec`` given ``network``.

    Parameters
    ----------
    network : Network
        Validated data.
    spec : ModelSpec
        Model and priors.
    settings : SamplerSettings
        Draws, chains, sampler.
    seed : int
        Seed of the sampler; the same seed gives the same draws.
    data : ContrastData, optional
        The network's arrays (built here if not given; ``fit_network`` builds them once).
    classes : ClassStructure, optional
        The class structure of a class model (built here if not given).
    regression : RegressionDesign, optional
        The meta-regression design (built here from ``network.covariates`` if not given).

    Returns
    -------
    xarray.DataTree
        With groups ``posterior`` (``d`` over ``treatment``, ``tau``) and ``sample_stats``.
    """
    from ..models.classes import ClassStructure

    data = data if data is not None else ContrastData.from_network(network)
    if classes is None and spec.class_model is not None:
        classes = ClassStructure.from_network(network, spec)
    if regression is None:
        regression = RegressionDesign.from_network(network, spec)
    collapsed = use_collapsed(network, spec, settings, regression)
    target_accept = settings.target_accept or auto_target_accept(
        network, collapsed=collapsed, tau_family=spec.prior_tau.family, random=spec.random
    )
    # IEEE-exact kernels and one BLAS thread: the draws do not depend on the cache or the process
    with reproducible_numerics():
        tree = _sample(network, spec=spec, settings=settings, seed=seed, data=data,
                       classes=classes, regression=regression, collapsed=collapsed,
                       target_accept=target_accept)  # fmt: skip
    if collapsed:  # d drawn exactly given each draw of tau (Liu 1994's collapsed sampler)
        from .collapsed import add_conditional_d

        tree = add_conditional_d(tree, data, spec, seed)
    return relabel(tree, network)


def _sample(network, *, spec, settings, seed, data, classes, regression, collapsed, target_accept):
    """Run nutpie or PyMC's NUTS on the (compiled) model; return the sampler's DataTree."""
    if settings.sampler == "nutpie":
        compiled = _compiled_for(network, spec, data, classes, regression, collapsed)
        tree = run_nutpie(compiled, settings, seed, target_accept)
    else:
        import pymc as pm

        from ..models.collapsed import build_collapsed_model
        from ..models.pymc_graph import build_model

        model = (
            build_collapsed_model(network, spec)
            if collapsed
            else build_model(network, spec, classes=classes, regression=regression)
        )
        with model:
            tree = pm.sample(
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                cores=settings.n_cores(),
                random_seed=int(seed),
                progressbar=settings.show_progress(),
                nuts_sampler="pymc",
                target_accept=target_accept,
                compute_convergence_checks=False,
            )
    return tree


def run_nutpie(compiled, settings: SamplerSettings, seed: int, target_accept: float):
    """Sample a compiled model with nutpie: ``settings``' draws, chains and progress bar."""
    from .light_import import import_nutpie

    return import_nutpie().sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=settings.n_cores(),
        seed=int(seed),
        progress_bar=settings.show_progress(),
        save_warmup=False,
        # the relative effects of a network are strongly correlated (they share comparators);
        # a low-rank-updated mass matrix gives 5-15x the ESS of a diagonal one here
        adaptation="low_rank",
        target_accept=target_accept,
    )


def use_collapsed(
    network: Network, spec: ModelSpec, settings: SamplerSettings, regression=None
) -> bool:
    """Whether the collapsed model is sampled (``settings.collapse``; refused where it cannot be).

    By default (``collapse=None``) wherever it applies below 30 studies (``SMALL_NETWORK``),
    where ``tau`` is poorly identified and mixes slowly when NUTS moves it together with ``d``
    (parkinsons, 7 studies: min bulk ESS ~1200 from 4 x 1000 draws in 0.15 s, against ~900 from
    4 x 2000 in 0.55 s). In larger networks the joint model mixes ``tau`` well (500 studies:
    bulk ESS of ``tau`` ~4500 from 4 x 1000 draws, ~1400 collapsed) and each of its gradients
    is cheaper than the collapsed one's (``O(S K^4 + T^3)``), so it stays the default there.

    Raises
    ------
    ModelSpecError
        ``collapse=True`` for a model :func:`~nma_bayes.models.collapsed.collapsible` refuses.
    """
    from ..models.collapsed import MAX_COLLAPSED_TREATMENTS, collapsible

    possible = collapsible(network, spec, regression)
    if settings.collapse and not possible:
        raise ModelSpecError(
            "collapse=True needs a random-effects model of contrast-level data with a normal "
            f"prior on d, no class model, no meta-regression and at most "
            f"{MAX_COLLAPSED_TREATMENTS} non-reference treatments; this model is sampled in "
            "full. Pass collapse=None (default) or collapse=False.",
            rule="bad-option",
        )
    if settings.collapse is None:
        return possible and network.n_studies < SMALL_NETWORK
    return settings.collapse
