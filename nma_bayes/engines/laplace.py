r"""A near-exact engine for arm-level outcome models: nested Laplace over ``tau``, then PSIS.

For the TSD2 arm-based model (:mod:`nma_bayes.models.arm_likelihood`; binomial logit or cloglog,
Poisson, normal arms; fixed or random effects) the latent vector ``x = (mu, d, z)`` (study
baselines, basic effects, non-centred arm deviates) has a normal prior and, given ``tau``, a
log-concave likelihood: the linear predictor is ``theta = B (mu, d) + tau Z z + offset``.

1. **Laplace given tau** (Tierney & Kadane 1986; Rue, Martino & Chopin 2009): Newton's method finds
   the mode ``x*(tau)`` of ``log p(y | x, tau) + log p(x)`` and the Hessian ``H(tau)`` there;
   ``log p(y | tau) ~ f(x*) + (p/2) log 2 pi - (1/2) log det H``.
2. **Quadrature over u = log tau** (:mod:`~nma_bayes.engines.laplace_cells`): a scan at
   spacing 0.5 of ``log p(y | tau) + log p(tau) + u`` brackets all but ``TAIL_MASS`` of the
   mass on each side; the bracket is cut into ``N_CELLS`` cells of equal mass, each with its
   Laplace fit at its centre and, within it, a density of ``u`` that follows the log density's
   local slope (exponential). A cell across which the mode moves by more than ``MAX_DRIFT``
   Laplace SDs (the tails of ``tau``, where equal-mass cells are wide) is split; within a cell
   the proposal's centre follows the mode's tangent ``dx*/du`` (implicit function theorem).
   Without this the upper tail of ``tau`` came out short where it is long (certolizumab:
   ``P(tau > 2.5)`` 1.6% against 3.1%).
3. **Importance sampling against the exact joint density** (the correction that makes it
   near-exact; Vehtari et al. 2024, PSIS): the proposal draws a cell with probability
   proportional to its Laplace mass, ``u`` in the cell, and ``x`` from a defensive
   mixture of multivariate t's (:data:`T_DF` degrees of freedom) centred at the cell's mode
   (moved along its tangent)
   with scales ``1.15^2 H^{-1}`` and, with probability 0.1, ``2^2 H^{-1}``; the
   weights are ``p(y, x, tau) / q(u, x)``. Pareto smoothing gives the weights and their
   diagnostic ``k``: above :data:`K_MAX` the proposal does not cover the posterior and the
   engine raises :class:`~nma_bayes.base.errors.ExactEngineError` (it never answers wrongly in
   silence), as it does when the importance-sampling ESS is below :data:`MIN_ESS_SHARE` of the
   draws. A pilot round (:data:`PILOT` times the draws) first sets a scale per coordinate and
   side of the standardised proposal, :data:`MATCH` times the posterior's one-sided weighted
   SDs (:func:`split_scales`, :func:`split_draws`: a split-t proposal, longer on the long side
   of a skewed coordinate). Then :data:`MIN_OVERSAMPLE` proposals per draw are made, and more
   in rounds until their ESS reaches :data:`TARGET_ESS` times the draws. The draws returned are a
   systematic resample of the weighted proposals.

Fixed effects skip step 2 (one Laplace fit). The draws hold ``d``, ``tau``, the baselines ``mu``
and the deviates ``e_arm`` as NUTS fits do, so every summary, plot and report works on them.

Rue H, Martino S, Chopin N (2009). Approximate Bayesian inference for latent Gaussian models by
using integrated nested Laplace approximations. J R Stat Soc B 71:319-392.
Sauter R, Held L (2015). Network meta-analysis with integrated nested Laplace approximations.
Biom J 57:1038-1050.
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance sampling.
J Mach Learn Res 25:1-58.
"""

from __future__ import annotations

import functools

import numpy as np
import xarray as xr
from scipy.special import gammaln, logsumexp

