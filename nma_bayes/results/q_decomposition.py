r"""Design-based decomposition of Cochran's Q (Krahn, Binder & König 2013): ``decomp.design``.

As netmeta's ``decomp.design`` (netmeta 3.3-1). Studies with the same set of treatments form a
*design*. Pooling each design's studies by GLS gives its direct estimates
:math:`\hat\theta_d` (covariance :math:`V_d`); the network estimate :math:`\hat\theta^{net}`
is the GLS fit of the consistency model to them. The generalised Q of the network splits
exactly into within-design heterogeneity and between-design inconsistency
(Krahn et al. 2013, BMC Med Res Methodol 13:35, eqs. 7-8):

.. math::

    Q_{net} = \sum_s (y_s - X_s\hat d)' A_s^{-1} (y_s - X_s\hat d)
            = \underbrace{\sum_d \sum_{s \in d} (y_s - \hat\theta_d)' A_s^{-1}
              (y_s - \hat\theta_d)}_{Q_{het}}
            + \underbrace{(\hat\theta - \hat\theta^{net})' V^{-1}
              (\hat\theta - \hat\theta^{net})}_{Q_{inc}},

with :math:`\chi^2` degrees of freedom :math:`\sum_s (a_s - 1) - (T - 1)`,
:math:`\sum_d (n_d - 1)(a_d - 1)` and their difference (:math:`a` arms, :math:`n_d` studies,
:math:`T` treatments). :math:`Q_{inc}` is split into each design row's contribution
:math:`r_j (V^{-1} r)_j` (:math:`r = \hat\theta - \hat\theta^{net}`), and recomputed after
*detaching* each design in turn (its direct estimates fitted by parameters of their own). The
random-effects version adds :math:`\tau^2(I+J)/2` to every study's covariance, with
:math:`\tau` by default the method-of-moments estimate of the full design-by-treatment
interaction model (every design row its own parameter; Higgins et al. 2012, Res Synth Methods
3:98-110; Jackson, White & Riley 2012, Stat Med 31:3805-20).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engines.gls import gls_solve
from .evidence_graph import (
    EvidenceGraph,
    block_diagonal,
    check_tau,
    chi2_pvalue,
    contrast_network,
    moment_tau,
)
from .evidence_result import QDecomposition

__all__ = ["decompose_q", "QDecomposition"]


@dataclass(frozen=True)
class _Designs:
    """The designs of a graph: their studies, rows and the design-level design matrix."""

    designs: list[tuple[int, ...]]
    of_study: np.ndarray  # design index of each study
    row_design: np.ndarray  # design index of each design row
    row_treatment: np.ndarray  # treatment (vs the design's baseline) of each design row
    x: np.ndarray  # design rows x basic parameters

    @classmethod
    def of(cls, graph: EvidenceGraph) -> _Designs:
        designs, of_study = graph.designs()
        row_design = np.array([k for k, d in enumerate(designs) for _ in d[1:]], dtype=np.int64)
        row_trt = np.array([t for d in designs for t in d[1:]], dtype=np.int64)
        pairs = [(t, designs[k][0]) for k, t in zip(row_design, row_trt, strict=True)]
        x = graph.contrast_vectors(pairs)
        return cls(designs, of_study, row_design, row_trt, x)


def _pool_designs(graph: EvidenceGraph, dz: _Designs, covs: list[np.ndarray]):
    """GLS-pool each design's studies.

    Returns the stacked direct estimates, the block-diagonal precision of the design rows, and
    the within-design Q and number of study rows of every design.
    """
    te, blocks, q_het, n_rows = [], [], [], []
    weights = [np.linalg.inv(a) for a in covs]
    for k in range(len(dz.designs)):
        studies = np.flatnonzero(dz.of_study == k)
        w_d = sum(weights[s] for s in studies)  # precision of the pooled estimate
        theta = np.linalg.solve(w_d, sum(weights[s] @ graph.y[s] for s in studies))
        te.append(theta)
        blocks.append(w_d)
        q_het.append(
            sum(float((graph.y[s] - theta) @ weights[s] @ (graph.y[s] - theta)) for s in studies)
        )
        n_rows.append(len(studies) * len(theta))
    return np.concatenate(te), block_diagonal(blocks), np.array(q_het), np.array(n_rows)


def _q_parts(graph: EvidenceGraph, dz: _Designs, tau: float) -> dict:
    """Return Q total, within and between designs, design rows' shares and detached Qs."""
    covs = graph.covariances(tau)
    te, v_inv, q_het, n_rows = _pool_designs(graph, dz, covs)
    _, hat = gls_solve(dz.x, v_inv)
    d_hat = hat @ te
    resid = graph.stacked_y() - graph.design_matrix() @ d_hat
    q_total = float(resid @ block_diagonal([np.linalg.inv(a) for a in covs]) @ resid)
    r = te - dz.x @ d_hat
    return {
        "total": q_total,
        "within": q_het,
        "n_rows": n_rows,
        "between": q_total - float(q_het.sum()),
        "contributions": r * (v_inv @ r),  # row j: r_j (V^-1 r)_j; they sum to Q between
        "detached": _detached(dz, te, v_inv),
        "direct": te,  # the design rows' direct estimates
        "precision": v_inv,  # and their block-diagonal precision
    }


