"""Model fit: residual deviance, pD and DIC (TSD2), PSIS-LOO with per-study Pareto k, prediction.

Residual deviance for normal likelihoods with multi-arm covariance (Dias et al. 2011, TSD2,
section 3.3 and the contrast-level normal likelihood): for study ``i`` with fitted study effects
``theta_i``, ``dev_i = (y_i - theta_i)' V_i^{-1} (y_i - theta_i)``. The study effects are
integrated out in our model, so their posterior given ``(d, tau)`` is used analytically:
``theta_i | d, tau, y ~ N(m_i, C_i)`` with ``m_i = mu_i + R (R + V)^{-1} (y_i - mu_i)``,
``C_i = R - R (R + V)^{-1} R`` and ``R = tau^2 (I + J) / 2``; the posterior mean deviance is
``E[(y - m)' V^{-1} (y - m) + tr(V^{-1} C)]``. ``pD`` is the posterior mean deviance minus the
deviance at the posterior mean of the fitted values, and ``DIC = resdev + pD`` (Spiegelhalter et
al. 2002). Fixed effects: ``theta_i = mu_i``.

Studies given as arm-level outcomes (binomial, Poisson) contribute per arm, as TSD2 defines it
per family, from the fitted events ``rhat`` of each posterior draw (baselines ``mu``, effects and,
for random effects, the arm deviates ``e_arm`` kept in the posterior): binomial
``2[r log(r/rhat) + (n - r) log((n - r)/(n - rhat))]``, Poisson ``2[(rhat - r) + r log(r/rhat)]``
(:func:`~nma_bayes.models.arm_likelihood.arm_deviance`); their ``pD`` plugs in the posterior
mean of ``rhat``. A mixed network adds the two parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..base.errors import ModelSpecError
from ..models.arm_likelihood import OutcomeData, arm_deviance, arm_fitted, arm_logpmf
from ..models.likelihood import marginal_loglik
from .ordered import cutpoint_draws, ordered_logpmf, ordered_points

__all__ = [
    "model_fit_table",
    "pointwise_loglik",
    "loo",
    "prediction_table",
    "compare_models",
    "dev_dev",
]


def _draws(fit):
    """Flat draws of ``d`` (positions of ``d_full = [0, d]``), ``tau`` and ``beta``.

    ``tau`` is zero for fixed effects; ``beta`` (N, T, P) over the same positions, or None
    without covariates.
    """
    post = fit.idata["posterior"]
    others = [t for t in fit.treatments if t != fit.reference]
    d = post["d"].sel(treatment=others).transpose("chain", "draw", "treatment").values
    d = d.reshape(-1, len(others))
    d_pos = np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1)
    beta = None
    if fit.posterior.regression is not None:
        b = post["beta"].sel(treatment=others).transpose("chain", "draw", "treatment", "term")
        b = b.values.reshape(d.shape[0], len(others), -1)
        beta = np.concatenate([np.zeros((b.shape[0], 1, b.shape[2])), b], axis=1)
    return d_pos, _tau_draws(fit, d.shape[0]), beta


def _tau_draws(fit, n: int) -> np.ndarray:
    """Flat draws of tau (zeros for a fixed-effect model)."""
    post = fit.idata["posterior"]
    if "tau" in post:
        return post["tau"].transpose("chain", "draw").values.reshape(-1)
    return np.zeros(n)


def _fitted_means(fit, data, d_pos, beta=None):
    """Mean of every contrast per draw (N, S, K), with the meta-regression shift (TSD3)."""
    mu = d_pos[:, data["arm_pos"]] - d_pos[:, data["base_pos"]][:, :, None]
    reg = fit.posterior.regression
    if beta is not None and not reg.baseline_risk:  # (beta_arm - beta_base)' x_i
        diff = beta[:, data["arm_pos"]] - beta[:, data["base_pos"]][:, :, None]
        mu = mu + np.einsum("nskp,sp->nsk", diff, reg.x)
    return mu


def _dense_v(fit, data) -> np.ndarray:
    """Within-study covariance (S, K, K), identity on padding."""
    net = fit.network
    s, k = data["y"].shape
    v = np.tile(np.eye(k), (s, 1, 1))
    for i in range(s):
        m = int(data["mask"][i].sum())
        if m:  # outcome studies have no contrasts (all masked)
            v[i, :m, :m] = net.study_covariance(i)
    return v


def _has_outcomes(fit) -> bool:
    return bool(np.asarray(fit.network.outcome).any())


def _pick(n: int, max_draws: int) -> np.ndarray:
    """Return the indices of at most ``max_draws`` evenly spaced draws out of ``n``."""
    return np.linspace(0, n - 1, min(max_draws, n)).round().astype(int)


def contrast_deviance_points(fit, pick: np.ndarray) -> dict[str, np.ndarray]:
    """Deviance of each contrast study, one multivariate data point per study (TSD2).

    Parameters
    ----------
    fit : NetworkFit
        Any fit (duck-typed: ``idata``, ``network``, ``model_data``, ``posterior``).
    pick : ndarray of int
        Indices of the flat draws used.

    Returns
    -------
    dict
        ``resdev`` (S,): posterior mean deviance; ``at_mean`` (S,): deviance at the posterior
        mean of the fitted study effects; ``residual`` (S, K): data minus that mean (zero on
        padding); ``n_contrasts`` (S,). Outcome studies (no contrasts) get zeros.
    """
    data = fit.model_data.arrays()
    d_pos, tau, beta = _draws(fit)
    d_pos, tau = d_pos[pick], tau[pick]
    beta = beta[pick] if beta is not None else None
    mask = data["mask"]
    y = data["y"]
    mu = _fitted_means(fit, data, d_pos, beta) * mask
    v = _dense_v(fit, data)
    k = y.shape[1]
    mm = mask[:, :, None] * mask[:, None, :]
    r = (tau**2 / 2)[:, None, None, None] * (np.eye(k) + 1.0) * mm  # (N, S, K, K)
    gain = np.linalg.solve(r + v, r)  # (R + V)^{-1} R, symmetric product below
    m = mu + np.einsum("nskl,nsl->nsk", np.swapaxes(gain, -1, -2), (y - mu))
    c = r - r @ gain
    v_inv = np.linalg.inv(v)
    e = (y - m) * mask
    dev = np.einsum("nsk,skl,nsl->ns", e, v_inv, e) + np.einsum("skl,nslk->ns", v_inv, c)
    theta_bar = m.mean(axis=0)
    e_bar = (y - theta_bar) * mask
    dev_at_mean = np.einsum("sk,skl,sl->s", e_bar, v_inv, e_bar)
    return {
        "resdev": dev.mean(axis=0),
        "at_mean": dev_at_mean,
        "residual": e_bar,
        "n_contrasts": mask.sum(axis=1).astype(int),
    }


def _contrast_rows(fit, pick: np.ndarray) -> pd.DataFrame:
    """Per-study resdev and leverage of the contrast studies (zeros for outcome studies)."""
    points = contrast_deviance_points(fit, pick)
    return pd.DataFrame(
        {
            "study": list(fit.network.studies),
            "n_contrasts": points["n_contrasts"],
            "resdev": points["resdev"],
            "leverage": points["resdev"] - points["at_mean"],
        }
    )


def _outcome_theta(fit, outcomes: OutcomeData, pick: np.ndarray | None = None) -> np.ndarray:
    """Linear predictor of every outcome arm per draw (N, A), offsets included."""
    post = fit.idata["posterior"]
    if "mu" not in post or (fit.spec.random and "e_arm" not in post):
        raise ModelSpecError(
            "This fit's posterior lacks the study baselines 'mu' (and arm deviates 'e_arm') of "
            "its arm-level outcome studies, which goodness of fit needs; refit it with this "
            "version of nma_bayes.",
            rule="bad-option",
        )
    d_pos, tau, beta = _draws(fit)
    studies = [fit.network.studies[i] for i in outcomes.study_index]
    mu = post["mu"].sel(outcome_study=studies).transpose("chain", "draw", "outcome_study")
    mu = mu.values.reshape(len(tau), -1)
    e = None
    if fit.spec.random:
        e = post["e_arm"].transpose("chain", "draw", "outcome_arm").values.reshape(len(tau), -1)
    if pick is not None:
        d_pos, tau, mu = d_pos[pick], tau[pick], mu[pick]
        e = e[pick] if e is not None else None
        beta = beta[pick] if beta is not None else None
    # linear_predictor indexes its first axis: arms (studies, treatments) first, draws last
    theta = outcomes.linear_predictor(
        mu.T, d_pos.T, tau if fit.spec.random else None, None if e is None else e.T,
        outcomes.arm_offset[:, None],
    )  # fmt: skip
    return theta.T + _arm_shift(fit, outcomes, beta, mu)


def _arm_shift(fit, outcomes: OutcomeData, beta, mu) -> np.ndarray | float:
    """Meta-regression term of every outcome arm per draw (N, A); 0 without covariates."""
    if beta is None:
        return 0.0
    reg = fit.posterior.regression
    diff = beta[:, outcomes.arm_pos] - beta[:, outcomes.arm_base]  # (N, A, P)
    if reg.baseline_risk:  # the study's own baseline mu_i, centred, is the covariate
        return diff[..., 0] * (mu[:, outcomes.arm_study] - reg.baseline_center)
    x = reg.x[outcomes.study_index][outcomes.arm_study]  # (A, P)
    return np.einsum("nap,ap->na", diff, x)


def _by_study(values: np.ndarray, outcomes: OutcomeData) -> np.ndarray:
    """Sum per-arm values (..., A) over each outcome study's arms: (..., S_o)."""
    onehot = np.zeros((len(outcomes.arm_study), outcomes.n_studies))
    onehot[np.arange(len(outcomes.arm_study)), outcomes.arm_study] = 1.0
    return values @ onehot


