"""``fit_network``: validate, specify, sample, and return a :class:`NetworkFit`.

Each step lives in its layer: :mod:`nma_bayes.data` validates the data into a network,
:mod:`nma_bayes.models` describes the model (spec, class structure, the likelihood's arrays, built
once here), :mod:`nma_bayes.engines` computes the posterior (exact quadrature or NUTS) and
:mod:`nma_bayes.results` summarises it; the returned :class:`NetworkFit` adds the exports.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ExactEngineError, ModelSpecError, NMAConvergenceWarning
from ..data.formats import as_network, detect_format
from ..data.inputs import check_build_options
from ..data.network import Network, data_options
from ..data.outcomes import check_likelihood
from ..data.transforms import ume_network
from ..engines.exact import exact_posterior
from ..engines.laplace import check_laplace, laplace_posterior
from ..engines.nuts import SamplerSettings, sample_posterior, use_collapsed
from ..models.classes import ClassStructure, normalise_class_sd
from ..models.likelihood import ContrastData
from ..models.priors import (
    DEFAULT_PRIOR_BASELINE,
    DEFAULT_PRIOR_BETA,
    DEFAULT_PRIOR_BETA_SD,
    DEFAULT_PRIOR_CLASS_MEAN,
    DEFAULT_PRIOR_CLASS_SD,
    DEFAULT_PRIOR_CUTPOINT,
    DEFAULT_PRIOR_D,
    DEFAULT_PRIOR_TAU,
    Prior,
)
from ..models.regression import RegressionDesign, warn_unidentified
from ..models.spec import ModelSpec
from .network_fit import NetworkFit

__all__ = [
    "fit_network",
    "as_network",
    "check_fit_options",
    "detect_format",
    "resolve_engine",
    "ENGINES",
]

#: Inference engines: MCMC on the PyMC model (default), the exact quadrature engine, the Laplace
#: engine of arm-level outcome networks, and ``"auto"``, which picks one (:func:`resolve_engine`).
ENGINES = ("pymc", "exact", "laplace", "auto")

_log = logging.getLogger(__name__)


def fit_network(
    data,
    *,
    reference: str | None = None,
    effects: str = "random",
    consistency: str = "consistency",
    prior_d: Prior = DEFAULT_PRIOR_D,
    prior_tau: Prior = DEFAULT_PRIOR_TAU,
    class_model: str | None = None,
    prior_class_mean: Prior = DEFAULT_PRIOR_CLASS_MEAN,
    prior_class_sd: Prior = DEFAULT_PRIOR_CLASS_SD,
    class_sd: dict | None = None,
    prior_baseline: Prior = DEFAULT_PRIOR_BASELINE,
    prior_cutpoint: Prior = DEFAULT_PRIOR_CUTPOINT,
    interaction: str | None = None,
    prior_beta: Prior | None = None,
    prior_beta_sd: Prior | None = None,
    center=None,
    random_seed: int | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    engine: str = "pymc",
    sampler: str = "nutpie",
    target_accept: float | None = None,
    progressbar: bool | None = None,
    collapse: bool | None = None,
    **columns,
) -> NetworkFit:
    """Fit a Bayesian network meta-analysis to study contrasts.

    The contrast-based hierarchical model of Dias et al. (2011, NICE DSU TSD2) with exact
    multi-arm covariance; the study random effects are integrated out analytically (see
    :mod:`nma_bayes.models.pymc_graph`).

    Parameters
    ----------
    data : DataFrame or Network
        Contrast data, one row per contrast: ``study, treat1, treat2, TE, seTE`` and, for
        multi-arm studies in base-contrast form, ``se_base`` (SE of the base arm). ``TE`` is the
        effect of ``treat1`` relative to ``treat2``. Multi-arm studies may instead list all their
        pairwise contrasts. Or arm-level data, one row per arm: ``study, treatment, mean, sd, n``
        with ``measure="SMD"`` or ``"MD"``, or arm-level outcomes ``study, treatment, events, n``
        (``exposure`` for Poisson rates, ``time`` for cloglog) with ``likelihood=``; the first
        row of each study is its base arm. Contrast and outcome studies may be mixed
        (``nb.Network.from_data(arms=..., contrasts=..., likelihood=...)``).
    reference : str, optional
        Reference treatment of the model. If omitted, the treatment in the most studies (ties:
        first in the treatment order); the choice is recorded in ``fit.network.reference_rule``.
    effects : {"random", "fixed"}
        Random- or fixed-effect model.
    consistency : {"consistency", "ume"}
        ``"ume"`` fits the unrelated mean effects model (Dias et al. 2013, TSD4): every observed
        comparison gets its own effect (the fit's "treatments" are comparisons ``"k vs b"``
        against a pseudo-reference); compare it with the consistency model with
        :meth:`NetworkFit.model_fit` (DIC) and :func:`nma_bayes.plots` dev-dev plots.
    prior_d : Normal
        Prior of the relative effects vs the reference; default ``normal(0, 10^2)``.
    prior_tau : HalfNormal, Uniform or LogNormal
        Prior of the between-study SD (random effects); default ``half-normal(0, 1^2)``.
    class_model : {None, "exchangeable", "common"}
        Treatment class model (needs ``classes=``, a column name or a dict
        ``{treatment: class}``): ``"exchangeable"``, treatment effects ``N(class mean, class
        SD^2)``; ``"common"``, one effect per class; ``None`` (default), no class model (classes
        still usable for class-level summaries).
    prior_class_mean, prior_class_sd : Prior
        Priors of class means (default ``normal(0, 10^2)``) and within-class SDs (default
        ``half-normal(0, 0.5^2)``; e.g. ``nb.priors.TruncatedNormal(0.33, 0.1)`` as in multinma's
        social anxiety vignette) of the exchangeable model.
    class_sd : dict, optional
        ``{group name: [classes]}``: classes sharing one within-class SD. A class with a single
        treatment has a common effect unless it shares an SD.
    prior_baseline : Normal
        Prior of each study baseline ``mu_i`` of arm-level outcome data (``likelihood=``):
        independent ``normal(0, 100^2)`` by default (TSD2); unused for contrast data.
    interaction : {"shared", "exchangeable", "independent", "class"}, optional
        Network meta-regression (Dias et al. 2011, TSD3) on the study covariates named by
        ``covariates=`` (a column of the data, constant within each study, or of a
        ``studies=`` table joined on ``study``; ``"baseline_risk"`` regresses on each study's
        own baseline ``mu_i`` with arm-level outcome data): ``"shared"`` (default; one
        interaction for every treatment vs the reference), ``"exchangeable"`` (interactions
        ``N(B, sigma_beta^2)``), ``"independent"`` (one per treatment) or ``"class"`` (one per
        treatment class). Refused without ``covariates=``. See :meth:`NetworkFit.regression`
        and the ``at=`` argument of the summaries.
    prior_beta : Normal, optional
        Prior of each interaction (or of their mean ``B``, exchangeable); default
        ``normal(0, 10^2)`` per unit of the covariate. Refused without ``covariates=``.
    prior_beta_sd : Prior, optional
        Prior of ``sigma_beta`` (exchangeable interactions); default ``half-normal(0, 1^2)``.
        Refused unless ``interaction="exchangeable"`` (the other structures have no
        ``sigma_beta``).
    center : None, bool or dict
        Centring of numeric covariates: by default (``None`` or ``True``) the mean over studies,
        so that ``d`` are the effects at that value (recorded in ``fit.regression()``'s
        ``attrs["center"]``); ``False`` none; ``{covariate: value}`` chosen values.
    random_seed : int, optional
        Seed; the same seed reproduces the same draws. If omitted one is drawn and stored in
        ``fit.seed``.
    draws, tune, chains, cores : int
        Sampler settings (per chain); ``cores=None`` runs ``min(chains, cpu_count)`` in parallel.
    engine : {"pymc", "exact", "laplace", "auto"}
        ``"pymc"`` (default): MCMC on the PyMC model. ``"exact"``: the exact posterior of the
        normal-likelihood model by quadrature over ``tau`` and Gaussian ``d | tau``
        (:mod:`nma_bayes.engines.exact`): summaries without Monte Carlo error and ``chains x draws``
        independent draws, in a fraction of a second. ``"laplace"``: arm-level outcome networks
        (binomial, Poisson, normal arms; no classes or covariates): nested Laplace over ``tau``
        corrected by Pareto-smoothed importance sampling against the exact posterior
        (:mod:`nma_bayes.engines.laplace`); ``chains x draws`` independent draws, and an error
        instead of an answer when the Pareto ``k`` says the approximation does not cover the
        posterior. ``"auto"``: the fastest engine that is accurate for the model
        (:func:`resolve_engine`): ``"laplace"`` where it covers the network, and NUTS with the
        same seed and settings when its importance weights refuse (the reason in
        ``fit.idata["posterior"].attrs["engine_fallback"]``, and logged at INFO by the
        ``nma_bayes.fitting.fit`` logger); ``"exact"`` where that covers the model; else
        ``"pymc"``. ``fit.engine`` is the engine that ran. NUTS-only settings (``tune``,
        ``sampler``, ``target_accept``, ``collapse``) are used only if NUTS runs
        (``collapse=True`` is refused up front where NUTS could run and not collapse the model).
    sampler : {"nutpie", "pymc"}
        NUTS implementation of the PyMC engine. ``"nutpie"`` compiles a model once per structure
        and reuses it.
    target_accept : float, optional
        NUTS target acceptance rate; by default 0.99 below 30 studies and 0.9 otherwise (see
        :class:`~nma_bayes.engines.nuts.SamplerSettings`).
    progressbar : bool, optional
        Show the sampler's progress bar (PyMC engine). ``None`` (default): shown when running
        inside a Jupyter (IPython) kernel, e.g. in a notebook, and hidden otherwise (scripts,
        the terminal); ``True`` or ``False`` force it.
    collapse : bool, optional
        PyMC engine, random effects on contrast data with a normal prior on ``d`` (no classes,
        no meta-regression, up to 64 treatments): sample ``tau`` alone from the model with
        ``d`` integrated out and draw ``d`` exactly given each draw of ``tau``
        (:mod:`nma_bayes.models.collapsed`). ``None`` (default): so for networks of under 30
        studies, where ``tau`` mixes slowly when sampled with ``d``; ``False``: never (NUTS on
        ``d`` and ``tau`` together); ``True``: required (else ``bad-option``).
    **columns
        Column names (contrasts: ``study=, treat1=, treat2=, TE=, seTE=, se_base=``; arms:
        ``study=, treatment=, mean=, sd=, n=, se=``) and options (``measure=`` — required for
        arm-level data, ``"SMD"`` or ``"MD"`` — ``lower_is_better=``, ``classes=``,
        ``component=``, ``treatments=``, ``closure_tol=``, ``smd_method=``; for outcome data
        ``likelihood=`` — ``"binomial"`` or ``"poisson"`` — ``link=`` — ``"logit"``,
        ``"cloglog"`` or ``"log"`` — and ``events=, n=, exposure=, time=``; for
        meta-regression ``covariates=`` — a column name, a list of them, or
        ``"baseline_risk"`` — and ``studies=``, a table of study covariates joined on the study
        column) for :meth:`Network.from_data`. Every option is validated before anything is
        computed: an unknown keyword raises ``unknown-option`` (with the closest valid one), an
        option of the other data format ``option-not-applicable``, a value of the wrong type or
        range ``bad-option`` (:mod:`nma_bayes.base.validate`).

    Returns
    -------
    NetworkFit
        Posterior and summaries (``relative_effects``, ``league_table``, ``sucra``,
        ``rank_probabilities``, ``heterogeneity``, ``diagnostics``).

    Warns
    -----
    NMAConvergenceWarning
        If R-hat > 1.01, bulk ESS < 400 or any divergence.
    """
    VA.check_keywords(columns, (*_FIT_PARAMETERS, *data_options()), "fit_network")
    _check_choices(engine=engine, consistency=consistency, class_model=class_model)
    settings = SamplerSettings(
        draws=draws, tune=tune, chains=chains, cores=cores, sampler=sampler,
        target_accept=target_accept, progressbar=progressbar, collapse=collapse,
    )  # fmt: skip
    seed = resolve_seed(random_seed)
    given = {"interaction": interaction, "center": center, "prior_beta": prior_beta,
             "prior_beta_sd": prior_beta_sd}  # fmt: skip
    prior_beta = DEFAULT_PRIOR_BETA if prior_beta is None else prior_beta
    prior_beta_sd = DEFAULT_PRIOR_BETA_SD if prior_beta_sd is None else prior_beta_sd
    spec = ModelSpec(
        effects=effects, prior_d=prior_d, prior_tau=prior_tau, class_model=class_model,
        prior_class_mean=prior_class_mean, prior_class_sd=prior_class_sd,
        class_sd=normalise_class_sd(class_sd), prior_baseline=prior_baseline,
        interaction=interaction, prior_beta=prior_beta, prior_beta_sd=prior_beta_sd,
        center=center, prior_cutpoint=prior_cutpoint,
    )  # fmt: skip
    network = as_network(data, reference=reference, **columns)
    check_regression_options(network, given)
    check_engine(network, engine, spec)
    if consistency == "ume":
        network = ume_network(network)
    # built once, validated before any sampling, and handed to whichever engine runs
    classes = ClassStructure.from_network(network, spec) if class_model is not None else None
    arrays = ContrastData.from_network(network)
    regression = RegressionDesign.from_network(network, spec)
    warn_unidentified(regression, network)
    run = resolve_engine(engine, network, spec, regression)
    fallback = engine == "auto" and run == "laplace"  # NUTS if the Laplace engine refuses
    if run == "pymc" or fallback:
        use_collapsed(network, spec, settings, regression)  # collapse=True refused here, early
    built = {"arrays": arrays, "classes": classes, "regression": regression}
    try:
        fit = _run_engine(run, network, spec, settings, seed, **built)
    except ExactEngineError as err:
        if not fallback:
            raise
        _log.info("engine='auto': %s Fitting with NUTS (engine='pymc') instead.", err)
        fit = _run_engine("pymc", network, spec, settings, seed, **built)
        fit.idata["posterior"].attrs["engine_fallback"] = str(err)
    if fit.problems:
        warnings.warn(
            NMAConvergenceWarning(
                "Sampler diagnostics flag problems: " + "; ".join(fit.problems) + ". Increase "
                "draws/tune, check the data and priors, and see fit.diagnostics()."
            ),
            stacklevel=2,
        )
    return fit


def check_engine(network, engine: str, spec: ModelSpec | None = None) -> None:
    """Refuse an engine for a network it does not cover (before any fit)."""
    if engine == "laplace":
        check_laplace(network, spec)
    if engine == "exact" and network.outcome.any():
        raise ModelSpecError(
            f"The exact engine covers normal likelihoods only; this network has arm-level "
            f"{network.likelihood} outcomes (their posterior is not Gaussian given tau). Use "
            "engine='pymc'.",
            rule="bad-option",
        )


def resolve_engine(engine: str, network, spec: ModelSpec, regression=None) -> str:
    """Return the engine that ``engine`` runs first on this model (``"auto"`` decides here).

    ``"auto"`` becomes ``"laplace"`` when the network has arm-level outcome studies and
    :func:`~nma_bayes.engines.laplace.check_laplace` accepts the model (every study arm-level,
    no treatment classes, no covariates; :func:`fit_network` falls back to NUTS if its
    importance weights then refuse); else ``"exact"`` when the exact engine covers the model
    (contrast data, no class model, a meta-regression Gaussian given ``tau``); else ``"pymc"``.
    Any other engine is returned as it is.

    Parameters
    ----------
    engine : str
        One of :data:`ENGINES`.
    network : Network
        The network to fit.
    spec : ModelSpec
        The model.
    regression : RegressionDesign, optional
        The meta-regression's design (``None``: none).

    Returns
    -------
    str
        ``"pymc"``, ``"exact"`` or ``"laplace"`` (``engine`` itself unless it is ``"auto"``).
    """
    if engine != "auto":
        return engine
    if np.asarray(network.outcome).any():
        try:
            check_laplace(network, spec)
        except ModelSpecError:  # mixed with contrast studies, classes or covariates
            return "pymc"  # the exact engine covers no arm-level outcomes either
        return "laplace"
    linear = regression is None or regression.linear
    return "exact" if spec.class_model is None and linear else "pymc"


def _check_choices(*, engine: str, consistency: str, class_model: str | None) -> None:
    """Refuse an unknown engine or consistency model, and combinations no engine supports."""
    if engine not in ENGINES:
        raise ModelSpecError(f"engine={engine!r}: use one of {ENGINES}.", rule="bad-option")
    if consistency not in ("consistency", "ume"):
        raise ModelSpecError(
            f"consistency={consistency!r}: use 'consistency' or 'ume' (node-splitting: "
            "nma_bayes.nodesplit).",
            rule="bad-option",
        )
    if consistency == "ume" and class_model is not None:
        raise ModelSpecError("The UME model has no class effects.", rule="bad-option")
    if engine == "exact" and class_model is not None:
        raise ModelSpecError(
            "The exact engine covers models without class effects (the within-class SDs "
            "would need a multi-dimensional integral); use engine='pymc'.",
            rule="bad-option",
        )


def check_regression_options(network, options: dict) -> None:
    """Refuse meta-regression options that would be silently ignored (``bad-option``).

    Parameters
    ----------
    network : Network
        The network to fit (its ``covariates``).
    options : dict
        ``interaction, center, prior_beta, prior_beta_sd`` as the user gave them, before the
        defaults are filled in (``None``: not given), so that a default is never mistaken for a
        given value.
    """
    given = [k for k, v in options.items() if v is not None]
    if network.covariates is None and given:
        raise ModelSpecError(
            f"{' and '.join(f'{k}=' for k in given)} configure{'s' * (len(given) == 1)} a "
            "meta-regression, but no covariates were given: pass covariates= (a column constant "
            "within studies, or of a studies= table), or drop them.",
            rule="bad-option",
        )
    interaction = options["interaction"] or "shared"
    if options["prior_beta_sd"] is not None and interaction != "exchangeable":
        raise ModelSpecError(
            f"prior_beta_sd= is the prior of the SD of exchangeable interactions, but "
            f"interaction={interaction!r} has no such SD, so it would be ignored. Drop "
            "prior_beta_sd=, or fit interaction='exchangeable'.",
            rule="bad-option",
        )


def _run_engine(
    engine, network, spec, settings, seed, *, arrays, classes, regression
) -> NetworkFit:
    """Compute the posterior with ``engine`` and wrap it in a :class:`NetworkFit`."""
    if engine == "laplace":
        idata = laplace_posterior(network, spec, settings.chains, settings.draws, seed)
        return NetworkFit(network, spec, idata, settings, seed, data=arrays, regression=regression)
    if engine == "exact":
        exact = exact_posterior(network, spec, data=arrays, regression=regression)
        idata = exact.to_datatree(settings.chains, settings.draws, seed)
        return NetworkFit(network, spec, idata, settings, seed, exact=exact, data=arrays,
                          regression=regression)  # fmt: skip
    idata = sample_posterior(
        network, spec, settings, seed, data=arrays, classes=classes, regression=regression
    )
    return NetworkFit(network, spec, idata, settings, seed, data=arrays, regression=regression)


def resolve_seed(random_seed) -> int:
    seed = VA.check_seed(random_seed)
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return seed


#: The named parameters of :func:`fit_network` (for the unknown-keyword message).
_FIT_PARAMETERS = tuple(
    p for p in inspect.signature(fit_network).parameters if p not in ("data", "columns")
)


def check_fit_options(options: dict, function: str, own: Sequence[str] = ()) -> None:
    """Validate, once, the options that several :func:`~nma_bayes.fit_network` calls share.

    Runs the checks ``fit_network`` makes before it reads the data (its keywords, the engine and
    consistency model, :class:`~nma_bayes.engines.nuts.SamplerSettings`,
    :class:`~nma_bayes.models.spec.ModelSpec`, ``random_seed``) and those of the options of
    :meth:`~nma_bayes.Network.from_data` that do not depend on the data (``lower_is_better``,
    ``smd_method``, ``closure_tol``, ``classes``, ``likelihood``/``link``), so that a batch refuses
    a bad option before fitting anything. What depends on an item's data (its columns,
    ``reference``, ``measure``, covariates) is checked when that item is fitted.

    Parameters
    ----------
    options : dict
        The keywords passed on to every ``fit_network`` call.
    function : str
        The caller's name, shown in the message of an unknown keyword.
    own : sequence of str
        The caller's own keywords, offered as suggestions for a misspelt one.

    Raises
    ------
    ModelSpecError
        ``unknown-option`` (a keyword ``fit_network`` does not take, with the closest valid one)
        or ``bad-option``/``bad-prior`` (a value of the wrong type or range).
    """
    params = inspect.signature(fit_network).parameters
    VA.check_keywords(options, (*_FIT_PARAMETERS, *data_options(), *own), function)
    # the values given (None where fit_network's default is None means "not given")
    given = {k: v for k, v in options.items()
             if k in params and not (v is None and params[k].default is None)}  # fmt: skip
    choices = {k: given.get(k, params[k].default) for k in ("engine", "consistency", "class_model")}
    _check_choices(**choices)
    SamplerSettings(**{f.name: given[f.name] for f in fields(SamplerSettings) if f.name in given})
    spec = {f.name: given[f.name] for f in fields(ModelSpec) if f.name in given}
    if "class_sd" in spec:
        spec["class_sd"] = normalise_class_sd(spec["class_sd"])
    ModelSpec(**spec)
    build = inspect.signature(Network.from_data).parameters
    data = {k: options.get(k, build[k].default)
            for k in ("lower_is_better", "smd_method", "closure_tol", "classes")}  # fmt: skip
    # the tables are each item's own (checked per item): an empty one stands in for them here
    check_build_options(pd.DataFrame(), None, **data)
    if options.get("likelihood") is not None or options.get("link") is not None:
        check_likelihood(options.get("likelihood"), options.get("link"))
    VA.check_seed(options.get("random_seed"))
