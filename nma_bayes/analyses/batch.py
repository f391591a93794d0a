"""Many fits at once, in this process or on a Dask cluster: :func:`fit_many` and its machinery.

Every item of a batch is one task: :func:`run_tasks` runs a module-level function on each
payload, in order in this process without a client, or as one ``client.submit`` per item (explicit
unique keys, ``retries=``) on a ``distributed.Client``, gathering results as they complete; a
worker lost mid-task has its tasks rerun elsewhere by the scheduler. Results come back in input
order either way. Each worker process keeps its compiled NUTS models warm between tasks (the
in-process cache of :mod:`nma_bayes.engines.nuts`); the on-disk cache of compiled wrappers is
shared by the worker processes of one machine.

Seeds derive from ``random_seed`` and the item's key (:func:`item_seed`), never from the order of
execution, so a batch gives identical results serially and on any number of workers, and one item
refitted alone with its seed reproduces its batch result.
"""

from __future__ import annotations

import hashlib
import sys
import traceback
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..base.html import in_jupyter_kernel
from ..data.formats import network_from_options
from ..data.network import Network
from ..fitting.fit import check_fit_options, fit_network

__all__ = [
    "fit_many",
    "BatchError",
    "item_seed",
    "check_client",
    "run_tasks",
    "engines_label",
    "SUMMARIES",
]

#: Tables ``fit_many(summarize=...)`` computes on the workers (aliases: ``"heterogeneity"``).
SUMMARIES = ("relative_effects", "sucra", "tau", "diagnostics")
_ALIASES = {"heterogeneity": "tau"}
#: Times the scheduler reruns a task that raised in the machinery (not in a fit: those are
#: caught as :class:`BatchError`); a task lost with its worker is rerun regardless.
RETRIES = 2


@dataclass(frozen=True)
class BatchError:
    """The record of one batch item that failed (validation, sampling or summary).

    Attributes
    ----------
    key : object
        The item's key.
    seed : int
        The seed the item was given.
    error_type : str
        Name of the exception's class (e.g. ``"MissingColumnError"``).
    message : str
        The exception's message.
    traceback : str
        The formatted traceback, from the process that ran the item.
    """

    key: object
    seed: int
    error_type: str
    message: str
    traceback: str = ""

    def __repr__(self) -> str:
        return f"BatchError(key={self.key!r}, {self.error_type}: {self.message})"


def item_seed(random_seed: int, key) -> int:
    """Seed of the batch item ``key``: from ``random_seed`` and a stable hash of ``repr(key)``.

    Parameters
    ----------
    random_seed : int
        The batch's seed.
    key : object
        The item's key (its ``repr`` must be stable across processes: str, int, tuples of them).

    Returns
    -------
    int
        A seed in ``[0, 2**31)``, the same in every process and on every machine.
    """
    digest = hashlib.sha256(repr(key).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return int(np.random.SeedSequence([int(random_seed), *words]).generate_state(1)[0] >> 1)


def engines_label(engines) -> str:
    """Name the engines that ran an analysis's fits: one name, or several joined by ``+``.

    Parameters
    ----------
    engines : iterable of str
        The ``fit.engine`` of every fit.

    Returns
    -------
    str
        The distinct engines in order of first use, e.g. ``"laplace"``, or ``"laplace+pymc"``
        when ``engine="auto"`` fell back to NUTS for some fits.
    """
    return "+".join(dict.fromkeys(engines))


def check_client(client):
    """Return ``client`` if it is None or a ``distributed.Client``; refuse anything else.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) if dask is not installed or ``client`` is not a Client.
    """
    if client is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ModelSpecError(
            'client= needs Dask: pip install "nma_bayes[dask]" (dask[distributed]), or pass '
            "client=None to fit in this process.",
            rule="bad-option",
        ) from None
    if not isinstance(client, Client):
        raise ModelSpecError(
            f"client= must be a distributed.Client (e.g. Client() or "
            f"Client('tcp://scheduler:8786')) or None, got {type(client).__name__}.",
            rule="bad-option",
        )
    return client


# ------------------------------------------------------------------------------ the runner
def _call(func, payload, relay: bool):
    """Run one task; with ``relay``, return its package warnings for the caller to re-emit."""
    if not relay:
        return func(payload), []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(payload)
    ours = [(w.category, str(w.message)) for w in caught
            if getattr(w.category, "__module__", "").startswith("nma_bayes")]  # fmt: skip
    return result, ours


class _TextBar:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, on: bool):
        self.total, self.done, self.on = total, 0, on and total > 0
        self._draw()

    def step(self):
        self.done += 1
        self._draw()
        if self.on and self.done == self.total:
            sys.stderr.write("\n")

    def _draw(self):
        if self.on:
            full = round(30 * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * full}{'.' * (30 - full)}] {self.done}/{self.total}")
            sys.stderr.flush()


