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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..base.errors import ModelSpecError
from ..models.likelihood import marginal_loglik

__all__ = [
    "model_fit_table",
    "pointwise_loglik",
    "loo",
    "prediction_table",
    "compare_models",
    "dev_dev",
]


def _draws(fit):
    """Flat draws: d_full positions as in model_data ([0, d...]) and tau (zeros for FE)."""
    post = fit.idata["posterior"]
    others = [t for t in fit.treatments if t != fit.reference]
    d = post["d"].sel(treatment=others).transpose("chain", "draw", "treatment").values
    d = d.reshape(-1, len(others))
    d_pos = np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1)
    return d_pos, _tau_draws(fit, d.shape[0])


def _tau_draws(fit, n: int) -> np.ndarray:
    """Flat draws of tau (zeros for a fixed-effect model)."""
    post = fit.idata["posterior"]
    if "tau" in post:
        return post["tau"].transpose("chain", "draw").values.reshape(-1)
    return np.zeros(n)


def _fitted_means(fit, data, d_pos):
    return d_pos[:, data["arm_pos"]] - d_pos[:, data["base_pos"]][:, :, None]  # (N, S, K)


def _dense_v(fit, data) -> np.ndarray:
    """Within-study covariance (S, K, K), identity on padding."""
    net = fit.network
    s, k = data["y"].shape
    v = np.tile(np.eye(k), (s, 1, 1))
    for i in range(s):
        m = int(data["mask"][i].sum())
        v[i, :m, :m] = net.study_covariance(i)
    return v


def _contrasts_only(fit, what: str) -> None:
    """Refuse a contrast-likelihood check on a fit with arm-level outcome studies (not yet)."""
    if np.asarray(fit.network.outcome).any():
        raise ModelSpecError(
            f"{what} is not available yet for fits with arm-level {fit.network.likelihood} "
            "outcomes (it needs the residual deviance of each arm under that likelihood).",
            rule="bad-option",
        )


def model_fit_table(fit, *, per_study: bool = False, max_draws: int = 4000) -> pd.DataFrame:
    """Posterior mean residual deviance, pD and DIC, in total or per study.

    Parameters
    ----------
    fit : NetworkFit
        Any fit (both engines).
    per_study : bool
        Return one row per study (data point: a study's vector of contrasts) with ``resdev``,
        ``leverage`` (its pD contribution) and ``dic``, instead of the totals.
    max_draws : int
        Use at most this many (evenly spaced) draws.

    Returns
    -------
    DataFrame
        Totals: one row with ``resdev, pD, DIC, n_data`` (number of contrasts).
    """
    _contrasts_only(fit, "Residual deviance / DIC")
    data = fit.model_data.arrays()
    d_pos, tau = _draws(fit)
    pick = np.linspace(0, len(tau) - 1, min(max_draws, len(tau))).round().astype(int)
    d_pos, tau = d_pos[pick], tau[pick]
    mask = data["mask"]
    y = data["y"]
    mu = _fitted_means(fit, data, d_pos) * mask
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
    resdev = dev.mean(axis=0)
    table = pd.DataFrame(
        {
            "study": list(fit.network.studies),
            "n_contrasts": mask.sum(axis=1).astype(int),
            "resdev": resdev,
            "leverage": resdev - dev_at_mean,
        }
    )
    table["dic"] = table["resdev"] + table["leverage"]
    if per_study:
        return table
    return pd.DataFrame(
        [
            {
                "resdev": table["resdev"].sum(),
                "pD": table["leverage"].sum(),
                "DIC": table["dic"].sum(),
                "n_data": int(table["n_contrasts"].sum()),
            }
        ]
    )


def pointwise_loglik(fit) -> xr.DataArray:
    """Marginal log-likelihood of each study's contrasts per draw (dims chain, draw, study)."""
    _contrasts_only(fit, "The pointwise log-likelihood (LOO)")
    data = fit.model_data.arrays()
    d_pos, tau = _draws(fit)
    mu = _fitted_means(fit, data, d_pos)
    ll = marginal_loglik(
        np, data["y"] - mu, data["var"], data["cov"], data["mask"], tau**2, data["u"],
        data["cov_u"],
    )  # fmt: skip
    post = fit.idata["posterior"]
    shape = (post.sizes["chain"], post.sizes["draw"], ll.shape[1])
    return xr.DataArray(
        ll.reshape(shape),
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


def prediction_table(fit, reference, *, all_pairs: bool, ci_prob: float, seed: int = 0):
    """Relative effects with the prediction interval of the effect in a new study.

    The predictive draw of a comparison is ``d_ab + tau * z``, ``z ~ N(0, 1)`` (TSD2); for a
    fixed-effect model it equals the credible interval.
    """
    from . import summaries

    table = fit.relative_effects(reference, all_pairs=all_pairs, ci_prob=ci_prob)
    d = summaries.flat_draws(fit.d_full())
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
