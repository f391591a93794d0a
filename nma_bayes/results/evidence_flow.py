r"""Characteristics of the evidence behind every network estimate (König et al. 2013).

As netmeta's ``netmeasures`` (netmeta 3.3-1). The network estimate of comparison :math:`c` is
linear in the direct (design-level) estimates, :math:`\hat\theta^{net}_c = \sum_j
H_{cj}\hat\theta_j`, with :math:`H = X(X'V^{-1}X)^{-1}X'V^{-1}` the hat matrix of the
consistency model (Krahn et al. 2013). For a multi-arm design the coefficients depend on its
baseline, but the *absolute flow of evidence* through design :math:`d`,

.. math::

    \tilde H_{cd} = \tfrac12\Big(\Big|\sum_{j \in d} H_{cj}\Big| + \sum_{j \in d} |H_{cj}|\Big),

does not (König et al. 2013, Stat Med 32:5414-29, sec. 3.3). The measures of comparison
:math:`c` are

* the **proportion of direct evidence** :math:`\operatorname{Var}(\hat\theta^{net}_c) /
  \operatorname{Var}(\hat\theta^{dir}_c)`, the direct estimate pooling every study's contrast of
  the pair by inverse variance (0 without direct evidence; sec. 3.4.1-2);
* the **mean path length** :math:`\sum_d \tilde H_{cd}` (sec. 3.4.4): above 2, more than two
  direct comparisons are chained on average;
* the **minimal parallelism** :math:`1 / \max_d \tilde H_{cd}` (sec. 3.4.3), and the same with
  every study as its own design (*study level*).

The random-effects model adds :math:`\tau^2 (I + J)/2` to every study's covariance, with
netmeta's DerSimonian-Laird :math:`\tau` unless one is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines.gls import gls_solve
from .evidence_graph import EvidenceGraph, check_effects, contrast_network, fit_model
from .evidence_result import EvidenceSummary

__all__ = ["evidence_summary", "EvidenceSummary", "absolute_flow", "model_tau"]


def absolute_flow(hat: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    r"""Return König et al.'s :math:`\tilde H` of a hat matrix's columns grouped by design or study.

    ``0.5 (|sum| + sum |.|)`` of each row's entries over the columns of each group; shape
    ``(rows, n_groups)``.
    """
    signed = np.zeros((hat.shape[0], n_groups))
    absolute = np.zeros((hat.shape[0], n_groups))
    np.add.at(signed.T, groups, hat.T)
    np.add.at(absolute.T, groups, np.abs(hat).T)
    return 0.5 * (np.abs(signed) + absolute)


def model_tau(graph: EvidenceGraph, effects: str, preset: float | None) -> float:
    """``tau`` of the model: 0 (fixed), the preset, or netmeta's DerSimonian-Laird estimate."""
    if effects == "fixed":
        return 0.0
    return graph.dl_tau() if preset is None else preset


def evidence_summary(
    data, *, effects: str | None = None, tau: float | None = None, **options
) -> EvidenceSummary:
    r"""Return the direct-evidence proportion, mean path length and minimal parallelism.

    Of every comparison (König, Krahn & Binder 2013), as netmeta's ``netmeasures``.
    Sampling-free and frequentist: computed from the study contrasts and their exact
    within-study covariance (multi-arm studies included). For the equations see
    :mod:`nma_bayes.results.evidence_flow` and the docs page *Checking consistency and evidence
    flow*.

    Parameters
    ----------
    data : DataFrame, Network or NetworkFit
        Data as :func:`nma_bayes.fit_network` accepts, a built :class:`~nma_bayes.Network`, or a
        fit (its network). Arm-level outcome studies (binomial logit, Poisson, normal arms)
        enter as contrasts with their normal approximation, as after netmeta's ``pairwise``
        (:mod:`nma_bayes.data.approximate`).
    effects : {"random", "fixed"}, optional
        Model whose hat matrix is used; default random effects for data, the fit's model for a
        fit.
    tau : float, optional
        Between-study SD of the random-effects model; by default netmeta's DerSimonian-Laird
        estimate (Jackson et al. 2012's generalisation to networks), and for a random-effects
        fit the posterior median of its ``tau`` (the hat matrix of a Bayesian fit is the GLS hat
        matrix at that ``tau``). ``effects="random"`` only.
    **options
        ``reference=``, column names and options of :func:`nma_bayes.data.formats.as_network`.

    Returns
    -------
    EvidenceSummary
        ``to_frame()``: per comparison (all pairs, in network treatment order)
        ``comparison, treatment, comparator, proportion_direct, mean_path_length,
        minimal_parallelism, minimal_parallelism_study``; ``design_flow()``: the design-based
        hat matrix ``H~``.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``effects`` or ``tau``, arm-level outcome data, a study with
        two arms of one treatment, or a disconnected network; and any error of the data layer.
    """
    effects, preset = check_effects(*fit_model(data, effects, tau, "random"))
    network = contrast_network(data, options.pop("reference", None), options, "evidence_summary")
    graph = EvidenceGraph.from_network(network, network.treatments)
    tau_used = model_tau(graph, effects, preset)
    cov, hat = gls_solve(graph.design_matrix(), graph.weight(tau_used))
    pairs = graph.all_pairs()
    comp = graph.contrast_vectors(pairs)
    h_rows = comp @ hat  # each comparison's coefficients on the study contrast rows
    designs, of_study = graph.designs()
    study, _ = graph.rows()
    # design columns: a design's studies share its baseline, so a design row sums their columns
    by_design = absolute_flow(h_rows, of_study[study], len(designs))
    by_study = absolute_flow(h_rows, study, len(graph.members))
    var_net = np.einsum("ij,jk,ik->i", comp, cov, comp)
    precision = dict.fromkeys(pairs, 0.0)
    for variances in graph.pair_variances():
        for pair, v in variances.items():
            precision[pair] += 1.0 / (v + tau_used**2)  # netmeta: seTE^2 + tau^2 per pair
    # Var(network) / Var(direct); 0 where the pair has no direct evidence
    direct = np.array([precision[p] * v for p, v in zip(pairs, var_net, strict=True)])
    labels = [graph.label(p) for p in pairs]
    table = pd.DataFrame(
        {
            "comparison": labels,
            "treatment": [graph.names[a] for a, _ in pairs],
            "comparator": [graph.names[b] for _, b in pairs],
            "proportion_direct": direct,
            "mean_path_length": by_design.sum(axis=1),
            "minimal_parallelism": 1.0 / by_design.max(axis=1),
            "minimal_parallelism_study": 1.0 / by_study.max(axis=1),
        }
    )
    flow = pd.DataFrame(
        {
            "comparison": np.repeat(labels, len(designs)),
            "design": [graph.label(d) for d in designs] * len(labels),
            "flow": by_design.reshape(-1),
        }
    )
    return EvidenceSummary(table, flow, effects=effects, tau=tau_used)