def _progress_on(progress) -> bool:
    if progress is None:
        return sys.stderr.isatty() or in_jupyter_kernel()
    return VA.check_bool(progress, "progress")


def run_tasks(func, payloads: dict, *, client=None, progress=False, relay=None, prefix=None):
    """Run ``func(payload)`` for each item of ``payloads`` and return ``{key: result}`` in order.

    Parameters
    ----------
    func : callable
        A module-level (picklable) function of one payload.
    payloads : dict
        ``{key: payload}``.
    client : distributed.Client, optional
        None: one after another in this process. Else one task per item on the cluster.
    progress : bool or None
        Progress bar over items (None: on in a terminal or a notebook).
    relay : bool, optional
        Record the package's warnings in each task and re-emit them here (default: with a
        client, so that workers' warnings are not lost in their logs).
    prefix : callable, optional
        ``prefix(key)``: text put before each relayed warning.

    Returns
    -------
    dict
        ``{key: result}`` in the order of ``payloads``. An exception raised by ``func`` is
        raised here (with a client, once the scheduler's retries are spent).
    """
    client = check_client(client)
    relay = client is not None if relay is None else relay
    keys = list(payloads)
    on = _progress_on(progress)
    out = {}
    if client is None:
        bar = _TextBar(len(keys), on)
        for key in keys:
            out[key] = _call(func, payloads[key], relay)
            bar.step()
    else:
        out = _run_on_cluster(client, func, payloads, relay, on)
    results = {}
    for key in keys:
        result, caught = out[key]
        for category, message in caught:
            text = message if prefix is None else f"{prefix(key)}{message}"
            warnings.warn(text, category, stacklevel=3)
        results[key] = result
    return results


def _run_on_cluster(client, func, payloads: dict, relay: bool, on: bool) -> dict:
    from distributed import as_completed

    token = uuid.uuid4().hex[:12]
    name = getattr(func, "__name__", "task").strip("_")
    futures = {
        client.submit(_call, func, payload, relay, key=f"nma-{name}-{token}-{i}", retries=RETRIES,
                      pure=False): key
        for i, (key, payload) in enumerate(payloads.items())
    }  # fmt: skip
    jupyter = on and in_jupyter_kernel()
    if jupyter:
        from distributed import progress as dask_progress

        dask_progress(list(futures), notebook=True)
    bar = _TextBar(len(futures), on and not jupyter)
    out = {}
    try:
        for future in as_completed(list(futures)):
            out[futures[future]] = future.result()
            bar.step()
    finally:
        for future in futures:
            future.release()
    return out


# ------------------------------------------------------------------------------- fit_many
def _items(networks) -> dict:
    if isinstance(networks, Mapping):
        return dict(networks)
    if isinstance(networks, Sequence) and not isinstance(networks, str | bytes):
        return dict(enumerate(networks))
    raise ModelSpecError(
        f"networks must be a mapping {{key: DataFrame or Network}} or a sequence of them, got "
        f"{type(networks).__name__}.",
        rule="bad-option",
    )


