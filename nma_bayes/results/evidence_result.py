"""Tidy results of the frequentist evidence-structure quantities of a network.

:class:`QDecomposition` (:func:`~nma_bayes.results.q_decomposition.decompose_q`),
:class:`EvidenceSummary` (:func:`~nma_bayes.results.evidence_flow.evidence_summary`) and
:class:`ContributionMatrix` (:func:`~nma_bayes.results.contribution.contribution_matrix`) hold
DataFrames, copied on access, so that a table can be printed, exported or drawn by a later
``plot_*``. Comparisons are written ``"A:B"``: the effect of ``A`` minus ``B`` (netmeta's labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import pandas as pd

from ..base.html import facts_table, number

__all__ = ["QDecomposition", "EvidenceSummary", "ContributionMatrix", "evidence_html"]

#: Rows of a table shown by ``_repr_html_`` before the rest are counted.
MAX_HTML_ROWS = 12


def evidence_html(title: str, facts: dict[str, str], caption: str, table: pd.DataFrame) -> str:
    """Return a titled facts table and the first rows of ``table`` (every string escaped)."""
    shown = table.head(MAX_HTML_ROWS)
    more = ""
    if len(table) > len(shown):
        more = f"<div class='nma-evidence-more'>… and {len(table) - len(shown)} more rows</div>"
    body = shown.to_html(index=False, escape=True, float_format=lambda v: number(v), na_rep="")
    return (
        f"<div class='nma-evidence'><strong>{escape(title)}</strong>"
        f"{facts_table(facts, 'nma-evidence-facts')}"
        f"<div class='nma-evidence-caption'><em>{escape(caption)}</em></div>{body}{more}</div>"
    )


@dataclass(frozen=True, eq=False)
class QDecomposition:
    """Design-based decomposition of Cochran's Q (Krahn et al. 2013; netmeta ``decomp.design``).

    Attributes
    ----------
    reference : str
        Baseline of every design that holds it.
    tau : float
        Between-study SD of the random-effects tables (``random``, ``Q_random``).
    tau_within : float
        Method-of-moments SD of the full design-by-treatment interaction model (Jackson et al.
        2012): the default ``tau``.
    tau_preset : bool
        Whether ``tau`` was given rather than ``tau_within``.
    """

    q: pd.DataFrame = field(repr=False)
    within_designs: pd.DataFrame = field(repr=False)
    detached: pd.DataFrame = field(repr=False)
    random: pd.DataFrame = field(repr=False)
    contributions: pd.DataFrame = field(repr=False)
    reference: str = ""
    tau: float = 0.0
    tau_within: float = 0.0
    tau_preset: bool = False

    def summary(self) -> pd.DataFrame:
        """Return the Q statistics: ``part, Q, df, p_value``.

        Whole network, within designs and between designs (common effects), and between designs
        in the random-effects design-by-treatment interaction model.
        """
        rnd = self.random.assign(part="Between designs (random effects)")
        return pd.concat([self.q, rnd[["part", "Q", "df", "p_value"]]], ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        """Return every table stacked in one long table.

        Columns ``part`` (``"decomposition"``, ``"within"``, ``"detached"``, ``"random"``,
        ``"contribution"``, ``"contribution_random"``), ``design, comparison, Q, df, p_value,
        tau``.
        """
        q = self.q.rename(columns={"part": "design"}).assign(part="decomposition")
        rnd = self.random.assign(part="random", design="Between designs")
        common = self.contributions.rename(columns={"Q_common": "Q"}).assign(part="contribution")
        random = self.contributions.rename(columns={"Q_random": "Q"})
        random = random.assign(part="contribution_random", tau=self.tau)
        parts = [
            q,
            self.within_designs.assign(part="within"),
            self.detached.assign(part="detached"),
            rnd,
            common.drop(columns="Q_random"),
            random.drop(columns="Q_common"),
        ]
        cols = ["part", "design", "comparison", "Q", "df", "p_value", "tau"]
        return pd.concat(parts, ignore_index=True).reindex(columns=cols)

    def __repr__(self) -> str:
        q = self.q.set_index("part")["Q"]
        return (
            f"QDecomposition(Q total {q['Total']:.4g}, within designs {q['Within designs']:.4g}, "
            f"between designs {q['Between designs']:.4g}; random-effects between designs "
            f"{float(self.random['Q'].iloc[0]):.4g} at tau {self.tau:.4g})"
        )

    def _repr_html_(self) -> str:
        source = "preset" if self.tau_preset else "within-design method of moments"
        facts = {"reference": self.reference, "tau (random effects)": f"{number(self.tau)} "
                 f"({source})", "designs": str(len(self.within_designs))}  # fmt: skip
        caption = "Decomposition of Cochran's Q"
        return evidence_html("QDecomposition", facts, caption, self.summary())


@dataclass(frozen=True, eq=False)
class EvidenceSummary:
    """Evidence measures of every comparison (König et al. 2013; netmeta ``netmeasures``).

    Attributes
    ----------
    effects : str
        ``"fixed"`` or ``"random"``.
    tau : float
        Between-study SD of the model (0 for fixed effects).
    """

    _table: pd.DataFrame = field(repr=False)
    _flow: pd.DataFrame = field(repr=False)
    effects: str = "random"
    tau: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """Return the measures per comparison.

        Columns ``comparison, treatment, comparator, proportion_direct, mean_path_length,
        minimal_parallelism, minimal_parallelism_study``.
        """
        return self._table.copy()

    def design_flow(self) -> pd.DataFrame:
        """Return the design-based hat matrix ``H~``: ``comparison, design, flow``.

        The absolute flow of evidence through each design, for every comparison.
        """
        return self._flow.copy()

    def __repr__(self) -> str:
        return (
            f"EvidenceSummary({len(self._table)} comparisons, effects={self.effects!r}, "
            f"tau={self.tau:.4g})"
        )

    def _repr_html_(self) -> str:
        facts = {"effects": self.effects, "tau": number(self.tau)}
        caption = "Direct evidence, mean path length, minimal parallelism"
        return evidence_html("EvidenceSummary", facts, caption, self._table)


@dataclass(frozen=True, eq=False)
class ContributionMatrix:
    """Contribution of each direct comparison (or study) to each network estimate.

    Attributes
    ----------
    method : str
        ``"shortestpath"`` (Papakonstantinou et al. 2018) or ``"randomwalk"`` (Davies et al.
        2022).
    effects : str
        ``"fixed"`` or ``"random"``.
    by : str
        ``"comparison"`` (columns are direct comparisons) or ``"study"``.
    tau : float
        Between-study SD of the model (0 for fixed effects).
    """

    _long: pd.DataFrame = field(repr=False)
    method: str = "shortestpath"
    effects: str = "random"
    by: str = "comparison"
    tau: float = 0.0

    @property
    def column(self) -> str:
        """Name of the contributing unit's column: ``"direct_comparison"`` or ``"study"``."""
        return "direct_comparison" if self.by == "comparison" else "study"

    def to_frame(self) -> pd.DataFrame:
        """Return the long table of contributions.

        Columns ``comparison, treatment, comparator``, the contributing ``direct_comparison``
        or ``study``, and ``contribution`` (proportions; they sum to 1 per comparison).
        """
        return self._long.copy()

    def matrix(self) -> pd.DataFrame:
        """Wide matrix: rows network comparisons, columns direct comparisons (or studies)."""
        wide = self._long.pivot(index="comparison", columns=self.column, values="contribution")
        rows = list(dict.fromkeys(self._long["comparison"]))
        cols = list(dict.fromkeys(self._long[self.column]))
        return wide.loc[rows, cols].rename_axis(index="comparison", columns=self.column)

    def __repr__(self) -> str:
        n_rows = self._long["comparison"].nunique()
        n_cols = self._long[self.column].nunique()
        unit = "direct comparisons" if self.by == "comparison" else "studies"
        return (
            f"ContributionMatrix({n_rows} comparisons x {n_cols} {unit}, "
            f"method={self.method!r}, effects={self.effects!r}, tau={self.tau:.4g})"
        )

    def _repr_html_(self) -> str:
        facts = {"method": self.method, "effects": self.effects, "by": self.by,
                 "tau": number(self.tau)}  # fmt: skip
        caption = "Contributions (proportions; each comparison's sum to 1)"
        return evidence_html("ContributionMatrix", facts, caption, self.matrix().reset_index())
