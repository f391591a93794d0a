r"""Summaries special to ordered categorical fits: the cutpoints and the multinomial deviance.

The cutpoints ``c_1 = 0 < c_2 < ... < c_J`` of the ordered model
(:mod:`nma_bayes.models.ordered_likelihood`) are on the scale of the linear predictor (probit or
log odds), as multinma prints them (``c_1`` is fixed, so the table has ``J - 1`` rows).

Goodness of fit (Dias et al. 2011, TSD2): each arm's residual deviance is the multinomial
deviance over its observed categories, ``2 sum_c O_c log(O_c / E_c)`` with ``E_c = n P_c``
(``0 log 0 = 0``); an arm with ``m`` reported cutpoints has ``m`` data points (its ``m + 1``
categories less one for the fixed ``n``), 58 in TSD2's psoriasis network. pD plugs in the
posterior mean of the expected counts, as for the binomial arms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..models.arm_likelihood import OutcomeData
from ..models.ordered_likelihood import cell_logp
from . import summaries
from .tables import finite

__all__ = ["cutpoint_draws", "cutpoint_table", "ordered_logpmf", "ordered_points"]


def cutpoint_draws(idata, network) -> np.ndarray:
    """Flat draws (N, J) of the cutpoints (``c_1 = 0`` included)."""
    post = idata["posterior"]
    if network.likelihood != "ordered" or "cutpoints" not in post:
        raise ModelSpecError(
            "cutpoints() needs a fit of ordered categorical data (likelihood='ordered'); this "
            f"fit's likelihood is {network.likelihood!r}.",
            rule="bad-option",
        )
    return summaries.flat_draws(post["cutpoints"].transpose("chain", "draw", "cutpoint"))


def cutpoint_table(idata, network, *, ci_prob: float = 0.95) -> pd.DataFrame:
    """Posterior summaries of the free cutpoints (all but the first, which is 0).

    Returns
    -------
    DataFrame
        ``cutpoint, relative_to, mean, sd, median, ci_lower, ci_upper``; one row per cutpoint
        above the first, on the link's scale.
    """
    ci_prob = VA.check_ci_prob(ci_prob)
    draws = cutpoint_draws(idata, network)[:, 1:]
    stats = summaries.describe_draws(draws, ci_prob)
    names = list(network.categories)
    table = pd.DataFrame({"cutpoint": names[1:], "relative_to": f"{names[0]} (fixed at 0)",
                          **stats})  # fmt: skip
    return finite(table, "cutpoints")


def ordered_points(outcomes: OutcomeData, theta: np.ndarray, cut: np.ndarray) -> dict:
    """Deviance of each arm (module docstring) from draws of ``theta`` (N, A) and ``cut`` (N, J).

    Returns
    -------
    dict
        ``resdev`` (A,): posterior mean deviance; ``at_mean`` (A,): deviance at the posterior
        mean of the expected counts; ``residual`` (A,): the at-least count of the arm's first
        reported cutpoint minus its posterior mean expectation; ``n_points`` (A,): reported
        cutpoints per arm.
    """
    cells = outcomes.cells
    n_arms = len(outcomes.arm_study)
    log_p = cell_logp(np, theta.T, cut.T, cells, outcomes.link)  # (C, N)
    expected = outcomes.arm_trials[cells.arm][:, None] * np.exp(log_p)
    obs = cells.count[:, None]

    def deviance(e):  # per category, then summed over each arm's categories
        with np.errstate(divide="ignore"):
            term = np.where(obs > 0, obs * (np.log(np.where(obs > 0, obs, 1.0)) - np.log(e)), 0.0)
        return cells.arm_sum(2.0 * term.T, n_arms)

    e_bar = expected.mean(axis=1, keepdims=True)
    # the at-least count of an arm's first reported cutpoint is n minus its bottom category
    bottom = np.arange(cells.n_bottom)
    first = np.zeros(n_arms)
    first[cells.arm[bottom]] = outcomes.arm_trials[cells.arm[bottom]] - e_bar[bottom, 0]
    observed_first = outcomes.arm_trials - cells.arm_sum(
        np.where(np.arange(len(cells.arm)) < cells.n_bottom, cells.count, 0.0), n_arms
    )
    return {
        "resdev": deviance(expected).mean(axis=0),
        "at_mean": deviance(e_bar)[0],
        "residual": observed_first - first,
        "n_points": np.bincount(cells.arm, minlength=n_arms) - 1,
    }


def ordered_logpmf(outcomes: OutcomeData, theta: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Exact multinomial log-probability (N, A) of each arm's categories, constant included."""
    cells = outcomes.cells
    log_p = cell_logp(np, theta.T, cut.T, cells, outcomes.link)  # (C, N)
    n_arms = len(outcomes.arm_study)
    return cells.arm_sum((cells.count[:, None] * log_p).T, n_arms) + cells.log_multinomial_coef(
        outcomes.arm_trials
    )
