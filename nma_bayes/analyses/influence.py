"""Leave-one-study-out influence: how much each study moves the effects, ``tau`` and the ranking.

:func:`leave_one_out` fits the full network, then the network without each study in turn, keeping
the full fit's reference, priors and seed, and compares the summaries (the case-deletion
diagnostics of Viechtbauer & Cheung 2010, in posterior SDs). With the exact engine (normal
likelihoods, the default there) every study is refitted, a fraction of a second each; so it is
with the Laplace engine (arm-level outcomes, the default there through ``engine="auto"``). With PyMC
the full fit's per-study PSIS-LOO (Vehtari, Gelman & Gabry 2017; Vehtari et al. 2024) decides:
a study whose Pareto ``k`` is at most ``min(0.7, 1 - 1/log10(S))`` (``S`` draws) is left out by
reweighting the full fit's draws with its Pareto-smoothed importance weights
``w_s ~ 1 / p(y_i | theta_s)``, the others are refitted. A study whose removal disconnects the
network (a treatment, or the reference, would be left without evidence) is not refitted and is
reported as ``"not refittable"``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..base.graph import connected_components
from ..data.formats import network_from_options
from ..data.network import Network
from ..fitting.fit import fit_network
from ..results.summaries import flat_draws, rank_draws
from .batch import check_client, engines_label, run_tasks
from .influence_result import (
    EFFECT_COLUMNS,
    METHODS,
    RANK_COLUMNS,
    TAU_COLUMNS,
    LeaveOneOut,
    check_threshold,
)

__all__ = [
    "leave_one_out",
    "LeaveOneOut",
    "METHODS",
    "pareto_k_max",
    "disconnected_by",
    "without_study",
]


def pareto_k_max(n_draws: int) -> float:
    """Largest Pareto ``k`` for which PSIS is trusted with ``n_draws`` draws (Vehtari et al. 2024).

    Parameters
    ----------
    n_draws : int
        Number of posterior draws.

    Returns
    -------
    float
        ``min(0.7, 1 - 1 / log10(n_draws))``, the threshold ArviZ's ``loo`` warns at.
    """
    return min(0.7, 1 - 1 / np.log10(n_draws)) if n_draws > 1 else 0.7


def leave_one_out(
    data,
    *,
    lower_is_better: bool | None,
    engine: str | None = None,
    threshold_sd: float = 1.0,
    ci_prob: float = 0.95,
    psis: bool = True,
    client=None,
    **fit_kwargs,
) -> LeaveOneOut:
    """Leave-one-study-out influence analysis: refit (or reweight) the NMA without each study.

    Case-deletion diagnostics (Viechtbauer & Cheung 2010) on the posterior: every study's removal
    is summarised as the change of each relative effect vs the reference, in posterior SDs of
    the full fit, the change of ``tau`` and of the SUCRA ranking. With the PyMC engine, studies
    with a small PSIS-LOO Pareto ``k`` (Vehtari et al. 2017, 2024) are left out by importance
    reweighting of the full fit's draws instead of a refit (see :mod:`the module
    <nma_bayes.analyses.influence>`).

    Parameters
    ----------
    data : DataFrame or Network
        As for :func:`~nma_bayes.fit_network`.
    lower_is_better : bool or None
        Benefit direction of the rankings; ``None`` takes the network's recorded direction
        (:func:`~nma_bayes.base.validate.resolve_direction`), and fails if there is none.
    engine : {None, "exact", "pymc", "laplace", "auto"}
        ``None`` (default): ``"exact"`` for normal likelihoods without a class model (every
        study refitted exactly, in seconds for a hundred studies); ``"auto"`` for a network with
        arm-level outcome studies; else ``"pymc"``. ``"laplace"`` refits every study of an
        arm-level outcome network with the Laplace engine (:mod:`nma_bayes.engines.laplace`;
        thrombolytics' 50 studies in ~20 s); ``"auto"`` does so where the Laplace engine covers
        the model (every study arm-level, no classes) and its importance weights accept each
        fit, NUTS elsewhere (:func:`~nma_bayes.fitting.fit.resolve_engine`); when NUTS made the
        full fit, PSIS reweighting applies as with ``"pymc"``.
    threshold_sd : float
        A study is flagged when an effect moves by more than this many posterior SDs of the full
        fit, or when the top treatment changes without it.
    ci_prob : float
        Probability of the credible intervals in the tables.
    psis : bool
        PyMC engine: leave out the studies with a small Pareto ``k`` by PSIS reweighting
        (default); ``False`` refits every study. Ignored by the exact engine (always refits).
    client : distributed.Client, optional
        Run the refits as tasks on a Dask cluster (the full fit and PSIS stay here); the same
        seed for every fit, so the tables equal those without a client (``seconds`` aside).
        Needs ``pip install "nma_bayes[dask]"``.
    **fit_kwargs
        Passed to :func:`~nma_bayes.fit_network` (``reference``, priors, ``effects``, column
        names, sampler settings, ...). ``random_seed``, if omitted, is drawn once and shared by
        every fit, so that refits differ by the data only (exact fits: the same draws for the
        same posterior). Refits show no progress bar unless ``progressbar=True``.

    Returns
    -------
    LeaveOneOut
        ``effects()``, ``heterogeneity()``, ``rankings()``, ``summary()``, ``flagged()``, the
        ``full_fit`` and the timing ``seconds``.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``, before any fit) For a ``client`` that is not a
        ``distributed.Client`` (or without Dask), a bad ``threshold_sd``, an
        unknown engine, the UME model or a meta-regression (not supported yet); and every
        refusal of :func:`~nma_bayes.fit_network`.

    Examples
    --------
    >>> import nma_bayes as nb
    >>> from nma_bayes.analyses.influence import leave_one_out
    >>> df = nb.datasets.load_dataset("therapy_formats")
    >>> loo = leave_one_out(df, reference="cau", lower_is_better=True, random_seed=1)
    >>> loo.flagged()  # doctest: +SKIP
    """
    start = time.perf_counter()
    check_client(client)
    threshold_sd, ci_prob = check_threshold(threshold_sd), VA.check_ci_prob(ci_prob)
    psis = VA.check_bool(psis, "psis")
    _refuse_options(fit_kwargs)
    net = network_from_options(data, fit_kwargs)
    if net.covariates is not None:
        _refuse("meta-regression (covariates=)")
    direction = VA.resolve_direction(lower_is_better, net, required=True)
    engine = _resolve_engine(engine, net, fit_kwargs)
    seed = VA.check_seed(fit_kwargs.pop("random_seed", None))
    if seed is None:  # one seed for every fit: differences are then not Monte Carlo noise
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    fit_kwargs |= {"engine": engine, "random_seed": seed}
    full = fit_network(net, **fit_kwargs)
    reweight = _Reweighting.from_fit(full, direction) if psis and full.engine == "pymc" else None
    rows = _study_rows(net, fit_kwargs, reweight, direction=direction, ci_prob=ci_prob,
                       client=client)  # fmt: skip
    tables = _tables(net, full, rows, direction=direction, ci_prob=ci_prob)
    ran = engines_label([full.engine, *(r["engine"] for r in rows if r["engine"])])
    return LeaveOneOut(
        full_fit=full, engine=ran, threshold_sd=threshold_sd, lower_is_better=direction,
        random_seed=seed, seconds=time.perf_counter() - start, ties=_ties(full), **tables,
    )  # fmt: skip


def _ties(fit) -> dict[str, str]:
    """Each treatment's tie group: the first treatment with identical draws (common classes)."""
    d = flat_draws(fit.d_full())
    first: dict[bytes, str] = {}
    return {t: first.setdefault(d[:, j].tobytes(), t) for j, t in enumerate(fit.treatments)}


def _refuse(what: str):
    raise ModelSpecError(
        f"leave_one_out does not support {what} yet: fit the consistency model without it.",
        rule="bad-option",
    )


def _refuse_options(fit_kwargs: dict) -> None:
    """Refuse the options no leave-one-out refit can honour, before anything is fitted."""
    if fit_kwargs.get("consistency", "consistency") == "ume":
        _refuse("the UME model (consistency='ume'; its parameters are the observed comparisons)")
    for key in ("covariates", "interaction", "center"):
        if fit_kwargs.get(key) is not None:
            _refuse(f"meta-regression ({key}=)")


def _resolve_engine(engine, net: Network, fit_kwargs: dict) -> str:
    """Return the engine of every fit: ``engine``; by default ``"auto"`` for arm-level data."""
    if engine is None:
        if np.asarray(net.outcome).any():
            return "auto"
        return "pymc" if fit_kwargs.get("class_model") is not None else "exact"
    if engine not in ("exact", "pymc", "laplace", "auto"):
        raise ModelSpecError(
            f"engine={engine!r}: use None, 'exact', 'pymc', 'laplace' or 'auto'.",
            rule="bad-option",
        )
    return engine


# ---------------------------------------------------------------------------- the networks
def disconnected_by(net: Network, i: int) -> str:
    """Why leaving study ``i`` out disconnects the network (``""`` if it does not)."""
    keep = [j for j in range(net.n_studies) if j != i]
    arms = [np.asarray(net.arm[j])[np.asarray(net.mask[j])] for j in keep]
    edges = [(int(net.base[j]), int(a)) for j, js_arms in zip(keep, arms, strict=True)
             for a in js_arms]  # fmt: skip
    parts = connected_components(range(net.n_treatments), edges)
    if len(parts) == 1:
        return ""
    ref = net.treatment_index(net.reference)
    if [ref] in parts:
        return f"the reference {net.reference!r} is in no other study"
    main = next(p for p in parts if ref in p)
    cut = [net.treatments[t] for t in range(net.n_treatments) if t not in main]
    return f"without it {', '.join(map(repr, cut))} would have no path to {net.reference!r}"


def without_study(net: Network, i: int) -> Network:
    """Return the network without study ``i``: same treatments, reference, options; trimmed.

    Equal, array for array, to the network built from the input data without that study's rows
    (when no treatment is lost: see :func:`disconnected_by`).
    """
    keep = np.arange(net.n_studies) != i
    k = int(np.asarray(net.mask)[keep].sum(axis=1).max())
    label = net.studies[i]
    arrays = {name: np.asarray(getattr(net, name))[keep]
              for name in ("base", "cov", "n_arms", "cov_u", "base_n", "outcome")}  # fmt: skip
    arrays |= {name: np.asarray(getattr(net, name))[keep, :k]
               for name in ("arm", "y", "var", "mask", "u", "arm_n")}  # fmt: skip
    arrays |= {name: np.asarray(getattr(net, name))[keep, : k + 1]
               for name in ("events", "trials", "offset")}  # fmt: skip
    study_col = net.columns.get("study", "study")

    def rows(df):
        return None if df is None else df[df[study_col] != label].reset_index(drop=True)

    contrasts = net.contrasts[net.contrasts["study"] != label].reset_index(drop=True)
    return replace(
        net, studies=tuple(s for s in net.studies if s != label), contrasts=contrasts,
        form=tuple(f for f, kept in zip(net.form, keep, strict=True) if kept),
        data=rows(net.data), arm_data=rows(net.arm_data), **arrays,
    )  # fmt: skip


# ------------------------------------------------------------------------- the summaries
def _fit_summary(fit, *, direction: bool, ci_prob: float) -> dict:
    """Effects vs the reference, ``tau`` and SUCRA of one fit."""
    eff = fit.relative_effects(ci_prob=ci_prob)
    tau = fit.heterogeneity(ci_prob=ci_prob).loc["tau"] if fit.spec.random else None
    sucra = fit.sucra(lower_is_better=direction, ci_prob=ci_prob)
    return {
        "effects": eff.drop(columns="comparator").set_index("treatment"),
        "tau": None if tau is None else [float(tau[c]) for c in ("median", "ci_lower", "ci_upper")],
        "sucra": sucra.set_index("treatment")["sucra"],
    }


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, probs) -> np.ndarray:
    """Quantiles of the columns of ``x`` (N, P) under normalised weights ``w`` (N,).

    The weighted empirical CDF at each draw is the weight below it plus half its own (with equal
    weights: Hazen's quantiles); draws of zero weight are left out.
    """
    x, w = x[w > 0], w[w > 0]
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    cw = np.cumsum(w[order], axis=0) - w[order] / 2  # midpoint rule: equal weights -> type 5
    cols = [np.interp(probs, cw[:, j], xs[:, j]) for j in range(x.shape[1])]
    return np.array(cols).T


@dataclass(frozen=True)
class _Reweighting:
    """The full PyMC fit's draws and PSIS-LOO log weights (one row per study)."""

    pareto_k: np.ndarray
    log_weights: np.ndarray
    d: np.ndarray
    tau: np.ndarray | None
    scaled_ranks: np.ndarray
    treatments: tuple[str, ...]
    reference: str

    @classmethod
    def from_fit(cls, fit, direction: bool) -> _Reweighting:
        with warnings.catch_warnings():  # high k is handled (a refit), not a problem here
            warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto")
            lo = fit.loo()
        studies = list(fit.network.studies)
        k = lo.pareto_k.sel(study=studies).values
        lw = lo.log_weights.sel(study=studies).transpose("study", "chain", "draw").values
        d_full = fit.d_full()
        ranks = rank_draws(d_full, lower_is_better=direction)
        n_t = ranks.shape[1]
        tau = fit.posterior.tau_draws() if fit.spec.random else None
        return cls(k, lw.reshape(len(studies), -1), flat_draws(d_full), tau,
                   (n_t - ranks) / (n_t - 1), fit.treatments, fit.reference)  # fmt: skip

    def summary(self, i: int, ci_prob: float) -> dict:
        """Summaries of the posterior without study ``i``, by importance reweighting."""
        w = np.exp(self.log_weights[i] - self.log_weights[i].max())
        w /= w.sum()
        alpha = (1 - ci_prob) / 2
        others = [j for j, t in enumerate(self.treatments) if t != self.reference]
        d = self.d[:, others]
        mean = w @ d
        lo, med, hi = _weighted_quantiles(d, w, [alpha, 0.5, 1 - alpha])
        names = pd.Index([self.treatments[j] for j in others], name="treatment")
        effects = pd.DataFrame(
            {"mean": mean, "sd": np.sqrt(w @ (d - mean) ** 2), "median": med,
             "ci_lower": lo, "ci_upper": hi}, index=names,
        )  # fmt: skip
        tau = None
        if self.tau is not None:
            q = _weighted_quantiles(self.tau[:, None], w, [0.5, alpha, 1 - alpha])[:, 0]
            tau = [float(v) for v in q]
        sucra = pd.Series(w @ self.scaled_ranks, index=pd.Index(self.treatments, name="treatment"))
        return {"effects": effects, "tau": tau, "sucra": sucra}


def _study_rows(net: Network, fit_kwargs: dict, psis, *, direction, ci_prob, client) -> list:
    """Per study: method, Pareto k, reason, seconds and the summaries without it."""
    k_max = pareto_k_max(psis.d.shape[0]) if psis is not None else np.nan
    rows, refits = [], {}
    for i, study in enumerate(net.studies):
        start = time.perf_counter()
        k = float(psis.pareto_k[i]) if psis is not None else np.nan
        row = {"study": study, "pareto_k": k, "reason": disconnected_by(net, i), "engine": ""}
        if row["reason"]:
            row |= {"method": "not refittable", "summary": None}
        elif psis is not None and k <= k_max:  # NaN k fails the test: refitted
            row |= {"method": "psis", "summary": psis.summary(i, ci_prob)}
        else:
            row |= {"method": "refit", "summary": None}
            refits[i] = (net, i, {"progressbar": False} | fit_kwargs, direction, ci_prob)
        rows.append(row | {"seconds": time.perf_counter() - start})
    done = run_tasks(_refit_summary, refits, client=client, progress=False)
    for i, (summary, seconds, engine) in done.items():
        rows[i] |= {"summary": summary, "seconds": seconds, "engine": engine}
    return rows


def _refit_summary(payload) -> tuple[dict, float, str]:
    """Refit without study ``i``: its summaries, seconds and engine (a batch task)."""
    start = time.perf_counter()
    net, i, fit_kwargs, direction, ci_prob = payload
    fit = fit_network(without_study(net, i), **fit_kwargs)
    summary = _fit_summary(fit, direction=direction, ci_prob=ci_prob)
    return summary, time.perf_counter() - start, fit.engine


def _tables(net: Network, full, rows: list[dict], *, direction, ci_prob) -> dict:
    """Return the study table and the long tables of effects, ``tau`` and SUCRA."""
    base = _fit_summary(full, direction=direction, ci_prob=ci_prob)
    studies = pd.DataFrame(
        [{k: r[k] for k in ("study", "method", "pareto_k", "reason", "seconds")} for r in rows]
    )
    eff, tau, ranks = [], [], []
    full_rank = base["sucra"].rank(ascending=False, method="first").astype(int)
    for r in (r for r in rows if r["summary"] is not None):
        s, tag = r["summary"], {"study": r["study"], "method": r["method"]}
        e = s["effects"].reset_index()
        e.insert(1, "comparator", net.reference)
        full_eff = base["effects"].loc[e["treatment"]]  # the same treatments: none is lost
        e["mean_full"], e["sd_full"] = full_eff["mean"].to_numpy(), full_eff["sd"].to_numpy()
        e["change"] = e["mean"] - e["mean_full"]
        eff.append(e.assign(shift_sd=e["change"] / e["sd_full"], **tag))
        if s["tau"] is not None:
            med, lo, hi = s["tau"]
            full_tau = base["tau"][0]
            tau.append({"study": r["study"], "tau": med, "tau_lower": lo, "tau_upper": hi,
                        "tau_full": full_tau, "change": med - full_tau,
                        "method": r["method"]})  # fmt: skip
        sucra = s["sucra"][base["sucra"].index]
        rank = sucra.rank(ascending=False, method="first").astype(int)
        ranks.append(pd.DataFrame({
            "study": r["study"], "treatment": sucra.index, "sucra": sucra.to_numpy(),
            "sucra_full": base["sucra"].to_numpy(),
            "change": sucra.to_numpy() - base["sucra"].to_numpy(),
            "rank": rank.to_numpy(), "rank_full": full_rank.to_numpy(),
            "best": sucra.idxmax(), "method": r["method"],
        }).reset_index(drop=True))  # fmt: skip
    return {
        "studies": studies,
        "_effects": _concat(eff, EFFECT_COLUMNS),
        "_tau": pd.DataFrame(tau, columns=list(TAU_COLUMNS)),
        "_ranks": _concat(ranks, RANK_COLUMNS),
    }


def _concat(frames: list[pd.DataFrame], columns) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)[list(columns)]