def arm_deviance_points(fit, pick: np.ndarray) -> tuple[OutcomeData, dict[str, np.ndarray]]:
    """Deviance of each arm of the arm-level outcome studies, one data point per arm (TSD2).

    The residual deviance of an arm is :func:`~nma_bayes.models.arm_likelihood.arm_deviance` at
    the fitted events ``rhat`` of a draw; its deviance at the posterior mean plugs in the
    posterior mean of ``rhat`` (TSD2's plug-in).

    Parameters
    ----------
    fit : NetworkFit
        A fit with arm-level outcome studies (duck-typed, as :func:`model_fit_table`).
    pick : ndarray of int
        Indices of the flat draws used.

    Returns
    -------
    outcomes : OutcomeData
        The arms, in the order of the arrays.
    points : dict
        ``resdev`` (A,): posterior mean deviance; ``at_mean`` (A,): deviance at the posterior
        mean of ``rhat``; ``residual`` (A,): data minus that mean (events, or the arm mean).
    """
    outcomes = OutcomeData.from_network(fit.network)
    if outcomes.cells is not None:  # ordered categories: multinomial deviance per arm
        cut = cutpoint_draws(fit.idata, fit.network)[pick]
        return outcomes, ordered_points(outcomes, _outcome_theta(fit, outcomes, pick), cut)
    family = (outcomes.likelihood, outcomes.link)
    r, n = outcomes.arm_events, outcomes.arm_trials
    fitted = arm_fitted(_outcome_theta(fit, outcomes, pick), n, *family)
    fitted_bar = fitted.mean(axis=0)
    return outcomes, {
        "resdev": arm_deviance(r, n, fitted, outcomes.likelihood).mean(axis=0),
        "at_mean": arm_deviance(r, n, fitted_bar, outcomes.likelihood),
        "residual": r - fitted_bar,
    }


