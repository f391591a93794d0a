r"""A network's studies as netmeta's frequentist graph: designs, pairs, weights and ``tau``.

The evidence-structure quantities of :mod:`~nma_bayes.results.q_decomposition`,
:mod:`~nma_bayes.results.evidence_flow` and :mod:`~nma_bayes.results.contribution` are functions of
the network's contrasts and their exact within-study covariance, with netmeta's conventions
(netmeta 3.3-1; Rücker 2012, Krahn et al. 2013, König et al. 2013):

* every study is re-expressed against its *baseline*, the first of its treatments in a given
  treatment order, its other treatments in that order; its *design* is its set of treatments,
  labelled ``"A:B:C"`` in that order;
* a multi-arm study is handled exactly (its full covariance), which for studies whose pairwise
  variances are sums of arm variances (MD, log OR, ...) equals netmeta's reduced weights
  (Rücker 2012, Res Synth Methods 3:312-324): the study's Laplacian
  :math:`L_s = C_s' A_s^{-1} C_s` over its treatments, with :math:`C_s` the incidence of its
  contrasts, has off-diagonal entries :math:`-w_{jk}`, the reduced weights;
* the between-study variance of the random-effects model adds :math:`\tau^2 (I + J)/2` to each
  study's covariance (:func:`~nma_bayes.engines.gls.study_covariances`).

Everything here is NumPy on a few dense matrices (one row per study contrast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import chdtrc

from ..base import validate as VA
from ..base.errors import ModelSpecError, format_items
from ..data.approximate import outcome_contrasts
from ..data.formats import as_network
from ..engines.gls import gls_solve, study_covariances

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = [
    "EvidenceGraph",
    "chi2_pvalue",
    "moment_tau",
    "block_diagonal",
    "check_effects",
    "check_tau",
    "contrast_network",
    "fit_model",
    "is_fit",
]


def chi2_pvalue(q, df):
    """Upper chi-square tail ``P(chi2_df > Q)``; NaN where ``df`` is 0 or missing (netmeta)."""
    q, df = np.asarray(q, dtype=float), np.asarray(df, dtype=float)
    ok = np.isfinite(df) & (df > 0)
    out = np.full(np.broadcast(q, df).shape, np.nan)
    out[ok] = chdtrc(df[ok], np.broadcast_to(q, out.shape)[ok])
    return out


def block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    """Dense block-diagonal matrix of square ``blocks``."""
    n = sum(b.shape[0] for b in blocks)
    out = np.zeros((n, n))
    start = 0
    for b in blocks:
        stop = start + b.shape[0]
        out[start:stop, start:stop] = b
        start = stop
    return out


def moment_tau(
    x: np.ndarray, weight: np.ndarray, y: np.ndarray, shape: np.ndarray, *, df: int | None = None
) -> float:
    r"""Method-of-moments between-study SD of a stacked GLS model (DerSimonian-Laird type).

    With :math:`P = W - W X (X'WX)^{-1} X'W`, :math:`Q = y'Py` and :math:`E[Q] = (n - p) +
    \tau^2 \operatorname{tr}(P S)` for random effects of covariance :math:`\tau^2 S`, so
    :math:`\hat\tau^2 = \max(0, (Q - n + p) / \operatorname{tr}(PS))` (Jackson, White & Riley
    2012, Stat Med 31:3805-20; for the consistency model this is netmeta's generalised
    DerSimonian-Laird estimator, Rücker & Schwarzer 2014). ``n - p`` (the rank of ``X``) is
    the degrees of freedom unless ``df`` is given.
    """
    cov, hat = gls_solve(x, weight)
    residual = y - x @ (hat @ y)
    q = float(residual @ weight @ residual)
    # P S = W S - W X (X'WX)^{-1} X' W S; its trace without forming P
    trace = float(np.trace(weight @ shape) - np.trace(hat @ shape @ weight @ x))
    df = len(y) - np.linalg.matrix_rank(x) if df is None else df
    if trace <= 0 or df <= 0:  # no information on tau (netmeta: tau = 0)
        return 0.0
    return float(np.sqrt(max(0.0, (q - df) / trace)))


def _rebase_matrix(arm_pos: list[int], order: list[int]) -> np.ndarray:
    """Return the matrix re-basing a study's contrasts onto its baseline.

    The study's contrasts are those of ``arm_pos[1:]`` vs its base arm ``arm_pos[0]``; the
    result's rows are the contrasts of ``order[1:]`` vs ``order[0]``:
    ``(t - base) - (baseline - base)``.
    """
    out = np.zeros((len(order) - 1, len(order) - 1))
    base_col = arm_pos.index(order[0]) - 1  # -1: the baseline is the base arm itself
    for r, t in enumerate(order[1:]):
        col = arm_pos.index(t) - 1
        if col >= 0:
            out[r, col] += 1.0
        if base_col >= 0:
            out[r, base_col] -= 1.0
    return out


def _pairwise_rows(network: Network) -> dict[str, dict[tuple[str, str], float]]:
    """Return the rows of every study given in pairwise form.

    ``{study: {(a, b): TE of a minus b}}``, both orientations, read from the network's copy of
    the input (``Network.data``).
    """
    wanted = {s for s, f in zip(network.studies, network.form, strict=True) if f == "pairwise"}
    out: dict[str, dict[tuple[str, str], float]] = {s: {} for s in wanted}
    if not wanted:
        return out
    c = network.columns
    df = network.data
    cols = (df[c["study"]], df[c["treat1"]], df[c["treat2"]], df[c["TE"]])
    for study, t1, t2, te in zip(*cols, strict=True):
        if study in out:
            out[study][t1, t2] = float(te)
            out[study][t2, t1] = -float(te)
    return out


@dataclass(frozen=True, eq=False)
class EvidenceGraph:
    """The studies of a network against netmeta-style baselines, in a given treatment order.

    Attributes
    ----------
    network : Network
        The network (its covariances are read through :func:`study_covariances`).
    names : tuple of str
        Treatment order of every label; ``names[0]`` anchors the basic parameters.
    members : tuple of tuple of int
        Per study, positions (into ``names``) of its treatments in order: the baseline first.
    y : tuple of ndarray
        Per study, the contrasts of ``members[1:]`` vs the baseline.
    rebase : tuple of ndarray
        Per study, the matrix taking the network's contrasts (vs its base arm) to ``y``.
    pair_effects : tuple of dict
        Per study, the effect ``a`` minus ``b`` of every pair of its treatments (positions,
        ``a < b``): derived from its contrasts, or, for a study given in pairwise form, its rows
        as given (netmeta reads every row of such a study; Rücker 2012).
    """

    network: Network = field(repr=False)
    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]
    y: tuple[np.ndarray, ...] = field(repr=False)
    rebase: tuple[np.ndarray, ...] = field(repr=False)
    pair_effects: tuple[dict[tuple[int, int], float], ...] = field(repr=False)

    @classmethod
    def from_network(cls, network: Network, names: tuple[str, ...]) -> EvidenceGraph:
        """Re-express every study of ``network`` against its first treatment in ``names``."""
        pos = {t: i for i, t in enumerate(names)}
        raw = _pairwise_rows(network)
        members, ys, rebases, effects = [], [], [], []
        for i in range(network.n_studies):
            m = np.asarray(network.mask[i], dtype=bool)
            arm_pos = [pos[network.treatments[t]] for t in (network.base[i], *network.arm[i][m])]
            order = sorted(arm_pos)
            if len(set(order)) < len(order):
                raise ModelSpecError(
                    f"Study {network.studies[i]!r} has two arms of the same treatment; the "
                    "frequentist evidence-structure quantities (netmeta's graph) need distinct "
                    "treatments in every study. Merge the arms or leave the study out.",
                    rule="bad-option",
                )
            rows = _rebase_matrix(arm_pos, order)
            level = dict(zip(arm_pos, [0.0, *np.asarray(network.y[i])[m]], strict=True))
            pair_te = {(a, b): level[a] - level[b] for a, b in combinations(order, 2)}
            if network.form[i] == "pairwise":  # the rows as given (netmeta uses them)
                given = raw[network.studies[i]].items()
                pair_te = {(pos[a], pos[b]): te for (a, b), te in given if pos[a] < pos[b]}
            members.append(tuple(order))
            ys.append(np.array([-pair_te[order[0], t] for t in order[1:]]))
            rebases.append(rows)
            effects.append(pair_te)
        return cls(network, tuple(names), tuple(members), tuple(ys), tuple(rebases), tuple(effects))

    # ------------------------------------------------------------------ structure
    @property
    def n_treatments(self) -> int:
        """Number of treatments ``T``."""
        return len(self.names)

    @property
    def studies(self) -> tuple[str, ...]:
        """Study labels, in network order."""
        return self.network.studies

    def label(self, positions) -> str:
        """``"A:B:..."`` of treatment positions."""
        return ":".join(self.names[p] for p in positions)

    def designs(self) -> tuple[list[tuple[int, ...]], np.ndarray]:
        """Return the distinct designs and the design index of every study.

        netmeta's order: two-arm designs, then larger ones, each group by label.
        """
        distinct = sorted(set(self.members), key=lambda d: (len(d) > 2, self.label(d)))
        index = {d: k for k, d in enumerate(distinct)}
        return distinct, np.array([index[d] for d in self.members], dtype=np.int64)

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Per stacked contrast row: its study and its treatment (the baseline is the study's)."""
        study = [i for i, m in enumerate(self.members) for _ in m[1:]]
        trt = [t for m in self.members for t in m[1:]]
        return np.array(study, dtype=np.int64), np.array(trt, dtype=np.int64)

    def contrast_vectors(self, pairs) -> np.ndarray:
        """Return the rows ``e_a - e_b`` of the pairs of positions ``(a, b)``.

        Over the basic parameters (``names[1:]`` vs ``names[0]``): the effect of ``a`` minus
        ``b``.
        """
        out = np.zeros((len(pairs), self.n_treatments))
        for r, (a, b) in enumerate(pairs):
            out[r, a] += 1.0
            out[r, b] -= 1.0
        return out[:, 1:]

    def design_matrix(self) -> np.ndarray:
        """Design of the stacked rows: each is the study's treatment minus its baseline."""
        study, trt = self.rows()
        pairs = [(t, self.members[s][0]) for s, t in zip(study, trt, strict=True)]
        return self.contrast_vectors(pairs)

    def all_pairs(self) -> list[tuple[int, int]]:
        """Every pair ``(a, b)``, ``a < b``, in treatment order (netmeta's row order)."""
        return list(combinations(range(self.n_treatments), 2))

    def stacked_y(self) -> np.ndarray:
        """Return the study contrasts, stacked in study order."""
        return np.concatenate(self.y)

    # ------------------------------------------------------------------ covariances
    def covariances(self, tau: float = 0.0) -> list[np.ndarray]:
        """Per study the covariance of ``y`` with random effects of SD ``tau``.

        The random-effects part ``tau^2 (I + J)/2`` does not depend on the base arm, so
        re-basing the network's covariance gives it unchanged.
        """
        covs = study_covariances(self.network, tau=tau)
        return [r @ a @ r.T for r, a in zip(self.rebase, covs, strict=True)]

    def weight(self, tau: float = 0.0) -> np.ndarray:
        """Block-diagonal inverse covariance of the stacked rows."""
        return block_diagonal([np.linalg.inv(a) for a in self.covariances(tau)])

    def shape(self) -> np.ndarray:
        """Return the block-diagonal ``(I + J)/2`` of the stacked rows.

        The random effects' covariance divided by ``tau^2``.
        """
        return block_diagonal([np.eye(len(y)) / 2 + 0.5 for y in self.y])

    def pair_variances(self) -> list[dict[tuple[int, int], float]]:
        """Return, per study, the within-study variance of every pair of its treatments.

        Keys ``(a, b)``, ``a < b``: netmeta's pairwise rows.
        """
        out = []
        for m, cov in zip(self.members, self.covariances(0.0), strict=True):
            # contrast vs baseline: treatment m[k] -> index k - 1; the baseline has none
            full = np.zeros((len(m), len(m)))
            full[1:, 1:] = cov
            out.append(
                {
                    (m[j], m[k]): float(full[j, j] + full[k, k] - 2 * full[j, k])
                    for j, k in combinations(range(len(m)), 2)
                }
            )
        return out

    def laplacians(self, tau: float = 0.0) -> list[np.ndarray]:
        r"""Return, per study, its Laplacian :math:`C_s' A_s^{-1} C_s` over all ``T`` treatments.

        Its negated off-diagonal entries are the (reduced) weights of the study's pairs (Rücker
        2012).
        """
        out = []
        for m, a in zip(self.members, self.covariances(tau), strict=True):
            c = np.zeros((len(m) - 1, self.n_treatments))
            c[np.arange(len(m) - 1), list(m[1:])] = 1.0
            c[:, m[0]] -= 1.0
            out.append(c.T @ np.linalg.solve(a, c))
        return out

    def pair_rows(self, tau: float = 0.0):
        """Return netmeta's pairwise rows with their (reduced) weights at ``tau``.

        Per study and pair ``a < b`` of its treatments: ``(study, a, b, effect a minus b,
        weight)``.
        """
        out = []
        for s, (m, lap) in enumerate(zip(self.members, self.laplacians(tau), strict=True)):
            effects = self.pair_effects[s]
            out += [(s, a, b, effects[a, b], -lap[a, b]) for a, b in combinations(m, 2)]
        return out

    def dl_tau(self) -> float:
        r"""Return netmeta's DerSimonian-Laird ``tau`` of the consistency model.

        :func:`moment_tau` on the pairwise rows with their reduced weights (Rücker & Schwarzer
        2014; Jackson et al. 2012), every pair of a study sharing its arms' random effects
        (:math:`S = B B' \circ E / 2`, :math:`B` the rows' incidence, :math:`E` "same study"),
        ``df`` the number of independent contrasts minus ``T - 1``. A study given in pairwise
        form enters with all its rows, as in netmeta.
        """
        rows = self.pair_rows(0.0)
        incidence = np.zeros((len(rows), self.n_treatments))
        incidence[np.arange(len(rows)), [r[1] for r in rows]] = 1.0
        incidence[np.arange(len(rows)), [r[2] for r in rows]] = -1.0
        study = np.array([r[0] for r in rows])
        shape = (incidence @ incidence.T) * (study[:, None] == study[None, :]) / 2
        df = sum(len(m) - 1 for m in self.members) - (self.n_treatments - 1)
        y = np.array([r[3] for r in rows])
        weight = np.diag([r[4] for r in rows])
        return moment_tau(incidence[:, 1:], weight, y, shape, df=df)