def _check_summarize(summarize, lower_is_better):
    if summarize is None:
        return None
    names = [summarize] if isinstance(summarize, str) else summarize
    if (
        not isinstance(names, list | tuple)
        or not names
        or not all(isinstance(n, str) and (n in SUMMARIES or n in _ALIASES) for n in names)
    ):
        raise ModelSpecError(
            f"summarize={summarize!r}: use None (return the fits), one name or a list of names "
            f"of {', '.join(SUMMARIES)} (or 'heterogeneity' for 'tau'), e.g. "
            "summarize=['relative_effects', 'tau'].",
            rule="bad-option",
        )
    names = list(dict.fromkeys(_ALIASES.get(n, n) for n in names))
    if "sucra" in names and lower_is_better is None:
        raise ModelSpecError(
            "summarize='sucra' needs the benefit direction: pass lower_is_better=True or False.",
            rule="bad-option",
        )
    return names


def _summaries(fit, names, lower_is_better) -> dict:
    tables = {}
    for name in names:
        if name == "relative_effects":
            tables[name] = fit.relative_effects()
        elif name == "sucra":
            tables[name] = fit.sucra(lower_is_better=lower_is_better)
        elif name == "tau":
            tables[name] = fit.heterogeneity().rename_axis("parameter").reset_index()
        else:  # already has its parameter column; the fit's divergences become a column
            table = fit.diagnostics()
            table = table.assign(divergences=int(table.attrs.get("divergences", 0)))
            table.attrs = {}
            tables[name] = table
    return tables


def _directed(data, lower_is_better) -> tuple:
    """Return the item and the keywords that record the batch's benefit direction on its fit."""
    if lower_is_better is None:
        return data, {}
    if isinstance(data, Network):  # built already: the explicit direction wins (one rule)
        return replace(data, lower_is_better=lower_is_better), {}
    return data, {"lower_is_better": lower_is_better}


def _fit_item(payload):
    """One batch item: fit (and summarise); a failure becomes a :class:`BatchError`."""
    key, data, seed, fit_kwargs, names, lower_is_better = payload
    try:
        data, direction = _directed(data, lower_is_better)
        data, fit_kwargs = _default_engine(data, fit_kwargs | direction)
        fit = fit_network(data, random_seed=seed, **fit_kwargs)
        return fit if names is None else _summaries(fit, names, lower_is_better)
    except Exception as exc:  # per-item failure: recorded, the batch goes on
        tb = traceback.format_exc()
        return BatchError(key, seed, type(exc).__name__, str(exc), tb)


def _default_engine(data, fit_kwargs: dict) -> tuple:
    """Return the item and its keywords, with ``engine`` set when the batch gives none.

    An item with arm-level outcome studies gets ``"auto"`` (the Laplace engine where it covers
    the model, else NUTS), the others :func:`~nma_bayes.fit_network`'s default (``"pymc"``).
    The network is built here (with the item's column names, data options and ``reference``),
    as ``fit_network`` would build it.
    """
    if "engine" in fit_kwargs:
        return data, fit_kwargs
    kwargs = dict(fit_kwargs)
    net = network_from_options(data, kwargs)
    return net, kwargs | {"engine": "auto" if np.asarray(net.outcome).any() else "pymc"}