def _arm_rows(fit, pick: np.ndarray) -> pd.DataFrame:
    """Per-study resdev and leverage of the arm-level outcome studies (TSD2, per family)."""
    outcomes, points = arm_deviance_points(fit, pick)
    dev, at_mean = points["resdev"], points["at_mean"]
    return pd.DataFrame(
        {
            "study": [fit.network.studies[i] for i in outcomes.study_index],
            "n_arms": np.bincount(outcomes.arm_study, minlength=outcomes.n_studies,
                                  weights=points.get("n_points")).astype(int),  # fmt: skip
            "resdev": _by_study(dev, outcomes),
            "leverage": _by_study(dev - at_mean, outcomes),
        }
    )


def draw_pick(fit, max_draws: int) -> np.ndarray:
    """Return the indices of at most ``max_draws`` evenly spaced flat draws of ``fit``."""
    return _pick(_n_draws(fit), max_draws)


def _study_rows(fit, max_draws: int) -> pd.DataFrame:
    """Per-study rows: contrasts only (``n_contrasts``), or with outcome studies (``n_data``)."""
    pick = draw_pick(fit, max_draws)
    if not _has_outcomes(fit):
        return _contrast_rows(fit, pick)
    outcome = np.asarray(fit.network.outcome)
    n_data = np.zeros(len(outcome), dtype=int)
    resdev, leverage = np.zeros(len(outcome)), np.zeros(len(outcome))
    if not outcome.all():
        part = _contrast_rows(fit, pick)
        n_data[~outcome] = part["n_contrasts"].to_numpy()[~outcome]
        resdev[~outcome] = part["resdev"].to_numpy()[~outcome]
        leverage[~outcome] = part["leverage"].to_numpy()[~outcome]
    part = _arm_rows(fit, pick)  # outcome studies, in network order
    n_data[outcome], resdev[outcome] = part["n_arms"], part["resdev"]
    leverage[outcome] = part["leverage"]
    return pd.DataFrame(
        {
            "study": list(fit.network.studies),
            "data": np.where(outcome, "arms", "contrasts"),
            "n_data": n_data,
            "resdev": resdev,
            "leverage": leverage,
        }
    )


