"""Report section "Inconsistency and evidence": local and global checks, and the evidence flow.

One ``<section id="inconsistency">`` holding, each in a sub-section of its own:

- ``nodesplit``: the node-split table and plot (Dias et al. 2010), from the table that
  :func:`nma_bayes.nodesplit` returns;
- ``design-by-treatment``: the fit of the consistency and design-by-treatment interaction
  models and the inconsistency parameters (Higgins et al. 2012), from the result of
  :func:`nma_bayes.design_by_treatment`, taken duck-typed (``.model_fit`` and
  ``.inconsistency`` tables): the report does not import the analyses layer;
- the frequentist, sampling-free evidence structure, computed here from the fit (its network,
  its effects model and posterior median ``tau``): the decomposition of Cochran's Q (Krahn et
  al. 2013), the proportion of direct evidence, mean path length and minimal parallelism (König
  et al. 2013), and the contribution matrix drawn as a heat map (Papakonstantinou et al. 2018).
  Arm-level outcome studies enter with their normal approximation (netmeta's ``pairwise``), as
  a note says; where the quantities are not defined (the cloglog link) the note says why.

:func:`inconsistency_tables` returns the same tables for the exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..plots.contribution import plot_contribution
from ..plots.model_checking import plot_nodesplit
from ..results.contribution import contribution_matrix
from ..results.evidence_flow import evidence_summary
from ..results.evidence_result import ContributionMatrix, EvidenceSummary, QDecomposition
from ..results.q_decomposition import decompose_q
from .blocks import (
    ReportContext,
    figure_html,
    format_number,
    frame_html,
    interval_cell,
    on_new_axes,
    paragraph,
)
from .checking_sections import check_table

__all__ = [
    "DBT_FIT_COLUMNS",
    "DBT_INCONSISTENCY_COLUMNS",
    "EvidenceStructure",
    "check_design_by_treatment",
    "evidence_structure",
    "inconsistency_section",
    "inconsistency_tables",
]

#: Columns of ``nb.design_by_treatment(...).inconsistency`` that the report needs.
DBT_INCONSISTENCY_COLUMNS = (
    "design", "treatment", "comparator", "omega", "omega_lower", "omega_upper", "p_value",
)  # fmt: skip

#: Columns of ``nb.design_by_treatment(...).model_fit`` that the report needs.
DBT_FIT_COLUMNS = ("model", "resdev", "pD", "DIC")

_SOURCE = "nb.design_by_treatment(...)"


def check_design_by_treatment(result: object) -> object | None:
    """Validate the report's ``design_by_treatment=``: ``None`` or a design-by-treatment result.

    The result is taken duck-typed: it needs a ``model_fit`` table (``model, resdev, pD, DIC``)
    and an ``inconsistency`` table (``design, treatment, comparator, omega, omega_lower,
    omega_upper, p_value``), as :func:`nma_bayes.design_by_treatment` returns.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``result`` lacks one of them or a column, or a table is empty.
    """
    if result is None:
        return None
    for what, columns in (("model_fit", DBT_FIT_COLUMNS),
                          ("inconsistency", DBT_INCONSISTENCY_COLUMNS)):  # fmt: skip
        if not hasattr(result, what):
            raise ModelSpecError(
                f"design_by_treatment must be the result of {_SOURCE} (with .model_fit and "
                f".inconsistency), got {type(result).__name__}.",
                rule="bad-option",
            )
        value = getattr(result, what)
        if value is None:  # check_table lets None through (an absent optional table)
            value = pd.DataFrame()
        check_table(value, columns, f"design_by_treatment.{what}", _SOURCE)
    return result


# ---------------------------------------------------------------------- evidence structure
@dataclass(frozen=True)
class EvidenceStructure:
    """The frequentist evidence structure of a fit's network, or why it is not shown.

    Attributes
    ----------
    q : QDecomposition or None
        :func:`nma_bayes.decompose_q` of the network.
    summary : EvidenceSummary or None
        :func:`nma_bayes.evidence_summary` with the fit's effects model.
    contribution : ContributionMatrix or None
        :func:`nma_bayes.contribution_matrix` (shortest path) with the fit's effects model.
    note : str
        Why they are missing (empty when they are not).
    """

    q: QDecomposition | None = None
    summary: EvidenceSummary | None = None
    contribution: ContributionMatrix | None = None
    note: str = ""


def evidence_structure(fit) -> EvidenceStructure:
    """Compute the Q decomposition, evidence summary and contribution matrix of a fit.

    Sampling-free (netmeta's frequentist quantities, from the network's contrasts and their
    exact within-study covariance), with the fit's effects model and, for random effects, the
    posterior median of its ``tau`` (:func:`nma_bayes.evidence_summary` and
    :func:`nma_bayes.contribution_matrix` given a fit). Arm-level outcome studies enter as
    contrasts with their normal approximation (netmeta's ``pairwise``), which the note says;
    networks these quantities do not cover (e.g. the cloglog link) give a note instead.

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.

    Returns
    -------
    EvidenceStructure
    """
    net = fit.network
    note = ""
    if np.asarray(net.outcome).any():
        note = (
            f"The arm-level outcome studies (likelihood {net.likelihood}) enter the frequentist "
            "quantities below as contrasts with their large-sample normal approximation (as "
            "netmeta after pairwise(): 0.5 added to the cells of a study with a zero cell), "
            "not with their exact likelihood."
        )
    try:
        return EvidenceStructure(
            q=decompose_q(fit),
            summary=evidence_summary(fit),
            contribution=contribution_matrix(fit),
            note=note,
        )
    except ModelSpecError as exc:
        return EvidenceStructure(note=f"The frequentist evidence structure is not shown: {exc}")


def inconsistency_tables(
    fit, *, nodesplit: pd.DataFrame | None = None, design_by_treatment=None, evidence: bool = True
) -> dict[str, pd.DataFrame]:
    """Return the tables of the "Inconsistency and evidence" section, by export name.

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.
    nodesplit : DataFrame, optional
        The table of :func:`nma_bayes.nodesplit`: exported as ``nodesplit``.
    design_by_treatment : DesignByTreatment, optional
        The result of :func:`nma_bayes.design_by_treatment`: exported as
        ``design_by_treatment`` (its inconsistency parameters) and ``design_by_treatment_fit``
        (residual deviance, pD and DIC of both models).
    evidence : bool
        Add ``q_decomposition`` (:meth:`QDecomposition.summary`), ``evidence_summary``
        (:meth:`EvidenceSummary.to_frame`) and ``contribution_matrix`` (the long table,
        :meth:`ContributionMatrix.to_frame`) of :func:`evidence_structure` (left out where it
        is not defined, e.g. the cloglog link).

    Returns
    -------
    dict of str to DataFrame
        The tables present, in that order.

    Raises
    ------
    ModelSpecError
        If ``nodesplit`` or ``design_by_treatment`` is not what its analysis returns.
    """
    from .checking_sections import check_nodesplit

    nodesplit, dbt = check_nodesplit(nodesplit), check_design_by_treatment(design_by_treatment)
    tables = {} if nodesplit is None else {"nodesplit": nodesplit}
    if dbt is not None:
        tables["design_by_treatment"] = dbt.inconsistency.copy()
        tables["design_by_treatment_fit"] = dbt.model_fit.copy()
    if evidence:
        structure = evidence_structure(fit)
        if structure.q is not None:
            tables["q_decomposition"] = structure.q.summary()
            tables["evidence_summary"] = structure.summary.to_frame()
            tables["contribution_matrix"] = structure.contribution.to_frame()
    return tables


# ---------------------------------------------------------------------- the section
def _subsection(sid: str, heading: str, body: str) -> str:
    """Return a ``<section>`` inside the "Inconsistency and evidence" section (``<h3>`` heading)."""
    return f'<section id="{escape(sid)}"><h3>{escape(heading)}</h3>{body}</section>\n'


def _intervals(table: pd.DataFrame, name: str) -> list[str]:
    """``"median (lower, upper)"`` cells of the columns ``name``, ``name_lower``, ``name_upper``."""
    return [
        interval_cell(m, lo, hi)
        for m, lo, hi in zip(
            table[name], table[f"{name}_lower"], table[f"{name}_upper"], strict=True
        )  # fmt: skip
    ]


def _nodesplit_part(ctx: ReportContext, table: pd.DataFrame) -> str:
    """Render the direct, indirect and network estimates of each split, with the plot."""
    table = table.reset_index(drop=True)
    shown = pd.DataFrame(
        {
            "Treatment": table["treatment"].astype(str),
            "Comparator": table["comparator"].astype(str),
            "Direct": _intervals(table, "direct"),
            "Indirect": _intervals(table, "indirect"),
            "Network": _intervals(table, "network"),
            "Direct - indirect": _intervals(table, "difference"),
            "Bayesian p-value": [format_number(float(p)) for p in table["p_value"]],
        }
    )
    note = paragraph(
        "Node-splitting (Dias et al. 2010): for each split comparison, the posterior median "
        "(credible interval, at the probability given to nb.nodesplit) of the direct evidence, "
        "the indirect evidence and the consistency model, their difference, and the Bayesian "
        "p-value of the difference (small values flag inconsistency). Multi-arm studies follow "
        "multinma's convention; the splittable comparisons are those of van Valkenhoef et al. "
        "(2016)."
    )
    caption = (
        "Direct (circle), indirect (square) and network (diamond) estimates of each split "
        f"comparison, treatment minus comparator, {ctx.on_scale}: posterior "
        "median and credible interval; the Bayesian p-value is in each row's label."
    )
    size = (10.0, 1.0 + 0.75 * len(table))  # wide: the row labels name both treatments
    figure = figure_html(
        lambda: on_new_axes(size, lambda ax: plot_nodesplit(table, ax=ax)),
        "node-split plot",
        caption,
    )
    body = ctx.scale_note() + note + frame_html(shown, relabel=False) + figure
    return _subsection("nodesplit", "Node-splitting (local inconsistency)", body)


def _dic_sentence(model_fit: pd.DataFrame) -> str:
    """Say the DIC of the design-by-treatment model minus the consistency model's."""
    dic = dict(zip(model_fit["model"].astype(str), model_fit["DIC"], strict=False))
    if not {"consistency", "design-by-treatment"} <= set(dic):
        return ""
    diff = float(dic["design-by-treatment"]) - float(dic["consistency"])
    return (
        f" DIC of the design-by-treatment model minus that of the consistency model: "
        f"{format_number(diff)} (a clearly lower DIC of the design-by-treatment model points to "
        "inconsistency; similar DICs support the consistency model; Dias et al. 2013, TSD4)."
    )


def _dbt_part(ctx: ReportContext, result) -> str:
    """Render both models' fit and the design-by-treatment inconsistency parameters."""
    fit_table = result.model_fit
    shown_fit = fit_table[[c for c in (*DBT_FIT_COLUMNS, "n_data") if c in fit_table.columns]]
    n_par = getattr(result, "n_parameters", None)
    count = "" if n_par is None else f" The model has {int(n_par)} inconsistency parameters."
    intro = paragraph(
        "Design-by-treatment interaction model (Higgins et al. 2012): every design (set of "
        "treatments compared in a study) may have effects of its own, the consistency model "
        "plus inconsistency parameters omega for the design-comparisons that can be identified "
        "(see nb.design_by_treatment)." + count + _dic_sentence(fit_table)
        + _global_sentence(getattr(result, "global_test", None))
    )
    table = result.inconsistency.reset_index(drop=True)
    shown = pd.DataFrame(
        {
            "Design": table["design"].astype(str),
            "Treatment": table["treatment"].astype(str),
            "Comparator": table["comparator"].astype(str),
            "Inconsistency omega": _intervals(table, "omega"),
            "Bayesian p-value": [format_number(float(p)) for p in table["p_value"]],
            **{label: table[c] for c, label in (("ess_bulk", "Bulk ESS"), ("r_hat", "R-hat"))
               if c in table.columns},
        }
    )  # fmt: skip
    note = paragraph(
        "Inconsistency parameters: posterior median (credible interval, at the probability "
        "given to nb.design_by_treatment) of the design's effect of treatment vs comparator "
        "minus the consistency model's, and its two-sided Bayesian p-value."
    )
    body = (
        intro
        + frame_html(shown_fit, pct=ctx.pct)
        + ctx.scale_note()
        + note
        + frame_html(shown, relabel=False, integers=("Bulk ESS",))
    )
    return _subsection("design-by-treatment", "Design-by-treatment interaction model", body)


def _global_sentence(test) -> str:
    """Describe the global Wald test of all omega at 0, when the result has one."""
    if not test:
        return ""
    return (
        f" Global test of all omega = 0 (Wald, posterior mean and covariance): Q = "
        f"{format_number(float(test['Q']))} on {int(test['df'])} df, p = "
        f"{format_number(float(test['p_value']))}."
    )


def _q_part(q: QDecomposition) -> str:
    """Render the decomposition of Cochran's Q: total, within and between designs."""
    note = paragraph(
        "Decomposition of Cochran's Q (Krahn, Binder & König 2013; netmeta decomp.design): "
        "heterogeneity within designs and inconsistency between designs, with chi-square "
        "degrees of freedom and p-values; the last row is the between-designs Q of the "
        f"random-effects model (tau {format_number(q.tau)}). Frequentist and sampling-free."
    )
    table = frame_html(q.summary(), labels={"part": "Part", "p_value": "p-value", "df": "df"},
                       integers=("df",))  # fmt: skip
    return _subsection("q-decomposition", "Decomposition of Cochran's Q (global)", note + table)


def _direct_part(summary: EvidenceSummary) -> str:
    """Render the proportion of direct evidence, path length and parallelism per pair."""
    table = summary.to_frame()
    shown = pd.DataFrame(
        {
            "Treatment": table["treatment"].astype(str),
            "Comparator": table["comparator"].astype(str),
            "Proportion of direct evidence": table["proportion_direct"],
            "Mean path length": table["mean_path_length"],
            "Minimal parallelism": table["minimal_parallelism"],
        }
    )
    model = "common-effect" if summary.effects == "fixed" else "random-effects"
    at_tau = "" if summary.effects == "fixed" else f" at tau {format_number(summary.tau)}"
    note = paragraph(
        "For every pair of treatments (König, Krahn & Binder 2013; netmeta netmeasures): the "
        "proportion of the network estimate's information that comes from studies comparing "
        "the pair directly (0: indirect evidence only), the mean length of the evidence paths "
        "(above 2: long chains of indirect comparisons), and the minimal parallelism (large: "
        f"the estimate does not rest on one design). Hat matrix of the {model} model{at_tau} "
        "(the posterior median of the fit's tau), from the study contrasts without sampling."
    )
    return _subsection(
        "direct-evidence", "Proportion of direct evidence", note + frame_html(shown, relabel=False)
    )


def _contribution_part(cm: ContributionMatrix) -> str:
    """Render the contribution matrix as a heat map (rows: network estimates)."""
    wide = cm.matrix()
    width = 1.8 + 0.55 * len(wide.columns) + 0.08 * max(map(len, map(str, wide.index)))
    height = 1.5 + 0.42 * len(wide) + 0.08 * max(map(len, map(str, wide.columns)))
    caption = (
        "Rows: network estimates (A:B is A minus B); columns: direct comparisons; colour and "
        "number: percentage contribution of the column to the row (each row sums to 100%), by "
        "the shortest-path decomposition of the evidence flow (Papakonstantinou et al. 2018; "
        "netmeta netcontrib)."
    )
    figure = figure_html(
        lambda: on_new_axes((width, height), lambda ax: plot_contribution(cm, ax=ax)),
        "contribution matrix",
        caption,
    )
    note = paragraph(
        "How much each direct comparison contributes to each network estimate (hat matrix of "
        "the fit's effects model, as for the proportion of direct evidence; the table is "
        "exported as contribution_matrix)."
    )
    return _subsection("contribution", "Contribution matrix", note + figure)


def inconsistency_section(
    ctx: ReportContext,
    nodesplit: pd.DataFrame | None,
    design_by_treatment,
    evidence: EvidenceStructure | None,
) -> str:
    """Render the "Inconsistency and evidence" section (empty when there is nothing to show).

    Parameters
    ----------
    ctx : ReportContext
        The report's context.
    nodesplit : DataFrame or None
        The checked node-split table.
    design_by_treatment : DesignByTreatment or None
        The checked design-by-treatment result.
    evidence : EvidenceStructure or None
        The network's evidence structure (:func:`evidence_structure`), or ``None`` to leave it
        out.
    """
    parts = []
    if nodesplit is not None:
        parts.append(_nodesplit_part(ctx, nodesplit))
    if design_by_treatment is not None:
        parts.append(_dbt_part(ctx, design_by_treatment))
    if evidence is not None and evidence.q is not None:
        parts += [_q_part(evidence.q), _direct_part(evidence.summary),
                  _contribution_part(evidence.contribution)]  # fmt: skip
    if not parts:
        return ""
    intro = paragraph(
        "Do the direct and indirect evidence agree, and where does each network estimate's "
        "evidence come from? Local checks (node-splitting), global checks (the "
        "design-by-treatment interaction model, the decomposition of Q) and the flow of "
        "evidence; the frequentist quantities are computed from the study contrasts of the "
        "network (without covariates or classes) and need no sampling."
    )
    if evidence is not None and evidence.note:
        intro += paragraph(evidence.note, "note")
    return (
        '<section id="inconsistency"><h2>Inconsistency and evidence</h2>'
        + intro
        + "".join(parts)
        + "</section>\n"
    )