from ..base.errors import ExactEngineError, ModelSpecError
from ..models.arm_likelihood import OutcomeData
from ..models.spec import ModelSpec
from .determinism import one_blas_thread
from .exact import _log_prior_tau
from .laplace_cells import Cell, log_tilt_integral, tau_cells, tilted_offsets
from .laplace_model import LaplaceModel
from .posterior_labels import outcome_labels

__all__ = ["laplace_posterior", "check_laplace", "K_MAX"]

#: Pareto k above which the importance weights are not trusted (Vehtari et al. 2024: 0.7).
K_MAX = 0.7
#: The families the engine's Newton steps know (``laplace_model.score_weights``).
LAPLACE_FAMILIES = (("binomial", "logit"), ("binomial", "cloglog"), ("poisson", "log"),
                    ("normal", "identity"))  # fmt: skip
#: The importance-sampling ESS must reach this share of the draws returned, or the engine
#: refuses (the resampled draws would repeat a few proposals).
MIN_ESS_SHARE = 0.25
#: Degrees of freedom of the proposal's multivariate t (heavier tails than the Laplace normal).
T_DF = 30.0
#: The proposal's scales: these multiples of the Laplace standard deviations, the wide one with
#: probability DEFENSIVE (a defensive mixture keeps the weights' tail light where the posterior
#: is skewed, e.g. baselines of arms with few events).
WIDEN, WIDE, DEFENSIVE = 1.15, 2.0, 0.1
#: Pilot proposals (a share of the draws returned, at least 1000) whose weighted moments
#: rescale the proposal; after it, the main component's scale is MATCH times the weighted
#: posterior SD (wider than the posterior: lighter-tailed weights, Pareto k <= 0.6 on the
#: reference networks over six seeds, for ~20-45% importance-sampling efficiency).
PILOT, MATCH = 0.5, 1.2
#: MIN_OVERSAMPLE proposals per draw returned are drawn, then rounds of ROUND per draw until
#: their importance-sampling ESS reaches TARGET_ESS times the draws (so the draws' effective
#: size 1 / (1 / ESS + 1 / draws) is at least a third of them), or MAX_OVERSAMPLE proposals per
#: draw have been made (then the checks below decide).
ROUND, MIN_OVERSAMPLE, TARGET_ESS, MAX_OVERSAMPLE = 0.5, 2.0, 0.5, 10


def _log_t_r2(r2: np.ndarray, dim: int) -> np.ndarray:
    """Log density of the standard ``dim``-variate t (:data:`T_DF`) where ``|y|^2 = r2``."""
    return (gammaln((T_DF + dim) / 2) - gammaln(T_DF / 2) - 0.5 * dim * np.log(T_DF * np.pi)
            - 0.5 * (T_DF + dim) * np.log1p(r2 / T_DF))  # fmt: skip


