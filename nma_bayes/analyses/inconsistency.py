"""Node-splitting analysis (Dias et al. 2010) over the networks of :mod:`nma_bayes.data.transforms`.

Each split is a *transformed network* (:func:`nma_bayes.data.transforms.nodesplit_network`)
fitted by the ordinary consistency machinery (NUTS, the exact or the Laplace engine), so it
inherits the exact multi-arm covariance; the direct effect is the pseudo-treatment's, the indirect
one comes from the rest of the network in the same fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..base.validate import check_ci_prob
from ..data.formats import network_from_options
from ..data.network import Network
from ..data.transforms import nodesplit_network, splittable_comparisons
from ..fitting.fit import check_engine, check_fit_options, fit_network
from ..results.convergence import effective_draws
from ..results.summaries import interval_row
from .batch import check_client, engines_label, run_tasks

__all__ = ["nodesplit", "prepare_network", "split_networks", "splittable_comparisons"]


def prepare_network(data, engine, fit_kwargs: dict, function: str, *, own) -> tuple[Network, str]:
    """Build the network once and check every option before the fits of an analysis.

    Column names and data options (and ``reference``) are taken out of ``fit_kwargs`` (in
    place) to build the network; the rest are checked as options of every fit. ``engine=None``
    becomes the exact engine for contrast (normal-likelihood) data and ``"auto"`` when the
    network has arm-level outcome studies: each fit runs the Laplace engine where it covers the
    model, and NUTS where it does not or where its importance weights refuse
    (:func:`~nma_bayes.fitting.fit.resolve_engine`). ``consistency=`` is refused: the analysis
    chooses its models.
    """
    net = network_from_options(data, fit_kwargs)
    if engine is None:  # the exact engine covers normal likelihoods only
        engine = "auto" if np.asarray(net.outcome).any() else "exact"
    check_fit_options(fit_kwargs | {"engine": engine}, function, own=own)
    if "consistency" in fit_kwargs:
        raise ModelSpecError(
            f"{function}() fits its own models: leave out consistency= (got "
            f"{fit_kwargs['consistency']!r}).",
            rule="bad-option",
        )
    check_engine(net, engine)
    return net, engine


def split_networks(net: Network, comparisons=None) -> list[tuple[str, str, Network, str]]:
    """Build the network of every split of :func:`nodesplit`, refusing what cannot be split.

    Called before any fit, so that node-splitting a network it does not support fails at once.

    Parameters
    ----------
    net : Network
        The network.
    comparisons : sequence of (str, str), optional
        Pairs ``(a, b)`` to split; default :func:`splittable_comparisons`.

    Returns
    -------
    list of tuple
        ``(a, b, split network, pseudo-treatment)`` per pair, in order.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) No comparison to split, a pair that is not two treatment names or
        that no study compares directly, or a network node-splitting does not support (study
        covariates). ``UnknownTreatmentError`` for an unknown treatment.
    """
    if comparisons is None:
        pairs = splittable_comparisons(net)
    elif isinstance(comparisons, Sequence) and not isinstance(comparisons, str):
        pairs = list(comparisons)
    else:
        pairs = [comparisons]  # refused below
    bad = [p for p in pairs if isinstance(p, str) or not isinstance(p, Sequence) or len(p) != 2]
    if bad:
        raise ModelSpecError(
            f"comparisons= must be a list of pairs of treatment names, e.g. [('A', 'B')], got "
            f"{bad[0]!r} in it.",
            rule="bad-option",
        )
    if not pairs and comparisons is not None:
        raise ModelSpecError(
            "comparisons= is empty: give pairs such as [('A', 'B')], or leave it out to split "
            "every comparison with direct and indirect evidence.",
            rule="bad-option",
        )
    if not pairs:
        raise ModelSpecError(
            "No comparison has both direct and indirect evidence (the network has no closed "
            "loop): there is nothing to split.",
            rule="bad-option",
        )
    return [(a, b, *nodesplit_network(net, a, b)) for a, b in pairs]


def nodesplit(
    data,
    comparisons=None,
    *,
    engine: str | None = None,
    ci_prob: float = 0.95,
    client=None,
    **fit_kwargs,
) -> pd.DataFrame:
    """Node-splitting analysis (Dias et al. 2010) of every splittable comparison, or those given.

    Parameters
    ----------
    data : DataFrame or Network
        The data (as for :func:`nma_bayes.fit_network`).
    comparisons : sequence of (str, str), optional
        Pairs ``(a, b)`` to split (effect of ``b`` vs ``a``); default
        :func:`splittable_comparisons`.
    engine : {"exact", "pymc", "laplace", "auto"}, optional
        Engine of each fit (as :func:`nma_bayes.fit_network`'s ``engine``). Default: the exact
        engine for contrast (normal-likelihood) data, where dozens of splits take seconds;
        ``"auto"`` when the network has arm-level outcome studies (binomial, Poisson, normal
        arms), whose posterior the exact engine does not cover: the Laplace engine where it
        covers the model (every study arm-level, no classes), NUTS where it does not or where
        its importance weights refuse a fit. ``engine="pymc"`` fits every model with NUTS.
    ci_prob : float
        Interval probability.
    client : distributed.Client, optional
        Fit the consistency model and the splits as tasks on a Dask cluster (same seeds, same
        table). Needs ``pip install "nma_bayes[dask]"``.
    **fit_kwargs
        Passed to :func:`nma_bayes.fit_network` (priors, effects, seed, column names, ...).

    Returns
    -------
    DataFrame
        One row per split: ``treatment, comparator`` (effect of ``treatment`` vs
        ``comparator``), ``direct, direct_lower, direct_upper, indirect, indirect_lower,
        indirect_upper, network, network_lower, network_upper`` (posterior medians and
        intervals), ``difference`` (median of direct - indirect), its interval, ``p_value``
        (Bayesian two-sided: ``2 min(P(diff > 0), P(diff < 0))``), and the split's smallest
        bulk ``ess_bulk`` and largest ``r_hat`` over its direct, indirect and difference draws.
        ``table.attrs["engine"]``: the engine that ran the fits (:func:`.batch.engines_label`;
        e.g. ``"laplace"``, or ``"laplace+pymc"`` when NUTS refitted what the Laplace engine
        refused).

    Raises
    ------
    ModelSpecError
        Before any fit: a bad option, no comparison to split, or a network node-splitting does
        not support (study covariates; :func:`split_networks`).

    Notes
    -----
    Multi-arm studies follow multinma's convention (``nma(consistency = "nodesplit")``): for a
    split of ``b`` vs ``a`` (``a`` first in the network's treatment order) every arm is kept, and
    in each study with both ``a`` and ``b`` the ``b`` arm gets its own effect, the direct one
    (:func:`nma_bayes.data.transforms.nodesplit_network`). ``difference`` is multinma's
    inconsistency factor ``omega``. The splittable comparisons are those with direct evidence
    that keep indirect evidence once the studies comparing them are removed (van Valkenhoef et
    al. 2016; gemtc and multinma use the same rule), whatever the likelihood.
    """
    ci_prob = check_ci_prob(ci_prob)
    net, engine = prepare_network(data, engine, fit_kwargs, "nodesplit",
                                  own=("comparisons", "ci_prob", "client"))  # fmt: skip
    splits = split_networks(net, comparisons)  # every split built before the first fit
    check_client(client)
    payloads = {None: (net, None, engine, fit_kwargs)}
    payloads |= {i: (split, (a, b, pseudo), engine, fit_kwargs)
                 for i, (a, b, split, pseudo) in enumerate(splits)}  # fmt: skip
    results = run_tasks(_split_draws, payloads, client=client, progress=False)
    dn = results[None][0]
    rows = []
    for i, (a, b, _, _) in enumerate(splits):
        direct, indirect = results[i][0]
        parts = {"direct": direct, "indirect": indirect,
                 "network": dn.sel(treatment=b) - dn.sel(treatment=a),
                 "difference": direct - indirect}  # fmt: skip
        row = interval_row(parts, ci_prob, test="difference", ess_cap=results[i][2],
                           converge=("direct", "indirect", "difference"))  # fmt: skip
        rows.append({"treatment": b, "comparator": a} | row)
    table = pd.DataFrame(rows)
    table.attrs["engine"] = engines_label(r[1] for r in results.values())
    return table


def _split_draws(payload):
    """Run one fit of :func:`nodesplit` (a batch task): its draws, engine and effective size.

    The effective size is :func:`~nma_bayes.results.convergence.effective_draws` (infinite
    where ArviZ's ESS holds).

    ``pair`` None: the consistency model's ``d``; else ``(a, b, pseudo)`` and ``net`` the split
    network of ``(a, b)`` (:func:`split_networks`): the direct and indirect draws of ``b`` vs
    ``a`` (``chain`` x ``draw``).
    """
    net, pair, engine, fit_kwargs = payload
    fit = fit_network(net, engine=engine, **fit_kwargs)
    d, cap = fit.d_full(), effective_draws(fit.idata["posterior"].attrs)
    if pair is None:
        return d, fit.engine, cap
    a, b, pseudo = pair
    parts = d.sel(treatment=pseudo) - d.sel(treatment=a), d.sel(treatment=b) - d.sel(treatment=a)
    return parts, fit.engine, cap
