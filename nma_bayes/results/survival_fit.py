"""The result of a fractional-polynomial or parametric survival fit, and its hazards over time.

:class:`SurvivalFit` holds the design, the model, the seed and the posterior; the summaries are
functions (:func:`~nma_bayes.results.survival.hazard_ratios`,
:func:`~nma_bayes.results.survival.survival_summary`) that read each draw's cumulative hazard
from :func:`log_cumulative_hazard`. Model fit is the deviance ``-2 log L`` of the data (binomial
coefficients included for grouped data, as JAGS's) with the plug-in pD at the posterior mean of
each arm's coefficients (Spiegelhalter et al. 2002; TSD2), so DICs of models fitted to the same
data compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
import xarray as xr

from ..base.errors import ModelSpecError, format_items
from ..base.html import facts_table, number
from ..models.ordered_likelihood import log_cdf, softplus
from ..models.survival_basis import fp_basis, mspline_basis
from ..models.survival_model import (
    AFT,
    AUX_NAME,
    POSITIVE_AUX,
    SurvivalDesign,
    SurvivalSpec,
    event_loglik,
    grouped_loglik,
)
from .convergence import convergence_problems, diagnostics_table
from .summaries import describe_draws, flat_draws

__all__ = ["SurvivalFit", "log_cumulative_hazard", "model_fit_table", "pointwise_loglik"]

_DIAGNOSED = ("d", "d_shape", "d_rate", "d_sdlog", "tau")


@dataclass(frozen=True, eq=False)
class SurvivalFit:
    """A fitted survival NMA (fractional polynomial or parametric; module docstring).

    Attributes
    ----------
    design : SurvivalDesign
        The arrays of the data.
    spec : SurvivalSpec
        Model and priors.
    idata : xarray.DataTree
        ``posterior`` and ``sample_stats``.
    seed : int
        The sampler's seed.
    """

    design: SurvivalDesign
    spec: SurvivalSpec
    idata: xr.DataTree
    seed: int

    @property
    def treatments(self) -> list[str]:
        """Treatments, the reference first."""
        return list(self.design.treatments)

    @property
    def reference(self) -> str:
        """The reference treatment (``d`` is against it)."""
        return self.design.treatments[0]

    @property
    def measure(self) -> str:
        """``logHR`` (proportional hazards), ``logTR`` (AFT) or ``FP coefficient``."""
        if self.spec.model in AFT:
            return "logTR"
        return "FP coefficient" if self.spec.model == "fp" else "logHR"

    def d_full(self) -> xr.DataArray:
        """``d`` with the reference's zeros, over ``treatment`` (all, reference first)."""
        d = self.idata["posterior"]["d"]
        zero = xr.zeros_like(d.isel(treatment=[0])).assign_coords(treatment=[self.reference])
        return xr.concat([zero, d], dim="treatment")

    def relative_effects(self, comparator: str | None = None, *,
                         ci_prob: float = 0.95) -> pd.DataFrame:  # fmt: skip
        """Summarise each treatment's ``d`` against ``comparator``.

        Log hazard ratios, log time ratios, or each FP coefficient's contrast: ``treatment,
        comparator, [coefficient,] mean, sd, median, ci_lower, ci_upper``.
        """
        comparator = self._treatment(comparator)
        full = self.d_full()
        draws = flat_draws(full - full.sel(treatment=comparator))  # (N, T[, P])
        keep = [i for i, t in enumerate(self.treatments) if t != comparator]
        stats = describe_draws(draws[:, keep], ci_prob)
        names = [self.treatments[i] for i in keep]
        if draws.ndim == 3:
            coefs = list(self.design.coefficients)
            out = pd.DataFrame({"treatment": np.repeat(names, len(coefs)),
                                "coefficient": np.tile(coefs, len(names)),
                                **{k: v.reshape(-1) for k, v in stats.items()}})  # fmt: skip
        else:
            out = pd.DataFrame({"treatment": names, **stats})
        out.insert(1, "comparator", comparator)
        return out

    def heterogeneity(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Summarise ``tau`` and ``tau^2`` (random effects), as NetworkFit.heterogeneity.

        Index ``tau, tau2``; columns ``mean, sd, median, ci_lower, ci_upper``.
        """
        if not self.spec.random:
            raise ModelSpecError("A fixed-effect fit has no tau.", rule="bad-option")
        tau = flat_draws(self.idata["posterior"]["tau"])
        stats = {k: describe_draws(np.c_[tau, tau**2], ci_prob)[k] for k in
                 ("mean", "sd", "median", "ci_lower", "ci_upper")}  # fmt: skip
        return pd.DataFrame(stats, index=pd.Index(["tau", "tau2"]))

    def diagnostics(self) -> pd.DataFrame:
        """R-hat, bulk/tail ESS and MCSE of ``d``, the auxiliary contrasts and ``tau``."""
        return diagnostics_table(self.idata, var_names=_DIAGNOSED)

    def convergence_problems(self) -> list[str]:
        """Describe each convergence problem of :meth:`diagnostics` (empty when none)."""
        return convergence_problems(self.diagnostics())

    def model_fit(self) -> pd.DataFrame:
        """Mean deviance, pD and DIC (module docstring): one row."""
        return model_fit_table(self)

    def loo(self):
        """PSIS-LOO (Vehtari et al. 2017) over the rows: patients, or grouped intervals.

        Returns ArviZ's ``ELPDData`` (``elpd``, ``se``, ``p``, ``pareto_k`` per row). Each row's
        log-likelihood includes its constant (a grouped interval's ``log C(n, r)``), so LOOs of
        models fitted to the same data compare (multinma reports the same for event times).
        """
        import arviz as az

        tree = self.idata.copy()
        tree["log_likelihood"] = xr.DataTree(pointwise_loglik(self).to_dataset())
        return az.loo(tree, pointwise=True)

    def _treatment(self, name: str | None) -> str:
        if name is None:
            return self.reference
        if name not in self.treatments:
            raise ModelSpecError(
                f"{name!r} is not a treatment of this fit; treatments: "
                f"{format_items(self.treatments)}.",
                rule="bad-option",
            )
        return name

    def _repr_html_(self) -> str:
        facts = {"model": f"{self.spec.model} ({'random' if self.spec.random else 'fixed'} "
                          "effects)",
                 "treatments": f"{len(self.treatments)} (reference {self.reference})",
                 "studies": str(len(self.design.studies)),
                 "rows": str(self.design.n_rows), "seed": str(self.seed)}  # fmt: skip
        problems = self.convergence_problems()
        facts["convergence"] = "; ".join(problems) if problems else "no problems found"
        table = self.relative_effects()
        rows = "" if "coefficient" in table else "".join(
            f"<tr><th>{escape(f'{self.measure} {t} vs {self.reference}')}</th>"
            f"<td>{number(m)} ({number(lo)}, {number(hi)})</td></tr>"
            for t, m, lo, hi in table[["treatment", "median", "ci_lower", "ci_upper"]]
            .itertuples(index=False)
        )  # fmt: skip
        return facts_table(facts, "nma-survival-fit", extra_rows=rows)

    def __repr__(self) -> str:
        return (f"SurvivalFit(model={self.spec.model!r}, treatments={len(self.treatments)}, "
                f"studies={len(self.design.studies)}, seed={self.seed})")  # fmt: skip


def _arm_params(fit: SurvivalFit, study: int, treatment: int, draws: dict) -> dict:
    """Draws of the linear predictor (or FP coefficients) and aux of ``treatment`` in ``study``."""
    base = int(fit.design.arm_base[np.flatnonzero(fit.design.arm_study == study)[0]])
    d = draws["d"]
    out = {"eta": draws["mu"][:, study] + d[:, treatment] - d[:, base]}
    aux = _aux(fit, draws, study, treatment, base)
    if aux is not None:
        out["aux"] = aux
    if fit.spec.model == "mspline":
        out["coef"] = draws["spline_coef"][:, study]
    return out


def _aux(fit: SurvivalFit, draws: dict, study, treatment, base):
    """Return draws of the auxiliary parameter of ``treatment`` in ``study`` (or None).

    Indices or index arrays; the study's parameter times (the Gompertz rate: plus) the
    treatment's shape contrast against ``base``.
    """
    name = AUX_NAME.get(fit.spec.model)
    if name not in draws or fit.spec.model == "mspline":
        return None
    aux = draws[name][:, study]
    if fit.spec.shape_by_treatment:
        g = draws[f"d_{name}"]  # with the reference's zero: see _draws
        diff = g[:, treatment] - g[:, base]
        aux = aux * np.exp(diff) if fit.spec.model in POSITIVE_AUX else aux + diff
    return aux


def _draws(fit: SurvivalFit) -> dict[str, np.ndarray]:
    """Flat draws of every variable; treatment contrasts with the reference's zero first."""
    post = fit.idata["posterior"]
    out = {}
    for k, v in post.data_vars.items():
        x = flat_draws(v)
        if "treatment" in v.dims:
            x = np.concatenate([np.zeros_like(x[:, :1]), x], axis=1)
        out[k] = x
    return out


def log_cumulative_hazard(fit: SurvivalFit, study: str, times: np.ndarray) -> np.ndarray:
    """Draws of ``log H(t)`` of every treatment in ``study``'s population, shape (N, T, n).

    The population is the study's baseline (its ``mu`` and auxiliary parameters) with each
    treatment's mean effect against the study's base arm (random effects: the mean ``d``).
    Fractional polynomials use the hazard as fitted, constant on cells of the data's interval
    width at each cell's midpoint.
    """
    s = _study_index(fit, study)
    draws = _draws(fit)
    out = []
    for k in range(len(fit.treatments)):
        p = _arm_params(fit, s, k, draws)
        out.append(_log_cum(fit, s, p, np.asarray(times, dtype=float)))
    return np.stack(out, axis=1)


def _log_cum(fit: SurvivalFit, s: int, p: dict, t: np.ndarray) -> np.ndarray:
    model, eta = fit.spec.model, p["eta"][:, None]
    log_t = np.log(np.maximum(t, 1e-300))[None, :]
    if model == "exponential":
        return eta + log_t
    if model == "weibull":
        return eta + p["aux"][:, None] * log_t
    if model == "gompertz":
        g = np.where(np.abs(p["aux"]) < 1e-9, 1e-9, p["aux"])[:, None]
        return eta + np.log(np.expm1(g * t[None, :]) / g)
    if model == "mspline":
        _, ibasis = mspline_basis(t, fit.design.knots[s])
        return eta + np.log(p["coef"] @ ibasis.T)
    if model == "lognormal":  # H = -log Phi(-(log t - eta) / sigma)
        return np.log(-log_cdf(np, -(log_t - eta) / p["aux"][:, None], "probit"))
    if model == "loglogistic":
        return np.log(softplus(np, p["aux"][:, None] * (log_t - eta)))
    return np.log(_fp_cumulative(fit, p["eta"], t))


def _fp_cumulative(fit: SurvivalFit, coef: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Return ``H(t)`` of a fractional polynomial as the model was fitted (coef (N, P)).

    Constant hazards on cells of the data's interval width, each at its cell's midpoint
    (gemtcPlus's midpoint convention; an exact integral diverges at 0 for a log-t coefficient
    below -1).
    """
    width = float(np.median(fit.design.arrays["width"]))
    n_cells = int(np.ceil(t.max() / width))
    mids = (np.arange(n_cells) + 0.5) * width
    h = np.exp(coef @ fp_basis(mids, fit.spec.powers).T)  # (N, cells)
    before = np.concatenate([np.zeros((coef.shape[0], 1)), np.cumsum(h, axis=1) * width], 1)
    k = np.minimum((t // width).astype(int), n_cells - 1)
    return before[:, k] + h[:, k] * (t - k * width)[None, :]


def _study_index(fit: SurvivalFit, study: str | None) -> int:
    if study is None:
        return 0
    if study not in fit.design.studies:
        raise ModelSpecError(
            f"baseline_study={study!r} is not a study of this fit; studies: "
            f"{format_items(list(fit.design.studies))}.",
            rule="bad-option",
        )
    return fit.design.studies.index(study)


def _arm_values(fit: SurvivalFit, draws: dict) -> dict:
    """Per-arm draws: ``coef`` (N, A[, P]) with the study effects, ``aux`` (N, A), ``spline``."""
    des, model = fit.design, fit.spec.model
    coef = draws["mu"][:, des.arm_study] + draws["d"][:, des.arm_treatment] \
        - draws["d"][:, des.arm_base]
    if "delta_dev" in draws:
        target = coef[..., 0] if model == "fp" else coef
        target[:, des.re_arms()] += draws["delta_dev"]
    out = {"coef": coef}
    aux = _aux(fit, draws, des.arm_study, des.arm_treatment, des.arm_base)
    if aux is not None:
        out["aux"] = aux
    if model == "mspline":
        out["spline"] = draws["spline_coef"]
    return out


def _row_loglik(fit: SurvivalFit, values: dict) -> np.ndarray:
    """Per-row log-likelihood (N, rows) of per-arm values (:func:`_arm_values`)."""
    des, model = fit.design, fit.spec.model
    arrays, arm = des.arrays, des.row_arm
    coef = values["coef"]
    if model == "fp":
        log_h = np.einsum("nrp,rp->nr", coef[:, arm], arrays["basis"])
        return grouped_loglik(np, log_h, arrays["events"], arrays["at_risk"], arrays["width"])
    baseline = None
    if model == "mspline":
        c = values["spline"][:, des.arm_study[arm]]  # (N, rows, J)
        baseline = ((c * arrays["m_basis"]).sum(-1), (c * arrays["i_basis"]).sum(-1))
    aux = values["aux"][:, arm] if "aux" in values else None
    return event_loglik(np, model, coef[:, arm], aux, arrays, baseline)


def _constant(fit: SurvivalFit) -> float:
    """``sum log C(n, r)`` of grouped data (JAGS's deviance includes it), else 0."""
    if fit.spec.model != "fp":
        return 0.0
    from scipy.special import gammaln

    r, n = fit.design.arrays["events"], fit.design.arrays["at_risk"]
    return float((gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)).sum())


def pointwise_loglik(fit: SurvivalFit, *, chunk: int = 250) -> xr.DataArray:
    """Each row's log-likelihood per draw, constant included: ``(chain, draw, row)``."""
    values = _arm_values(fit, _draws(fit))
    n = values["coef"].shape[0]
    ll = np.concatenate([_row_loglik(fit, {k: v[i:i + chunk] for k, v in values.items()})
                         for i in range(0, n, chunk)])  # fmt: skip
    if fit.spec.model == "fp":
        from scipy.special import gammaln

        r, m = fit.design.arrays["events"], fit.design.arrays["at_risk"]
        ll = ll + gammaln(m + 1) - gammaln(r + 1) - gammaln(m - r + 1)
    post = fit.idata["posterior"]
    shape = (post.sizes["chain"], post.sizes["draw"], -1)
    return xr.DataArray(ll.reshape(shape), dims=("chain", "draw", "row"), name="y",
                        coords={"chain": post["chain"].values, "draw": post["draw"].values})


def model_fit_table(fit: SurvivalFit, *, chunk: int = 250) -> pd.DataFrame:
    """``mean_deviance, pD, DIC`` of a survival fit (module docstring), draws in chunks."""
    values = _arm_values(fit, _draws(fit))
    n = values["coef"].shape[0]
    const = _constant(fit)
    dev = np.concatenate([
        -2 * (_row_loglik(fit, {k: v[i:i + chunk] for k, v in values.items()}).sum(1) + const)
        for i in range(0, n, chunk)
    ])  # fmt: skip
    mean = {k: v.mean(axis=0, keepdims=True) for k, v in values.items()}
    plug_in = -2 * (_row_loglik(fit, mean).sum() + const)
    mean_dev = float(dev.mean())
    return pd.DataFrame({"model": [fit.spec.model], "mean_deviance": [mean_dev],
                         "pD": [mean_dev - plug_in], "DIC": [2 * mean_dev - plug_in]})
