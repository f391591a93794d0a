"""CINeMA: confidence in the results of a Bayesian network meta-analysis.

:func:`cinema` judges every network estimate of a fit in CINeMA's six domains (Nikolakopoulou et
al. 2020, PLoS Med 17:e1003082) with the rules its web application pre-populates (CINeMA
documentation; :mod:`nma_bayes.results.cinema_rules`), and rates the confidence in it. Where
CINeMA's rules read a frequentist quantity, the Bayesian counterpart is used:

=====================================  ===============================================
CINeMA (netmeta)                       here
=====================================  ===============================================
confidence interval of an estimate     equal-tailed credible interval
prediction interval (tau from REML/DL)  posterior predictive interval of a new study's
                                       effect (``fit.prediction_interval``)
percentage contribution matrix          :func:`~nma_bayes.contribution_matrix` of the fit
                                       (GLS hat matrix at the posterior median ``tau``)
SIDE direct / indirect CIs              node-split direct / indirect credible intervals
                                       (:func:`~nma_bayes.nodesplit`)
design-by-treatment chi-square test     Wald test of the posterior of all ``omega``
                                       (:func:`~nma_bayes.design_by_treatment`)
=====================================  ===============================================

Papakonstantinou T, Nikolakopoulou A, Higgins JPT, Egger M, Salanti G (2020). CINeMA: software
for semiautomated assessment of the confidence in the results of network meta-analysis.
Campbell Syst Rev 16:e1080.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError, format_items
from ..base.validate import check_choice, check_ci_prob, is_real
from ..data.judgements import check_judgements
from ..data.transforms import splittable_comparisons
from ..results import cinema_rules as R
from ..results.cinema_result import DOMAINS, Confidence, level_names
from ..results.contribution import contribution_matrix
from ..results.evidence_graph import is_fit
from ..results.netheat import evidence_network
from ..results.netheat_funnel_result import Funnel
from .design_by_treatment import design_by_treatment as run_design_by_treatment
from .inconsistency import nodesplit as run_nodesplit

__all__ = ["cinema"]

#: Reporting-bias judgements (CINeMA: "undetected" / "suspected"; a third level for "strongly").
_REPORTING = {"undetected": 1, "no concerns": 1, "low": 1, "suspected": 2, "some concerns": 2,
              "strongly suspected": 3, "major concerns": 3, "high": 3}  # fmt: skip
#: Egger's test p-value below which a funnel makes reporting bias "suspected" (meta's default).
FUNNEL_ALPHA = 0.10


def _bad(message: str) -> ModelSpecError:
    return ModelSpecError(message, rule="bad-option")


def _check_mcid(mcid) -> tuple[float, float]:
    if not is_real(mcid) or not np.isfinite(mcid) or mcid <= 0:
        raise _bad(f"mcid must be a positive number on the fit's effect scale, got {mcid!r}.")
    return (-float(mcid), float(mcid))


def _pair_key(pair, treatments) -> frozenset:
    if not isinstance(pair, tuple) or len(pair) != 2 or any(p not in treatments for p in pair):
        raise _bad(f"{pair!r} is not a pair of treatments of the network, e.g. ('B', 'A').")
    return frozenset(pair)


def _reporting(reporting_bias, pairs: list[frozenset], treatments) -> dict:
    """Reporting-bias level of every comparison (0: not assessed)."""
    def level(value):
        code = _REPORTING.get(str(value).strip().lower()) if isinstance(value, str) else None
        if code is None:
            raise _bad(f"reporting_bias judgement {value!r}: use 'undetected', 'suspected' or "
                       "'strongly suspected'.")  # fmt: skip
        return code

    if reporting_bias is None:
        return dict.fromkeys(pairs, 0)
    if isinstance(reporting_bias, Funnel):  # Egger's test of the comparison-adjusted funnel
        p = float(reporting_bias.tests().set_index("method").loc["Egger", "p_value"])
        return dict.fromkeys(pairs, 2 if p < FUNNEL_ALPHA else 1)
    if isinstance(reporting_bias, str):
        return dict.fromkeys(pairs, level(reporting_bias))
    if not isinstance(reporting_bias, Mapping):
        raise _bad("reporting_bias must be None, one judgement for all comparisons, a dict "
                   "{(treatment, comparator): judgement} or an nb.funnel(...) result.")  # fmt: skip
    given = {_pair_key(k, treatments): level(v) for k, v in reporting_bias.items()}
    return {p: given.get(p, 1) for p in pairs}


def _refit_options(fit) -> dict:
    """Return the options that refit the fit's model (node-split, design-by-treatment).

    The fit's engine, but ``"auto"`` for a network with arm-level outcome studies: the Laplace
    engine where it covers a refit, NUTS where it does not or refuses it.
    """
    spec, settings = fit.spec, fit.settings
    if spec.class_model is not None or fit.network.covariates is not None:
        raise _bad("cinema() cannot refit a fit with treatment classes or covariates for "
                   "the incoherence domain: pass nodesplit= and design_by_treatment=.")  # fmt: skip
    engine = "auto" if np.asarray(fit.network.outcome).any() else fit.engine
    options = {"effects": spec.effects, "prior_d": spec.prior_d, "prior_tau": spec.prior_tau,
               "random_seed": fit.seed, "engine": engine}  # fmt: skip
    if fit.engine != "exact":  # NUTS or the Laplace engine: same draws, baselines' prior
        options |= {"draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
                    "prior_baseline": spec.prior_baseline, "progressbar": False}  # fmt: skip
    return options


def _incoherence_inputs(fit, nodesplit_table, dbt, need_global: bool, client):
    """Return the node-split rows (every splittable comparison) and the global test ({})."""
    net = fit.network
    splittable = splittable_comparisons(net)
    if nodesplit_table is None and splittable:
        nodesplit_table = run_nodesplit(net, client=client, **_refit_options(fit))
    split = {}
    if splittable:
        cols = {"treatment", "comparator", "direct_lower", "direct_upper", "indirect_lower",
                "indirect_upper", "p_value"}  # fmt: skip
        if not isinstance(nodesplit_table, pd.DataFrame) or not cols <= set(nodesplit_table):
            raise _bad("nodesplit= must be the table of nb.nodesplit(...) for this network.")
        split = {frozenset((r.treatment, r.comparator)): r for r in nodesplit_table.itertuples()}
        missing = [f"{b} vs {a}" for a, b in splittable if frozenset((a, b)) not in split]
        if missing:
            raise _bad(f"nodesplit= lacks the splittable comparisons {format_items(missing)}: "
                       "run nb.nodesplit on the same data without comparisons=.")  # fmt: skip
    if dbt is None and need_global:
        try:
            dbt = run_design_by_treatment(net, client=client, **_refit_options(fit))
        except ModelSpecError as err:
            if "no identifiable design inconsistency" not in str(err):
                raise
            dbt = None  # no loop of designs: nothing to test
    return split, ({} if dbt is None else dict(dbt.global_test))


def _bias_levels(contrib: pd.DataFrame, rule: str) -> dict:
    """Per comparison: the two summarised levels and the contribution shares of each level."""
    out = {}
    for (a, b), rows in contrib.groupby(["treatment", "comparator"], sort=False):
        w = rows["contribution"].to_numpy()
        shares = {}
        for name, levels in (("rob", rows["rob"].to_numpy()), ("indirectness",
                                                               rows["indirectness"].to_numpy())):
            for k, label in zip((1, 2, 3), ("low", "some", "high"), strict=True):
                shares[f"{name}_{label}"] = float(w[levels == k].sum() / w.sum())
        out[frozenset((a, b))] = (R.study_bias_level(rows["rob"].to_numpy(), w, rule),
                                  R.study_bias_level(rows["indirectness"].to_numpy(), w, rule),
                                  shares)  # fmt: skip
    return out


def _overrides(overrides, treatments) -> dict:
    """``{pair: {domain or "rating": level}}`` validated."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise _bad("overrides must be a dict {(treatment, comparator): {domain: judgement}}.")
    allowed = (*DOMAINS, "rating")
    out = {}
    for pair, changes in overrides.items():
        if not isinstance(changes, Mapping) or not set(changes) <= set(allowed):
            raise _bad(f"overrides[{pair!r}] must be a dict with keys among {allowed}.")
        for key, value in changes.items():
            choices = R.RATINGS if key == "rating" else R.LEVELS
            check_choice(value, f"overrides[{pair!r}][{key!r}]", choices)
        out[_pair_key(pair, treatments)] = dict(changes)
    return out


