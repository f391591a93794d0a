"""The result of :func:`nma_bayes.analyses.influence.leave_one_out`: tidy influence tables.

Case-deletion diagnostics (Viechtbauer & Cheung 2010) of a Bayesian NMA: per study left out, the
relative effects vs the reference, ``tau`` and the SUCRA ranking (Salanti et al. 2011), and their
changes from the full fit, in posterior SDs of the full fit for the effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError

__all__ = [
    "LeaveOneOut",
    "METHODS",
    "EFFECT_COLUMNS",
    "TAU_COLUMNS",
    "RANK_COLUMNS",
    "check_threshold",
]

#: How a study's influence was computed: an exact or MCMC refit without it, importance
#: reweighting of the full fit's draws (PSIS), or not at all (its removal disconnects the network).
METHODS = ("refit", "psis", "not refittable")
#: Columns of :meth:`LeaveOneOut.effects`.
EFFECT_COLUMNS = ("study", "treatment", "comparator", "mean", "sd", "median", "ci_lower",
                  "ci_upper", "mean_full", "sd_full", "change", "shift_sd", "method")  # fmt: skip
#: Columns of :meth:`LeaveOneOut.heterogeneity`.
TAU_COLUMNS = ("study", "tau", "tau_lower", "tau_upper", "tau_full", "change", "method")
#: Columns of :meth:`LeaveOneOut.rankings`.
RANK_COLUMNS = ("study", "treatment", "sucra", "sucra_full", "change", "rank", "rank_full",
                "best", "method")  # fmt: skip


@dataclass(frozen=True, eq=False)
class LeaveOneOut:
    """Result of :func:`~nma_bayes.analyses.influence.leave_one_out`: tidy influence tables.

    Attributes
    ----------
    full_fit : NetworkFit
        The fit of every study.
    engine : str
        The engine that ran the fits (``"exact"``, ``"laplace"`` or ``"pymc"``; with
        ``engine="auto"``, ``"laplace+pymc"`` when NUTS refitted what the Laplace engine
        refused: :func:`~nma_bayes.analyses.batch.engines_label`).
    threshold_sd : float
        Default flag threshold of :meth:`summary`: a shift of more than this many posterior SDs.
    lower_is_better : bool
        Benefit direction of the rankings.
    random_seed : int
        The seed shared by every fit.
    seconds : float
        Wall time of the whole analysis (full fit included); per study in :meth:`summary`.
    studies : DataFrame
        Per study in network order: ``study, method`` (one of :data:`METHODS`), ``pareto_k``,
        ``reason`` (why it is not refittable; ``""`` otherwise) and ``seconds``.
    ties : dict of str to str
        Each treatment's tie group (the first treatment whose full-fit draws are identical to
        its own, e.g. one class of the common class model; itself otherwise): a new best
        treatment tied with the full fit's best is not a change of the top treatment.
    """

    full_fit: object = field(repr=False)
    engine: str
    threshold_sd: float
    lower_is_better: bool
    random_seed: int
    seconds: float
    studies: pd.DataFrame = field(repr=False)
    _effects: pd.DataFrame = field(repr=False)
    _tau: pd.DataFrame = field(repr=False)
    _ranks: pd.DataFrame = field(repr=False)
    ties: dict = field(repr=False, default_factory=dict)

    @property
    def reference(self) -> str:
        """Reference treatment of every fit (the full fit's)."""
        return self.full_fit.reference

    def effects(self) -> pd.DataFrame:
        """Relative effects vs the reference without each study, and their change.

        Returns
        -------
        DataFrame
            One row per estimable study (not ``"not refittable"``) and non-reference treatment,
            studies and treatments in network order: ``study, treatment, comparator, mean, sd,
            median, ci_lower, ci_upper`` (without the study), ``mean_full, sd_full`` (full fit),
            ``change`` (``mean - mean_full``), ``shift_sd`` (``change / sd_full``) and
            ``method``. ``attrs["threshold_sd"]`` holds the flag threshold.
        """
        table = self._effects.copy()
        table.attrs["threshold_sd"] = self.threshold_sd
        return table

    def heterogeneity(self) -> pd.DataFrame:
        """Between-study SD ``tau`` without each study (random effects).

        Returns
        -------
        DataFrame
            Per estimable study: ``study, tau`` (posterior median without it), ``tau_lower,
            tau_upper`` (its interval), ``tau_full`` (full fit's median), ``change``
            (``tau - tau_full``) and ``method``.

        Raises
        ------
        ModelSpecError
            For a fixed-effect model (no ``tau``).
        """
        if not self.full_fit.spec.random:
            raise ModelSpecError(
                "A fixed-effect model has no heterogeneity parameter (tau = 0 by assumption).",
                rule="bad-option",
            )
        return self._tau.copy()

    def rankings(self) -> pd.DataFrame:
        """SUCRA of every treatment without each study, and its change.

        Returns
        -------
        DataFrame
            Per estimable study and treatment: ``study, treatment, sucra, sucra_full, change``,
            ``rank`` and ``rank_full`` (1 = highest SUCRA; ties in network order), ``best`` (the
            study's highest-SUCRA treatment without it) and ``method``.
        """
        return self._ranks.copy()

    def summary(self, threshold_sd: float | None = None) -> pd.DataFrame:
        """One row per study: its method, largest shift, whether the top treatment changes, flag.

        Parameters
        ----------
        threshold_sd : float, optional
            Flag threshold in posterior SDs of the full fit; default :attr:`threshold_sd`.

        Returns
        -------
        DataFrame
            Every study in network order: ``study, method, pareto_k`` (PSIS-LOO Pareto ``k`` of
            the full PyMC fit; NaN for exact fits and ``psis=False``), ``reason`` (why a study
            is not refittable), ``best`` (highest-SUCRA treatment without it), ``top_changes``
            (``best`` differs
            from the full fit's and is not tied with it: see :attr:`ties`), ``max_shift_sd``
            (largest ``|shift_sd|``), ``max_shift_treatment``, ``tau_change`` (random effects)
            and ``flag`` (the top treatment changes or an effect moves by more than
            ``threshold_sd`` SDs), and ``seconds``. ``top_changes`` and ``flag`` are missing
            (``pd.NA``) for studies that are not refittable. ``attrs`` hold ``threshold_sd`` and
            ``best_full``.
        """
        threshold = self.threshold_sd if threshold_sd is None else check_threshold(threshold_sd)
        out = self.studies.copy()
        eff = self._effects.assign(abs_shift=self._effects["shift_sd"].abs())
        top = eff.loc[eff.groupby("study", sort=False)["abs_shift"].idxmax()].set_index("study")
        best = self._ranks[self._ranks["rank"] == 1].set_index("study")["best"]
        sucra = self.full_fit.sucra(lower_is_better=self.lower_is_better)
        best_full = str(sucra.loc[sucra["sucra"].idxmax(), "treatment"])  # ties: the first
        out["best"] = out["study"].map(best)
        group = out["best"].map(lambda t: self.ties.get(t, t), na_action="ignore")
        out["top_changes"] = (group != self.ties.get(best_full, best_full)).astype("boolean")
        out["max_shift_sd"] = out["study"].map(top["abs_shift"]).astype(float)
        out["max_shift_treatment"] = out["study"].map(top["treatment"])
        if self.full_fit.spec.random:
            out["tau_change"] = out["study"].map(self._tau.set_index("study")["change"])
        out["flag"] = out["top_changes"] | (out["max_shift_sd"] > threshold)
        out.loc[out["method"] == "not refittable", ["top_changes", "flag"]] = pd.NA
        out = out[[c for c in out.columns if c != "seconds"] + ["seconds"]]
        out.attrs.update({"threshold_sd": threshold, "best_full": best_full})
        return out

    def flagged(self, threshold_sd: float | None = None) -> pd.DataFrame:
        """Return the rows of :meth:`summary` whose ``flag`` is true (influential studies)."""
        table = self.summary(threshold_sd)
        return table[table["flag"].fillna(False).astype(bool)].reset_index(drop=True)

    def __repr__(self) -> str:
        counts = self.studies["method"].value_counts()
        parts = ", ".join(f"{int(counts.get(m, 0))} {m}" for m in METHODS)
        n_flag = len(self.flagged())
        return (
            f"LeaveOneOut({len(self.studies)} studies: {parts}; {n_flag} flagged at "
            f"{self.threshold_sd:g} SD; engine={self.engine!r}, {self.seconds:.1f} s)"
        )


def check_threshold(value) -> float:
    """Return ``threshold_sd`` as a float after checking it is a positive finite number."""
    if not VA.is_real(value) or not np.isfinite(float(value)) or float(value) <= 0:
        raise ModelSpecError(
            f"threshold_sd must be a positive number of posterior SDs, got {value!r}.",
            rule="bad-option",
        )
    return float(value)
