"""Simulation-based calibration (SBC) of the random-effects NMA (Talts et al. 2018).

Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian inference
algorithms with simulation-based calibration. arXiv:1804.06788.

Each replicate draws ``d`` and ``tau`` from the prior, simulates a network of random size,
multi-arm share and design from the model (study effects with the multi-arm ``tau^2/2``
covariance, within-study errors with the exact base-arm covariance), fits it, and records the rank
of each true value among ``L`` posterior draws and whether the 95% interval covers it. If the
inference is correct, ranks are uniform on ``0..L`` and intervals cover 95% of the time.

With ``SBCSettings(covariate=...)`` the replicates calibrate the shared-interaction network
meta-regression (Dias et al. 2011, NICE DSU TSD3): every simulated study gets one numeric covariate
``x_i``, the interaction ``beta`` is drawn from its prior, and the study effects of arm ``k`` vs the
study's base arm ``b`` have mean ``d_k - d_b + (beta_k - beta_b)(x_i - x_bar)`` with
``beta_ref = 0``, ``beta_k = beta`` otherwise and ``x_bar`` the mean over the simulated studies
(the centring :func:`nma_bayes.fit_network` applies by default). Ranks and coverage are then
recorded for ``beta`` as well.
"""

from __future__ import annotations

import warnings
from dataclasses import KW_ONLY, dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chisquare

from ..base.errors import CovariateWarning, ModelSpecError
from ..base.graph import connected_components
from ..models.priors import HalfNormal, Normal

__all__ = ["simulate_from_prior", "run_sbc", "sbc_summary", "SBCSettings", "COVARIATE"]

#: Name of the simulated study covariate column (meta-regression replicates).
COVARIATE = "x"


@dataclass(frozen=True)
class SBCSettings:
    """Design of an SBC run.

    Parameters
    ----------
    n_treatments : int
        Treatments per network (fixed, so that the PyMC engine compiles once).
    studies : tuple of int
        Range (inclusive) of the number of studies per network.
    multi_arm_share : tuple of float
        Range of the share of multi-arm (3- or 4-arm) studies.
    prior_d, prior_tau : Prior
        Priors used both to simulate and to fit.
    n_ranks : int
        Posterior draws per replicate used for the rank statistic (``L``).
    covariate : Normal, optional (keyword-only)
        Distribution of a numeric study covariate ``x_i`` (drawn independently per study), e.g.
        ``Normal(1, 1)``: the replicates then simulate and fit the shared-interaction
        meta-regression on ``x`` (column :data:`COVARIATE`). None (default): no covariate, the
        plain random-effects NMA.
    prior_beta : Normal (keyword-only)
        Prior of the shared interaction ``beta``, used both to simulate and to fit (only with
        ``covariate``).
    arm_size : tuple of int (keyword-only)
        Range (inclusive) of the per-arm sample sizes ``n``; arm variances are ``1 / n``
        (SMD-like).
    """

    n_treatments: int = 5
    studies: tuple[int, int] = (4, 40)
    multi_arm_share: tuple[float, float] = (0.0, 0.4)
    prior_d: Normal = Normal(0.0, 1.0)
    prior_tau: HalfNormal = HalfNormal(0.5)
    n_ranks: int = 99
    _: KW_ONLY
    covariate: Normal | None = None
    prior_beta: Normal = Normal(0.0, 0.5)
    arm_size: tuple[int, int] = (20, 199)

    def __post_init__(self):
        if self.covariate is not None and not isinstance(self.covariate, Normal):
            raise ModelSpecError(
                "SBCSettings(covariate=...) is the distribution of the study covariate: give a "
                f"Normal (e.g. Normal(0, 1)) or None, got {self.covariate!r}.",
                rule="bad-option",
            )
        if not isinstance(self.prior_beta, Normal):
            raise ModelSpecError(
                f"SBCSettings(prior_beta=...) must be a Normal prior, got {self.prior_beta!r}.",
                rule="bad-option",
            )
        size = self.arm_size
        integers = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in size)
        if len(size) != 2 or not integers or not 1 <= size[0] <= size[1]:
            raise ModelSpecError(
                f"SBCSettings(arm_size=...) must be integers (lo, hi) with 1 <= lo <= hi, got "
                f"{self.arm_size!r}.",
                rule="bad-option",
            )


