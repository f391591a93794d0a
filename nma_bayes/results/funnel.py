r"""Comparison-adjusted funnel plot and tests of small-study effects (netmeta ``funnel``).

The comparison-adjusted funnel plot of Chaimani, Higgins, Mavridis, Spyridonos & Salanti (2013,
PLoS One 8:e76654; Chaimani & Salanti 2012, Res Synth Methods 3:161-76), as netmeta 3.3-1's
``funnel.netmeta`` builds it. Every study contributes one point per pair of its treatments
(netmeta's pairwise rows: a multi-arm study gives all pairs). Each pair is oriented by a
user-given treatment ``order`` ("older vs newer", "active vs placebo", ...), so that a
small-study effect pushes all comparisons the same way; the point's x is

.. math::

    y_{iXY} - \hat\mu_{XY},

the study's effect of :math:`X` minus :math:`Y` (:math:`X` before :math:`Y` in the order) less
the pooled *direct* estimate of the comparison: the inverse-variance mean of the studies' effects
with weights :math:`1/(s_i^2 + \tau^2)` (netmeta's ``TE.direct.common`` with :math:`\tau = 0`,
``TE.direct.random`` with the network's DerSimonian-Laird :math:`\tau`); its y is the study's
standard error :math:`s_i` (unadjusted for multi-arm studies). Under no small-study effect the
points scatter symmetrically around 0.

The tests are meta 8.2-1's ``metabias`` on those points (``TE_adj``, ``seTE``):

* Egger (Egger, Davey Smith, Schneider & Minder 1997, BMJ 315:629-34): weighted least squares
  of :math:`y` on :math:`s` with weights :math:`1/s^2` (equivalently :math:`y/s` on
  :math:`1/s`), multiplicative residual variance; the slope is the bias, tested with
  :math:`t_{k-2}`;
* Begg (Begg & Mazumdar 1994, Biometrics 50:1088-1101): Kendall's score :math:`S` between the
  standardised effects :math:`(y - \hat\mu)/\sqrt{s^2 - v_{\hat\mu}}` (common-effect
  :math:`\hat\mu`) and the variances :math:`s^2`, its variance corrected for ties (Kendall &
  Gibbons 1990), no continuity correction, normal test;
* Thompson-Sharp (Thompson & Sharp 1999, Stat Med 18:2693-2708): the same regression with an
  additive between-study variance, a random-effects meta-regression on :math:`s` with the
  DerSimonian-Laird :math:`\tau^2` of the regression; the slope tested with :math:`t_{k-2}`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, stdtr

from ..base import validate as VA
from ..base.errors import ModelSpecError, format_items
from .evidence_graph import EvidenceGraph, fit_model
from .netheat import evidence_network
from .netheat_funnel_result import Funnel

__all__ = ["funnel", "Funnel", "bias_tests"]


def funnel(
    data,
    *,
    order,
    pooled: str | None = None,
    reference: str | None = None,
    duplicate_arms: str = "error",
    **columns,
) -> Funnel:
    r"""Compute the comparison-adjusted funnel plot and its tests for small-study effects.

    As netmeta's ``funnel.netmeta`` (netmeta 3.3-1; Chaimani et al. 2013, PLoS One 8:e76654)
    and meta's ``metabias`` tests (Egger et al. 1997; Begg & Mazumdar 1994; Thompson & Sharp
    1999); see :mod:`nma_bayes.results.funnel`. Draw it with
    :func:`nma_bayes.plots.plot_funnel`.

    Parameters
    ----------
    data : DataFrame, Network or NetworkFit
        Data as :func:`nma_bayes.fit_network` accepts, a built :class:`~nma_bayes.Network`, or a
        fit (its network). Arm-level outcome studies (binomial logit, Poisson, normal arms)
        enter as contrasts with their normal approximation, as after netmeta's ``pairwise``
        (:mod:`nma_bayes.data.approximate`).
    order : sequence of str
        Every treatment exactly once: each comparison is oriented as the earlier treatment vs
        the later one (Chaimani et al. 2013: e.g. older vs newer, active vs placebo).
    pooled : {"fixed", "random"}, optional
        Which pooled direct estimate is subtracted: common effect (default for data, as
        netmeta), or random effects with the network's DerSimonian-Laird ``tau``; for a fit, by
        default the fit's model.
    reference : str, optional
        Reference treatment of the network (does not change the result).
    duplicate_arms : {"error", "first"}
        A study with two arms of one treatment is refused (``"error"``, as netmeta), or only
        its first arm of each treatment is kept (``"first"``; see
        :func:`nma_bayes.results.netheat.evidence_network`).
    **columns
        Column names and options of :func:`nma_bayes.data.formats.as_network`.

    Returns
    -------
    Funnel
        ``to_frame()``: ``study, treat1, treat2, comparison, TE, TE_direct, TE_adj, seTE``;
        ``tests()``: Egger, Begg and Thompson-Sharp tests.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) A bad ``pooled``, an ``order`` that does not name every treatment
        exactly once, fewer than three study comparisons or all of one precision, arm-level
        outcome data, or duplicate arms with ``duplicate_arms="error"``; and any error of the
        data layer.
    """
    pooled = fit_model(data, pooled, None, "fixed")[0]  # a fit: its model
    pooled = VA.check_choice(pooled, "pooled", ("fixed", "random"))
    network, dropped = evidence_network(data, reference, columns, "funnel", duplicate_arms)
    names = _check_order(order, network.treatments)
    graph = EvidenceGraph.from_network(network, names)  # positions follow `order`
    tau = graph.dl_tau() if pooled == "random" else 0.0
    table = _adjusted(graph, tau)
    if len(table) < 3 or table["seTE"].nunique() == 1:
        raise ModelSpecError(
            f"funnel: {len(table)} study comparisons"
            f"{' of one precision' if len(table) >= 3 else ''}; the tests of small-study "
            "effects need at least three with different standard errors.",
            rule="bad-option",
        )
    tests = bias_tests(table["TE_adj"].to_numpy(), table["seTE"].to_numpy())
    return Funnel(_table=table, _tests=tests, order=names, pooled=pooled, tau=float(tau),
                  dropped_arms=dropped)  # fmt: skip


def _check_order(order, treatments) -> tuple[str, ...]:
    """Return ``order`` as a tuple after checking it names every treatment exactly once."""
    if isinstance(order, str) or not hasattr(order, "__iter__"):
        raise ModelSpecError(
            f"order must be a sequence of treatment names, got {order!r}.", rule="bad-option"
        )
    order = tuple(order)
    unknown = [t for t in order if t not in treatments]
    twice = sorted({t for t in order if order.count(t) > 1}, key=str)
    missing = [t for t in treatments if t not in order]
    if unknown or twice or missing:
        problems = [f"unknown {format_items(unknown)}" if unknown else "",
                    f"repeated {format_items(twice)}" if twice else "",
                    f"missing {format_items(missing)}" if missing else ""]  # fmt: skip
        raise ModelSpecError(
            f"order must name every treatment of the network exactly once "
            f"({'; '.join(p for p in problems if p)}). Treatments: {format_items(treatments, 20)}.",
            rule="bad-option",
        )
    return order


def _input_positions(graph: EvidenceGraph) -> list[dict[tuple[int, int], int]]:
    """Per study and pair, its row's place in the input: netmeta keeps the rows' input order.

    A study given in pairwise form: the row of that pair in the contrast data; any other study:
    its first row (arm data after the contrast data).
    """
    network = graph.network
    pos = {t: i for i, t in enumerate(graph.names)}
    first: dict[str, int] = {}
    rows: dict[tuple[str, int, int], int] = {}
    n_rows = 0
    if network.data is not None:
        c = network.columns
        data = network.data
        cols = (data[c["study"]], data[c["treat1"]], data[c["treat2"]])
        for i, (study, t1, t2) in enumerate(zip(*cols, strict=True)):
            first.setdefault(study, i)
            if t1 in pos and t2 in pos:
                rows[study, *sorted((pos[t1], pos[t2]))] = i
        n_rows = len(data)
    out = []
    for s, (study, members) in enumerate(zip(graph.studies, graph.members, strict=True)):
        start = first.get(study, n_rows + s)
        pairwise = network.form[s] == "pairwise"
        out.append({(a, b): rows.get((study, a, b), start) if pairwise else start
                    for i, a in enumerate(members) for b in members[i + 1 :]})  # fmt: skip
    return out


def _adjusted(graph: EvidenceGraph, tau: float) -> pd.DataFrame:
    """Return the funnel table: pairwise rows oriented by the order, less the direct estimates."""
    variances = graph.pair_variances()
    places = _input_positions(graph)
    rows = []
    for s, a, b, te, _ in graph.pair_rows(0.0):  # a before b in the order: effect a minus b
        rows.append((places[s][a, b], graph.studies[s], a, b, te, variances[s][a, b]))
    df = pd.DataFrame(rows, columns=["place", "study", "a", "b", "TE", "var"])
    # netmeta sorts by the pair's positions in the order, keeping the input order within a pair
    df = df.sort_values(["a", "b", "place"], kind="stable").reset_index(drop=True)
    # direct estimate: inverse-variance mean with the unadjusted variances (+ tau^2), as
    # netmeta's TE.direct.common / TE.direct.random
    w = 1.0 / (df["var"] + tau**2)
    key = [df["a"], df["b"]]
    direct = (w * df["TE"]).groupby(key).transform("sum") / w.groupby(key).transform("sum")
    names = graph.names
    return pd.DataFrame(
        {
            "study": df["study"],
            "treat1": [names[a] for a in df["a"]],
            "treat2": [names[b] for b in df["b"]],
            "comparison": [f"{names[a]}:{names[b]}" for a, b in zip(df["a"], df["b"], strict=True)],
            "TE": df["TE"],
            "TE_direct": direct,
            "TE_adj": df["TE"] - direct,
            "seTE": np.sqrt(df["var"]),
        }
    )


def bias_tests(y: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """Return Egger's, Begg's and Thompson-Sharp's tests of funnel asymmetry (meta ``metabias``).

    Parameters
    ----------
    y, se : ndarray
        Effects and their standard errors (at least three, not all of one precision).

    Returns
    -------
    DataFrame
        Rows ``Egger``, ``Begg``, ``Thompson``; columns ``method, k, statistic, df, p_value,
        estimate, se, estimate_name, se_name`` and, for the regressions, ``intercept`` (the
        fitted line is ``y = intercept + estimate * se``; NaN for Begg's test).
    """
    y, se = np.asarray(y, dtype=float), np.asarray(se, dtype=float)
    rows = [("Egger", *_regression(y, se, additive=False), "bias", "se.bias"),
            ("Begg", *_rank_correlation(y, se), "ks", "se.ks"),
            ("Thompson", *_regression(y, se, additive=True), "bias", "se.bias")]  # fmt: skip
    cols = ["method", "statistic", "df", "p_value", "estimate", "se", "intercept",
            "estimate_name", "se_name"]  # fmt: skip
    out = pd.DataFrame(rows, columns=cols)
    out.insert(1, "k", len(y))
    return out


def _regression(y: np.ndarray, se: np.ndarray, *, additive: bool):
    """Weighted regression of ``y`` on ``se``: Egger (multiplicative) or Thompson-Sharp."""
    k = len(y)
    x = np.column_stack([np.ones(k), se])
    v = se**2
    tau2 = 0.0
    if additive:
        # DerSimonian-Laird tau^2 of the meta-regression (metafor rma.uni, method "DL"):
        # (Q_E - (k - p)) / tr(P), P = W - W X (X'WX)^-1 X'W
        w = 1.0 / v
        xtw = x.T * w
        p = np.diag(w) - xtw.T @ np.linalg.solve(xtw @ x, xtw)
        tau2 = max(0.0, (float(y @ p @ y) - (k - 2)) / float(np.trace(p)))
    w = 1.0 / (v + tau2)
    xtw = x.T * w
    cov = np.linalg.inv(xtw @ x)
    beta = cov @ (xtw @ y)
    if not additive:
        # lm with weights: the residual variance scales the covariance (multiplicative model)
        resid = y - x @ beta
        cov = cov * float(w @ resid**2) / (k - 2)
    se_slope = float(np.sqrt(cov[1, 1]))
    t = float(beta[1]) / se_slope
    p_value = float(2 * stdtr(k - 2, -abs(t)))
    return t, float(k - 2), p_value, float(beta[1]), se_slope, float(beta[0])


def _rank_correlation(y: np.ndarray, se: np.ndarray):
    """Begg & Mazumdar's test: Kendall's score of standardised effects against variances."""
    w = 1.0 / se**2
    mean = float(w @ y / w.sum())  # common-effect estimate, variance 1 / sum(w)
    x = (y - mean) / np.sqrt(se**2 - 1.0 / w.sum())
    rx, rv = _tie_ranks(x), _tie_ranks(se**2)
    n = len(y)
    # Kendall's score S = sum over pairs of sign(dx) sign(dv) (ties count 0)
    score = float(np.triu(np.sign(rx[:, None] - rx) * np.sign(rv[:, None] - rv), 1).sum())
    t = np.bincount(rx).astype(float)  # sizes of the tie groups
    u = np.bincount(rv).astype(float)
    # variance of S with ties (Kendall & Gibbons 1990, pp. 66-68; meta's kentau)
    var = ((n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum()
            - (u * (u - 1) * (2 * u + 5)).sum()) / 18
           + (t * (t - 1) * (t - 2)).sum() * (u * (u - 1) * (u - 2)).sum()
           / (9 * n * (n - 1) * (n - 2))
           + (t * (t - 1)).sum() * (u * (u - 1)).sum() / (2 * n * (n - 1)))  # fmt: skip
    se_score = float(np.sqrt(var))
    z = score / se_score
    return z, np.nan, float(2 * ndtr(-abs(z))), score, se_score, np.nan


def _tie_ranks(values: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Dense ranks of ``values``, equal within ``rtol`` (relative to the largest) counting as ties.

    R compares the numbers exactly; values that are equal in exact arithmetic (the same
    standard error twice, a comparison with one study whose adjusted effect is 0) can differ in
    their last bits here and there, so they are grouped with a tolerance far above rounding
    error and far below any real difference.
    """
    order = np.argsort(values, kind="stable")
    scale = max(float(np.abs(values).max()), np.finfo(float).tiny)
    steps = np.diff(values[order]) > rtol * scale  # a new group where the gap is real
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.concatenate([[0], np.cumsum(steps)])
    return ranks