def check_effects(effects: object, tau: object) -> tuple[str, float | None]:
    """Validate ``effects`` (``"fixed"`` or ``"random"``) and a preset ``tau`` (random only)."""
    effects = VA.check_choice(effects, "effects", ("fixed", "random"))
    return effects, check_tau(tau, effects)


def check_tau(tau: object, effects: str = "random") -> float | None:
    """Validate a preset between-study SD: ``None``, or a number >= 0 with random effects."""
    tau = VA.check_nonnegative(tau, "tau", allow_none=True)
    if tau is not None and effects == "fixed":
        raise ModelSpecError(
            f"tau={tau!r} applies to effects='random' only (the fixed-effect model has tau = 0).",
            rule="bad-option",
        )
    return tau


def contrast_network(data, reference, options: dict, function: str) -> Network:
    """Build (or take) the network of contrasts an evidence-structure function works on.

    ``data`` is data (:func:`~nma_bayes.data.formats.as_network`), a network, or a fit (its
    ``network``; no data options then). Arm-level outcome studies become contrasts with their
    normal approximation, as after netmeta's ``pairwise`` (:mod:`nma_bayes.data.approximate`).
    """
    if is_fit(data):
        _no_options_with_fit(options, reference, function)
        network = data.network
    else:
        network = as_network(data, reference=reference, **options)
    return outcome_contrasts(network, function)


def is_fit(data) -> bool:
    """Whether ``data`` is a fitted model (duck-typed: a network, a spec and summaries)."""
    return all(hasattr(data, a) for a in ("network", "spec", "heterogeneity"))


def fit_model(data, effects, tau, default: str) -> tuple[object, object]:
    """``effects`` and ``tau`` of an evidence-structure function, defaulted from a fit.

    With a fit, ``effects=None`` takes the fit's model and, for random effects, ``tau=None``
    the posterior median of its ``tau`` (the hat matrix is then the GLS one at that ``tau``).
    With data, ``effects=None`` is ``default``.
    """
    if not is_fit(data):
        return (default if effects is None else effects), tau
    effects = data.spec.effects if effects is None else effects
    if effects == "random" and tau is None and data.spec.effects == "random":
        tau = float(data.heterogeneity().loc["tau", "median"])
    return effects, tau


def _no_options_with_fit(options: dict, reference, function: str) -> None:
    """Refuse data options given together with a fit (its network is used as it is)."""
    given = [*options, *(["reference"] if reference is not None else [])]
    if given:
        raise ModelSpecError(
            f"{function} was given a fit and the options {format_items(given)}: a fit's own "
            "network is used; pass the data instead to build another one.",
            rule="bad-option",
        )
