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

__all__ = ["SurvivalFit", "arm_aux", "beta_full", "model_fit_table", "pointwise_loglik",
           "posterior_draws", "structure_facts", "study_index"]

_DIAGNOSED = ("d", "d_shape", "d_rate", "d_sdlog", "tau", "class_mean", "class_sd", "beta_group",
              "beta_mean", "beta_sd")  # fmt: skip


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

    def relative_effects(self, comparator: str | None = None, *, ci_prob: float = 0.95,
                         at: dict | None = None) -> pd.DataFrame:  # fmt: skip
        """Summarise each treatment's ``d`` against ``comparator``.

        Log hazard ratios, log time ratios, or each FP coefficient's contrast: ``treatment,
        comparator, [coefficient,] mean, sd, median, ci_lower, ci_upper``. With a
        meta-regression, ``d`` are the effects at the covariates' centres; ``at={covariate:
        value}`` gives them at other values (TSD3: ``d_k + beta_k (x - x_bar)``).
        """
        comparator = self._treatment(comparator)
        full = self.d_full()
        if self.design.regression is not None:
            reg = self.design.regression
            shift = beta_full(self) @ reg.term_values(reg.check_at(at))  # (N, T)
            full = full + _unflatten(shift, full)
        elif at is not None:
            raise ModelSpecError("at= needs a meta-regression fit (covariates=).",
                                 rule="bad-option")  # fmt: skip
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

    def regression(self, *, ci_prob: float = 0.95) -> pd.DataFrame:
        """Summarise the interactions of a meta-regression (as ``NetworkFit.regression``).

        Rows: each interaction group's ``beta`` (the ``beta_group`` variable) per term
        (``"shared"``: one, the interaction of every treatment vs the reference), and
        ``beta_mean, beta_sd`` per term (exchangeable).
        Columns ``parameter, group, term, mean, sd, median, ci_lower, ci_upper``; ``attrs``:
        ``center`` and ``interaction``.
        """
        reg = self.design.regression
        if reg is None:
            raise ModelSpecError("This fit has no meta-regression (covariates=).",
                                 rule="bad-option")  # fmt: skip
        post = self.idata["posterior"]
        rows = []
        for name in ("beta_group", "beta_mean", "beta_sd"):
            if name not in post:
                continue
            x = post[name]
            x = x if "interaction_group" in x.dims else x.expand_dims(interaction_group=[""])
            stats = describe_draws(flat_draws(x).reshape(-1, x.shape[-2] * x.shape[-1]),
                                   ci_prob)  # fmt: skip
            groups = np.repeat(x["interaction_group"].values, x.sizes["term"])
            rows.append(pd.DataFrame({"parameter": name.replace("_group", ""), "group": groups,
                                      "term": np.tile(list(reg.terms), len(x["interaction_group"])),
                                      **stats}))  # fmt: skip
        out = pd.concat(rows, ignore_index=True)
        out.attrs.update(center=dict(reg.center), interaction=reg.interaction)
        return out

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
        facts.update(structure_facts(self))
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


def structure_facts(fit: SurvivalFit) -> dict[str, str]:
    """Describe the class model and meta-regression in words (empty without them)."""
    out = {}
    reg, tm = fit.design.regression, fit.spec.treatment_model
    if tm is not None and tm.class_model is not None:
        out["class model"] = f"{tm.class_model} ({len(fit.design.class_structure.classes)} classes)"
    if reg is not None:
        centres = ", ".join(f"{k} at {v:.6g}" for k, v in reg.center.items())
        out["meta-regression"] = (f"{', '.join(reg.covariates)}, {reg.interaction} interaction"
                                  + (f" (centred: {centres})" if centres else ""))  # fmt: skip
    return out


def beta_full(fit: SurvivalFit) -> np.ndarray:
    """Flat draws of the interactions with the reference's zero row: (N, T, P)."""
    beta = flat_draws(fit.idata["posterior"]["beta"])
    return np.concatenate([np.zeros_like(beta[:, :1]), beta], axis=1)


def _unflatten(flat: np.ndarray, like: xr.DataArray) -> xr.DataArray:
    """Put (sample, treatment) draws back on ``like``'s (chain, draw, treatment) grid."""
    shape = (like.sizes["chain"], like.sizes["draw"], flat.shape[1])
    return xr.DataArray(flat.reshape(shape), dims=("chain", "draw", "treatment"),
                        coords={"chain": like["chain"], "draw": like["draw"],
                                "treatment": like["treatment"]})  # fmt: skip


