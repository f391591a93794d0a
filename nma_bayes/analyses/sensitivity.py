"""Sensitivity of the NMA results to the prior of the between-study SD ``tau``.

:func:`prior_sensitivity` refits one network under several ``tau`` priors (by default with the
exact engine for contrast data, a fraction of a second each, and the Laplace engine for arm-level
outcomes: ``engine="auto"``) and tabulates, per prior, the posterior of ``tau``, every relative
effect against the reference and the SUCRA ranking, as one tidy long table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.errors import ModelSpecError
from ..fitting.fit import fit_network
from ..models.priors import TAU_FAMILIES, Prior
from .batch import check_client, engines_label, run_tasks

__all__ = ["prior_sensitivity", "SENSITIVITY_COLUMNS"]

#: Columns of the table returned by :func:`prior_sensitivity`.
SENSITIVITY_COLUMNS = (
    "prior",
    "prior_description",
    "quantity",
    "treatment",
    "comparator",
    "estimate",
    "ci_lower",
    "ci_upper",
    "rank",
)


def _check_priors(priors) -> dict[str, Prior]:
    if not isinstance(priors, dict) or not priors:
        raise ModelSpecError(
            "priors must be a non-empty dict {name: prior}, e.g. "
            "{'half-normal(0.5)': nb.HalfNormal(0.5), 'uniform(0, 5)': nb.Uniform(0, 5)}.",
            rule="bad-option",
        )
    names = ", ".join(c.__name__ for c in TAU_FAMILIES)
    for name, prior in priors.items():
        if not isinstance(name, str):
            raise ModelSpecError(f"Prior names must be strings, got {name!r}.", rule="bad-option")
        if not isinstance(prior, TAU_FAMILIES):
            raise ModelSpecError(
                f"Prior {name!r} is {type(prior).__name__}; tau priors must be one of {names}.",
                rule="bad-option",
            )
    return dict(priors)


def prior_sensitivity(
    data,
    priors: dict[str, Prior],
    *,
    reference: str | None = None,
    lower_is_better: bool,
    engine: str | None = None,
    ci_prob: float = 0.95,
    client=None,
    **fit_kwargs,
) -> pd.DataFrame:
    """Refit a random-effects NMA under each ``tau`` prior and tabulate the results side by side.

    Parameters
    ----------
    data : DataFrame or Network
        As for :func:`~nma_bayes.fit_network`.
    priors : dict of str to Prior
        ``{name: prior}``: the ``tau`` priors to compare (any of
        :data:`nma_bayes.models.priors.TAU_FAMILIES`, e.g. results of
        :func:`nma_bayes.models.empirical_priors.rhodes2015`). The names label the rows of the
        table, in the dict's order.
    reference : str, optional
        Reference treatment of the model and comparator of the relative effects.
    lower_is_better : bool
        Benefit direction for the SUCRA ranking; required.
    engine : {None, "exact", "pymc", "laplace", "auto"}
        Inference engine (as :func:`~nma_bayes.fit_network`'s ``engine``). ``None`` (default):
        ``"auto"`` (:func:`~nma_bayes.fitting.fit.resolve_engine`): the exact engine for
        contrast data (fast and free of Monte Carlo error for ``tau`` and the relative
        effects), the Laplace engine for arm-level outcome networks it covers (NUTS where its
        importance weights refuse a fit), NUTS for class models and other models neither
        covers.
    ci_prob : float
        Probability of the equal-tailed credible intervals.
    client : distributed.Client, optional
        Fit the priors as tasks on a Dask cluster (the same seed, so the same table as without
        one). Needs ``pip install "nma_bayes[dask]"``.
    **fit_kwargs
        Further arguments of :func:`~nma_bayes.fit_network` (``prior_d``, ``draws``, column
        names, ...). ``random_seed``, if omitted, is drawn once and shared by every fit (so
        differences between priors are not Monte Carlo noise of different seeds); it is stored
        in ``table.attrs["random_seed"]``. ``prior_tau`` and ``effects`` cannot be given (the
        model is random effects; the priors come from ``priors``).

    Returns
    -------
    DataFrame
        One row per prior and quantity, columns :data:`SENSITIVITY_COLUMNS`:

        * ``prior``: the name given in ``priors``; ``prior_description``: the prior in words;
        * ``quantity``: ``"tau"`` (between-study SD), ``"relative_effect"`` (``treatment`` vs
          ``comparator``, the reference; every other treatment in network order) or ``"sucra"``
          (every treatment, best first);
        * ``estimate``: posterior median for ``tau`` and the relative effects, the SUCRA value
          for ``"sucra"`` rows;
        * ``ci_lower``, ``ci_upper``: the ``ci_prob`` credible interval (for ``"sucra"`` rows,
          of the per-draw scaled rank, as in :meth:`NetworkFit.sucra`);
        * ``rank``: position in the SUCRA ranking (1 = highest SUCRA) on ``"sucra"`` rows,
          missing elsewhere.

        ``treatment`` and ``comparator`` are missing on ``"tau"`` rows, ``comparator`` on
        ``"sucra"`` rows. ``table.attrs`` holds ``random_seed``, ``reference`` and ``engine``
        (the engine that ran the fits, e.g. ``"exact"``; :func:`.batch.engines_label`).

    Raises
    ------
    ModelSpecError
        If ``priors`` is empty or holds a prior not allowed for ``tau``, or ``fit_kwargs`` sets
        ``prior_tau`` or ``effects``.

    Examples
    --------
    >>> import nma_bayes as nb
    >>> from nma_bayes.analyses.sensitivity import prior_sensitivity
    >>> df = nb.datasets.load_dataset("therapy_formats")
    >>> table = prior_sensitivity(
    ...     df,
    ...     {"HN(1)": nb.HalfNormal(1.0), "U(0, 5)": nb.Uniform(0, 5)},
    ...     reference="cau",
    ...     lower_is_better=True,
    ...     random_seed=1,
    ... )
    >>> table.query("quantity == 'tau'")  # doctest: +SKIP
    """
    priors = _check_priors(priors)
    _check_fit_kwargs(fit_kwargs)
    seed = fit_kwargs.pop("random_seed", None)
    if seed is None:  # one seed for every fit: differences are then not Monte Carlo noise
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    check_client(client)
    engine = "auto" if engine is None else engine
    common = {"reference": reference, "engine": engine, "random_seed": seed, **fit_kwargs}
    payloads = {
        name: (data, {**common, "prior_tau": prior}, name, lower_is_better, ci_prob)
        for name, prior in priors.items()
    }
    results = run_tasks(_prior_fit, payloads, client=client, progress=False)
    rows = [row for _, fit_rows, _ in results.values() for row in fit_rows]
    ref = list(results.values())[-1][0]
    table = pd.DataFrame(rows).reindex(columns=list(SENSITIVITY_COLUMNS))
    table["rank"] = table["rank"].astype("Int64")
    ran = engines_label(r[2] for r in results.values())
    table.attrs.update({"random_seed": seed, "reference": ref, "engine": ran})
    return table


def _prior_fit(payload) -> tuple[str, list[dict], str]:
    """Fit under one prior: the reference, the rows and the engine (a batch task)."""
    data, kwargs, name, lower_is_better, ci_prob = payload
    fit = fit_network(data, **kwargs)
    base = {"prior": name, "prior_description": kwargs["prior_tau"].describe()}
    rows = _fit_rows(fit, base, lower_is_better=lower_is_better, ci_prob=ci_prob)
    return fit.reference, rows, fit.engine


def _check_fit_kwargs(fit_kwargs: dict) -> None:
    """Refuse the options that :func:`prior_sensitivity` sets itself."""
    for key in ("prior_tau", "effects"):
        if key in fit_kwargs:
            raise ModelSpecError(
                f"prior_sensitivity refits a random-effects model under each prior in "
                f"`priors`; {key}= cannot be given.",
                rule="bad-option",
            )


def _fit_rows(fit, base: dict, *, lower_is_better: bool, ci_prob: float) -> list[dict]:
    """Rows of one fit: ``tau``, then the relative effects, then the SUCRA ranking."""
    tau = fit.heterogeneity(ci_prob=ci_prob).loc["tau"]
    rows = [
        {
            **base,
            "quantity": "tau",
            "estimate": float(tau["median"]),
            "ci_lower": float(tau["ci_lower"]),
            "ci_upper": float(tau["ci_upper"]),
        }
    ]
    for r in fit.relative_effects(ci_prob=ci_prob).itertuples(index=False):
        rows.append(
            {
                **base,
                "quantity": "relative_effect",
                "treatment": r.treatment,
                "comparator": r.comparator,
                "estimate": float(r.median),
                "ci_lower": float(r.ci_lower),
                "ci_upper": float(r.ci_upper),
            }
        )
    sucra = fit.sucra(lower_is_better=lower_is_better, ci_prob=ci_prob)
    sucra = sucra.sort_values("sucra", ascending=False, kind="stable")  # best first
    for rank, r in enumerate(sucra.itertuples(index=False), start=1):
        rows.append(
            {
                **base,
                "quantity": "sucra",
                "treatment": r.treatment,
                "estimate": float(r.sucra),
                "ci_lower": float(r.ci_lower),
                "ci_upper": float(r.ci_upper),
                "rank": rank,
            }
        )
    return rows