def simulate_from_prior(settings: SBCSettings, rng: np.random.Generator):
    """Draw ``(d, tau)`` (and ``beta``) from the prior and a contrast data set from the model.

    Returns
    -------
    data : DataFrame
        ``study, treat1, treat2, TE, seTE, se_base`` (base form), connected; with a covariate
        also ``x`` (:data:`COVARIATE`, constant within study).
    truth : dict
        ``{"d": {treatment: value vs T1}, "tau": value}`` (T1 is the reference); with a
        covariate also ``"beta"`` (the shared interaction).
    """
    names = [f"T{i + 1}" for i in range(settings.n_treatments)]
    pd_ = settings.prior_d
    d = np.concatenate([[0.0], rng.normal(pd_.mean, pd_.sd, settings.n_treatments - 1)])
    tau = abs(rng.normal(0.0, settings.prior_tau.scale))
    cov = settings.covariate
    beta = None if cov is None else rng.normal(settings.prior_beta.mean, settings.prior_beta.sd)
    n_studies = int(rng.integers(settings.studies[0], settings.studies[1] + 1))
    share = rng.uniform(*settings.multi_arm_share)
    while True:
        designs = []
        for _ in range(n_studies):
            k = int(rng.choice([3, 4])) if rng.uniform() < share else 2
            size = min(k, len(names))
            designs.append(rng.choice(settings.n_treatments, size=size, replace=False))
        if _connected(designs, settings.n_treatments):
            break
    x = None if cov is None else rng.normal(cov.mean, cov.sd, n_studies)
    shift = _interaction_shift(designs, settings.n_treatments, beta, x)
    rows = []
    lo, hi = settings.arm_size
    for s, arms in enumerate(designs):
        arm_var = 1.0 / rng.integers(lo, hi + 1, size=len(arms))  # SMD-like arm variances
        k = len(arms) - 1
        re_cov = tau**2 / 2 * (np.eye(k) + np.ones((k, k)))
        mean = d[arms[1:]] - d[arms[0]]
        if shift is not None:
            mean = mean + shift[s]
        delta = rng.multivariate_normal(mean, re_cov)
        v = np.diag(arm_var[1:]) + arm_var[0] * np.ones((k, k))
        y = rng.multivariate_normal(delta, v)
        se_base = np.sqrt(arm_var[0]) if k > 1 else np.nan
        for j in range(k):
            se = np.sqrt(arm_var[j + 1] + arm_var[0])
            rows.append((f"s{s + 1}", names[arms[j + 1]], names[arms[0]], y[j], se, se_base))
    data = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    truth = {"d": dict(zip(names[1:], d[1:], strict=True)), "tau": tau}
    if cov is not None:
        data[COVARIATE] = data["study"].map({f"s{i + 1}": v for i, v in enumerate(x)})
        truth["beta"] = beta
    return data, truth


def _interaction_shift(designs, n_treatments: int, beta, x):
    """Per study, the shifts ``(beta_k - beta_b)(x_i - x_bar)`` of its contrasts (None: no x).

    Shared interaction (TSD3): ``beta_ref = 0`` (index 0, T1) and ``beta_k = beta`` for every
    other treatment, so a contrast of two non-reference treatments is not shifted; ``x_bar`` is
    the unweighted mean over the simulated studies, the default centre of ``fit_network``.
    """
    if x is None:
        return None
    beta_full = np.r_[0.0, np.full(n_treatments - 1, beta)]
    xc = x - x.mean()
    return [(beta_full[arms[1:]] - beta_full[arms[0]]) * xc[s] for s, arms in enumerate(designs)]


def _connected(designs, n_treatments: int) -> bool:
    """Whether the studies' designs (arrays of treatment indices) link all treatments."""
    edges = [(arms[0], a) for arms in designs for a in arms[1:]]
    return len(connected_components(range(n_treatments), edges)) == 1


def run_sbc(
    n_networks: int,
    *,
    engine: str = "exact",
    settings: SBCSettings | None = None,
    seed: int = 0,
    effects: str = "random",
    fit_options: dict | None = None,
    client=None,
) -> pd.DataFrame:
    """Run SBC replicates.

    Parameters
    ----------
    n_networks : int
        Number of simulated networks.
    engine : {"exact", "pymc"}
        Engine of :func:`nma_bayes.fit_network`.
    settings : SBCSettings, optional
        Simulation design and priors.
    seed : int
        Seed of the simulations (fits use derived seeds).
    effects : {"random", "fixed"}
        Model fitted (``"fixed"`` on data simulated with random effects is a negative control:
        it must fail calibration).
    fit_options : dict, optional
        Extra keyword arguments of :func:`fit_network` (e.g. ``draws``); they override the
        ones set here (e.g. ``center=False`` or another ``prior_beta`` as negative controls).
    client : distributed.Client, optional
        Fit the replicates as tasks on a Dask cluster (:func:`nma_bayes.analyses.batch.run_tasks`);
        the networks and seeds are simulated here first, in the same order, so the table is
        identical with and without a client. Needs ``pip install "nma_bayes[dask]"``.

    Returns
    -------
    DataFrame
        One row per replicate and parameter: ``replicate, parameter, name, truth, rank,
        n_ranks, covered`` (rank of the truth among ``n_ranks`` posterior draws; 95% interval
        coverage). ``parameter`` is ``"d"``, ``"tau"`` or (with a covariate) ``"beta"``.
    """
    from .batch import check_client, run_tasks

    check_client(client)
    settings = settings or SBCSettings()
    rng = np.random.default_rng(seed)
    payloads = {}
    for r in range(n_networks):  # simulated here, in order: the same networks with any client
        data, truth = simulate_from_prior(settings, rng)
        kwargs = {
            "reference": "T1",
            "effects": effects,
            "engine": engine,
            "prior_d": settings.prior_d,
            "prior_tau": settings.prior_tau,
            "random_seed": int(rng.integers(2**31)),
            "progressbar": False,  # hundreds of fits: no bar per fit, even in a notebook
        }
        if settings.covariate is not None:  # shared-interaction meta-regression (TSD3)
            kwargs.update(
                covariates=COVARIATE, interaction="shared", prior_beta=settings.prior_beta
            )
        payloads[r] = (data, truth, {**kwargs, **(fit_options or {})}, settings.n_ranks, r)
    results = run_tasks(_sbc_replicate, payloads, client=client, progress=False)
    return pd.DataFrame([row for rows in results.values() for row in rows])