def fit_many(networks, *, client=None, summarize=None, random_seed=None, progress=None,
             **fit_kwargs):  # fmt: skip
    """Fit many networks, in this process or on a Dask cluster, with per-item seeds and errors.

    Parameters
    ----------
    networks : mapping or sequence
        ``{key: DataFrame or Network}``, or a sequence of them (keys ``0..n-1``). Keys should
        have a stable ``repr`` (str, int, tuples of them): it seeds the item.
    client : distributed.Client, optional
        None (default): the items are fitted one after another in this process. A
        ``distributed.Client``: one task per item on its cluster, gathered as they complete; a
        task whose worker dies is rerun on another one. Needs ``pip install "nma_bayes[dask]"``.
    summarize : str or list of str, optional
        None (default): return the fits. Else compute tables on the workers and return them
        instead of the posteriors: ``"relative_effects"``, ``"sucra"`` (needs
        ``lower_is_better``), ``"tau"`` (alias ``"heterogeneity"``), ``"diagnostics"``.
    random_seed : int, optional
        Seed of the batch; item ``key`` is fitted with :func:`item_seed(random_seed, key)
        <item_seed>`, whatever the order or the number of workers. None: drawn once.
    progress : bool, optional
        Progress bar over the items (``distributed.progress`` in a notebook with a client, a text
        bar on stderr otherwise). None (default): on in a terminal or a notebook.
    **fit_kwargs
        Passed to every :func:`~nma_bayes.fit_network` call (``engine``, priors, ``reference``,
        ...; ``progressbar`` defaults to False), validated once before any item is fitted
        (:func:`check_fit_options`). Without ``engine``, an item with arm-level outcome studies
        is fitted with ``engine="auto"`` (the Laplace engine where it covers the model, NUTS
        where it does not or where its importance weights refuse; ``fit.engine`` says which
        ran) and the others with NUTS (``"pymc"``, ``fit_network``'s default). A bad option
        raises, where a problem of one item's data gives that item's :class:`BatchError`.
        ``lower_is_better`` is recorded on every fit (on a :class:`~nma_bayes.Network` item it
        replaces the network's own direction) and used by ``summarize="sucra"``.

    Returns
    -------
    dict or DataFrame
        ``summarize=None``: ``{key: NetworkFit or BatchError}`` in input order (``fit.seed`` is
        the item's seed). One summary: a DataFrame with ``key`` and ``seed`` columns first, the
        failed items listed in ``table.attrs["errors"]`` (a list of :class:`BatchError`). A list
        of summaries: ``{name: DataFrame}``, each with the same ``attrs["errors"]``.

    Raises
    ------
    ModelSpecError
        Before any item is fitted: a bad ``networks``, ``summarize``, ``client``,
        ``random_seed`` or ``progress``, or a bad option in ``fit_kwargs`` (rules
        ``bad-option``, ``unknown-option``).
    """
    items = _items(networks)
    if "random_seed" in fit_kwargs:
        raise ModelSpecError("fit_many takes random_seed= as its own argument.", rule="bad-option")
    names = _check_summarize(summarize, fit_kwargs.get("lower_is_better"))
    check_fit_options(fit_kwargs, "fit_many", own=("client", "summarize", "progress"))
    lower_is_better = fit_kwargs.pop("lower_is_better", None)
    check_client(client)
    seed = VA.check_seed(random_seed)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    fit_kwargs = {"progressbar": False} | fit_kwargs
    payloads = {
        key: (key, data, item_seed(seed, key), fit_kwargs, names, lower_is_better)
        for key, data in items.items()
    }
    results = run_tasks(_fit_item, payloads, client=client, progress=progress, relay=True,
                        prefix=lambda key: f"[item {key!r}] ")  # fmt: skip
    if names is None:
        return results
    return _tidy(results, names, isinstance(summarize, str), seed)


def _tidy(results: dict, names, single: bool, seed: int):
    """Long tables (``key``, ``seed`` first) of the items' summaries; errors in ``attrs``."""
    errors = [r for r in results.values() if isinstance(r, BatchError)]
    tables = {}
    for name in names:
        frames = []
        for key, r in results.items():
            if isinstance(r, BatchError):
                continue
            t = r[name].copy()
            t.insert(0, "seed", item_seed(seed, key))
            t.insert(0, "key", [key] * len(t))
            frames.append(t)
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["key", "seed"])  # fmt: skip
        table.attrs.update({"errors": errors, "random_seed": seed})
        tables[name] = table
    return tables[names[0]] if single else tables
