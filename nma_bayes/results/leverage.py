"""Per-data-point residual deviance, leverage and deviance residuals (TSD2's leverage plot).

NICE DSU TSD2 (Dias et al. 2011, section 3.3 on model fit) and Spiegelhalter et al. (2002) check
the fit of a model data point by data point: for data point ``k`` of study ``i``

- ``resdev_ik``: its posterior mean residual deviance;
- ``leverage_ik = resdev_ik - dev_ik(at the posterior mean)``: its contribution to ``pD``;
- ``w_ik = sign(y_ik - yhat_ik) * sqrt(resdev_ik)``: its deviance residual, signed by the data
  against the fitted value at the posterior mean.

The leverage plot draws ``leverage_ik`` against ``w_ik`` with the parabolas ``w^2 + leverage = c``.
Since ``w^2 = resdev``, a point lies outside the parabola ``c`` exactly when its DIC contribution
``dic_ik = resdev_ik + leverage_ik`` exceeds ``c``; points outside ``c = 3`` fit poorly or are
influential (TSD2).

Data points are the ones of :func:`~nma_bayes.results.goodness_of_fit.model_fit_table`: each arm
of an arm-level outcome study (binomial, Poisson, normal arms), and each contrast study as one
multivariate point (the deviance of its contrasts with their within-study covariance). The sums
over the points are the model's ``resdev``, ``pD`` and ``DIC``, exactly: both are computed from the
same per-point deviances (:func:`~nma_bayes.results.goodness_of_fit.contrast_deviance_points`,
:func:`~nma_bayes.results.goodness_of_fit.arm_deviance_points`) over the same draws.

The sign of a contrast study with several contrasts (a multi-arm study) is not defined: its
residual is a vector. Its deviance residual is then taken positive, ``+sqrt(resdev)``, and the
row has ``sign_defined=False`` (the sign of its first contrast would depend on which arm is the
study's base). Its deviance, with ``K - 1`` degrees of freedom, also tends to be larger than a
single point's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..base.html import facts_table, number
from . import goodness_of_fit as GF

__all__ = ["Leverage", "leverage_table", "POINT_COLUMNS"]

#: Columns of :meth:`Leverage.to_frame`, in order.
POINT_COLUMNS = ("study", "treatment", "data", "resdev", "leverage", "dic", "residual",
                 "sign_defined")  # fmt: skip

#: TSD2's threshold: points outside the parabola ``w^2 + leverage = 3`` fit poorly.
OUTSIDE_C = 3.0

#: Rows of the table shown by ``_repr_html_``.
MAX_HTML_ROWS = 12


@dataclass(frozen=True, eq=False)
class Leverage:
    """Residual deviance, leverage and deviance residual of every data point (TSD2).

    Made by :func:`leverage_table` (``nma_bayes.leverage``); drawn by
    :func:`nma_bayes.plots.leverage.plot_leverage`.

    Attributes
    ----------
    resdev, pD, DIC : float
        The model's totals: sums over the data points (equal to ``fit.model_fit()``).
    n_data : int
        Number of data points (rows).
    """

    points: pd.DataFrame = field(repr=False)
    resdev: float = 0.0
    pD: float = 0.0  # the names of TSD2 and of fit.model_fit()
    DIC: float = 0.0
    n_data: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-point table.

        Returns
        -------
        DataFrame
            One row per data point, in network order (a study's arms base arm first):
            ``study``; ``treatment`` (the arm's treatment, ``None`` for a contrast study);
            ``data`` (``"arms"`` or ``"contrasts"``); ``resdev`` (posterior mean residual
            deviance); ``leverage`` (``resdev`` minus the deviance at the posterior mean);
            ``dic`` (``resdev + leverage``); ``residual`` (the signed deviance residual
            ``sign * sqrt(resdev)``); ``sign_defined`` (``False`` for a contrast study with
            several contrasts, whose residual is then taken positive).
        """
        return self.points.copy()

    def outside(self, c: float = OUTSIDE_C) -> pd.DataFrame:
        """Return the data points outside the parabola ``residual^2 + leverage = c``.

        Parameters
        ----------
        c : float
            The contour; TSD2 flags points outside ``c = 3``.

        Returns
        -------
        DataFrame
            The rows of :meth:`to_frame` with ``dic > c`` (``residual^2 = resdev``), largest
            ``dic`` first.
        """
        c = _check_positive(c, "c")
        rows = self.points[self.points["dic"] > c]
        return rows.sort_values("dic", ascending=False).copy()

    def __repr__(self) -> str:
        return (
            f"Leverage({self.n_data} data points: resdev {self.resdev:.4g}, pD {self.pD:.4g}, "
            f"DIC {self.DIC:.4g}; {len(self.outside())} outside residual^2 + leverage = 3)"
        )

    def _repr_html_(self) -> str:
        facts = {
            "data points": str(self.n_data),
            "residual deviance": number(self.resdev),
            "pD": number(self.pD),
            "DIC": number(self.DIC),
            "outside c = 3": str(len(self.outside())),
        }
        worst = self.points.sort_values("dic", ascending=False).head(MAX_HTML_ROWS)
        body = worst.to_html(index=False, escape=True, float_format=number, na_rep="")
        caption = f"Data points with the largest DIC contributions (first {len(worst)})"
        return (
            f"<div class='nma-leverage'><strong>Leverage</strong>"
            f"{facts_table(facts, 'nma-leverage-facts')}"
            f"<div class='nma-leverage-caption'><em>{escape(caption)}</em></div>{body}</div>"
        )