def detached_residuals(dz: _Designs, te: np.ndarray, v_inv: np.ndarray) -> np.ndarray:
    """Return the design rows' residuals after detaching each design: (designs, rows).

    Row ``k``: direct estimates minus the network estimates fitted without design ``k``, whose
    own rows are 0 (fitted exactly by parameters of their own; netmeta's
    ``residuals.inc.detach``). NaN where the other designs cannot estimate every basic
    parameter (the design holds a treatment nowhere else, or its removal splits the network).
    """
    p = dz.x.shape[1]
    out = np.full((len(dz.designs), len(te)), np.nan)
    for k in range(len(dz.designs)):
        keep = dz.row_design != k
        if np.linalg.matrix_rank(dz.x[keep]) < p:
            continue
        _, hat = gls_solve(dz.x[keep], v_inv[np.ix_(keep, keep)])
        out[k] = te - dz.x @ (hat @ te[keep])
        out[k, ~keep] = 0.0
    return out


def _detached(dz: _Designs, te: np.ndarray, v_inv: np.ndarray) -> np.ndarray:
    """Return the between-designs Q after detaching each design (NaN: netmeta leaves it out)."""
    r = detached_residuals(dz, te, v_inv)
    return np.einsum("kj,ji,ki->k", r, v_inv, r)  # r_k' V^-1 r_k per detached design k


def tau_within(graph: EvidenceGraph, dz: _Designs) -> float:
    """Return the method-of-moments ``tau`` of the full design-by-treatment interaction model.

    One parameter per design row (Jackson, White & Riley 2012; netmeta ``tau.within``).
    """
    study, trt = graph.rows()
    keys = zip(dz.row_design, dz.row_treatment, strict=True)
    index = {(k, t): j for j, (k, t) in enumerate(keys)}
    x = np.zeros((len(study), len(dz.row_design)))
    columns = [index[dz.of_study[s], t] for s, t in zip(study, trt, strict=True)]
    x[np.arange(len(study)), columns] = 1.0  # each study row estimates its design row
    return moment_tau(x, graph.weight(0.0), graph.stacked_y(), graph.shape())


