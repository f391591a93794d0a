"""Read-only views of a Network: summary tables and connectivity (mixin).

Every view is computed from the network's index arrays (``base``, ``arm``, ``mask``) and sample
sizes (``base_n``, ``arm_n``), so it describes exactly the studies the models use (studies in
``excluded_studies`` are not part of it). A study's arms are its base arm followed by its real
non-base arms; a study that has the same treatment in two or more arms has a *within-treatment*
comparison, which is counted (``summary()``, ``comparisons(within=True)``) but is never a pair of
two different treatments.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..base.graph import connected_components

__all__ = ["NetworkViews"]


def _sum_or_nan(values) -> float:
    """Sum of sample sizes, NaN if any of them is unknown."""
    arr = np.asarray(values, dtype=float)
    return float(arr.sum()) if arr.size and not np.isnan(arr).any() else float("nan")


class NetworkViews:
    """Summary methods shared by :class:`~nma_bayes.data.network.Network` (mixin, no state).

    The host class provides ``treatments``, ``reference``, ``studies``, ``base``, ``arm``,
    ``mask``, ``n_arms``, ``base_n``, ``arm_n``, ``classes``, ``measure`` and
    ``excluded_studies``.
    """

    # ------------------------------------------------------------------------ internals
    def _study_arms(self, i: int) -> list[tuple[int, float]]:
        """Return study ``i``'s arms as ``(treatment index, sample size)``, base arm first."""
        m = self.mask[i]
        idx = [int(self.base[i]), *(int(a) for a in self.arm[i][m])]
        sizes = [float(self.base_n[i]), *(float(n) for n in self.arm_n[i][m])]
        return list(zip(idx, sizes, strict=True))

    def _study_treatments(self, i: int) -> dict[int, float]:
        """Return ``{treatment index: patients in its arms}`` of study ``i`` (index order).

        A treatment in several arms of the study gets the sum of their sizes (NaN if any is
        unknown).
        """
        per: dict[int, list[float]] = {}
        for t, n in self._study_arms(i):
            per.setdefault(t, []).append(n)
        return {t: _sum_or_nan(per[t]) for t in sorted(per)}

    # ---------------------------------------------------------------------------- views
    def summary(self) -> pd.DataFrame:
        """Return the network's size and make-up as a tidy two-column table.

        Returns
        -------
        pandas.DataFrame
            One row per item, columns ``item`` (str) and ``value`` (object), in this order:

            - ``studies``, ``treatments``: counts;
            - ``arms``: arms over all studies (sum of ``n_arms``);
            - ``contrasts``: non-base arms over all studies (``n_contrasts``);
            - ``comparisons``: distinct pairs of different treatments compared directly
              (rows of :meth:`comparisons`);
            - ``multi_arm_studies``: studies with more than two arms;
            - ``studies_with_<k>_arms``: one row for each number of arms ``k`` present,
              increasing;
            - ``within_treatment_studies``: studies with the same treatment in two or more arms;
            - ``patients``: sum of all arm sizes, or ``None`` if any arm's size is unknown
              (always for contrast data);
            - ``classes``: number of treatment classes, or ``None`` without classes;
            - ``measure``: effect measure (``None`` if not given);
            - ``reference``: reference treatment;
            - ``excluded_studies``: number of studies outside the chosen component (their
              names are in ``excluded_studies``).

            ``summary().set_index("item")["value"]`` gives a Series keyed by item.
        """
        n_arms = np.asarray(self.n_arms)
        rows: list[tuple[str, object]] = [
            ("studies", len(self.studies)),
            ("treatments", len(self.treatments)),
            ("arms", int(n_arms.sum())),
            ("contrasts", int(np.asarray(self.mask).sum())),
            ("comparisons", len(self.comparisons())),
            ("multi_arm_studies", int((n_arms > 2).sum())),
        ]
        for k, count in zip(*np.unique(n_arms, return_counts=True), strict=True):
            rows.append((f"studies_with_{int(k)}_arms", int(count)))
        within = sum(
            len(arms) > len({t for t, _ in arms})
            for arms in (self._study_arms(i) for i in range(len(self.studies)))
        )
        rows.append(("within_treatment_studies", int(within)))
        sizes = np.concatenate([np.asarray(self.base_n, float), self.arm_n[self.mask]])
        patients = _sum_or_nan(sizes)
        if not np.isnan(patients) and patients.is_integer():
            patients = int(patients)
        rows.append(("patients", None if np.isnan(patients) else patients))
        classes = {c for c in (self.classes or {}).values() if c is not None}
        n_classes = len(classes) if self.classes else None
        rows += [
            ("classes", n_classes),
            ("measure", self.measure),
            ("reference", self.reference),
            ("excluded_studies", len(self.excluded_studies)),
        ]
        out = pd.DataFrame(rows, columns=["item", "value"])
        out["value"] = out["value"].astype(object)
        return out

    def comparisons(self, *, within: bool = False) -> pd.DataFrame:
        """Return the direct comparisons: pairs of treatments compared within studies.

        A study contributes every pair of its distinct treatments (all pairs of a multi-arm
        study, as netmeta counts them), once per study even if a treatment has several arms.

        Parameters
        ----------
        within : bool
            Also return within-treatment rows (``treatment1 == treatment2``) for studies that
            have the same treatment in two or more arms. Default ``False``: only pairs of
            different treatments (the edges of the network graph).

        Returns
        -------
        pandas.DataFrame
            One row per pair, columns:

            - ``treatment1``, ``treatment2``: the pair, ``treatment1`` first in treatment order;
            - ``n_studies``: studies containing both treatments;
            - ``n_patients``: over those studies, the patients in all arms of the two treatments
              (float; NaN if any of these arm sizes is unknown, e.g. for contrast data);
            - ``studies``: tuple of those studies' names, in network study order.

            Rows are sorted by the treatment order of ``treatment1``, then ``treatment2``.
        """
        pairs: dict[tuple[int, int], tuple[list[str], list[float]]] = {}
        for i, study in enumerate(self.studies):
            per = self._study_treatments(i)
            keys = list(combinations(per, 2))
            if within:
                counts = np.bincount([t for t, _ in self._study_arms(i)])
                keys += [(t, t) for t in per if counts[t] > 1]
            for a, b in keys:
                names, sizes = pairs.setdefault((a, b), ([], []))
                names.append(study)
                sizes.append(per[a] if a == b else per[a] + per[b])
        records = [
            (self.treatments[a], self.treatments[b], len(names), _sum_or_nan(sizes), tuple(names))
            for (a, b), (names, sizes) in sorted(pairs.items())
        ]
        out = pd.DataFrame.from_records(
            records, columns=["treatment1", "treatment2", "n_studies", "n_patients", "studies"]
        )
        out["n_studies"] = out["n_studies"].astype(np.int64)
        out["n_patients"] = out["n_patients"].astype(float)
        return out

    def components(self) -> list[list[str]]:
        """Return the connected components of the treatment graph.

        Returns
        -------
        list of list of str
            Each component's treatments in treatment order; components ordered by their first
            treatment. A connected network (every built network: a disconnected one must choose
            a ``component=``) gives a single list of all treatments.
        """
        edges = []
        for i in range(len(self.studies)):
            first, *rest = (t for t, _ in self._study_arms(i))
            edges += [(first, t) for t in rest]  # a study links its base arm to its other arms
        groups = connected_components(range(len(self.treatments)), edges)
        return [[self.treatments[t] for t in group] for group in groups]

    def treatment_table(self) -> pd.DataFrame:
        """Return one row per treatment with how much evidence it has.

        Returns
        -------
        pandas.DataFrame
            In treatment order, columns:

            - ``treatment``;
            - ``n_studies``: studies with at least one arm of it;
            - ``n_arms``: its arms over all studies (a study may have several);
            - ``n_patients``: patients in its arms (float; NaN if any of them is unknown);
            - ``class``: its class, or ``None`` without classes.
        """
        n_t = len(self.treatments)
        studies = np.zeros(n_t, dtype=np.int64)
        arms = np.zeros(n_t, dtype=np.int64)
        sizes: list[list[float]] = [[] for _ in range(n_t)]
        for i in range(len(self.studies)):
            seen = set()
            for t, n in self._study_arms(i):
                arms[t] += 1
                sizes[t].append(n)
                seen.add(t)
            studies[list(seen)] += 1
        classes = self.classes or {}
        return pd.DataFrame(
            {
                "treatment": list(self.treatments),
                "n_studies": studies,
                "n_arms": arms,
                "n_patients": np.array([_sum_or_nan(s) for s in sizes], dtype=float),
                "class": pd.Series([classes.get(t) for t in self.treatments], dtype=object),
            }
        )
