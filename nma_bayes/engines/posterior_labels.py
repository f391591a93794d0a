"""Names on the sampler's output: treatments on ``d``, outcome studies and arms, padding dropped.

A compiled model is reused across networks of one structure (:mod:`nma_bayes.engines.nuts`), so
the sampler's coordinates are those of the model it was compiled from; they are replaced here by
the fitted network's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

from ..models.arm_likelihood import OutcomeData

if TYPE_CHECKING:  # pragma: no cover
    from ..data.network import Network

__all__ = ["relabel", "outcome_labels", "REGRESSION_VARS"]


def relabel(tree, network: Network):
    """Give ``d`` its treatment names (a reused compiled model carries the first fit's).

    Fits with arm-level outcome studies also keep the study baselines ``mu`` (over
    ``outcome_study``, named by the outcome studies) and, for random effects, the deviates
    ``e_arm`` of the non-base arms (over ``outcome_arm``, named ``"study: treatment"``):
    goodness of fit needs them. Ordered categorical fits keep their ``cutpoints`` (over
    ``cutpoint``, named by the network's cutpoints).
    """
    others = list(network.non_reference)
    post = tree["posterior"].to_dataset()
    extra = [d for d in post["d"].dims if d not in ("chain", "draw")]
    d = post["d"].isel({extra[0]: slice(0, len(others))})  # drop shape-bucket padding
    d = d.rename({extra[0]: "treatment"}).assign_coords(treatment=others)
    post = post.drop_vars(["d", extra[0]], errors="ignore").assign(d=d)
    keep = [v for v in ("d", "tau", "class_mean", "class_sd", *REGRESSION_VARS) if v in post]
    if "mu" in post:
        post = _outcome_coords(post, network)
        keep += [v for v in ("mu", "e_arm") if v in post]
    if "cutpoints" in post:  # ordered categories: named by this network's cutpoints
        cut = post["cutpoints"]
        old = [x for x in cut.dims if x not in ("chain", "draw")][0]
        cut = cut.rename({old: "cutpoint"}) if old != "cutpoint" else cut
        post = post.drop_vars(["cutpoints", old], errors="ignore")
        post = post.assign(cutpoints=cut.assign_coords(cutpoint=list(network.categories)))
        keep.append("cutpoints")
    tree["posterior"] = xr.DataTree(post[keep])
    return tree


#: Posterior variables of a meta-regression kept in the fit (``beta`` over treatment and term).
REGRESSION_VARS = ("beta", "beta_group", "beta_mean", "beta_sd")


def outcome_labels(network: Network, outcomes: OutcomeData | None = None):
    """Names of the outcome studies (``mu``) and of their non-base arms (``e_arm``)."""
    if outcomes is None:
        outcomes = OutcomeData.from_network(network)
    studies = [str(network.studies[i]) for i in outcomes.study_index]
    arms = []
    for j, i in enumerate(outcomes.study_index):  # non-base arms, study by study (deviates)
        k = int(network.n_arms[i])
        names = [f"{studies[j]}: {network.treatments[a]}" for a in network.arm[i][: k - 1]]
        # two arms of one treatment (kept apart) get their arm number: labels stay unique
        arms += [f"{x} (arm {m + 2})" if names.count(x) > 1 else x for m, x in enumerate(names)]
    return studies, arms


def _outcome_coords(post, network: Network):
    """Name the outcome studies of ``mu`` and the arms of ``e_arm``."""
    studies, arms = outcome_labels(network)
    labels = {"mu": ("outcome_study", studies), "e_arm": ("outcome_arm", arms)}
    for var, (dim, coord) in labels.items():
        if var in post:
            old = [x for x in post[var].dims if x not in ("chain", "draw")][0]
            da = post[var].rename({old: dim}) if old != dim else post[var]
            post = post.drop_vars([var, old], errors="ignore")
            post = post.assign({var: da.assign_coords({dim: coord})})
    return post