def decompose_q(data, *, tau: float | None = None, reference: str | None = None, **options):
    r"""Decompose Cochran's Q into within-design heterogeneity and between-design inconsistency.

    The design-based decomposition of Krahn, Binder & König (2013), as netmeta's
    ``decomp.design``. Sampling-free and frequentist: computed from the study contrasts and
    their exact within-study covariance (multi-arm studies included). For the equations see
    :mod:`nma_bayes.results.q_decomposition` and the docs page *Checking consistency and
    evidence flow*.

    Parameters
    ----------
    data : DataFrame, Network or NetworkFit
        Data as :func:`nma_bayes.fit_network` accepts, a built :class:`~nma_bayes.Network`, or a
        fit (its network). Arm-level outcome studies (binomial logit, Poisson, normal arms)
        enter as contrasts with their normal approximation, as after netmeta's ``pairwise``
        (:mod:`nma_bayes.data.approximate`).
    tau : float, optional
        Between-study SD of the random-effects part; by default the method-of-moments estimate
        of the full design-by-treatment interaction model (``tau_within``; Jackson et al. 2012).
    reference : str, optional
        Reference treatment: the baseline of every design that holds it (netmeta's
        ``reference.group``). Designs without it use their first treatment in network order.
    **options
        Column names and options of :func:`nma_bayes.data.formats.as_network`.

    Returns
    -------
    QDecomposition
        ``q`` (total, within, between), ``within_designs``, ``detached``, ``random`` and
        ``contributions`` tables; ``to_frame()`` stacks them.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``tau``, arm-level outcome data, a study with two arms of
        one treatment, or a disconnected network; and any error of the data layer.
    """
    preset = check_tau(tau)
    network = contrast_network(data, reference, options, "decompose_q")
    names = (network.reference, *network.non_reference)
    graph = EvidenceGraph.from_network(network, names)
    dz = _Designs.of(graph)
    common = _q_parts(graph, dz, 0.0)
    within_tau = tau_within(graph, dz)
    tau_used = within_tau if preset is None else preset
    random = _q_parts(graph, dz, tau_used)
    return _result(graph, dz, common, random, tau_used, within_tau, preset is not None)


def _result(graph, dz, common, random, tau_used, within_tau, preset) -> QDecomposition:
    """Assemble the tables of :class:`QDecomposition`."""
    n_studies = np.bincount(dz.of_study, minlength=len(dz.designs))
    arms = np.array([len(d) for d in dz.designs])
    df_within = common["n_rows"] - (arms - 1)
    df_total = int(common["n_rows"].sum()) - (graph.n_treatments - 1)
    df_between = df_total - int(df_within.sum())
    q = np.array([common["total"], common["within"].sum(), common["between"]])
    dfs = np.array([df_total, df_within.sum(), df_between])
    labels = [graph.label(d) for d in dz.designs]
    # detached design k: its arms - 1 parameters of its own, on top of T - 1
    df_detach = len(dz.row_design) - (graph.n_treatments - 1) - (arms - 1)
    detach = pd.DataFrame({"design": labels, "Q": common["detached"], "df": df_detach * 1.0})
    detach.loc[detach["df"] < 0, "df"] = np.nan
    detach = detach[np.isfinite(detach["Q"])].reset_index(drop=True)
    rows = pd.DataFrame(
        {
            "design": [labels[k] for k in dz.row_design],
            "comparison": [
                graph.label((dz.designs[k][0], t))
                for k, t in zip(dz.row_design, dz.row_treatment, strict=True)
            ],
            "Q_common": common["contributions"],
            "Q_random": random["contributions"],
        }
    )
    return QDecomposition(
        q=pd.DataFrame(
            {
                "part": ["Total", "Within designs", "Between designs"],
                "Q": q,
                "df": dfs,
                "p_value": chi2_pvalue(q, dfs),
            }
        ),
        within_designs=pd.DataFrame(
            {
                "design": labels,
                "n_studies": n_studies,
                "Q": common["within"],
                "df": df_within,
                "p_value": chi2_pvalue(common["within"], df_within),
            }
        ),
        detached=detach.assign(p_value=chi2_pvalue(detach["Q"], detach["df"])),
        random=pd.DataFrame(
            {
                "Q": [random["between"]],
                "df": [df_between],
                "p_value": chi2_pvalue(random["between"], df_between),
                "tau": [tau_used],
                "tau2": [tau_used**2],
            }
        ),
        contributions=rows,
        reference=graph.names[0],
        tau=tau_used,
        tau_within=within_tau,
        tau_preset=preset,
    )