def _n_draws(fit) -> int:
    post = fit.idata["posterior"]
    return int(post.sizes["chain"] * post.sizes["draw"])


def model_fit_table(fit, *, per_study: bool = False, max_draws: int = 4000) -> pd.DataFrame:
    """Posterior mean residual deviance, pD and DIC, in total or per study.

    Parameters
    ----------
    fit : NetworkFit
        Any fit (both engines).
    per_study : bool
        Return one row per study with ``resdev``, ``leverage`` (its pD contribution) and
        ``dic``, instead of the totals. A study's data points are its contrasts (column
        ``n_contrasts``); in a fit with arm-level outcome studies they are the contrasts of the
        contrast studies and the arms of the outcome studies (columns ``data``, ``"contrasts"``
        or ``"arms"``, and ``n_data``).
    max_draws : int
        Use at most this many (evenly spaced) draws.

    Returns
    -------
    DataFrame
        Totals: one row with ``resdev, pD, DIC, n_data`` (number of data points: contrasts plus
        outcome arms).

    Notes
    -----
    Arms of outcome studies (TSD2, Dias et al. 2011): binomial ``dev = 2[r log(r/rhat) + (n - r)
    log((n - r)/(n - rhat))]`` with ``rhat = n p``, Poisson ``dev = 2[(rhat - r) + r log(r/rhat)]``
    with ``rhat = E exp(theta)``; ``pD`` is the posterior mean deviance minus the deviance at the
    posterior mean of ``rhat``.
    """
    table = _study_rows(fit, max_draws)
    table["dic"] = table["resdev"] + table["leverage"]
    if per_study:
        return table
    n_col = "n_data" if "n_data" in table else "n_contrasts"
    return pd.DataFrame(
        [
            {
                "resdev": table["resdev"].sum(),
                "pD": table["leverage"].sum(),
                "DIC": table["dic"].sum(),
                "n_data": int(table[n_col].sum()),
            }
        ]
    )


