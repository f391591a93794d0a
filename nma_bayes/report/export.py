"""Export a fit's tables to CSV files, an Excel workbook or an HTML file.

Tables written for spreadsheets (CSV, xlsx) pass through :func:`spreadsheet_safe`, which
neutralises formula injection (OWASP "CSV injection") in treatment and study names; the HTML
export is escaped instead.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pandas as pd

from ..base.errors import ModelSpecError
from ..base.validate import check_bool, resolve_direction
from ..results.decisions import check_threshold

__all__ = [
    "EXPORT_FORMATS",
    "INCONSISTENCY_TABLES",
    "TOP_K",
    "check_mcid",
    "export_tables",
    "fit_tables",
    "spreadsheet_safe",
    "top_k_places",
]

EXPORT_FORMATS = ("csv", "xlsx", "html")

#: Titles of the exported tables, by table name.
TABLE_TITLES = {
    "relative_effects": "Relative effects vs the reference",
    "relative_effects_all_pairs": "Relative effects, all pairs",
    "league_table": "League table (row treatment vs column treatment)",
    "sucra": "Rankings (SUCRA)",
    "top_k": "Probability of being among the best k (with Monte Carlo SE)",
    "cumulative_rank_probabilities": "Cumulative rank probabilities P(rank <= k) (with MCSE)",
    "prob_difference": "Probability of beating the reference by more than the MCID (with MCSE)",
    "class_top_k": "Probability that a class holds one of the best k treatments (with MCSE)",
    "regression": "Meta-regression: treatment-by-covariate interactions",
    "nodesplit": "Node-splitting: direct, indirect and network estimates",
    "design_by_treatment": "Design-by-treatment model: inconsistency parameters",
    "design_by_treatment_fit": "Consistency vs design-by-treatment model: residual deviance, DIC",
    "q_decomposition": "Decomposition of Cochran's Q (within and between designs)",
    "evidence_summary": "Proportion of direct evidence, mean path length, minimal parallelism",
    "contribution_matrix": "Contribution of each direct comparison to each network estimate",
    "cinema": "Confidence in the network estimates (CINeMA): six domains, numbers and rating",
    "thresholds": "Threshold analysis: bias-adjustment thresholds, decision-invariant intervals",
}

#: The tables of the "Inconsistency and evidence" section (written by :func:`export_tables`
#: when their inputs are given; see
#: :func:`~nma_bayes.report.inconsistency_sections.inconsistency_tables`).
INCONSISTENCY_TABLES = (
    "nodesplit",
    "design_by_treatment",
    "design_by_treatment_fit",
    "q_decomposition",
    "evidence_summary",
    "contribution_matrix",
)

#: The numbers of best places the report and the exports give (those below the number of
#: treatments: among the best ``T`` is certain).
TOP_K = (1, 3)


def top_k_places(n: int) -> tuple[int, ...]:
    """Return the entries of :data:`TOP_K` below ``n`` (the number of treatments)."""
    return tuple(k for k in TOP_K if k < n)


def check_mcid(mcid: object, fit, direction: bool | None) -> float | None:
    """Validate the report's ``mcid=``: ``None``, or a number ``>= 0`` with a known direction.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``mcid`` is not a finite number ``>= 0``, or is given while the
        benefit direction is unknown (the probability of a benefit needs it).
    """
    if mcid is None:
        return None
    value = check_threshold(mcid, None, fit.network.measure, name="mcid")
    if direction is None:
        raise ModelSpecError(
            "mcid= needs the benefit direction: pass lower_is_better=True or False (or record "
            "it on the network with Network.from_data(..., lower_is_better=...)).",
            rule="bad-option",
        )
    return value


#: Leading characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Control characters that xlsx cannot hold (all below 0x20 except tab and newline).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def escape_control_characters(text: str) -> str:
    r"""Replace control characters other than tab and newline by visible escapes (``\x07``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _safe_cell(value):
    """Neutralise one cell: quote a leading formula trigger, escape control characters."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    return escape_control_characters(value)


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    r"""Return a copy of a table that is safe to open in a spreadsheet (OWASP CSV injection).

    Every text cell, index label, column label and axis name is neutralised: text that starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote
    (``'=HYPERLINK(...)``), so that Excel, LibreOffice and Google Sheets show it as text instead
    of evaluating a formula; control characters other than tab and newline (which xlsx cannot
    hold) are replaced by a visible escape (``"A\x07B"``), which keeps distinct names distinct.
    Numbers (negative ones included) stay numbers. Text is quoted whatever follows the trigger,
    so the league table's interval cells read ``'-0.12 (-0.30, 0.05)`` when the estimate is
    negative: a spreadsheet would otherwise try to evaluate them as formulas.

    Parameters
    ----------
    table : DataFrame
        A table about to be written to CSV or xlsx.

    Returns
    -------
    DataFrame
        The neutralised copy (the input is not modified).
    """
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col].dtype):
            out[col] = out[col].map(_safe_cell).astype(object)
    out = out.rename(index=_safe_cell, columns=_safe_cell)
    out.index.names = [_safe_cell(n) for n in out.index.names]
    out.columns.names = [_safe_cell(n) for n in out.columns.names]
    return out


def fit_tables(
    fit, *, lower_is_better: bool | None = None, ci_prob: float = 0.95, mcid: float | None = None
) -> dict[str, pd.DataFrame]:
    """Collect the tables that are exported and reported.

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.
    lower_is_better : bool, optional
        Benefit direction; SUCRA and the decision tables are included only when it is known
        (given here or recorded on the network).
    ci_prob : float
        Interval probability.
    mcid : float, optional
        Minimal clinically important difference on the effect scale of the fit (``>= 0``): adds
        ``prob_difference`` (needs the direction).

    Returns
    -------
    dict of str to DataFrame
        ``relative_effects``, ``relative_effects_all_pairs``, ``league_table``; when the
        direction is known ``sucra``, ``top_k`` (``treatment, k, probability, mcse`` for
        ``k`` in :data:`TOP_K` below the number of treatments), ``cumulative_rank_probabilities``
        (``treatment, rank, cumulative_probability, mcse``: ``P(rank <= rank)``), with ``mcid``
        ``prob_difference`` (vs the reference) and, with classes, ``class_top_k``; for a
        meta-regression ``regression`` (the interactions; the effects are at the centring
        values).

    Raises
    ------
    ModelSpecError
        If ``mcid`` is not a number ``>= 0`` or is given without a direction (before anything
        is computed).
    """
    # SUCRA and decisions only when the direction is known (given, else recorded on the network)
    direction = resolve_direction(lower_is_better, fit.network, required=False)
    mcid = check_mcid(mcid, fit, direction)
    tables = {
        "relative_effects": fit.relative_effects(ci_prob=ci_prob),
        "relative_effects_all_pairs": fit.relative_effects(all_pairs=True, ci_prob=ci_prob),
        "league_table": fit.league_table(ci_prob=ci_prob),
    }
    if direction is not None:
        tables["sucra"] = fit.sucra(lower_is_better=direction, ci_prob=ci_prob)
        tables.update(decision_tables(fit, direction, mcid))
    if fit.posterior.regression is not None:
        tables["regression"] = fit.regression(ci_prob=ci_prob)
    return tables


def decision_tables(fit, direction: bool, mcid: float | None) -> dict[str, pd.DataFrame]:
    """Return the decision tables of :func:`fit_tables` (direction known, ``mcid`` checked)."""
    n = fit.network.n_treatments
    ks = list(top_k_places(n))
    cumulative = fit.top_k(k=list(range(1, n + 1)), lower_is_better=direction)
    tables = {
        "top_k": fit.top_k(k=ks, lower_is_better=direction),
        "cumulative_rank_probabilities": cumulative.rename(
            columns={"k": "rank", "probability": "cumulative_probability"}
        ),
    }
    if mcid is not None:
        tables["prob_difference"] = fit.prob_difference(threshold=mcid, lower_is_better=direction)
    if fit.network.classes:
        tables["class_top_k"] = fit.class_top_k(k=ks, lower_is_better=direction)
    return tables


def _is_indexed(name: str) -> bool:
    """Whether a table's index carries information (the league table's row treatments)."""
    return name == "league_table"


def export_tables(
    fit,
    path,
    *,
    format: str = "csv",
    lower_is_better: bool | None = None,
    ci_prob: float = 0.95,
    mcid: float | None = None,
    nodesplit: pd.DataFrame | None = None,
    design_by_treatment=None,
    evidence: bool = False,
    cinema=None,
    thresholds=None,
) -> list[Path]:
    """Write a fit's relative effects, league table and (direction known) SUCRA and decisions.

    Parameters
    ----------
    fit : NetworkFit
        A fitted network.
    path : str or Path
        ``format="csv"``: a directory (created if needed) receiving one file per table
        (``relative_effects.csv``, ``relative_effects_all_pairs.csv``, ``league_table.csv``,
        ``sucra.csv``, ``top_k.csv``, ``cumulative_rank_probabilities.csv``,
        ``prob_difference.csv`` (with ``mcid``), ``class_top_k.csv`` (with classes), and
        ``regression.csv`` for a meta-regression; see :func:`fit_tables`). ``"xlsx"``: the
        workbook file, one sheet per table. ``"html"``: the HTML file, one escaped table per
        section. CSV and xlsx tables are neutralised against
        spreadsheet formula injection by :func:`spreadsheet_safe` (names starting with ``=``,
        ``+``, ``-``, ``@`` get a leading ``'``; control characters are escaped).
    format : {"csv", "xlsx", "html"}
        Output format.
    lower_is_better : bool, optional
        Benefit direction; SUCRA and the decision tables are written only when it is known
        (given here or recorded on the network).
    ci_prob : float
        Interval probability.
    mcid : float, optional
        Minimal clinically important difference on the effect scale of the fit: adds the
        probability of beating the reference by more than it (``prob_difference``).
    nodesplit : DataFrame, optional
        The table of :func:`nma_bayes.nodesplit` for this network: written as ``nodesplit``.
    design_by_treatment : DesignByTreatment, optional
        The result of :func:`nma_bayes.design_by_treatment` for this network: written as
        ``design_by_treatment`` (inconsistency parameters) and ``design_by_treatment_fit``
        (residual deviance, pD and DIC of the consistency and design-by-treatment models).
    evidence : bool
        Also write the sampling-free evidence structure of the fit: ``q_decomposition``
        (Krahn et al. 2013), ``evidence_summary`` (proportion of direct evidence, mean path
        length, minimal parallelism; König et al. 2013) and ``contribution_matrix`` (long
        table; Papakonstantinou et al. 2018), with the fit's effects model and posterior median
        ``tau`` (arm-level outcomes by their normal approximation; not written where they are
        not defined, e.g. the cloglog link).
    cinema : Confidence, optional
        The result of :func:`nma_bayes.cinema` for this fit: written as ``cinema`` (its
        ``to_frame()``: per comparison the numbers, the six domains and the rating).
    thresholds : Thresholds, optional
        The result of :func:`nma_bayes.threshold_analysis` (or ``threshold_table``): written as
        ``thresholds`` (its ``to_frame()``; infinite thresholds as ``inf``).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ModelSpecError
        If ``mcid`` is not a number ``>= 0`` or is given without a direction, or ``nodesplit``,
        ``design_by_treatment``, ``evidence``, ``cinema`` or ``thresholds`` is not what it
        should be (before anything is written).
    """
    from .cinema_sections import check_cinema, check_thresholds

    if format not in EXPORT_FORMATS:
        raise ValueError(f"format={format!r}: use one of {EXPORT_FORMATS}.")
    cinema, thresholds = check_cinema(cinema, fit), check_thresholds(thresholds)
    tables = fit_tables(fit, lower_is_better=lower_is_better, ci_prob=ci_prob, mcid=mcid)
    if nodesplit is not None or design_by_treatment is not None or evidence is not False:
        from .inconsistency_sections import inconsistency_tables

        tables |= inconsistency_tables(
            fit,
            nodesplit=nodesplit,
            design_by_treatment=design_by_treatment,
            evidence=check_bool(evidence, "evidence"),
        )
    if cinema is not None:
        tables["cinema"] = cinema.to_frame()
    if thresholds is not None:
        tables["thresholds"] = thresholds.to_frame()
    if format != "html":
        tables = {name: spreadsheet_safe(table) for name, table in tables.items()}
    path = Path(path)
    if format == "csv":
        path.mkdir(parents=True, exist_ok=True)
        written = []
        for name, table in tables.items():
            out = path / f"{name}.csv"
            table.to_csv(out, index=_is_indexed(name))
            written.append(out)
        return written
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, table in tables.items():
                # sheet names are at most 31 characters
                table.to_excel(writer, sheet_name=name[:31], index=_is_indexed(name))
        return [path]
    path.write_text(tables_html(tables, title="nma_bayes tables"), encoding="utf-8")
    return [path]


def table_html(name: str, table: pd.DataFrame, *, float_format: str = "{:.3f}") -> str:
    """One table as an escaped HTML ``<table>`` (numbers to 3 decimals)."""
    return table.to_html(
        escape=True,
        index=_is_indexed(name),
        float_format=float_format.format,
        na_rep="",
        border=0,
        classes="nma-table",
    )


def tables_html(tables: dict[str, pd.DataFrame], *, title: str) -> str:
    """Render a standalone HTML page with one section per table (all text escaped)."""
    body = "".join(
        f'<section id="{escape(name.replace("_", "-"))}">'
        f"<h2>{escape(TABLE_TITLES.get(name, name))}</h2>{table_html(name, table)}</section>"
        for name, table in tables.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )
