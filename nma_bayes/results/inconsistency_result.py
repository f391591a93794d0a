"""Tidy result of the Bayesian design-by-treatment interaction model (Higgins et al. 2012).

:class:`DesignByTreatment` is returned by :func:`nma_bayes.analyses.design_by_treatment.
design_by_treatment`; it holds two small tables (copied on access) and no fits, so it can be sent
back from a Dask worker, printed, exported or drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import pandas as pd

from ..base.html import facts_table, number

__all__ = ["DesignByTreatment"]

#: Columns of :attr:`DesignByTreatment.inconsistency`.
INCONSISTENCY_COLUMNS = ("design", "treatment", "comparator", "omega", "omega_lower",
                         "omega_upper", "p_value", "contraction", "ess_bulk", "r_hat")  # fmt: skip
#: Columns of :attr:`DesignByTreatment.model_fit`.
MODEL_FIT_COLUMNS = ("model", "resdev", "pD", "DIC", "n_data")


@dataclass(frozen=True, eq=False)
class DesignByTreatment:
    """The design-by-treatment interaction model against the consistency model.

    Attributes
    ----------
    inconsistency : DataFrame
        One row per inconsistency parameter ``omega``: ``design`` (its treatments, ``"A:B:C"``),
        ``treatment`` and ``comparator`` (the design's baseline: ``omega`` shifts the effect of
        ``treatment`` vs ``comparator`` in the studies of that design), the posterior median
        ``omega`` with its interval, the Bayesian p-value ``2 min(P(omega > 0), P(omega < 0))``,
        the posterior contraction ``1 - Var(omega | y) / Var(omega)`` (near 1: the data inform
        ``omega``; below 0.9 it is mostly its prior, and its interval and p-value say little),
        the bulk ESS and R-hat of ``omega``.
    model_fit : DataFrame
        ``model`` (``"consistency"``, ``"design-by-treatment"``), ``resdev, pD, DIC, n_data``
        (posterior mean residual deviance, effective number of parameters, DIC; Spiegelhalter
        et al. 2002, TSD2's plug-in).
    ci_prob : float
        Interval probability.
    global_test : dict
        ``Q``, ``df``, ``p_value``: the Bayesian global Wald test of all ``omega`` at 0
        (posterior mean and covariance of ``omega``; for a fixed-effect model with a vague prior,
        netmeta's between-designs Q; :func:`~nma_bayes.analyses.design_by_treatment.global_wald`).
    """

    _inconsistency: pd.DataFrame = field(repr=False)
    _model_fit: pd.DataFrame = field(repr=False)
    ci_prob: float = 0.95
    global_test: dict = field(default_factory=dict)

    @property
    def inconsistency(self) -> pd.DataFrame:
        """The inconsistency parameters (see the class attributes)."""
        return self._inconsistency.copy()

    @property
    def model_fit(self) -> pd.DataFrame:
        """Model fit of both models (see the class attributes)."""
        return self._model_fit.copy()

    @property
    def n_parameters(self) -> int:
        """Number of inconsistency parameters (the between-designs degrees of freedom)."""
        return len(self._inconsistency)

    @property
    def dic_difference(self) -> float:
        """DIC of the design-by-treatment model minus the consistency model's.

        Positive: the consistency model is preferred (a difference under about 3-5 is usually
        not taken as important; TSD4).
        """
        dic = self._model_fit.set_index("model")["DIC"]
        return float(dic["design-by-treatment"] - dic["consistency"])

    def to_frame(self) -> pd.DataFrame:
        """Both tables stacked: ``table`` (``"model_fit"``, ``"inconsistency"``) and the columns."""
        return pd.concat(
            [self._model_fit.assign(table="model_fit"),
             self._inconsistency.assign(table="inconsistency")], ignore_index=True,
        )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"DesignByTreatment({self.n_parameters} inconsistency parameters, "
            f"DIC difference {self.dic_difference:+.2f})"
        )

    def _repr_html_(self) -> str:
        facts = {
            "Inconsistency parameters": str(self.n_parameters),
            "DIC (design-by-treatment - consistency)": number(self.dic_difference),
            "Interval": f"{self.ci_prob:.0%} credible",
        }
        if self.global_test:
            g = self.global_test
            facts["Global Wald test of omega = 0"] = (
                f"Q = {number(g['Q'])}, df = {g['df']}, p = {number(g['p_value'])}"
            )
        tables = "".join(
            t.to_html(index=False, escape=True, float_format=lambda v: number(v), na_rep="")
            for t in (self._model_fit, self._inconsistency)
        )
        return (
            f"<div class='nma-dbt'><strong>{escape('Design-by-treatment interaction model')}"
            f"</strong>{facts_table(facts, 'nma-dbt-facts')}{tables}</div>"
        )
