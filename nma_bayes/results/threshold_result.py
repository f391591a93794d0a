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
        The optimal treatment at the posterior means (its name, or its code ``1..K``); with the
        MCID decision rule (``mcid > 0``, ``mcid_type="decision"``; Phillippo et al. 2019) the
        optimal *set*, a tuple of treatments in network order (possibly empty).
    treatments : tuple
        Treatments ``1..K`` (names or codes).
    contrasts : tuple of (object, object)
        The ``K(K-1)/2`` contrasts ``(a, b)`` (``d_b - d_a``) of ``U``'s rows, nmathresh's order.
    ukstar_contrasts : tuple of (object, object)
        The contrasts of ``Ukstar``'s rows (those with ``kstar``, or with a member of the set).
    nmatype : str
        ``"fixed"`` or ``"random"``.
    lower_is_better : bool
        Whether the optimal treatment minimises the outcome.
    mcid : float
        The minimal clinically important difference of the decision rule (0: maximal efficacy).
    mcid_type : str
        ``"decision"`` (the MCID defines an optimal set) or ``"change"`` (maximal efficacy; a new
        decision needs an alternative better by at least ``mcid``).
    sets : tuple of (str, tuple of int)
        The sets of data points (1-based) adjusted by a common bias: the table's last rows.

    Notes
    -----
    ``H``, ``U`` and ``Ukstar`` have one column per table row: the data points, then the sets
    (influence ``H w``). With the MCID decision rule ``U`` is nmathresh's (each contrast reaching
    the MCID margin on its own side); the table's thresholds there come from the exact search of
    :mod:`~nma_bayes.results.threshold_rules`.
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
    mcid: float = 0.0
    mcid_type: str = "decision"
    sets: tuple = field(default=(), repr=False)

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if name in {"table", "H", "U", "Ukstar"}:
            return value.copy()  # a frozen result: callers get copies
        return value

    def to_frame(self) -> pd.DataFrame:
        """Return one row per data point, then one per common-bias set.

        Columns ``data_point`` (1-based), ``study``, ``contrast``, ``y``, ``threshold_lower``,
        ``threshold_upper`` (adjustments to ``y``; infinite where no adjustment in that direction
        changes the decision), ``new_optimal_lower``, ``new_optimal_upper`` (``None`` where
        infinite; with the MCID decision rule the new optimal set, ``"A, B"``, or ``"none"``),
        ``invariant_lower``, ``invariant_upper`` (``y`` plus the thresholds; NaN when ``y`` was
        not given), ``se`` (the data point's likelihood standard error). A set adjusted by a
        common bias is a last row with ``data_point`` None, ``study`` its name, ``contrast``
        ``"common bias (n data points)"`` and ``y``, ``se`` NaN.
        """
        return self.table

    def ukstar_frame(self) -> pd.DataFrame:
        """Return ``Ukstar`` labelled: ``a, b`` (contrast ``d_ab`` with k*), ``dp1..``, sets."""
        ukstar = self.Ukstar
        n_points = ukstar.shape[1] - len(self.sets)
        cols = [f"dp{m + 1}" for m in range(n_points)] + [name for name, _ in self.sets]
        frame = pd.DataFrame(ukstar, columns=cols)
        frame.insert(0, "b", [b for _, b in self.ukstar_contrasts])
        frame.insert(0, "a", [a for a, _ in self.ukstar_contrasts])
        return frame

    @property
    def is_set_rule(self) -> bool:
        """Whether the decision is an optimal set (MCID decision rule, Phillippo et al. 2019)."""
        return isinstance(self.kstar, tuple)

    def rule(self) -> str:
        """Return the decision rule in words."""
        if self.mcid == 0:
            return "maximal efficacy"
        if self.mcid_type == "change":
            return f"maximal efficacy; a change needs a difference of at least {self.mcid:g}"
        return (f"all treatments better than {self.treatments[0]} by at least {self.mcid:g} "
                f"and within {self.mcid:g} of the best")  # fmt: skip

    def __repr__(self) -> str:
        table = self.table
        finite = np.isfinite(table[["threshold_lower", "threshold_upper"]].to_numpy()).sum()
        rule = "" if self.mcid == 0 else f", mcid {self.mcid:g} ({self.mcid_type})"
        sets = f", {len(self.sets)} common-bias sets" if self.sets else ""
        return (
            f"Thresholds(k* {self.kstar!r}, {len(table) - len(self.sets)} data points{sets}, "
            f"{self.nmatype} effects{rule}, "
            f"{finite} finite thresholds of {2 * len(table)})"
        )

    def _repr_html_(self) -> str:
        kstar = (", ".join(map(str, self.kstar)) or "none") if self.is_set_rule else self.kstar
        facts = {
            "optimal set k*" if self.is_set_rule else "optimal treatment k*": str(kstar),
            "decision rule": self.rule(),
            "model": f"{self.nmatype} effects",
            "direction": "lower is better" if self.lower_is_better else "higher is better",
            "data points": str(len(self.table) - len(self.sets)),
        }
        if self.sets:
            facts["common-bias sets"] = str(len(self.sets))
        caption = "Adjustment thresholds (inf: no threshold) and new optimal treatments"
        table = self.table.dropna(axis=1, how="all")
        return evidence_html("Thresholds", facts, caption, table)