def cinema(
    fit,
    *,
    rob,
    indirectness,
    mcid: float,
    reporting_bias=None,
    rule: str = "majority",
    nodesplit=None,
    design_by_treatment=None,
    overrides=None,
    duplicate_arms: str = "error",
    ci_prob: float = 0.95,
    client=None,
) -> Confidence:
    """Rate the confidence in every network estimate of a fit with CINeMA's six domains.

    Within-study bias and indirectness summarise the study judgements by each study's
    percentage contribution to the estimate (``rule``); imprecision compares the credible
    interval, and heterogeneity the credible and prediction intervals, with the range of
    equivalence ``(-mcid, mcid)``; incoherence compares the node-split direct and indirect
    intervals (mixed evidence) or reads the global design-by-treatment test (indirect evidence
    only; direct-only comparisons have no concerns). The overall rating starts at high and
    drops one level for each domain with some concerns and two for each with major concerns
    (to very low at most), unless ``overrides`` set it. The rules and the Bayesian
    counterparts of CINeMA's frequentist quantities: :mod:`nma_bayes.analyses.cinema`,
    :mod:`nma_bayes.results.cinema_rules` and the docs page *How robust is the
    recommendation?*.

    Parameters
    ----------
    fit : NetworkFit
        The fit whose estimates are rated.
    rob, indirectness : dict or Series
        Study -> judgement: 1/2/3, ``"L"/"U"/"H"`` or ``"low"/"some concerns"/"high"``, for
        every study of the network (rule ``study-judgements``).
    mcid : float
        The clinically important effect on the fit's scale (e.g. 0.3 for an SMD, ``log(1.25)``
        for an odds ratio): the range of equivalence is ``(-mcid, mcid)``.
    reporting_bias : str, dict or Funnel, optional
        ``None``: not assessed (no downgrade; the table says so). One judgement for every
        comparison (``"undetected"``, ``"suspected"``, ``"strongly suspected"``), a dict
        ``{(treatment, comparator): judgement}`` (others undetected), or an
        :func:`nma_bayes.funnel` result (suspected when Egger's test has p < 0.10).
    rule : {"majority", "average", "highest"}
        CINeMA's summary of study judgements (:func:`~nma_bayes.results.cinema_rules.
        study_bias_level`).
    nodesplit, design_by_treatment : optional
        Results of :func:`nma_bayes.nodesplit` and :func:`nma_bayes.design_by_treatment` on the
        fit's data; computed with the fit's model, priors and seed when not given (needed for
        fits with classes or covariates): with the fit's engine, or, for a network with
        arm-level outcome studies, ``engine="auto"`` (the Laplace engine where it covers a
        refit, NUTS otherwise; pass the tables to choose another engine).
    overrides : dict, optional
        ``{(treatment, comparator): {domain or "rating": value}}``: judgements set by hand
        (domains take level names such as ``"some concerns"``, the rating ``"high"`` ...).
    duplicate_arms : {"error", "first"}
        A study with two arms of one treatment has no place in the contribution matrix
        (netmeta's graph); ``"first"`` keeps the first arm of each treatment in each study for
        the contributions only (a study left with one treatment contributes nothing), as
        :func:`nma_bayes.funnel` does; ``"error"`` refuses such data.
    ci_prob : float
        Probability of every interval.
    client : distributed.Client, optional
        Run the node-split and design-by-treatment fits on Dask.

    Returns
    -------
    Confidence
        ``to_frame()``, ``summary()``, ``counts()``, ``league()``, ``contributions()``.

    Raises
    ------
    InvalidValueError
        (rule ``study-judgements``) A study without a judgement, an unknown study or level.
    ModelSpecError
        (rule ``bad-option``) A bad ``mcid``, ``rule``, ``reporting_bias``, ``overrides`` or
        table, or a fit that is not one.
    """
    if not is_fit(fit):
        raise _bad("cinema() rates the estimates of a fit: pass nb.fit_network(...)'s result.")
    net, zone = fit.network, _check_mcid(mcid)
    rule, ci_prob = check_choice(rule, "rule", R.BIAS_RULES), check_ci_prob(ci_prob)
    levels = {"rob": check_judgements(rob, net.studies, name="rob"),
              "indirectness": check_judgements(indirectness, net.studies, name="indirectness")}
    effects = fit.prediction_interval(all_pairs=True, ci_prob=ci_prob)
    pairs = [frozenset(p) for p in zip(effects["treatment"], effects["comparator"], strict=True)]
    report = _reporting(reporting_bias, pairs, net.treatments)
    manual = _overrides(overrides, net.treatments)
    contrib = _contributions(fit, duplicate_arms)
    study = {s: i for i, s in enumerate(net.studies)}
    for name, values in levels.items():
        contrib[name] = values[contrib["study"].map(study).to_numpy()]
    direct = _direct_pairs(net)
    need_global = any(p not in direct for p in pairs)
    split, global_test = _incoherence_inputs(fit, nodesplit, design_by_treatment, need_global,
                                             client)  # fmt: skip
    bias = _bias_levels(contrib, rule)
    rows = [_row(r, bias[p], report[p], split.get(p), p in direct, global_test, zone,
                 manual.get(p))
            for r, p in zip(effects.itertuples(), pairs, strict=True)]  # fmt: skip
    table = pd.DataFrame(rows)
    keep = ["treatment", "comparator", "study", "contribution", "rob", "indirectness"]
    return Confidence(table, contrib[keep], zone=zone, rule=rule, ci_prob=ci_prob,
                      effects=fit.spec.effects, global_test=global_test,
                      treatments=tuple(net.treatments))  # fmt: skip