def _sbc_replicate(payload) -> list[dict]:
    """Fit one simulated network and return its rank rows (a task of :func:`run_sbc`)."""
    from ..fitting.fit import fit_network

    data, truth, kwargs, n_ranks, r = payload
    with warnings.catch_warnings():
        # a simulated network may compare the reference in studies of one covariate value:
        # beta is then informed by its prior alone, which is exactly what SBC must cover
        unidentified = r".*\[rule interaction-not-identified\]"
        warnings.filterwarnings("ignore", message=unidentified, category=CovariateWarning)
        fit = fit_network(data, **kwargs)
    return _replicate_rows(fit, truth, n_ranks, r)


def _replicate_rows(fit, truth, n_ranks, replicate, extra=()):
    """Return rank and coverage rows of ``d``, ``tau``, ``beta`` and the ``extra`` entries.

    ``extra``: ``(group, name, draws, truth, summary row)`` tuples (an ordered model's cutpoints).
    """
    post = fit.idata["posterior"]
    n_total = post.sizes["chain"] * post.sizes["draw"]
    pick = np.linspace(0, n_total - 1, n_ranks).round().astype(int)  # thinned, for MCMC
    rows = []
    rel = fit.relative_effects("T1").set_index("treatment")
    params = [(f"d[{t}]", post["d"].sel(treatment=t), v, rel.loc[t]) for t, v in truth["d"].items()]
    if fit.spec.random:
        params.append(("tau", post["tau"], truth["tau"], fit.heterogeneity().loc["tau"]))
    if "beta" in truth:
        draws = post["beta_group"].sel(interaction_group="shared", term=COVARIATE)
        table = fit.regression().set_index(["parameter", "group", "term"])
        params.append(("beta", draws, truth["beta"], table.loc[("beta", "shared", COVARIATE)]))
    groups = [name if name in ("tau", "beta") else "d" for name, *_ in params]
    params = [(g, *p) for g, p in zip(groups, params, strict=True)] + list(extra)
    for group, name, draws, true, summary in params:
        sample = np.asarray(draws).reshape(-1)[pick]
        rows.append(
            {
                "replicate": replicate,
                "parameter": group,
                "name": name,
                "truth": true,
                "rank": int((sample < true).sum()),
                "n_ranks": n_ranks,
                "covered": bool(summary["ci_lower"] <= true <= summary["ci_upper"]),
            }
        )
    return rows


def sbc_summary(ranks: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """Uniformity test of ranks and interval coverage per parameter group (beta, d, tau).

    Returns
    -------
    DataFrame
        ``parameter, n, chi2_p`` (chi-square test of uniform ranks in ``n_bins`` bins),
        ``coverage`` (95% intervals), ``coverage_lo, coverage_hi`` (exact 95% binomial CI).
    """
    out = []
    for group, g in ranks.groupby("parameter", sort=True):
        n_ranks = int(g["n_ranks"].iloc[0])
        bins = np.floor(g["rank"].to_numpy() * n_bins / (n_ranks + 1)).astype(int)
        counts = np.bincount(bins, minlength=n_bins)
        p = chisquare(counts).pvalue
        k = int(g["covered"].sum())
        ci = binomtest(k, len(g)).proportion_ci(0.95)
        out.append(
            {
                "parameter": group,
                "n": len(g),
                "chi2_p": float(p),
                "coverage": k / len(g),
                "coverage_lo": ci.low,
                "coverage_hi": ci.high,
            }
        )
    return pd.DataFrame(out)
