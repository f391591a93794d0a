"""Result objects of the net heat plot and the comparison-adjusted funnel plot.

:class:`NetHeat` (:func:`~nma_bayes.results.netheat.netheat`) and :class:`Funnel`
(:func:`~nma_bayes.results.funnel.funnel`) hold DataFrames, copied on access, so that a table
can be printed, exported or drawn by :func:`~nma_bayes.plots.plot_netheat` /
:func:`~nma_bayes.plots.plot_funnel`. Comparisons are written ``"A:B"``: the effect of ``A``
minus ``B`` (netmeta's labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..base.html import number
from .evidence_result import evidence_html

__all__ = ["NetHeat", "Funnel"]


@dataclass(frozen=True, eq=False)
class NetHeat:
    """Net heat plot matrices (Krahn et al. 2013; netmeta ``netheat``).

    Attributes
    ----------
    effects : str
        ``"fixed"`` or ``"random"``.
    tau : float
        Between-study SD of the model (0 for fixed effects).
    tau_preset : bool
        Whether ``tau`` was given rather than the within-design method-of-moments estimate.
    reference : str
        Baseline of every design that holds it.
    dropped_designs : tuple of str
        Designs left out (no inconsistency contribution, or not detachable), as netmeta does.
    dropped_arms : DataFrame
        ``study, treatment``: duplicate arms left out (``duplicate_arms="first"``).
    n_arms : dict
        Number of treatments of every design (labels of multi-arm design rows name the design).
    """

    _long: pd.DataFrame = field(repr=False)
    effects: str = "fixed"
    tau: float = 0.0
    tau_preset: bool = False
    reference: str = ""
    dropped_designs: tuple[str, ...] = ()
    dropped_arms: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    n_arms: dict = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per cell.

        Columns ``row_pos, row_design, row_comparison, col_pos, col_design, col_comparison``
        (positions 1-based in the clustering order), ``heat`` (change of the row's contribution
        to the between-designs Q when the column's design is detached; the diagonal is
        ``-Q_row_before``), ``Q_row_before``, ``Q_row_after`` and ``H`` (hat matrix element).
        """
        return self._long.copy()

    def labels(self) -> list[str]:
        """Return the design-row labels in the clustering order.

        ``"A:B"``, or ``"A:B_A:B:C"`` for a row of a multi-arm design (netmeta's labels).
        """
        first = self._long[self._long["col_pos"] == 1].sort_values("row_pos")
        return [
            c if self.n_arms.get(d, 2) <= 2 else f"{c}_{d}"
            for d, c in zip(first["row_design"], first["row_comparison"], strict=True)
        ]

    def _wide(self, value: str) -> pd.DataFrame:
        labels = self.labels()
        wide = self._long.pivot(index="row_pos", columns="col_pos", values=value)
        wide.index, wide.columns = labels, labels
        return wide.rename_axis(index="row", columns="column")

    def matrix(self) -> pd.DataFrame:
        """Return the heat matrix (rows and columns: design rows in the clustering order)."""
        return self._wide("heat")

    @property
    def hat(self) -> pd.DataFrame:
        """Return the hat matrix ``H``, laid out like :meth:`matrix`."""
        return self._wide("H")

    def __repr__(self) -> str:
        n = int(self._long["row_pos"].max())
        return (f"NetHeat({n} design rows, effects={self.effects!r}, tau={self.tau:.4g}, "
                f"{len(self.dropped_designs)} designs left out)")  # fmt: skip

    def _repr_html_(self) -> str:
        facts = {"effects": self.effects, "tau": number(self.tau), "reference": self.reference,
                 "designs left out": ", ".join(self.dropped_designs) or "none"}  # fmt: skip
        caption = "Heat: change of the row's Q contribution when the column's design is detached"
        return evidence_html("NetHeat", facts, caption, self.matrix().reset_index())


@dataclass(frozen=True, eq=False)
class Funnel:
    """Comparison-adjusted funnel plot data and small-study-effect tests (Chaimani et al. 2013).

    Attributes
    ----------
    order : tuple of str
        Treatment order: every comparison is the earlier treatment vs the later one.
    pooled : str
        ``"fixed"`` or ``"random"``: which pooled direct estimate is subtracted.
    tau : float
        Between-study SD of those direct estimates (netmeta's DerSimonian-Laird ``tau`` of the
        network; 0 for ``"fixed"``).
    dropped_arms : DataFrame
        ``study, treatment``: duplicate arms left out (``duplicate_arms="first"``).
    """

    _table: pd.DataFrame = field(repr=False)
    _tests: pd.DataFrame = field(repr=False)
    order: tuple[str, ...] = ()
    pooled: str = "fixed"
    tau: float = 0.0
    dropped_arms: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per study and pair of its treatments.

        Columns ``study, treat1, treat2`` (``treat1`` before ``treat2`` in ``order``),
        ``comparison`` (``"treat1:treat2"``), ``TE`` (effect of ``treat1`` minus ``treat2``),
        ``TE_direct`` (pooled direct estimate of the comparison), ``TE_adj`` (``TE -
        TE_direct``) and ``seTE`` (the study's standard error, unadjusted).
        """
        return self._table.copy()

    def tests(self) -> pd.DataFrame:
        """Return the tests of funnel-plot asymmetry on ``TE_adj`` (meta's ``metabias``).

        Rows ``Egger`` (linear regression, Egger et al. 1997), ``Begg`` (rank correlation,
        Begg & Mazumdar 1994) and ``Thompson`` (Thompson & Sharp 1999); columns ``method, k,
        statistic, df, p_value, estimate, se, intercept, estimate_name, se_name``
        (``bias``/``se.bias``, or Kendall's score ``ks``/``se.ks`` for Begg's test; the
        regressions' fitted line is ``TE_adj = intercept + estimate * seTE``).
        """
        return self._tests.copy()

    def __repr__(self) -> str:
        p = self._tests.set_index("method")["p_value"]
        return (f"Funnel({len(self._table)} study comparisons, pooled={self.pooled!r}; "
                f"p Egger {p['Egger']:.3g}, Begg {p['Begg']:.3g}, "
                f"Thompson {p['Thompson']:.3g})")  # fmt: skip

    def _repr_html_(self) -> str:
        facts = {"order": " > ".join(self.order), "pooled": self.pooled,
                 "tau": number(self.tau), "study comparisons": str(len(self._table))}  # fmt: skip
        return evidence_html("Funnel", facts, "Tests of funnel-plot asymmetry", self._tests)