def arm_aux(fit: SurvivalFit, draws: dict, study, treatment, base):
    """Return draws of the auxiliary parameter of ``treatment`` in ``study`` (or None).

    Indices or index arrays; the study's parameter times (the Gompertz rate: plus) the
    treatment's shape contrast against ``base``.
    """
    name = AUX_NAME.get(fit.spec.model)
    if name not in draws or fit.spec.model == "mspline":
        return None
    aux = draws[name][:, study]
    if fit.spec.shape_by_treatment:
        g = draws[f"d_{name}"]  # with the reference's zero: see posterior_draws
        diff = g[:, treatment] - g[:, base]
        aux = aux * np.exp(diff) if fit.spec.model in POSITIVE_AUX else aux + diff
    return aux


def posterior_draws(fit: SurvivalFit) -> dict[str, np.ndarray]:
    """Flat draws of every variable; treatment contrasts with the reference's zero first."""
    post = fit.idata["posterior"]
    out = {}
    for k, v in post.data_vars.items():
        x = flat_draws(v)
        if "treatment" in v.dims:
            x = np.concatenate([np.zeros_like(x[:, :1]), x], axis=1)
        out[k] = x
    return out


def study_index(fit: SurvivalFit, study: str | None) -> int:
    """Return the index of ``study`` (None: the first study), or raise ``bad-option``."""
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
    if des.regression is not None:
        coef = coef + des.regression_shift(draws["beta"])
    if "delta_dev" in draws:
        target = coef[..., 0] if model == "fp" else coef
        target[:, des.re_arms()] += draws["delta_dev"]
    out = {"coef": coef}
    aux = arm_aux(fit, draws, des.arm_study, des.arm_treatment, des.arm_base)
    if aux is not None:
        out["aux"] = aux
    if model == "mspline":
        out["spline"] = draws["spline_coef"]  # (N, studies or arms, J)
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
        c = values["spline"][:, arm if fit.spec.shape_by_treatment else des.arm_study[arm]]
        baseline = ((c * arrays["m_basis"]).sum(-1), (c * arrays["i_basis"]).sum(-1))
    aux = values["aux"][:, arm] if "aux" in values else None
    return event_loglik(np, model, coef[:, arm], aux, arrays, baseline)


def _row_constants(fit: SurvivalFit) -> np.ndarray | float:
    """Each grouped row's ``log C(n, r)`` (JAGS's deviance includes it); 0 for event times."""
    if fit.spec.model != "fp":
        return 0.0
    from scipy.special import gammaln

    r, n = fit.design.arrays["events"], fit.design.arrays["at_risk"]
    return gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)


def _draw_loglik(fit: SurvivalFit, values: dict, chunk: int) -> np.ndarray:
    """Return the log-likelihood per draw and row (N, rows), constants included.

    ``chunk`` draws at a time: the per-patient arrays of every draw at once would not fit.
    """
    n = values["coef"].shape[0]
    return np.concatenate([_row_loglik(fit, {k: v[i:i + chunk] for k, v in values.items()})
                           for i in range(0, n, chunk)]) + _row_constants(fit)  # fmt: skip


def pointwise_loglik(fit: SurvivalFit, *, chunk: int = 250) -> xr.DataArray:
    """Each row's log-likelihood per draw, constant included: ``(chain, draw, row)``."""
    ll = _draw_loglik(fit, _arm_values(fit, posterior_draws(fit)), chunk)
    post = fit.idata["posterior"]
    shape = (post.sizes["chain"], post.sizes["draw"], -1)
    return xr.DataArray(ll.reshape(shape), dims=("chain", "draw", "row"), name="y",
                        coords={"chain": post["chain"].values, "draw": post["draw"].values})


def model_fit_table(fit: SurvivalFit, *, chunk: int = 250) -> pd.DataFrame:
    """``mean_deviance, pD, DIC`` of a survival fit (module docstring), draws in chunks."""
    values = _arm_values(fit, posterior_draws(fit))
    dev = -2 * _draw_loglik(fit, values, chunk).sum(axis=1)
    mean = {k: v.mean(axis=0, keepdims=True) for k, v in values.items()}
    plug_in = -2 * (_row_loglik(fit, mean) + _row_constants(fit)).sum()
    mean_dev = float(dev.mean())
    return pd.DataFrame({"model": [fit.spec.model], "mean_deviance": [mean_dev],
                         "pD": [mean_dev - plug_in], "DIC": [2 * mean_dev - plug_in]})
