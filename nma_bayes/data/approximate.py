"""Arm-level outcomes as contrasts with their normal approximation (netmeta's ``pairwise``).

The frequentist evidence-structure quantities (Q decomposition, contribution matrix, network
measures, net heat, comparison-adjusted funnel) are functions of study contrasts and their
within-study covariance. For arm-level outcome studies they use, as netmeta does after
``pairwise()``, each arm's estimate on the linear-predictor scale with its large-sample variance:

* binomial, logit link: log odds ``log(r / (n - r))``, variance ``1/r + 1/(n - r)``; when a
  study has an arm with ``r = 0`` or ``r = n``, 0.5 is added to every cell of that study
  (``incr = 0.5, method.incr = "only0"``), i.e. ``r + 0.5`` events of ``n + 1``;
* binomial, log link: log risk ``log(r / n)``, variance ``1/r - 1/n``, with the same correction;
* Poisson, log link: log rate ``log(r / E)``, variance ``1/r``; with a zero-event arm, 0.5 is
  added to the events of every arm of the study;
* normal arm means: the mean, variance ``se^2``.

A study's contrasts against its base arm then have variance ``v_k + v_0`` and share the base
arm's variance ``v_0`` (the exact covariance of independent arms). The complementary log-log
and probit links and ordered categorical outcomes have no such standard approximation here and
are refused.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..base.errors import ModelSpecError
from .network import Network
from .transforms import network_records, rebuild_network

__all__ = ["outcome_contrasts", "INCREMENT"]

#: Continuity correction of a study with a zero (or full) cell (netmeta's default ``incr``).
INCREMENT = 0.5


def _arm_estimates(likelihood: str, link: str, events, trials) -> tuple[np.ndarray, np.ndarray]:
    """Each arm's estimate on the linear-predictor scale and its variance (module docstring)."""
    r, n = np.asarray(events, dtype=float), np.asarray(trials, dtype=float)
    if likelihood == "normal":  # arm means with their standard errors
        return r, n**2
    if likelihood == "poisson":
        if (r == 0).any():
            r = r + INCREMENT
        return np.log(r / n), 1.0 / r
    if ((r == 0) | (r == n)).any():  # binomial, logit or log
        r, n = r + INCREMENT, n + 2 * INCREMENT
    if link == "log":  # log risk, variance 1/r - 1/n (as netmeta's RR)
        return np.log(r / n), 1.0 / r - 1.0 / n
    return np.log(r / (n - r)), 1.0 / r + 1.0 / (n - r)


def outcome_contrasts(network: Network, function: str) -> Network:
    """Return ``network`` with its arm-level outcome studies as approximate contrasts.

    Contrast studies are kept as they are; a network without outcome studies is returned
    unchanged. ``function`` names the caller in messages.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) Outcome studies with the cloglog or probit link, or ordered
        categorical outcomes.
    """
    if not np.asarray(network.outcome).any():
        return network
    if network.link in ("cloglog", "probit") or network.likelihood == "ordered":
        what = ("ordered categorical outcomes" if network.likelihood == "ordered"
                else f"arm-level binomial outcomes with the {network.link} link")  # fmt: skip
        raise ModelSpecError(
            f"{function} needs study contrasts; {what} have no standard normal approximation "
            "here. Compute the studies' relative effects with their SEs and pass those as "
            "contrasts.",
            rule="bad-option",
        )
    out = []
    for st in network_records(network):
        if st.events is None:
            out.append(st)
            continue
        est, var = _arm_estimates(network.likelihood, network.link, st.events, st.trials)
        k = len(st.arms)
        two_arm = k == 1  # no shared variance: all of it in the contrast's own
        out.append(replace(
            st, form="two-arm" if two_arm else "base", y=est[1:] - est[0],
            var=var[1:] + var[0] if two_arm else var[1:], cov=0.0 if two_arm else float(var[0]),
            events=None, trials=None, offset=None,
        ))  # fmt: skip
    rebuilt = rebuild_network(network, out, network.treatments, network.reference,
                              network.reference_rule)  # fmt: skip
    return replace(rebuilt, likelihood="normal", link="identity")