def standard_draws(n: int, dim: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` standardised points ``v`` and their log density under the proposal mixture.

    A defensive mixture (Hesterberg 1995) of two multivariate t's: ``v = s y`` for a standard t
    vector ``y`` with ``s = WIDEN`` (probability ``1 - DEFENSIVE``) or ``s = WIDE``. A cell maps
    ``v`` to ``x = mode + L^{-T} v`` (``H = L L'``), whose density is that of ``v`` times
    ``det L``; the wide part bounds the weights where the posterior has heavier tails than the
    Laplace normal (skewed baselines of sparse arms).
    """
    scale = np.where(rng.random(n) < DEFENSIVE, WIDE, WIDEN)
    radial = scale * np.sqrt(T_DF / rng.chisquare(T_DF, size=n))
    v = rng.standard_normal((n, dim)) * radial[:, None]
    r2 = (v**2).sum(axis=1)  # each component's density needs only |v|^2 / s^2
    parts = [np.log(share) + _log_t_r2(r2 / s**2, dim) - dim * np.log(s)
             for share, s in ((1 - DEFENSIVE, WIDEN), (DEFENSIVE, WIDE))]  # fmt: skip
    return v, np.logaddexp(*parts)


def split_draws(v: np.ndarray, log_q: np.ndarray, split, rng):
    """Give symmetric standardised draws ``v`` a scale per coordinate and side (split-t).

    ``split = (s_pos, s_neg)``: coordinate ``j`` is positive with probability ``s_pos /
    (s_pos + s_neg)`` and scaled by the side's ``s``, so the density stays continuous at 0 and
    is ``q(u) prod_j 2 / (s_pos_j + s_neg_j)`` with ``u_j = v_j / s_side`` (the mixture's ``q``
    depends on ``|u|`` only). A posterior skewed along a coordinate (the effect or baseline of a
    sparse arm) gets a longer tail on its long side (split normal; Geweke 1989).
    """
    if split is None:
        return v, log_q
    s_pos, s_neg = split
    positive = rng.random(v.shape) < s_pos / (s_pos + s_neg)
    v = np.where(positive, np.abs(v) * s_pos, -np.abs(v) * s_neg)
    return v, log_q + np.log(2.0 / (s_pos + s_neg)).sum()


def propose(model: LaplaceModel, cells: list[Cell], n: int, rng, split=None):
    """Draw ``n`` proposals ``(tau, x)`` and their log importance weights (module docstring)."""
    mass = np.array([c.log_mass for c in cells])
    log_p = mass - logsumexp(mass)
    which = rng.choice(len(cells), size=n, p=np.exp(log_p))
    x, log_q = split_draws(*standard_draws(n, len(cells[0].mode), rng), split, rng)
    t = np.empty(n)
    for g in np.unique(which):
        rows = np.flatnonzero(which == g)
        cell = cells[g]
        t[rows] = tilted_offsets(rng, cell.slope, cell.width, len(rows))
        x[rows] = cell.centres(t[rows]) + x[rows] @ cell.root.T
    # u = centre + t, density p_g exp(slope t) / integral over the cell; x's density det L
    slope, width = (np.array([getattr(c, a) for c in cells]) for a in ("slope", "width"))
    log_det = np.array([c.log_det for c in cells])
    log_q += (log_det + log_p - log_tilt_integral(slope, width))[which] + slope[which] * t
    u = np.array([c.u for c in cells])[which] + t
    tau = np.exp(u)
    log_target = model.log_joint(tau, x) + _log_prior_tau(model.spec, tau) + u
    return tau, x, log_target - log_q, which


def _fixed_proposals(model: LaplaceModel, cells: list[Cell], n: int, rng, split=None):
    """Draw fixed-effect proposals around the one Laplace fit, with their log weights."""
    (cell,) = cells
    v, log_q = split_draws(*standard_draws(n, len(cell.mode), rng), split, rng)
    x = cell.mode + v @ cell.root.T
    return None, x, model.log_joint(np.zeros(n), x) - log_q - cell.log_det, np.zeros(n, dtype=int)


def split_scales(cells: list[Cell], tau, x: np.ndarray, which: np.ndarray, log_w: np.ndarray):
    """Scales per coordinate and side of the standardised proposal, from the pilot's weights.

    In each cell's standardised coordinates ``v = L'(x - centre)`` the pilot's proposal is
    symmetric about 0; the weighted second moments of ``v_j`` on each side (pooled over cells:
    the Laplace fits differ by cell, their misfit in these coordinates much less) give each
    side's scale, ``MATCH`` times the posterior's (importance-weighted moment matching, as in
    adaptive importance sampling, Cappe et al. 2004, with a split per side for skewness).
    """
    w = np.exp(log_w - logsumexp(log_w))
    v = np.empty_like(x)
    for g in np.unique(which):
        rows = which == g
        t = np.zeros(rows.sum()) if tau is None else np.log(tau[rows]) - cells[g].u
        v[rows] = (x[rows] - cells[g].centres(t)) @ cells[g].chol
    # the main component's second moment per unit scale: after matching, its one-sided second
    # moments are MATCH^2 times the posterior's (the wide component stays WIDE / WIDEN wider).
    # The diagonal only: a full covariance from a few thousand weighted draws in ~50-100
    # dimensions is too noisy to improve on the Laplace fit's correlations.
    c = WIDEN**2 * T_DF / (T_DF - 2)
    pos = v > 0
    side = [(w @ (v**2 * mask)) / np.maximum(w @ mask, 1e-300) for mask in (pos, ~pos)]
    return tuple(MATCH * np.sqrt(np.maximum(m, 1e-12) / c) for m in side)


def systematic_resample(log_w: np.ndarray, n: int, rng) -> np.ndarray:
    """Return ``n`` indices by systematic resampling of the weights (in random order)."""
    w = np.exp(log_w - logsumexp(log_w))
    positions = (rng.random() + np.arange(n)) / n
    idx = np.searchsorted(np.cumsum(w), positions, side="right")
    return rng.permutation(np.minimum(idx, len(w) - 1))


def _smoothed(log_w: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised log weights and their ``k`` (Vehtari et al. 2024)."""
    from arviz_stats.base import array_stats  # heavy import, only when the engine runs

    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    # arviz-stats' psislw takes the log-likelihood convention: weights exp(-ary)
    smoothed, k = array_stats.psislw(-log_w)
    return smoothed, float(k)


def check_laplace(network, spec: ModelSpec | None) -> None:
    """Refuse what the engine does not cover, before any computation (rule ``bad-option``)."""
    why = None
    if not np.asarray(network.outcome).all():
        why = "contrast-level studies (use engine='exact' for an all-contrast network)"
    elif spec is not None and spec.class_model is not None:
        why = "treatment-class models"
    elif network.covariates is not None:
        why = "meta-regression"
    elif (network.likelihood, network.link) not in LAPLACE_FAMILIES:
        why = f"likelihood={network.likelihood!r} with link={network.link!r}"
    if why is not None:
        raise ModelSpecError(
            f"The Laplace engine covers networks of arm-level outcome studies without {why}; "
            "use engine='pymc'.",
            rule="bad-option",
        )


def _ess(log_w: np.ndarray) -> float:
    """Kish's effective sample size of the normalised weights ``exp(log_w)``."""
    w = np.exp(log_w - logsumexp(log_w))
    return float(1.0 / (w**2).sum())


def _rounds(model: LaplaceModel, cells: list[Cell], draw, n_out: int, rng):
    """Propose in rounds until the weights' ESS reaches its target, then smooth and check them.

    Returns ``tau``, ``x``, the Pareto-smoothed log weights, their ``k`` and ESS. Raises
    :class:`ExactEngineError` when ``k > K_MAX`` or the ESS is below :data:`MIN_ESS_SHARE` of
    the draws (the module docstring).
    """
    parts = [draw(model, cells, max(int(MIN_OVERSAMPLE * n_out), 1000), rng)]
    log_w = parts[0][2]
    # more rounds from the same proposal (so the weights pool) until the ESS is reached
    while _ess(log_w) < TARGET_ESS * n_out and len(log_w) < MAX_OVERSAMPLE * n_out:
        parts.append(draw(model, cells, max(int(ROUND * n_out), 1000), rng))
        log_w = np.concatenate([p[2] for p in parts])
    tau = None if parts[0][0] is None else np.concatenate([p[0] for p in parts])
    x = np.concatenate([p[1] for p in parts])
    smoothed, k = _smoothed(log_w)
    if not np.isfinite(k) or k > K_MAX:
        raise ExactEngineError(
            f"The Laplace engine's importance weights have Pareto k = {k:.2f} > {K_MAX}: its "
            "approximation does not cover this posterior (e.g. zero-event arms with little "
            "information). Use engine='pymc'."
        )
    is_ess = _ess(smoothed)
    if is_ess < MIN_ESS_SHARE * n_out:
        raise ExactEngineError(
            f"The Laplace engine's importance sampling has an effective sample size of "
            f"{is_ess:.0f} for {n_out} draws (Pareto k = {k:.2f}): its approximation covers this "
            "posterior too poorly. Use engine='pymc'."
        )
    return tau, x, smoothed, k, is_ess


def laplace_posterior(network, spec: ModelSpec, chains: int, draws: int, seed: int):
    """Draws of the arm-level model's posterior (module docstring) in ArviZ's layout.

    Returns
    -------
    xarray.DataTree
        ``posterior``: ``d``, ``tau`` (random effects), ``mu`` and ``e_arm``, over ``chain`` x
        ``draw`` (independent draws); its attrs hold ``pareto_k``, ``is_ess`` (the importance
        sampling effective sample size), ``n_proposals`` and ``n_draws``.

    Raises
    ------
    ExactEngineError
        If the Pareto ``k`` of the importance weights exceeds :data:`K_MAX`, or their effective
        sample size is below :data:`MIN_ESS_SHARE` of the draws.
    """
    # one BLAS thread: the engine's products are small (threads cost more than they save), and
    # a product split over threads may sum in another order, so the draws would depend on the
    # process's BLAS setting (a Dask worker runs one thread; engines/determinism.py)
    with one_blas_thread():
        return _posterior(network, spec, chains, draws, seed)


def _posterior(network, spec: ModelSpec, chains: int, draws: int, seed: int):
    """:func:`laplace_posterior`'s computation."""
    outcomes = OutcomeData.from_network(network)
    n_d = len(network.non_reference)
    model = LaplaceModel.build(outcomes, spec, n_d)
    rng = np.random.default_rng(seed)
    n_out = chains * draws
    start = model.prior_mean.copy()
    if spec.random:
        cells, draw = tau_cells(model, start), propose
    else:
        x0, chol, _ = model.mode(0.0, start)
        cells, draw = [Cell(0.0, 1.0, x0, chol, 0.0)], _fixed_proposals
    # a pilot round, whose weighted moments rescale the proposal, then the proposals used
    tau, x, log_w, which = draw(model, cells, max(int(PILOT * n_out), 1000), rng)
    split = split_scales(cells, tau, x, which, _smoothed(log_w)[0])
    draw = functools.partial(draw, split=split)
    tau, x, smoothed, k, is_ess = _rounds(model, cells, draw, n_out, rng)
    idx = systematic_resample(smoothed, n_out, rng)
    tau = None if tau is None else tau[idx]
    return _tree(network, outcomes, model, chains, draws, tau, x[idx],
                 {"pareto_k": k, "is_ess": is_ess, "n_proposals": len(smoothed),
                  "n_draws": n_out})  # fmt: skip


def _tree(network, outcomes, model: LaplaceModel, chains: int, draws: int, tau, x, attrs):
    """Wrap the resampled draws ``x`` (and ``tau``) as the fit's posterior.

    Labelled as :func:`~nma_bayes.engines.posterior_labels.relabel` labels the sampler's.
    """
    n_mu, n_d, _ = model.dims
    studies, arms = outcome_labels(network, outcomes)

    def shaped(a):
        return a.reshape(chains, draws, *a.shape[1:])

    post = xr.Dataset(
        {"d": (("chain", "draw", "treatment"), shaped(x[:, n_mu : n_mu + n_d])),
         "mu": (("chain", "draw", "outcome_study"), shaped(x[:, :n_mu]))},
        coords={"chain": np.arange(chains), "draw": np.arange(draws),
                "treatment": list(network.non_reference), "outcome_study": studies},
    )  # fmt: skip
    if tau is not None:
        post["tau"] = (("chain", "draw"), shaped(tau))
        e_arm = xr.DataArray(shaped(x[:, n_mu + n_d :]), dims=("chain", "draw", "outcome_arm"),
                             coords={"outcome_arm": arms})  # fmt: skip
        post["e_arm"] = e_arm
    post.attrs |= {"engine": "laplace"} | attrs
    keep = [v for v in ("d", "tau", "mu", "e_arm") if v in post]
    return xr.DataTree.from_dict({"posterior": post[keep]})
