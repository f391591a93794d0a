"""``NetworkFit``: the fit users get, a :class:`~nma_bayes.results.record.FitRecord` with exports.

The record (results layer) holds the data, the model and the posterior accessor, with every
summary as a method; this subclass sits above the report layer, so that ``fit.to_report(...)``
and the table exports can be methods too while the report depends on results and never the
other way round.
"""

from __future__ import annotations

from ..report.export import export_tables
from ..report.html_report import write_report
from ..results.record import FitRecord

__all__ = ["NetworkFit"]


class NetworkFit(FitRecord):
    """A fitted network meta-analysis (returned by :func:`nma_bayes.fit_network`).

    Every summary of :class:`~nma_bayes.results.record.FitRecord` (``relative_effects``,
    ``league_table``, ``sucra``, ``rank_probabilities``, ``heterogeneity``, class summaries,
    ``model_fit``, ``diagnostics``, ...) plus the exports below.
    """

    def to_report(
        self,
        path,
        *,
        lower_is_better: bool | None = None,
        title: str | None = None,
        ci_prob: float = 0.95,
        model_fit: bool = True,
        nodesplit=None,
        sensitivity=None,
        mcid: float | None = None,
        design_by_treatment=None,
        cinema=None,
        thresholds=None,
    ):
        """Write a self-describing single-file HTML report of this fit.

        The keywords are :func:`~nma_bayes.report.html_report.write_report`'s: the benefit direction
        of the rankings, the title, the interval probability, whether to include the model fit
        table, the tables of :func:`nma_bayes.nodesplit` and
        :func:`nma_bayes.prior_sensitivity` to add as sections, ``mcid``, the minimal
        clinically important difference (effect scale of the fit) of the decision section, the
        result of :func:`nma_bayes.design_by_treatment` (section "Inconsistency and
        evidence"), ``cinema``, the result of :func:`nma_bayes.cinema` for this fit (section
        "Confidence in the results (CINeMA)"), and ``thresholds``, the result of
        :func:`nma_bayes.threshold_analysis` (section "Threshold analysis").

        Returns
        -------
        Path
            The file written.
        """
        return write_report(
            self,
            path,
            lower_is_better=lower_is_better,
            title=title,
            ci_prob=ci_prob,
            model_fit=model_fit,
            nodesplit=nodesplit,
            sensitivity=sensitivity,
            mcid=mcid,
            design_by_treatment=design_by_treatment,
            cinema=cinema,
            thresholds=thresholds,
        )

    def to_csv(self, directory, **kwargs):
        """Write relative effects, league table and SUCRA as CSV files into ``directory``."""
        return export_tables(self, directory, format="csv", **kwargs)

    def to_excel(self, path, **kwargs):
        """Write the tables as sheets of one Excel workbook."""
        return export_tables(self, path, format="xlsx", **kwargs)

    def to_html(self, path, **kwargs):
        """Write the tables as one (escaped) HTML file."""
        return export_tables(self, path, format="html", **kwargs)