def _contributions(fit, duplicate_arms: str) -> pd.DataFrame:
    """Return the study contributions of the fit (its model; random: posterior median tau)."""
    network, dropped = evidence_network(fit, None, {}, "cinema", duplicate_arms)
    if dropped.empty:
        return contribution_matrix(fit, by="study").to_frame()
    random = fit.spec.effects == "random"
    tau = float(fit.heterogeneity().loc["tau", "median"]) if random else None
    return contribution_matrix(network, effects=fit.spec.effects, tau=tau, by="study").to_frame()


def _direct_pairs(net) -> set:
    """Pairs of treatments that some study compares directly."""
    out = set()
    for i in range(net.n_studies):
        arms = [net.base[i], *np.asarray(net.arm[i])[np.asarray(net.mask[i], dtype=bool)]]
        names = sorted({net.treatments[a] for a in arms})
        out |= {frozenset((a, b)) for k, a in enumerate(names) for b in names[k + 1 :]}
    return out


def _incoherence(split_row, is_direct: bool, global_test: dict, zone) -> tuple[int, str]:
    if split_row is not None:
        direct = (split_row.direct_lower, split_row.direct_upper)
        indirect = (split_row.indirect_lower, split_row.indirect_upper)
        return R.incoherence_mixed_level(direct, indirect, zone), "direct vs indirect"
    if is_direct:
        return 1, "direct evidence only"
    if not global_test:
        return 1, "indirect only; no loop of designs to test"
    return R.global_test_level(global_test["p_value"]), "indirect only; global test"


