r"""How much each direct comparison (or study) contributes to each network estimate.

As netmeta's ``netcontrib`` (netmeta 3.3-1). Both methods read the rows of the *aggregated* hat
matrix (Papakonstantinou et al. 2018): with the direct comparisons ("edges") :math:`e = (i, j)`
of the network, each pooling its studies' (reduced) weights into :math:`W_e` (Rücker 2012), the
network estimate of comparison :math:`c` is :math:`\sum_e H_{ce} \hat\theta^{dir}_e` with

.. math::

    H_{ce} = (x_c' \Sigma x_e)\, W_e,

:math:`x` the contrast vectors over the basic parameters and :math:`\Sigma` the covariance of
their GLS estimate. Row :math:`c` of :math:`H` is a unit flow of evidence from one treatment of
:math:`c` to the other along the edges, each oriented by the sign of :math:`H_{ce}`.

* **Shortest path** (Papakonstantinou et al. 2018, F1000Research 7:610; netmeta's default):
  repeatedly take a shortest path (fewest edges) of the flow graph, give each of its :math:`\ell`
  edges :math:`\phi/\ell` of the path's flow :math:`\phi` (its smallest edge flow), subtract
  :math:`\phi` from its edges and drop those left empty, until no path remains. Among several
  shortest paths the one igraph's breadth-first search meets first is taken (vertices numbered
  by first appearance in the edge list, out-edges by target), as netmeta does.
* **Random walk** (Davies et al. 2022, Stat Med 41:2091-2114): a walker moves along the flow
  with transition probabilities proportional to it; the contribution of an edge is
  :math:`\sum_\pi P(\pi)/\ell(\pi)` over the source-to-sink paths :math:`\pi` through it.
  Computed here by dynamic programming over path lengths (the flow graph is acyclic: flow runs
  down the potential :math:`\Sigma x_c`) rather than by listing every path.

Study contributions split each direct comparison's contribution among its studies in proportion
to their weights in it.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..engines.gls import gls_solve
from .evidence_flow import model_tau
from .evidence_graph import EvidenceGraph, check_effects, contrast_network, fit_model
from .evidence_result import ContributionMatrix

__all__ = [
    "contribution_matrix",
    "ContributionMatrix",
    "shortest_path_row",
    "random_walk_row",
    "pool_edges",
]

#: Contribution methods: netmeta's default (shortest paths) and Davies et al.'s random walk.
METHODS = ("shortestpath", "randomwalk")
#: Units a contribution is given for.
BY = ("comparison", "study")
#: Transition probabilities below ``ZERO_P`` are zero (netmeta: ``is_zero(P, n = 1000)``).
ZERO_P = 1000 * np.finfo(float).eps


def shortest_path_row(edges: list[tuple[int, int]], flows: np.ndarray, source: int, sink: int):
    """Papakonstantinou et al.'s decomposition of one hat-matrix row into shortest-path streams.

    Parameters
    ----------
    edges : list of (int, int)
        The direct comparisons ``(i, j)``, ``i < j``.
    flows : ndarray
        The row's hat-matrix entries: edge ``(i, j)`` carries ``|h|`` from ``i`` to ``j`` if
        ``h > 0``, else from ``j`` to ``i``.
    source, sink : int
        The comparison's treatments.

    Returns
    -------
    ndarray
        Contribution of every edge.
    """
    heads = [(i, j) if h > 0 else (j, i) for (i, j), h in zip(edges, flows, strict=True)]
    vertex: dict[int, int] = {}  # igraph's vertex ids: first appearance, row by row
    for a, b in heads:
        vertex.setdefault(a, len(vertex))
        vertex.setdefault(b, len(vertex))
    flow = np.abs(np.asarray(flows, dtype=float))
    alive = np.ones(len(edges), dtype=bool)
    weight = np.zeros(len(edges))
    while (path := _bfs_path(heads, alive, vertex, source, sink)) is not None:
        phi = min(flow[e] for e in path)  # the stream's flow: its narrowest edge
        for e in path:
            flow[e] = flow[e] - phi
            weight[e] += phi / len(path)  # shared equally by the path's edges
        alive[[e for e in path if flow[e] == 0]] = False  # emptied edges leave the graph
    return weight


def _bfs_path(heads, alive, vertex, source, sink):
    """Return the edges of the shortest ``source -> sink`` path, or None.

    The path igraph's breadth-first search finds: out-edges visited by target vertex id, then
    edge id; a vertex's parent is the edge it is first reached by.
    """
    out: dict[int, list[tuple[int, int, int]]] = {}
    for e, (a, b) in enumerate(heads):
        if alive[e]:
            out.setdefault(a, []).append((vertex[b], e, b))
    parent = {source: None}
    queue = deque([source])
    while queue and sink not in parent:
        node = queue.popleft()
        for _, e, b in sorted(out.get(node, [])):
            if b not in parent:
                parent[b] = e
                queue.append(b)
    if sink not in parent:
        return None
    path, node = [], sink
    while parent[node] is not None:
        e = parent[node]
        path.append(e)
        node = heads[e][0]
    return path[::-1]


def random_walk_row(full: np.ndarray, source: int, sink: int) -> np.ndarray:
    r"""Davies et al.'s random-walk contributions of one row of the full hat matrix.

    Parameters
    ----------
    full : ndarray (T, T)
        The row as a matrix: ``full[i, j]`` (``i < j``) the hat-matrix entry of edge ``(i, j)``
        (0 for pairs without direct evidence).
    source, sink : int
        The comparison's treatments.

    Returns
    -------
    ndarray (T, T)
        Symmetric: the contribution of every pair.
    """
    n = full.shape[0]
    q = np.triu(full, 1) - np.triu(full, 1).T  # Q[j, i] = -Q[i, j]
    q[q <= 0] = 0.0  # the walker only moves with the flow
    total = q.sum(axis=1)
    p = np.divide(q, total[:, None], out=np.zeros_like(q), where=total[:, None] != 0)
    p[sink] = 0.0  # the walk ends at the sink
    p[np.abs(p) < ZERO_P] = 0.0
    # forward[l, v]: probability of reaching v from the source in exactly l steps; backward[l, v]:
    # of reaching the sink from v in exactly l steps (the graph is acyclic: paths are simple)
    forward, backward = np.zeros((n, n)), np.zeros((n, n))
    forward[0, source], backward[0, sink] = 1.0, 1.0
    for step in range(1, n):
        forward[step] = forward[step - 1] @ p
        backward[step] = p @ backward[step - 1]
    contrib = np.zeros((n, n))
    for a in range(n):
        for b in range(n - a):
            # paths of a + b + 1 edges through (u, v): F_a(u) P(u, v) B_b(v), each edge 1/length
            contrib += np.outer(forward[a], backward[b]) * p / (a + b + 1)
    return np.maximum(contrib, contrib.T)


def pool_edges(graph: EvidenceGraph, tau: float = 0.0):
    """Return the direct comparisons, their pooled weights ``W_e`` and pooled direct estimates.

    Edge ``(a, b)`` (positions, ``a < b``) pools its studies' pairwise rows with their reduced
    weights ``w`` at ``tau`` (Rücker 2012): ``W_e = sum w`` and the estimate of ``a`` minus ``b``
    ``sum w TE / W_e``.
    """
    rows = graph.pair_rows(tau)
    edges = sorted({(a, b) for _, a, b, _, _ in rows})
    index = {e: k for k, e in enumerate(edges)}
    pooled, weighted = np.zeros(len(edges)), np.zeros(len(edges))  # W_e, sum w TE
    for _, a, b, te, w in rows:
        pooled[index[a, b]] += w
        weighted[index[a, b]] += w * te
    return edges, pooled, weighted / pooled


def _aggregated_hat(graph: EvidenceGraph, tau: float):
    """Return the edges, the aggregated hat matrix (all pairs x edges) and the study shares.

    A study's share of an edge is its weight ``1 / (1/w + tau^2)`` over the edge's total, ``w``
    its common-effect (reduced) weight: netmeta's split of a comparison's contribution among its
    studies (``netcontrib(study = TRUE)``).
    """
    cov, _ = gls_solve(graph.design_matrix(), graph.weight(tau))
    edges, pooled, _ = pool_edges(graph, tau)  # W_e
    index = {e: k for k, e in enumerate(edges)}
    share = np.zeros((len(graph.members), len(edges)))  # study x edge weights (netmeta)
    for s, a, b, _, w in graph.pair_rows(0.0):
        share[s, index[a, b]] += 1.0 / (1.0 / w + tau**2)
    pairs = graph.all_pairs()
    comp, edge = graph.contrast_vectors(pairs), graph.contrast_vectors(edges)
    hat = (comp @ cov @ edge.T) * pooled  # H_ce = x_c' Sigma x_e W_e
    return pairs, edges, hat, share / share.sum(axis=0)


def contribution_matrix(
    data,
    *,
    method: str = "shortestpath",
    effects: str | None = None,
    by: str = "comparison",
    tau: float | None = None,
    **options,
) -> ContributionMatrix:
    r"""Return the contribution of every direct comparison (or study) to every network estimate.

    As netmeta's ``netcontrib``. Sampling-free and frequentist: computed from the aggregated
    hat matrix of the common- or random-effects model, with the exact within-study covariance
    (multi-arm studies included). For the equations see
    :mod:`nma_bayes.results.contribution` and the docs page *Checking consistency and evidence
    flow*.

    Parameters
    ----------
    data : DataFrame, Network or NetworkFit
        Data as :func:`nma_bayes.fit_network` accepts, a built :class:`~nma_bayes.Network`, or a
        fit (its network). Arm-level outcome studies (binomial logit, Poisson, normal arms)
        enter as contrasts with their normal approximation, as after netmeta's ``pairwise``
        (:mod:`nma_bayes.data.approximate`).
    method : {"shortestpath", "randomwalk"}
        ``"shortestpath"``: Papakonstantinou et al. (2018), netmeta's default;
        ``"randomwalk"``: Davies et al. (2022).
    effects : {"random", "fixed"}, optional
        Model whose hat matrix is decomposed; default random effects for data, the fit's model
        for a fit.
    by : {"comparison", "study"}
        Columns: the direct comparisons, or the studies (each direct comparison's contribution
        split among its studies in proportion to their weights).
    tau : float, optional
        Between-study SD of the random-effects model; by default netmeta's DerSimonian-Laird
        estimate, and for a random-effects fit the posterior median of its ``tau`` (the hat
        matrix of a Bayesian fit is the GLS hat matrix at that ``tau``). ``effects="random"`` only.
    **options
        ``reference=``, column names and options of :func:`nma_bayes.data.formats.as_network`.

    Returns
    -------
    ContributionMatrix
        ``to_frame()``: one row per network comparison (all pairs, in network treatment order)
        and direct comparison or study, with ``contribution`` (proportions summing to 1 per
        comparison); ``matrix()``: the wide matrix.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``method``, ``effects``, ``by`` or ``tau``, arm-level
        outcome data, a study with two arms of one treatment, or a disconnected network; and
        any error of the data layer.
    """
    method = VA.check_choice(method, "method", METHODS)
    by = VA.check_choice(by, "by", BY)
    effects, preset = check_effects(*fit_model(data, effects, tau, "random"))
    network = contrast_network(data, options.pop("reference", None), options, "contribution_matrix")
    graph = EvidenceGraph.from_network(network, network.treatments)
    tau_used = model_tau(graph, effects, preset)
    pairs, edges, hat, share = _aggregated_hat(graph, tau_used)
    weights = np.zeros_like(hat)
    for r, (a, b) in enumerate(pairs):
        if method == "shortestpath":
            weights[r] = shortest_path_row(edges, hat[r], a, b)
        else:
            full = np.zeros((graph.n_treatments,) * 2)
            full[tuple(np.array(edges).T)] = hat[r]
            walk = random_walk_row(full, a, b)
            weights[r] = [walk[i, j] for i, j in edges]
    weights[np.abs(weights) < 10 * np.finfo(float).eps] = 0.0  # netmeta: is_zero()
    columns = [graph.label(e) for e in edges]
    if by == "study":
        weights, columns = weights @ share.T, list(graph.studies)
    labels = [graph.label(p) for p in pairs]
    long = pd.DataFrame(
        {
            "comparison": np.repeat(labels, len(columns)),
            "treatment": np.repeat([graph.names[a] for a, _ in pairs], len(columns)),
            "comparator": np.repeat([graph.names[b] for _, b in pairs], len(columns)),
            "direct_comparison" if by == "comparison" else "study": columns * len(labels),
            "contribution": weights.reshape(-1),
        }
    )
    return ContributionMatrix(long, method=method, effects=effects, by=by, tau=tau_used)
