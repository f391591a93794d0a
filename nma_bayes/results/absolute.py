"""Absolute effects of arm-level outcome fits: each treatment's event probability or rate.

The relative effects ``d_k`` of an arm-level outcome model are on the scale of its linear
predictor. Given a distribution for the linear predictor ``b`` of the reference treatment in the
population of interest (the *baseline*, typically from an external cohort or a meta-analysis of
the reference arms), each treatment's absolute outcome follows from ``b + d_k`` (Dias et al. 2011,
NICE DSU TSD2, section on absolute effects; TSD5):

==========================  =========================================  ==================
``likelihood, link``        absolute outcome of treatment ``k``        ``quantity``
==========================  =========================================  ==================
``binomial, logit``         ``invlogit(b + d_k)``                      probability
``binomial, cloglog``       ``1 - exp(-exp(b + log(time) + d_k))``     probability by ``time``
``poisson, log``            ``exp(b + d_k)`` (times ``exposure``)      rate (events)
==========================  =========================================  ==================

``b`` is drawn independently of the posterior, one draw per posterior draw, from a random
stream seeded by the fit's seed (so the table is reproducible), as TSD2 does in WinBUGS
(``A ~ dnorm(meanA, precA)`` beside the posterior of ``d``). For the cloglog link ``b`` is the
log hazard per unit of time; for Poisson the log rate per unit of exposure, both in the units of
the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..models.priors import Normal
from . import summaries
from .ordered import cutpoint_draws
from .posterior import Posterior
from .tables import finite

__all__ = ["absolute_draws", "absolute_effects"]

#: Second entry of the seed sequence of the baseline draws (the first is the fit's seed), so the
#: baseline stream differs from every stream the samplers draw from the seed alone.
BASELINE_STREAM = 0x0AB5


def _refuse(what: str, network) -> ModelSpecError:
    return ModelSpecError(
        f"absolute_effects() needs a fit of arm-level outcome data (likelihood='binomial', "
        f"'poisson' or 'ordered'); {what}. The relative effects of a normal-likelihood fit "
        f"(measure {network.measure!r}) have no baseline scale to add a baseline to.",
        rule="bad-option",
    )


def _positive(value, name: str) -> float:
    if not VA.is_real(value) or not 0 < float(value) < np.inf:
        raise ModelSpecError(
            f"{name} must be a positive finite number (in the units of the data), got "
            f"{value!r} ({type(value).__name__}).",
            rule="bad-option",
        )
    return float(value)


def _check_options(network, baseline, time, exposure) -> tuple[float | None, float | None]:
    """Validate the options for the network's family; return ``(time, exposure)``."""
    likelihood, link = network.likelihood, network.link
    if likelihood not in ("binomial", "poisson", "ordered"):
        raise _refuse(f"this fit's likelihood is {likelihood!r}", network)
    if not isinstance(baseline, Normal):
        raise ModelSpecError(
            f"baseline must be a normal distribution of the reference treatment's linear "
            f"predictor ({link} scale), e.g. nb.Normal(-4.2, 1 / 1.11**0.5) (WinBUGS gives "
            f"precisions: sd = 1/sqrt(precision)); got {baseline!r}.",
            rule="bad-option",
        )
    applies = {"time": link == "cloglog", "exposure": likelihood == "poisson"}
    for name, value in (("time", time), ("exposure", exposure)):
        if value is not None and not applies[name]:
            raise ModelSpecError(
                f"{name}= does not apply to likelihood={likelihood!r}, link={link!r}: "
                + ("only the cloglog link has a follow-up time" if name == "time"
                   else "only Poisson rates have an exposure") + ". Remove it.",
                rule="option-not-applicable",
            )  # fmt: skip
    if link == "cloglog" and time is None:
        raise ModelSpecError(
            "absolute_effects() of a cloglog fit needs time=: the follow-up time at which to "
            "predict the event probability, in the units of the data's time column (e.g. "
            "time=3 for 3 years).",
            rule="bad-option",
        )
    time = None if time is None else _positive(time, "time")
    return time, None if exposure is None else _positive(exposure, "exposure")