def pointwise_loglik(fit) -> xr.DataArray:
    """Log-likelihood of each study's data per draw (dims chain, draw, study).

    Contrast studies: the marginal log-likelihood of their contrasts (study effects integrated
    out). Arm-level outcome studies: the sum over their arms of the exact binomial or Poisson log
    probability (normalising constants included) given the draw's baseline, effects and arm
    deviates. A study's baseline ``mu`` belongs to that study alone, so leaving the study out
    removes its only information about ``mu``: expect large Pareto k for outcome studies.
    """
    post = fit.idata["posterior"]
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    outcome = np.asarray(fit.network.outcome)
    ll = np.zeros((n_chain * n_draw, fit.network.n_studies))
    if not outcome.all():
        data = fit.model_data.arrays()
        d_pos, tau, beta = _draws(fit)
        mu = _fitted_means(fit, data, d_pos, beta)
        ll = marginal_loglik(
            np, data["y"] - mu, data["var"], data["cov"], data["mask"], tau**2, data["u"],
            data["cov_u"],
        )  # fmt: skip
    if outcome.any():
        outcomes = OutcomeData.from_network(fit.network)
        family = (outcomes.likelihood, outcomes.link)
        theta = _outcome_theta(fit, outcomes)
        if outcomes.cells is not None:
            arm_ll = ordered_logpmf(outcomes, theta, cutpoint_draws(fit.idata, fit.network))
        else:
            arm_ll = arm_logpmf(theta, outcomes.arm_events, outcomes.arm_trials, *family)
        ll[:, outcomes.study_index] = _by_study(arm_ll, outcomes)
    return xr.DataArray(
        ll.reshape(n_chain, n_draw, -1),
        dims=("chain", "draw", "study"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "study": list(fit.network.studies),
        },
        name="y",
    )


def loo(fit):
    """PSIS-LOO (Vehtari et al. 2017) with one observation per study, through ArviZ.

    Returns
    -------
    arviz ELPDData
        With ``pareto_k`` per study: an influence diagnostic (k > 0.7: the study is highly
        influential and the LOO estimate for it unreliable).
    """
    import arviz as az

    tree = fit.idata.copy()
    tree["log_likelihood"] = xr.DataTree(pointwise_loglik(fit).to_dataset())
    return az.loo(tree, pointwise=True)


def prediction_table(fit, reference, *, all_pairs: bool, ci_prob: float, seed: int = 0, at=None):
    """Relative effects with the prediction interval of the effect in a new study.

    The predictive draw of a comparison is ``d_ab + tau * z``, ``z ~ N(0, 1)`` (TSD2); for a
    fixed-effect model it equals the credible interval. ``at``: covariate values of a
    meta-regression (the effects and draws are those at these values).
    """
    from . import summaries

    table = fit.relative_effects(reference, all_pairs=all_pairs, ci_prob=ci_prob, at=at)
    d = summaries.flat_draws(fit.posterior.at(at).d_full())
    names = list(fit.treatments)
    tau = _tau_draws(fit, d.shape[0])
    z = np.random.default_rng(seed).standard_normal((d.shape[0], len(table)))
    ti = [names.index(t) for t in table["treatment"]]
    ci = [names.index(t) for t in table["comparator"]]
    pred = d[:, ti] - d[:, ci] + tau[:, None] * z
    alpha = (1 - ci_prob) / 2
    lo, hi = np.quantile(pred, [alpha, 1 - alpha], axis=0)
    return table.assign(pi_lower=lo, pi_upper=hi)


def compare_models(fits: dict) -> pd.DataFrame:
    """Model comparison table: residual deviance, pD, DIC and PSIS-LOO per fit.

    Parameters
    ----------
    fits : dict of str to NetworkFit
        E.g. ``{"FE": fe, "RE": re, "UME": ume, "RE class": cls}`` (same data).

    Returns
    -------
    DataFrame
        Index model; ``resdev, pD, DIC, elpd_loo, se_elpd_loo, p_loo, max_pareto_k``.
    """
    rows = {}
    for name, fit in fits.items():
        mf = model_fit_table(fit).iloc[0]
        lo = loo(fit)
        rows[name] = {
            "resdev": mf["resdev"],
            "pD": mf["pD"],
            "DIC": mf["DIC"],
            "elpd_loo": float(lo.elpd),
            "se_elpd_loo": float(lo.se),
            "p_loo": float(lo.p),
            "max_pareto_k": float(np.nanmax(np.asarray(lo.pareto_k))),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


def dev_dev(fit_1, fit_2) -> pd.DataFrame:
    """Per-study residual deviance of two fits of the same data, for a dev-dev plot (TSD4).

    Returns
    -------
    DataFrame
        ``study, resdev_1, resdev_2``.
    """
    a = model_fit_table(fit_1, per_study=True).set_index("study")["resdev"]
    b = model_fit_table(fit_2, per_study=True).set_index("study")["resdev"]
    return pd.DataFrame({"study": a.index, "resdev_1": a.to_numpy(), "resdev_2": b[a.index]})