def _row(r, bias, reporting: int, split_row, is_direct, global_test, zone, manual) -> dict:
    """One comparison's numbers, judgements and rating."""
    rob_level, indr_level, shares = bias
    incoh, basis = _incoherence(split_row, is_direct, global_test, zone)
    codes = {
        "within_study_bias": rob_level,
        "reporting_bias": reporting,
        "indirectness": indr_level,
        "imprecision": R.imprecision_level(r.ci_lower, r.ci_upper, zone),
        "heterogeneity": R.heterogeneity_level((r.ci_lower, r.ci_upper),
                                               (r.pi_lower, r.pi_upper), zone),  # fmt: skip
        "incoherence": incoh,
    }
    manual = dict(manual or {})
    for key in DOMAINS:
        if key in manual:
            codes[key] = R.LEVELS.index(manual[key]) + 1
    n_down = R.downgrades(codes.values())
    rating = manual.get("rating", R.rating(codes.values()))
    keys = ("direct_lower", "direct_upper", "indirect_lower", "indirect_upper", "p_value")
    split = {k: getattr(split_row, k, np.nan) for k in keys}
    evidence = "mixed" if split_row is not None else ("direct" if is_direct else "indirect")
    return ({"treatment": r.treatment, "comparator": r.comparator, "evidence": evidence,
             "median": r.median, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper,
             "pi_lower": r.pi_lower, "pi_upper": r.pi_upper} | shares | split
            | dict(zip(DOMAINS, level_names(np.array(list(codes.values())), R.LEVELS),
                       strict=True))
            | {"incoherence_basis": basis, "downgrades": n_down, "rating": rating,
               "overridden": ", ".join(sorted(manual))})  # fmt: skip