def absolute_draws(
    posterior: Posterior,
    baseline: Normal,
    *,
    seed: int,
    time: float | None = None,
    exposure: float | None = None,
    n_draws: int | None = None,
) -> np.ndarray:
    """Draws of each treatment's absolute outcome (module docstring), one per posterior draw.

    Parameters
    ----------
    posterior : Posterior
        The fit's accessor (an arm-level outcome fit).
    baseline : Normal
        Distribution of the reference treatment's linear predictor ``b``.
    seed : int
        The fit's seed; the baseline draws come from ``SeedSequence([seed, BASELINE_STREAM])``,
        one per posterior draw in (chain, draw) order, whatever ``n_draws``.
    time, exposure : float, optional
        Follow-up time (cloglog, required) and exposure (Poisson, default 1: the rate).
    n_draws : int, optional
        Use this many posterior draws, evenly spaced over the chains (default all).

    Returns
    -------
    ndarray (n, T) or (n, T, J)
        Treatments in network order (and cutpoints, for ordered fits); with ``n_draws=None``
        rows are chain-major (``reshape(chains, draws, T)`` restores the chains).
    """
    network = posterior.network
    time, exposure = _check_options(network, baseline, time, exposure)
    d = summaries.flat_draws(posterior.d_full())
    total = d.shape[0]
    n_draws = VA.check_int(n_draws, "n_draws", minimum=1, allow_none=True)
    if n_draws is not None and n_draws > total:
        raise ModelSpecError(
            f"n_draws={n_draws} exceeds the {total} posterior draws of the fit; pass at most "
            f"{total} (or None for all).",
            rule="bad-option",
        )
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), BASELINE_STREAM]))
    b = rng.normal(baseline.mean, baseline.sd, size=total)
    keep = slice(None)
    if n_draws is not None:
        keep = np.unique(np.linspace(0, total - 1, n_draws).round().astype(int))
        d, b = d[keep], b[keep]
    eta = b[:, None] + d
    if network.likelihood == "ordered":  # (n, T, J): P(at least cutpoint j) per treatment
        cut = cutpoint_draws(posterior.idata, network)[keep]
        eta = eta[:, :, None] - cut[:, None, :]
        return ndtr(eta) if network.link == "probit" else expit(eta)
    with np.errstate(over="ignore"):  # overflow is left to the NaN guard of the table
        if network.link == "probit":
            return ndtr(eta)
        if network.likelihood == "binomial" and network.link == "log":
            return np.exp(np.minimum(eta, 0.0))
        if network.likelihood == "poisson":
            return np.exp(eta) * (1.0 if exposure is None else exposure)
        if network.link == "cloglog":
            return -np.expm1(-np.exp(eta + np.log(time)))
        return expit(eta)


def absolute_effects(
    posterior: Posterior,
    baseline: Normal,
    *,
    seed: int,
    time: float | None,
    exposure: float | None,
    ci_prob: float,
    n_draws: int | None,
) -> pd.DataFrame:
    """Tidy table of each treatment's absolute outcome (see :func:`absolute_draws`).

    Returns
    -------
    DataFrame
        ``treatment, mean, sd, median, ci_lower, ci_upper, quantity, baseline`` and ``time``
        (cloglog) or ``exposure`` (Poisson), one row per treatment in network order; ordered
        fits add ``category`` (the cutpoint reached), one row per treatment and cutpoint.
    """
    ci_prob = VA.check_ci_prob(ci_prob)
    draws = absolute_draws(
        posterior, baseline, seed=seed, time=time, exposure=exposure, n_draws=n_draws
    )
    network = posterior.network
    treatments = [str(t) for t in network.treatments]
    if network.likelihood == "ordered":  # treatment-major rows, cutpoints within
        n_cut = draws.shape[2]
        stats = summaries.describe_draws(draws.reshape(draws.shape[0], -1), ci_prob)
        table = pd.DataFrame({"treatment": np.repeat(treatments, n_cut),
                              "category": np.tile(list(network.categories), len(treatments)),
                              **stats})  # fmt: skip
    else:
        stats = summaries.describe_draws(draws, ci_prob)
        table = pd.DataFrame({"treatment": treatments, **stats})
    if network.likelihood == "poisson":
        table["quantity"] = "rate" if exposure is None else "events"
    else:
        table["quantity"] = "probability"
    scale = {"logit": "log odds", "cloglog": "log hazard per unit time", "probit": "probit",
             "log": "log rate" if network.likelihood == "poisson" else "log risk"}  # fmt: skip
    ref = network.reference
    where = f" at {network.categories[0]}" if network.likelihood == "ordered" else ""
    table["baseline"] = f"{baseline.describe()} on the {scale[network.link]} of {ref}{where}"
    if network.link == "cloglog":
        table["time"] = float(time)
    elif network.likelihood == "poisson":
        table["exposure"] = 1.0 if exposure is None else float(exposure)
    return finite(table, "absolute_effects")
