"""The result of a CINeMA assessment (:func:`nma_bayes.analyses.cinema.cinema`).

:class:`Confidence` holds one row per network comparison (the judgement of each of CINeMA's six
domains, the numbers behind it and the confidence rating) and the study contributions the
within-study bias and indirectness judgements read; tables are copied on access. Draw it with
:func:`nma_bayes.plots.plot_confidence`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from ..base.html import facts_table, number
from .cinema_rules import RATINGS

__all__ = ["Confidence", "DOMAINS", "RATING_COLOURS"]

#: CINeMA's six domains, in its report's order (column names of the tables).
DOMAINS = ("within_study_bias", "reporting_bias", "indirectness", "imprecision",
           "heterogeneity", "incoherence")  # fmt: skip
#: Colours of the ratings (CINeMA's report palette: green, blue, amber, red).
RATING_COLOURS = {"high": "#1a9850", "moderate": "#4575b4", "low": "#f4a52b",
                  "very low": "#d73027"}  # fmt: skip


@dataclass(frozen=True, eq=False)
class Confidence:
    """Confidence in every network estimate: CINeMA's six domains and rating.

    Attributes
    ----------
    zone : tuple of float
        The range of equivalence ``(-mcid, mcid)`` on the model's scale.
    rule : str
        How study judgements are summarised (``"majority"``, ``"average"``, ``"highest"``).
    ci_prob : float
        Probability of the credible, prediction, direct and indirect intervals.
    effects : str
        ``"fixed"`` or ``"random"``: the fit's model.
    global_test : dict
        The global test of incoherence used for indirect-only comparisons (``Q, df, p_value``;
        empty when none was needed or possible).
    treatments : tuple of str
        The network's treatments, in its order (rows and columns of :meth:`league`).
    """

    _table: pd.DataFrame = field(repr=False)
    _contributions: pd.DataFrame = field(repr=False)
    zone: tuple = (0.0, 0.0)
    rule: str = "majority"
    ci_prob: float = 0.95
    effects: str = "random"
    global_test: dict = field(default_factory=dict)
    treatments: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        """Return one row per comparison with every number and judgement.

        Columns: ``treatment, comparator`` (effect of ``treatment`` vs ``comparator``),
        ``evidence`` (``"mixed"``, ``"direct"``, ``"indirect"``), ``median, ci_lower,
        ci_upper, pi_lower, pi_upper``; the contribution-weighted shares of low / some / high
        risk-of-bias and indirectness studies (``rob_low`` ... ``indirectness_high``); the
        node-split ``direct_lower, direct_upper, indirect_lower, indirect_upper, p_value``
        (mixed comparisons); the six domains (level names; ``"not assessed"`` for reporting
        bias without judgements); ``incoherence_basis``, ``downgrades``, ``rating``,
        ``overridden`` (what was set by hand).
        """
        return self._table.copy()

    def summary(self) -> pd.DataFrame:
        """CINeMA's report: per comparison, the six domains and the confidence rating."""
        cols = ["treatment", "comparator", *DOMAINS, "rating"]
        return self._table[cols].copy()

    def contributions(self) -> pd.DataFrame:
        """Study contributions to every comparison, with the study's two judgements.

        Columns ``treatment, comparator, study, contribution, rob, indirectness`` (levels 1-3):
        the bar charts of CINeMA's within-study bias and indirectness domains.
        """
        return self._contributions.copy()

    def counts(self) -> pd.DataFrame:
        """How many comparisons have each rating (rows ``high`` ... ``very low``)."""
        counts = self._table["rating"].value_counts().reindex(RATINGS, fill_value=0)
        return counts.rename_axis("rating").reset_index(name="comparisons")

    def league(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Square league tables ``(estimates, ratings)`` over the treatments.

        Cell ``[row, column]`` is the effect of the row treatment vs the column treatment,
        ``"median (lower, upper)"``, and its rating; the diagonal is empty.
        """
        t, names = self._table, list(self.treatments)
        est = pd.DataFrame("", index=names, columns=names)
        rat = pd.DataFrame("", index=names, columns=names)
        for row in t.itertuples():
            for a, b, sign in (
                (row.treatment, row.comparator, 1),
                (row.comparator, row.treatment, -1),
            ):
                lo, hi = sorted((sign * row.ci_lower, sign * row.ci_upper))
                est.loc[a, b] = f"{sign * row.median:.2f} ({lo:.2f}, {hi:.2f})"
                rat.loc[a, b] = row.rating
        return est, rat

    def __repr__(self) -> str:
        counts = ", ".join(f"{r}: {n}" for r, n in self.counts().itertuples(index=False))
        return f"Confidence({len(self._table)} comparisons; {counts})"

    def _repr_html_(self) -> str:
        facts = {
            "Range of equivalence": f"({number(self.zone[0])}, {number(self.zone[1])})",
            "Study-judgement rule": self.rule,
            "Intervals": f"{self.ci_prob:.0%} credible / prediction",
            "Model": f"{self.effects} effects",
        }
        rows = []
        for row in self.summary().itertuples(index=False):
            colour = RATING_COLOURS[row.rating]
            cells = "".join(f"<td>{escape(str(v))}</td>" for v in row[:-1])
            rows.append(f"<tr>{cells}<td style='background:{colour};color:white'>"
                        f"{escape(row.rating)}</td></tr>")  # fmt: skip
        head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in self.summary().columns)
        return (
            f"<div class='nma-cinema'><strong>Confidence in the network estimates (CINeMA)"
            f"</strong>{facts_table(facts, 'nma-cinema-facts')}<table><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def level_names(levels: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """Level codes (1-3, 0 for not assessed) as names."""
    return ["not assessed" if v == 0 else names[int(v) - 1] for v in levels]
