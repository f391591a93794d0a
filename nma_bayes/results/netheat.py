r"""Net heat plot matrices (Krahn, Binder & König 2013): netmeta's ``netheat``.

Sampling-free and frequentist, as netmeta 3.3-1 computes them. Every *design row* (a design's
direct estimate of one of its comparisons against the design's baseline; a multi-arm design has
several) has a contribution :math:`q_j = r_j (V^{-1} r)_j` to the between-designs Q of the
consistency model, :math:`r` the direct minus the network estimates and :math:`V` the
block-diagonal covariance of the direct estimates
(:func:`~nma_bayes.results.q_decomposition.decompose_q`). *Detaching* a design (its direct
estimates fitted by parameters of their own) changes every row's residual to
:math:`r^{(k)}` and its contribution to :math:`q^{(k)}_j = r^{(k)}_j (V^{-1} r^{(k)})_j`. The
net heat matrix has a row and a column per design row:

* colour (``heat``) of row :math:`j`, column :math:`i` (of design :math:`k`):
  :math:`q^{(k)}_j - q_j`, the change of row :math:`j`'s inconsistency when the column's design
  is detached; on the diagonal :math:`-q_j`. Negative (less inconsistency, drawn warm, red)
  marks a design whose direct evidence conflicts with the row's; positive (blue) one that
  supports it;
* grey squares (``H``): the design-level hat matrix :math:`H = X (X'V^{-1}X)^{-1} X'V^{-1}`,
  the weight of the column's direct estimate in the network estimate of the row's comparison
  (Krahn et al. 2013, BMC Med Res Methodol 13:35).

Like netmeta (``showall = FALSE``), designs that cannot contribute to inconsistency are left
out: those with a row whose :math:`|q_j| \le \sqrt{\epsilon}` and those that cannot be detached
(a treatment nowhere else, or a bridge of the network). Rows and columns are ordered by R's
``hclust`` (complete linkage) of the Manhattan distances between the rows plus those between
the columns of the heat matrix, ported here exactly (F. Murtagh's nearest-neighbour algorithm
and ``HCASS2`` leaf order, as in R's ``stats``), so that the picture is netmeta's.

The random-effects version (``effects="random"``) adds :math:`\tau^2 (I+J)/2` to every study's
covariance, with :math:`\tau` by default the method-of-moments estimate of the full
design-by-treatment interaction model (``tau_within``; netmeta ``netheat(random = TRUE)``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError, format_items
from ..data.network import Network
from ..data.transforms import network_records, rebuild_network
from ..data.validation import components
from ..engines.gls import gls_solve
from .evidence_graph import EvidenceGraph, check_effects, contrast_network, fit_model
from .netheat_funnel_result import NetHeat
from .q_decomposition import _Designs, _q_parts, detached_residuals, tau_within

__all__ = ["netheat", "NetHeat", "DUPLICATE_ARMS", "evidence_network"]

#: What the evidence-structure functions do with a study holding two arms of one treatment.
DUPLICATE_ARMS = ("error", "first")

#: netmeta's threshold below which a design row's Q contribution counts as none.
_NO_INCONSISTENCY = np.sqrt(np.finfo(float).eps)


def evidence_network(
    data, reference, options: dict, function: str, duplicate_arms: object = "error"
) -> tuple[Network, pd.DataFrame]:
    """Build the contrast network of an evidence-structure function; handle duplicate arms.

    netmeta refuses a study with two arms of the same treatment ("Treatments must be
    different"). ``duplicate_arms="error"`` does the same, naming the studies;
    ``duplicate_arms="first"`` keeps the first arm of each treatment in each study (the base
    arm first, then the arms in the order given) and drops the later ones, with their contrasts;
    a study left with one treatment is dropped. The kept contrasts keep their exact covariance
    (a sub-vector of a normal vector is normal with the sub-matrix), so the result is the
    analysis of the network without those arms.

    Returns
    -------
    network : Network
        The (reduced) network.
    dropped : DataFrame
        ``study, treatment``: the arms left out (empty unless ``duplicate_arms="first"``).
    """
    duplicate_arms = VA.check_choice(duplicate_arms, "duplicate_arms", DUPLICATE_ARMS)
    network = contrast_network(data, reference, options, function)
    kept, dropped = [], []
    for st in network_records(network):
        seen, keep = {st.base}, []
        for j, arm in enumerate(st.arms):
            if arm in seen:
                dropped.append((st.study, arm))
            else:
                seen.add(arm)
                keep.append(j)
        if keep and len(keep) < len(st.arms):
            k = np.array(keep)
            # "base": the effects now come from the kept contrasts, not the study's input rows
            form = "base" if st.form == "pairwise" else st.form
            st = replace(st, arms=tuple(st.arms[j] for j in keep), y=st.y[k], var=st.var[k],
                         u=st.u[k], arm_n=st.arm_n[k], form=form)  # fmt: skip
        if keep:
            kept.append(st)
    table = pd.DataFrame(dropped, columns=["study", "treatment"])
    if table.empty:
        return network, table
    if duplicate_arms == "error":
        raise ModelSpecError(
            f"{function}: the studies {format_items(table['study'].unique())} have two arms of "
            "the same treatment (netmeta refuses such data: 'Treatments must be different'). "
            "Pass duplicate_arms='first' to keep the first arm of each treatment in every study "
            "(and leave out studies that compare a treatment with itself), or merge the arms "
            "in the data.",
            rule="bad-option",
        )
    return _reduced(network, kept, table, function), table


def _reduced(network: Network, kept, dropped: pd.DataFrame, function: str) -> Network:
    """Rebuild the network from the kept studies; refuse it if it lost a treatment or split."""
    present = {t for st in kept for t in (st.base, *st.arms)}
    lost = [t for t in network.treatments if t not in present]
    parts = components({st.study: {st.base, *st.arms} for st in kept})
    if lost or len(parts) > 1:
        raise ModelSpecError(
            f"{function}: without the duplicate arms of {format_items(dropped['study'].unique())}"
            f" the network {'loses the treatments ' + format_items(lost) if lost else 'splits'};"
            " merge the arms in the data instead.",
            rule="bad-option",
        )
    return rebuild_network(
        network, kept, network.treatments, network.reference, network.reference_rule
    )


def netheat(
    data,
    *,
    effects: str | None = None,
    tau: float | None = None,
    reference: str | None = None,
    duplicate_arms: str = "error",
    **columns,
) -> NetHeat:
    r"""Compute the net heat plot of a network: where its inconsistency comes from.

    The matrices of netmeta's ``netheat`` (netmeta 3.3-1; Krahn, König & Binder 2013, BMC Med
    Res Methodol 13:35): per pair of design rows, the change of the row's contribution to the
    between-designs Q when the column's design is detached (``heat``), and the design-level
    hat matrix (``H``). Sampling-free and frequentist; see :mod:`nma_bayes.results.netheat`.
    Draw it with :func:`nma_bayes.plots.plot_netheat`.

    Parameters
    ----------
    data : DataFrame, Network or NetworkFit
        Data as :func:`nma_bayes.fit_network` accepts, a built :class:`~nma_bayes.Network`, or a
        fit (its network). Arm-level outcome studies (binomial logit, Poisson, normal arms)
        enter as contrasts with their normal approximation, as after netmeta's ``pairwise``
        (:mod:`nma_bayes.data.approximate`).
    effects : {"fixed", "random"}, optional
        Common-effect model (default for data, as netmeta), or random effects with between-study
        SD ``tau``; for a fit, by default the fit's model.
    tau : float, optional
        Between-study SD (``effects="random"`` only); by default the method-of-moments estimate
        of the full design-by-treatment interaction model (``tau_within``, as netmeta's
        ``netheat(random = TRUE)``).
    reference : str, optional
        Reference treatment: the baseline of every design that holds it.
    duplicate_arms : {"error", "first"}
        A study with two arms of one treatment is refused (``"error"``, as netmeta), or only
        its first arm of each treatment is kept (``"first"``; the arms left out are listed in
        ``NetHeat.dropped_arms``). See :func:`evidence_network`.
    **columns
        Column names and options of :func:`nma_bayes.data.formats.as_network`.

    Returns
    -------
    NetHeat
        ``to_frame()`` (one row per cell), ``matrix()`` (the heat matrix) and ``hat`` (``H``),
        rows and columns in the clustering order.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad option, arm-level outcome data, duplicate arms with
        ``duplicate_arms="error"``, or a network whose net heat plot does not exist (at most
        two designs, no loop, or loops that no single design can be detached from: netmeta's
        warnings); and any error of the data layer.
    """
    # a fit gives its model (effects), not its tau: net heat uses tau_within (netmeta)
    effects, preset = check_effects(fit_model(data, effects, tau, "fixed")[0], tau)
    network, dropped = evidence_network(data, reference, columns, "netheat", duplicate_arms)
    graph = EvidenceGraph.from_network(network, (network.reference, *network.non_reference))
    dz = _Designs.of(graph)
    if len(dz.designs) <= 2:
        raise _unavailable(f"the network has only {len(dz.designs)} designs (netheat needs 3)")
    tau_used = 0.0 if effects == "fixed" else (tau_within(graph, dz) if preset is None else preset)
    parts = _q_parts(graph, dz, tau_used)
    arms = np.array([len(d) for d in dz.designs])
    # df of the between-designs Q: design rows minus basic parameters
    df_between = len(dz.row_design) - (graph.n_treatments - 1)
    if df_between <= 1:
        raise _unavailable(
            "the network has no loop" if df_between == 0
            else "detaching a single design leaves a network without loops"
        )  # fmt: skip
    cells = _cells(dz, parts)
    order = _r_hclust_order(_heat_distances(cells["heat"]))
    labels = [graph.label(d) for d in dz.designs]
    table = _table(graph, dz, labels, cells, order)
    return NetHeat(
        _long=table,
        effects=effects,
        tau=float(tau_used),
        tau_preset=preset is not None,
        reference=graph.names[0],
        dropped_designs=tuple(labels[k] for k in cells["dropped"]),
        dropped_arms=dropped,
        n_arms={labels[k]: int(arms[k]) for k in range(len(labels))},
    )


def _unavailable(why: str) -> ModelSpecError:
    return ModelSpecError(f"No net heat plot: {why} (netmeta's netheat returns nothing).",
                          rule="bad-option")  # fmt: skip


def _cells(dz: _Designs, parts: dict) -> dict:
    """Return the heat and hat matrices over the design rows netheat keeps, and what it drops."""
    before = parts["contributions"]
    v_inv = parts["precision"]
    residuals = detached_residuals(dz, parts["direct"], v_inv)  # (designs, rows); NaN: fixed
    after = residuals * (residuals @ v_inv)  # after[k, j] = r_kj (V^-1 r_k)_j (V symmetric)
    n_designs = len(dz.designs)
    # netmeta drops a design if any of its rows has no inconsistency, or it cannot be detached
    flat = np.abs(before) <= _NO_INCONSISTENCY
    dropped = [k for k in range(n_designs)
               if flat[dz.row_design == k].any() or np.isnan(residuals[k]).any()]  # fmt: skip
    rows = np.flatnonzero(~np.isin(dz.row_design, dropped))
    if len(rows) <= 1:
        raise _unavailable("fewer than two design rows can carry inconsistency")
    # column i of the heat matrix belongs to the design of design row i
    heat = after[dz.row_design[rows]][:, rows].T - before[rows, None]
    _, hat = gls_solve(dz.x, v_inv)
    h = dz.x @ hat  # design-level hat matrix: network estimates of the rows from direct ones
    return {"rows": rows, "heat": heat, "H": h[np.ix_(rows, rows)], "before": before[rows],
            "after": heat + before[rows, None], "dropped": dropped}  # fmt: skip


def _heat_distances(heat: np.ndarray) -> np.ndarray:
    """Manhattan distances between the rows plus those between the columns (netmeta)."""
    rows = np.abs(heat[:, None, :] - heat[None, :, :]).sum(axis=2)
    cols = np.abs(heat.T[:, None, :] - heat.T[None, :, :]).sum(axis=2)
    return rows + cols


def _r_hclust_order(dist: np.ndarray) -> np.ndarray:
    """Leaf order of R's ``hclust(method = "complete")`` of a distance matrix (0-based).

    A port of R's ``hclust.f`` (F. Murtagh's nearest-neighbour-list algorithm with R's
    updates): at each step the pair with the smallest dissimilarity is merged, ties broken by
    the first index as in the Fortran (strict ``<``), the merged cluster keeping the smaller
    index; complete linkage (Lance-Williams: the maximum). ``HCASS2``'s order is then the
    in-order traversal of R's ``merge`` matrix (singletons before clusters; two clusters in
    the order they were formed).
    """
    n = dist.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    d = dist.astype(float).copy()
    active = np.ones(n, dtype=bool)
    nn, disnn = np.zeros(n, dtype=np.int64), np.full(n, np.inf)

    def nearest(i: int) -> None:  # nearest active neighbour to the right of i (first minimum)
        right = np.flatnonzero(active[i + 1 :]) + i + 1
        if right.size:
            j = right[np.argmin(d[i, right])]  # argmin returns the first minimum
            nn[i], disnn[i] = j, d[i, j]
        else:
            disnn[i] = np.inf

    for i in range(n - 1):
        nearest(i)
    merges = []
    for _ in range(n - 1):
        candidates = np.flatnonzero(active[: n - 1])
        i = candidates[np.argmin(disnn[candidates])]
        i2, j2 = sorted((int(i), int(nn[i])))
        merges.append((i2, j2))
        active[j2] = False
        others = np.flatnonzero(active)
        others = others[others != i2]
        d[i2, others] = d[others, i2] = np.maximum(d[i2, others], d[j2, others])
        disnn[j2] = np.inf
        # R recomputes the nearest neighbour of i2 and of every i that pointed at i2 or j2
        for k in range(n - 1):
            if active[k] and (k == i2 or nn[k] in (i2, j2)):
                nearest(k)
    return _hcass2_order(merges, n)


def _hcass2_order(merges: list[tuple[int, int]], n: int) -> np.ndarray:
    """R's leaf order of a merge sequence (``HCASS2``): expand the last merge, left first."""
    latest: dict[int, int] = {}  # representative leaf -> the last merge step it stands for
    children = []
    for step, (a, b) in enumerate(merges):
        left = ("c", latest[a]) if a in latest else ("s", a)
        right = ("c", latest[b]) if b in latest else ("s", b)
        if left[0] == "c" and right[0] == "s":  # a singleton goes first
            left, right = right, left
        elif left[0] == right[0] == "c" and left[1] > right[1]:  # earlier cluster first
            left, right = right, left
        elif left[0] == right[0] == "s" and left[1] > right[1]:  # pragma: no cover - a < b
            left, right = right, left
        children.append((left, right))
        latest[a] = step
    out: list[int] = []
    stack = [("c", len(merges) - 1)]
    while stack:
        kind, value = stack.pop()
        if kind == "s":
            out.append(value)
        else:
            left, right = children[value]
            stack += [right, left]  # left is expanded first
    assert len(out) == n
    return np.array(out, dtype=np.int64)


def _table(graph, dz: _Designs, labels, cells: dict, order: np.ndarray) -> pd.DataFrame:
    """Return the long table, rows and columns in the clustering order (netmeta's ``row_pos``)."""
    rows = cells["rows"][order]
    design = [labels[dz.row_design[j]] for j in rows]
    comparison = [graph.label((dz.designs[dz.row_design[j]][0], dz.row_treatment[j]))
                  for j in rows]  # fmt: skip
    n = len(rows)
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="xy")  # column-major, as R writes
    r, c = r.ravel(), c.ravel()
    heat = cells["heat"][np.ix_(order, order)]
    return pd.DataFrame(
        {
            "row_pos": r + 1,
            "row_design": [design[i] for i in r],
            "row_comparison": [comparison[i] for i in r],
            "col_pos": c + 1,
            "col_design": [design[i] for i in c],
            "col_comparison": [comparison[i] for i in c],
            "heat": heat[r, c],
            "Q_row_before": cells["before"][order][r],
            "Q_row_after": cells["after"][np.ix_(order, order)][r, c],
            "H": cells["H"][np.ix_(order, order)][r, c],
        }
    )
