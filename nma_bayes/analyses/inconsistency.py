"""Node-splitting analysis (Dias et al. 2010) over the networks of :mod:`nma_bayes.data.transforms`.

Each split is a *transformed network* (:func:`nma_bayes.data.transforms.nodesplit_network`)
fitted by the ordinary consistency machinery (PyMC or the exact engine), so it inherits the exact
multi-arm covariance; the direct effect is the pseudo-treatment's, the indirect one comes from the
rest of the network in the same fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..base.validate import check_ci_prob
from ..data.formats import as_network
from ..data.network import Network, data_options
from ..data.transforms import nodesplit_network, splittable_comparisons
from ..fitting.fit import check_fit_options, fit_network
from ..results.summaries import flat_draws
from .batch import check_client, run_tasks

__all__ = ["nodesplit", "split_networks", "splittable_comparisons"]


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
        covariates, arm-level outcome studies). ``UnknownTreatmentError`` for an unknown
        treatment.
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
    engine: str = "exact",
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
    engine : {"exact", "pymc"}
        Engine of each fit (default the exact engine: dozens of splits take seconds).
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
        intervals), ``difference`` (median of direct - indirect), its interval, and ``p_value``
        (Bayesian two-sided: ``2 min(P(diff > 0), P(diff < 0))``).

    Raises
    ------
    ModelSpecError
        Before any fit: a bad option, no comparison to split, or a network node-splitting does
        not support (study covariates, arm-level outcome studies; :func:`split_networks`).
    """
    ci_prob = check_ci_prob(ci_prob)
    reference = fit_kwargs.pop("reference", None)
    # column names and data options build the network once; the rest go to every fit
    columns = {k: fit_kwargs.pop(k) for k in list(fit_kwargs) if k in data_options()}
    check_fit_options(fit_kwargs | {"engine": engine}, "nodesplit",
                      own=("comparisons", "ci_prob", "client"))  # fmt: skip
    net = as_network(data, reference=reference, **columns)
    splits = split_networks(net, comparisons)  # every split built before the first fit
    check_client(client)
    payloads = {None: (net, None, engine, fit_kwargs)}
    payloads |= {i: (split, (a, b, pseudo), engine, fit_kwargs)
                 for i, (a, b, split, pseudo) in enumerate(splits)}  # fmt: skip
    draws = run_tasks(_split_draws, payloads, client=client, progress=False)
    dn = draws[None]
    alpha = (1 - ci_prob) / 2
    rows = []
    for i, (a, b, _, _) in enumerate(splits):
        direct, indirect = draws[i]
        network = flat_draws(dn.sel(treatment=b) - dn.sel(treatment=a))
        diff = direct - indirect
        row = {"treatment": b, "comparator": a}
        for name, x in (("direct", direct), ("indirect", indirect), ("network", network),
                        ("difference", diff)):  # fmt: skip
            lo, med, hi = np.quantile(x, [alpha, 0.5, 1 - alpha])
            row |= {name: med, f"{name}_lower": lo, f"{name}_upper": hi}
        row["p_value"] = 2 * min((diff > 0).mean(), (diff < 0).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _split_draws(payload):
    """One fit of :func:`nodesplit` (a batch task): consistency ``d``, or a split's draws.

    ``pair`` None: the consistency model's ``d``; else ``(a, b, pseudo)`` and ``net`` the split
    network of ``(a, b)`` (:func:`split_networks`): the direct and indirect draws of ``b`` vs
    ``a``.
    """
    net, pair, engine, fit_kwargs = payload
    if pair is None:
        return fit_network(net, engine=engine, **fit_kwargs).d_full()
    a, b, pseudo = pair
    d = fit_network(net, engine=engine, **fit_kwargs).d_full()
    direct = flat_draws(d.sel(treatment=pseudo) - d.sel(treatment=a))
    return direct, flat_draws(d.sel(treatment=b) - d.sel(treatment=a))