def _check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float after checking it is a finite number > 0."""
    number_like = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not number_like or not np.isfinite(value) or value <= 0:
        raise ModelSpecError(f"{name} must be a positive number, got {value!r}.",
                             rule="bad-option")  # fmt: skip
    return float(value)


def _signed_root(resdev: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """``sign * sqrt(resdev)``, negative where ``negative`` (a deviance is >= 0 up to rounding)."""
    return np.where(negative, -1.0, 1.0) * np.sqrt(np.maximum(resdev, 0.0))


def _contrast_frame(fit, pick: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """One row per contrast study (``keep``): its multivariate deviance as one data point."""
    pts = GF.contrast_deviance_points(fit, pick)
    single = pts["n_contrasts"] == 1
    # the sign of a two-arm study: its one contrast against the fitted study effect at the
    # posterior mean; several contrasts have no sign and are drawn positive
    negative = single & (pts["residual"][:, 0] < 0)
    frame = pd.DataFrame(
        {
            "study": list(fit.network.studies),
            "treatment": None,
            "data": "contrasts",
            "resdev": pts["resdev"],
            "leverage": pts["resdev"] - pts["at_mean"],
            "residual": _signed_root(pts["resdev"], negative),
            "sign_defined": single,
            "_study": np.arange(len(single)),
            "_arm": 0,
        }
    )
    return frame[keep]


def _arm_frame(fit, pick: np.ndarray) -> pd.DataFrame:
    """One row per arm of the arm-level outcome studies (TSD2's data points)."""
    outcomes, pts = GF.arm_deviance_points(fit, pick)
    net = fit.network
    names = []  # the arms as OutcomeData lists them: study by study, base arm first
    for i in outcomes.study_index:
        k = int(net.n_arms[i])
        names += [net.treatments[t] for t in [net.base[i], *np.asarray(net.arm[i])[: k - 1]]]
    study = outcomes.study_index[outcomes.arm_study]
    return pd.DataFrame(
        {
            "study": [net.studies[i] for i in study],
            "treatment": names,
            "data": "arms",
            "resdev": pts["resdev"],
            "leverage": pts["resdev"] - pts["at_mean"],
            "residual": _signed_root(pts["resdev"], pts["residual"] < 0),
            "sign_defined": True,
            "_study": study,
            "_arm": outcomes.arm_slot,
        }
    )


def leverage_table(fit, *, max_draws: int = 4000) -> Leverage:
    """Residual deviance, leverage and deviance residual of every data point (TSD2).

    Parameters
    ----------
    fit : NetworkFit
        Any fit, of either engine (duck-typed: what ``fit.model_fit()`` reads).
    max_draws : int
        Use at most this many evenly spaced draws (the draws ``fit.model_fit()`` uses).

    Returns
    -------
    Leverage
        One row per data point (:meth:`Leverage.to_frame`) and the totals; the per-point
        ``resdev``, ``leverage`` and ``dic`` sum to ``fit.model_fit()``'s ``resdev``, ``pD`` and
        ``DIC``.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``fit`` is not a fit.
    NMAInputError
        For a bad ``max_draws``.

    Notes
    -----
    For arm ``k`` of study ``i`` (TSD2, Dias et al. 2011; Spiegelhalter et al. 2002):
    ``resdev_ik`` is the posterior mean of the arm's deviance (binomial ``2[r log(r/rhat) +
    (n - r) log((n - r)/(n - rhat))]``, Poisson ``2[(rhat - r) + r log(r/rhat)]``, normal
    ``((y - theta)/se)^2``), ``leverage_ik = resdev_ik - dev_ik(rhat_bar)`` plugs in the
    posterior mean ``rhat_bar`` of the fitted values, and ``residual = sign(r - rhat_bar) *
    sqrt(resdev_ik)``. A contrast study is one point: its deviance is
    ``(y - theta)' V^{-1} (y - theta)`` with the study effects ``theta`` integrated out
    analytically (see :mod:`~nma_bayes.results.goodness_of_fit`); its sign is that of
    ``y - theta_bar`` for one contrast, and ``+`` (``sign_defined=False``) for several.
    """
    if not all(hasattr(fit, a) for a in ("idata", "network", "model_data", "spec")):
        raise ModelSpecError(
            f"leverage needs a NetworkFit, got {type(fit).__name__}.", rule="bad-option"
        )
    max_draws = VA.check_int(max_draws, "max_draws", minimum=1)
    pick = GF.draw_pick(fit, max_draws)
    outcome = np.asarray(fit.network.outcome, dtype=bool)
    frames = []
    if not outcome.all():
        frames.append(_contrast_frame(fit, pick, ~outcome))
    if outcome.any():
        frames.append(_arm_frame(fit, pick))
    points = pd.concat(frames, ignore_index=True).sort_values(["_study", "_arm"], kind="stable")
    points["dic"] = points["resdev"] + points["leverage"]
    points = points.reset_index(drop=True)[list(POINT_COLUMNS)]
    return Leverage(
        points=points,
        resdev=float(points["resdev"].sum()),
        pD=float(points["leverage"].sum()),
        DIC=float(points["dic"].sum()),
        n_data=len(points),
    )
