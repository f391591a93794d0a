"""The result of a threshold analysis (:func:`~nma_bayes.results.threshold.threshold_table`).

:class:`Thresholds` holds the per-data-point table and nmathresh's matrices (Phillippo et al.
2018, J R Stat Soc A 181:843-867; nmathresh 0.1.6 ``thresh`` objects): the influence matrix ``H``,
the threshold solutions ``U`` and their rows for contrasts with the optimal treatment, ``Ukstar``.
Arrays and tables are copied on access.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .evidence_result import evidence_html

__all__ = ["Thresholds"]


@dataclass(frozen=True, eq=False)
class Thresholds:
    """Bias-adjustment thresholds of every data point (Phillippo et al. 2018; nmathresh 0.1.6).

    Attributes
    ----------
    kstar : object
        The optimal treatment at the posterior means (its name, or its code ``1..K``).
    treatments : tuple
        Treatments ``1..K`` (names or codes).
    contrasts : tuple of (object, object)
        The ``K(K-1)/2`` contrasts ``(a, b)`` (``d_b - d_a``) of ``U``'s rows, nmathresh's order.
    ukstar_contrasts : tuple of (object, object)
        The contrasts of ``Ukstar``'s rows (those with ``kstar``).
    nmatype : str
        ``"fixed"`` or ``"random"``.
    lower_is_better : bool
        Whether the optimal treatment minimises the outcome.
    """

    table: pd.DataFrame = field(repr=False)
    H: np.ndarray = field(repr=False)
    U: np.ndarray = field(repr=False)
    Ukstar: np.ndarray = field(repr=False)
    contrasts: tuple = field(repr=False)
    ukstar_contrasts: tuple = field(repr=False)
    kstar: object = None
    treatments: tuple = ()
    nmatype: str = "fixed"
    lower_is_better: bool = True

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if name in {"table", "H", "U", "Ukstar"}:
            return value.copy()  # a frozen result: callers get copies
        return value

    def to_frame(self) -> pd.DataFrame:
        """Return one row per data point.

        Columns ``data_point`` (1-based), ``study``, ``contrast``, ``y``, ``threshold_lower``,
        ``threshold_upper`` (adjustments to ``y``; infinite where no adjustment in that direction
        changes the decision), ``new_optimal_lower``, ``new_optimal_upper`` (``None`` where
        infinite), ``invariant_lower``, ``invariant_upper`` (``y`` plus the thresholds; NaN when
        ``y`` was not given), ``se`` (the data point's likelihood standard error).
        """
        return self.table

    def ukstar_frame(self) -> pd.DataFrame:
        """Return ``Ukstar`` labelled: columns ``a, b`` (contrast ``d_ab`` with k*), ``dp1..``."""
        ukstar = self.Ukstar
        cols = [f"dp{m + 1}" for m in range(ukstar.shape[1])]
        frame = pd.DataFrame(ukstar, columns=cols)
        frame.insert(0, "b", [b for _, b in self.ukstar_contrasts])
        frame.insert(0, "a", [a for a, _ in self.ukstar_contrasts])
        return frame

    def __repr__(self) -> str:
        table = self.table
        finite = np.isfinite(table[["threshold_lower", "threshold_upper"]].to_numpy()).sum()
        return (
            f"Thresholds(k* {self.kstar!r}, {len(table)} data points, {self.nmatype} effects, "
            f"{finite} finite thresholds of {2 * len(table)})"
        )

    def _repr_html_(self) -> str:
        facts = {
            "optimal treatment k*": str(self.kstar),
            "model": f"{self.nmatype} effects",
            "direction": "lower is better" if self.lower_is_better else "higher is better",
            "data points": str(len(self.table)),
        }
        caption = "Adjustment thresholds (inf: no threshold) and new optimal treatments"
        table = self.table.dropna(axis=1, how="all")
        return evidence_html("Thresholds", facts, caption, table)
