"""The Bayesian design-by-treatment interaction model (Higgins et al. 2012), any likelihood.

The model (:func:`nma_bayes.data.transforms.design_by_treatment_network`) adds to the effect of
treatment ``k`` vs the baseline ``b_D`` of design ``D`` an inconsistency parameter
``omega_{D,k}``; with all identified ``omega`` free it fits each design's own effects, so the
comparison with the consistency model (DIC) is the Bayesian counterpart of the between-designs Q
(Krahn et al. 2013, :func:`nma_bayes.decompose_q`). Both models are fitted with the same options,
through the batch runner (``client=`` runs them on Dask).

References
----------
Higgins JPT, Jackson D, Barrett JK, Lu G, Ades AE, White IR (2012). Consistency and inconsistency
in network meta-analysis: concepts and models for multi-arm studies. Res Synth Methods 3:98-110.
White IR, Barrett JK, Jackson D, Higgins JPT (2012). Consistency and inconsistency in network
meta-analysis: model estimation using multivariate meta-regression. Res Synth Methods 3:111-125.
Dias S, Welton NJ, Sutton AJ, et al. (2013). Evidence synthesis for decision making 4:
inconsistency in networks of evidence based on randomized controlled trials. Med Decis Making
33:641-656 (NICE DSU TSD4).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import chi2

from ..base.errors import IdentificationWarning, ModelSpecError, format_items
from ..base.validate import check_ci_prob
from ..data.transforms import design_by_treatment_network, separated_designs
from ..fitting.fit import fit_network
from ..models.priors import DEFAULT_PRIOR_D
from ..results.convergence import effective_draws
from ..results.inconsistency_result import (
    INCONSISTENCY_COLUMNS,
    MODEL_FIT_COLUMNS,
    DesignByTreatment,
)
from ..results.summaries import flat_draws, interval_row
from ..results.threshold_fit import posterior_moments
from .batch import check_client, engines_label, run_tasks
from .inconsistency import prepare_network

__all__ = ["design_by_treatment"]


def design_by_treatment(
    data, *, engine: str | None = None, ci_prob: float = 0.95, client=None, **fit_kwargs
) -> DesignByTreatment:
    """Fit the design-by-treatment interaction model and the consistency model.

    Parameters
    ----------
    data : DataFrame or Network
        The data (as for :func:`nma_bayes.fit_network`): contrasts, arm-level outcomes
        (binomial, Poisson, normal arms) or both.
    engine : {"exact", "pymc", "laplace", "auto"}, optional
        Engine of both fits; default the exact engine for contrast data and ``"auto"`` with
        arm-level outcome studies (the Laplace engine where it covers the model, else NUTS; as
        :func:`nma_bayes.nodesplit`).
    ci_prob : float
        Interval probability.
    client : distributed.Client, optional
        Fit the two models as tasks on a Dask cluster (same seeds, same result).
    **fit_kwargs
        Passed to both :func:`nma_bayes.fit_network` calls (priors, ``effects``, seed, column
        names, ...). The prior of ``d`` is also the prior of each design's shifted effect
        ``d_k + omega_{D,k}``.

    Returns
    -------
    DesignByTreatment
        ``inconsistency`` (one row per ``omega``: design, treatment, comparator, median and
        interval, Bayesian p-value, ESS, R-hat), ``model_fit`` (resdev, pD, DIC of both
        models), ``n_parameters``, ``dic_difference``. Both tables' ``attrs["engine"]`` name
        the engine that ran the fits (as :func:`nma_bayes.nodesplit`'s).

    Warns
    -----
    IdentificationWarning
        Before fitting (rule ``design-separation``), for inconsistency parameters whose design's
        own effect has no finite maximum likelihood (every study of the design with a
        zero-event or all-event arm on one side, e.g. a single study with 0 events in one arm):
        their ``omega`` follows the prior of ``d`` in that direction.

    Raises
    ------
    ModelSpecError
        Before any fit: a bad option, ``consistency=`` or ``class_model=`` given, study
        covariates, or a network without any identifiable inconsistency (every design's
        evidence is consistent by construction: no loop of designs).

    Notes
    -----
    Which ``omega`` are identified is a choice (Higgins et al. 2012): candidate rows (design,
    non-baseline treatment) are taken designs with fewer studies first, and one is kept when it
    is not aliased with the consistency effects and the ``omega``'s kept before it; so the
    inconsistency is attributed to the least-supported designs. The global comparison (DIC,
    fit) does not depend on the choice; the individual ``omega`` do. Treatment-class models are
    not supported (the shifted effects are not treatments of a class).
    """
    ci_prob = check_ci_prob(ci_prob)
    if fit_kwargs.get("class_model") is not None:
        raise ModelSpecError(
            "design_by_treatment() does not fit treatment-class models: leave out class_model=.",
            rule="bad-option",
        )
    net, engine = prepare_network(data, engine, fit_kwargs, "design_by_treatment",
                                  own=("ci_prob", "client"))  # fmt: skip
    dbt, kept = design_by_treatment_network(net)
    if not kept:
        raise ModelSpecError(
            "The network has no identifiable design inconsistency (no loop of designs): the "
            "design-by-treatment model equals the consistency model.",
            rule="bad-option",
        )
    _warn_separated(net, kept)
    check_client(client)
    payloads = {"consistency": (net, engine, fit_kwargs), "design-by-treatment":
                (dbt, engine, fit_kwargs)}  # fmt: skip
    results = run_tasks(_fit_task, payloads, client=client, progress=False)
    d = results["design-by-treatment"][0]
    prior_sd = fit_kwargs.get("prior_d", DEFAULT_PRIOR_D).sd
    rows = []
    for design, k, b, pseudo in kept:
        omega = d.sel(treatment=pseudo) - d.sel(treatment=k)
        stats = interval_row({"omega": omega}, ci_prob, test="omega", converge=("omega",),
                             ess_cap=results["design-by-treatment"][4])  # fmt: skip
        # a priori omega = d_{k [D]} - d_k, two independent N(m, s^2) (one if k is the reference)
        prior_var = prior_sd**2 * (1 if k == net.reference else 2)
        stats["contraction"] = 1.0 - float(flat_draws(omega).var()) / prior_var
        rows.append({"design": design, "treatment": k, "comparator": b} | stats)
    table = pd.DataFrame(rows, columns=list(INCONSISTENCY_COLUMNS))
    fits = pd.DataFrame([{"model": m} | results[m][1] for m in payloads])[list(MODEL_FIT_COLUMNS)]
    wald = global_wald(results["design-by-treatment"][2], net.reference, kept)
    for t in (table, fits):  # the engine that ran the two fits
        t.attrs["engine"] = engines_label(r[3] for r in results.values())
    return DesignByTreatment(table, fits, ci_prob=ci_prob, global_test=wald)


def global_wald(moments, reference: str, kept) -> dict:
    """Return the Bayesian global test of inconsistency: a Wald test of all ``omega`` at 0.

    With ``m`` and ``S`` the posterior mean and covariance of the ``omega`` vector,
    ``Q = m' S^{-1} m`` is referred to chi-square with ``len(m)`` degrees of freedom: the
    posterior tail area of the global null under a normal posterior. For a fixed-effect model
    with a vague normal prior the posterior of ``omega`` is the sampling distribution of its GLS
    estimate, and ``Q`` is the between-designs Q of the design-by-treatment model (Higgins et al.
    2012; netmeta's ``decomp.design``), the statistic CINeMA's incoherence domain uses.
    ``moments``: ``(names, mean, cov)`` of the non-reference ``d`` of the model.
    """
    names, mean, cov = moments
    column = {t: j for j, t in enumerate(names)}
    lin = np.zeros((len(kept), len(names)))  # omega = d_{k [D]} - d_k (d_reference = 0)
    for r, (_, k, _, pseudo) in enumerate(kept):
        lin[r, column[pseudo]] = 1.0
        if k != reference:
            lin[r, column[k]] = -1.0
    m, s = lin @ mean, lin @ cov @ lin.T
    q = float(m @ np.linalg.solve(s, m))
    return {"Q": q, "df": len(kept), "p_value": float(chi2.sf(q, len(kept)))}


def _warn_separated(net, kept) -> None:
    """Rule ``design-separation``: warn, before fitting, of omegas without a finite MLE."""
    separated = separated_designs(net, kept)
    if not separated:
        return
    where = format_items(f"{k} vs {b} in {design}" for design, k, b in separated)
    warnings.warn(
        IdentificationWarning(
            f"The data cannot pin down the inconsistency parameters of {where}: every study of "
            "the design has a zero-event (or all-event) arm on the same side of the comparison, "
            "so the design's own effect has no finite maximum likelihood and its omega follows "
            "the prior of d in that direction (rule design-separation). Read their intervals "
            "and p-values as prior-driven (see the 'contraction' column), or use a proper "
            "prior_d.",
            rule="design-separation",
        ),
        stacklevel=3,
    )


def _fit_task(payload):
    """One model of :func:`design_by_treatment` (a batch task): ``d``, model fit, moments, engine.

    The moments are the exact engine's (its mixture over ``tau``) or those of the draws.
    """
    net, engine, fit_kwargs = payload
    fit = fit_network(net, engine=engine, **fit_kwargs)
    row = fit.model_fit().iloc[0].to_dict()
    moments = (list(fit.network.non_reference), *posterior_moments(fit))
    cap = effective_draws(fit.idata["posterior"].attrs)  # resampled draws: not ArviZ's ESS
    return fit.d_full(), row | {"n_data": int(row["n_data"])}, moments, fit.engine, cap
