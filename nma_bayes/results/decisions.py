"""Decision summaries: P(among the best k), P(a class holds a top-k treatment), P(better by > MCID).

Guideline panels ask how likely a treatment is to be among the best ``k`` (the cumulative ranking
probability ``P(rank <= k)`` of Salanti et al. 2011) and how likely it is to beat a comparator by
at least a minimal clinically important difference (MCID). Every probability here is the share of
posterior draws in which the event holds, and comes with its Monte Carlo standard error (MCSE):
for NUTS fits the MCSE of the mean of the 0/1 indicator draws (``arviz_stats.mcse``, which accounts
for autocorrelation and for the chains, Vehtari et al. 2021), for the exact engine's independent
draws the binomial ``sqrt(p (1 - p) / n)``. The benefit direction is always explicit
(:func:`nma_bayes.base.validate.resolve_direction`).

References
----------
Salanti G, Ades AE, Ioannidis JPA (2011). Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 64:163-171 (cumulative ranking
probabilities, SUCRA).
Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner P-C (2021). Rank-normalization, folding, and
localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16:667-718
(Monte Carlo standard error of a mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..base import validate as VA
from ..base.errors import ModelSpecError
from ..models.classes import class_order
from . import summaries
from .posterior import Posterior
from .tables import check_treatment

__all__ = [
    "DecisionMethods",
    "check_k",
    "check_threshold",
    "class_top_k_table",
    "decision_scale",
    "indicator_mcse",
    "prob_difference_table",
    "top_k_table",
]


def indicator_mcse(indicator: np.ndarray, *, independent: bool) -> np.ndarray:
    """Monte Carlo standard error of the share of draws in which an event holds.

    Parameters
    ----------
    indicator : ndarray (chain, draw, ...) of bool
        Whether the event holds in each draw.
    independent : bool
        The draws are independent (exact engine): the binomial ``sqrt(p (1 - p) / n)``. Else
        (MCMC) the MCSE of the mean of the indicator draws by ``arviz_stats.mcse`` (Vehtari et
        al. 2021), 0 where the indicator is constant.

    Returns
    -------
    ndarray
        One MCSE per event (the trailing dimensions of ``indicator``).
    """
    values = np.asarray(indicator, dtype=float)
    if independent:
        p = values.mean(axis=(0, 1))
        return np.sqrt(p * (1 - p) / (values.shape[0] * values.shape[1]))
    import arviz_stats as az  # lazy; arviz_stats alone, not arviz_plots and matplotlib

    dims = ("chain", "draw", *(f"event_{i}" for i in range(values.ndim - 2)))
    return np.asarray(az.mcse(xr.DataArray(values, dims=dims), method="mean"), dtype=float)


def check_k(k: object, n_max: int, what: str = "treatments") -> tuple[int, ...]:
    """Validate ``k`` of a top-k probability: an integer from 1 to ``n_max``, or a list of them.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``k`` (or an entry) is not an integer in ``1..n_max``, a list is
        empty or nested (``k=[[1, 2]]`` is refused, not flattened), or a value repeats.
    """
    many = isinstance(k, list | tuple | range) or (isinstance(k, np.ndarray) and k.ndim == 1)
    values = list(k) if many else [k]
    if not values or any(not VA.is_int(v) or not 1 <= v <= n_max for v in values):
        raise ModelSpecError(
            f"k must be an integer from 1 to {n_max} (the number of {what}), or a list of such "
            f"integers, got {k!r}. E.g. k=3 for the probability of being among the best three.",
            rule="bad-option",
        )
    if len(set(values)) != len(values):
        raise ModelSpecError(f"k lists a value more than once: {k!r}.", rule="bad-option")
    return tuple(int(v) for v in values)


def decision_scale(scale: object, measure: str | None) -> str | None:
    """Return the scale of a threshold: ``None`` (the effect scale of the fit) or a ratio's name.

    ``"ratio"`` names the ratio scale of a log-ratio measure (``"OR"`` for ``logOR``, and so on);
    the names of :func:`nma_bayes.base.validate.check_scale` are accepted too.

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If the scale is unknown, or a ratio scale is asked of effects that
        are not log ratios (continuous outcomes).
    """
    if isinstance(scale, str) and scale.strip().lower() == "ratio":
        ratio = VA.RATIO_SCALES.get(measure) if measure is not None else None
        if ratio is None:
            effects = f"are {measure}" if measure is not None else "record no effect measure"
            raise ModelSpecError(
                f"scale='ratio' does not apply: the effects {effects}, not log ratios (a "
                "continuous outcome has no ratio scale). Give the threshold on the effect scale "
                "and leave scale=None.",
                rule="bad-option",
            )
        return ratio[0]
    return VA.check_scale(scale, measure)


def check_threshold(
    threshold: object, ratio: str | None, measure: str | None, *, name: str = "threshold"
) -> float:
    """Return the threshold on the effect scale (``|log(threshold)|`` on a ratio scale).

    ``name`` is the argument's name in the message (``"mcid"`` for the report's).

    Raises
    ------
    ModelSpecError
        (rule ``bad-option``) If ``threshold`` is not a finite number ``>= 0`` (on a ratio scale:
        ``> 0``).
    """
    real = VA.is_real(threshold) and bool(np.isfinite(float(threshold)))
    if ratio is None:
        if not real or float(threshold) < 0:
            raise ModelSpecError(
                f"{name} must be a finite number >= 0 (the minimal clinically important "
                f"difference on the {measure or 'effect'} scale), got {threshold!r}. The "
                "direction of benefit comes from lower_is_better, not from the sign.",
                rule="bad-option",
            )
        return float(threshold)
    if not real or float(threshold) <= 0:
        raise ModelSpecError(
            f"{name} must be a finite ratio > 0 on the {ratio} scale (e.g. 0.8, a 20% "
            f"relative change; 0.8 and 1/0.8 mean the same margin), got {threshold!r}.",
            rule="bad-option",
        )
    return abs(float(np.log(float(threshold))))


def _draws(posterior: Posterior) -> np.ndarray:
    """Effects vs the model reference, ``(chain, draw, treatment)`` in network order."""
    return posterior.d_full().transpose("chain", "draw", "treatment").values


def _ranks(posterior: Posterior, direction: bool) -> np.ndarray:
    """Rank of every treatment in every draw, ``(chain, draw, treatment)`` (1 = best)."""
    d = posterior.d_full()
    ranks = summaries.rank_draws(d, lower_is_better=direction)  # chain-major flat draws
    return ranks.reshape(d.sizes["chain"], d.sizes["draw"], ranks.shape[1])


def _probabilities(indicator: np.ndarray, posterior: Posterior) -> tuple[np.ndarray, np.ndarray]:
    """Share of draws and its MCSE for each event of ``indicator`` (chain, draw, ...)."""
    independent = posterior.engine == "exact"
    return indicator.mean(axis=(0, 1)), indicator_mcse(indicator, independent=independent)


def top_k_table(posterior: Posterior, *, k, lower_is_better: bool) -> pd.DataFrame:
    """Probability that each treatment is among the best ``k``, ``P(rank <= k)``, with its MCSE.

    Parameters
    ----------
    posterior : Posterior
        The fit's accessor (at the covariate values of a meta-regression, if any).
    k : int or sequence of int
        Number of best places, from 1 to the number of treatments (several: one block per ``k``).
    lower_is_better : bool
        Benefit direction (:func:`~nma_bayes.base.validate.resolve_direction`).

    Returns
    -------
    DataFrame
        ``treatment, k, probability, mcse``: treatments in network order within each ``k``;
        ``k = 1`` is ``p_best`` of the SUCRA table, and the mean of ``P(rank <= k)`` over
        ``k = 1..T-1`` is SUCRA.
    """
    direction = VA.resolve_direction(lower_is_better, posterior.network, required=True)
    names = [str(t) for t in posterior.network.treatments]
    ks = check_k(k, len(names))
    ranks = _ranks(posterior, direction)
    p, mcse = _probabilities(ranks[..., None] <= np.array(ks), posterior)  # (treatment, k)
    table = pd.DataFrame(
        {
            "treatment": np.tile(names, len(ks)),
            "k": np.repeat(ks, len(names)),
            "probability": p.T.reshape(-1),
            "mcse": mcse.T.reshape(-1),
        }
    )
    table.attrs["lower_is_better"] = direction
    return table


def class_top_k_table(posterior: Posterior, *, k, lower_is_better: bool) -> pd.DataFrame:
    """Probability that a class holds at least one of the best ``k`` treatments, with its MCSE.

    Computed from the treatment ranks among all treatments (as ``p_best`` of the class rankings,
    which is ``k = 1``).

    Returns
    -------
    DataFrame
        ``class, k, probability, mcse``: classes in class order within each ``k``.
    """
    network = posterior.network
    classes = class_order(network)  # refuses a network without classes
    direction = VA.resolve_direction(lower_is_better, network, required=True)
    ks = check_k(k, network.n_treatments)
    ranks = _ranks(posterior, direction)
    member = np.array([network.classes[t] for t in network.treatments])
    top = ranks[..., None] <= np.array(ks)  # (chain, draw, treatment, k)
    holds = np.stack([top[:, :, member == c].any(axis=2) for c in classes], axis=2)
    p, mcse = _probabilities(holds, posterior)  # (class, k)
    table = pd.DataFrame(
        {
            "class": np.tile(list(classes), len(ks)),
            "k": np.repeat(ks, len(classes)),
            "probability": p.T.reshape(-1),
            "mcse": mcse.T.reshape(-1),
        }
    )
    table.attrs["lower_is_better"] = direction
    return table


def prob_difference_table(
    posterior: Posterior,
    *,
    threshold,
    lower_is_better: bool,
    comparator: str | None = None,
    all_pairs: bool = False,
    scale: str | None = None,
) -> pd.DataFrame:
    """Probability that a treatment beats a comparator by more than ``threshold``, with its MCSE.

    With lower values better the event is ``d_t - d_c < -threshold``, else
    ``d_t - d_c > threshold`` (effects ``d`` on the scale of the fit; on a ratio scale the
    threshold is the ratio ``r`` and the margin is ``|log r|``). ``threshold = 0`` gives
    ``P(t better than c)``.

    Parameters
    ----------
    posterior : Posterior
        The fit's accessor (at the covariate values of a meta-regression, if any).
    threshold : float
        The minimal clinically important difference, ``>= 0``; a ratio ``> 0`` on a ratio scale.
    lower_is_better : bool
        Benefit direction.
    comparator : str, optional
        The comparator of every treatment (default: the model reference).
    all_pairs : bool
        Every ordered pair of treatments instead (comparator-major, treatments in network order
        within each comparator); not with ``comparator``.
    scale : {None, "ratio"} or str
        ``None``: the threshold is on the effect scale of the fit (log odds ratio etc. for
        log-ratio measures). ``"ratio"`` (or the ratio's name, ``"OR"``...): the threshold is a
        ratio (log-ratio measures only).

    Returns
    -------
    DataFrame
        ``treatment, comparator, threshold, probability, mcse``; ``attrs``: ``scale`` (of the
        threshold), ``ratio_scale`` (the ratio's name, or ``None`` on the effect scale),
        ``effect_threshold`` (on the effect scale), ``lower_is_better``.
    """
    network = posterior.network
    direction = VA.resolve_direction(lower_is_better, network, required=True)
    ratio = decision_scale(scale, network.measure)
    margin = check_threshold(threshold, ratio, network.measure)
    all_pairs = VA.check_bool(all_pairs, "all_pairs")
    if all_pairs and comparator is not None:
        raise ModelSpecError(
            "Pass comparator= (every treatment vs one comparator) or all_pairs=True (every "
            "ordered pair), not both.",
            rule="bad-option",
        )
    names = [str(t) for t in network.treatments]
    ref = check_treatment(posterior, network.reference if comparator is None else comparator)
    idx_t, idx_c = _ordered_pairs(len(names), names.index(ref), all_pairs)
    values = _draws(posterior)
    diff = values[..., idx_t] - values[..., idx_c]
    p, mcse = _probabilities(diff < -margin if direction else diff > margin, posterior)
    table = pd.DataFrame(
        {
            "treatment": [names[i] for i in idx_t],
            "comparator": [names[j] for j in idx_c],
            "threshold": float(threshold),
            "probability": p,
            "mcse": mcse,
        }
    )
    table.attrs.update(
        scale=ratio if ratio is not None else network.measure or "linear",
        ratio_scale=ratio,
        effect_threshold=margin,
        lower_is_better=direction,
    )
    return table


def _ordered_pairs(n: int, reference: int, all_pairs: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(treatment, comparator)``: vs ``reference``, or every ordered pair."""
    if not all_pairs:
        return summaries.comparison_pairs(n, reference, all_pairs=False)
    idx_c, idx_t = np.divmod(np.arange(n * n), n)  # comparator-major
    keep = idx_c != idx_t
    return idx_t[keep], idx_c[keep]


class DecisionMethods:
    """The decision summaries as methods of a fit (mixed into :class:`~.record.FitRecord`).

    Thin delegates to the functions above; the fit supplies ``posterior`` (its accessor).
    """

    def top_k(self, *, k, lower_is_better: bool, at: dict | None = None) -> pd.DataFrame:
        """Probability that each treatment is among the best ``k`` (``P(rank <= k)``), with MCSE.

        Parameters
        ----------
        k : int or sequence of int
            Number of best places, 1 to the number of treatments; several give one block each
            (``k=range(1, T + 1)``: every cumulative ranking probability, Salanti et al. 2011).
        lower_is_better : bool
            Benefit direction; required (no default), e.g. ``True`` for pain scores.
        at : dict, optional
            Covariate values of a meta-regression (see ``relative_effects``).

        Returns
        -------
        DataFrame
            ``treatment, k, probability, mcse`` in treatment order (within each ``k``). The MCSE
            is that of the share of draws (ArviZ for NUTS, binomial for the exact engine).
        """
        return top_k_table(self.posterior.at(at), k=k, lower_is_better=lower_is_better)

    def class_top_k(self, *, k, lower_is_better: bool) -> pd.DataFrame:
        """Probability that each class holds at least one of the best ``k`` treatments, with MCSE.

        ``k = 1`` is ``p_best`` of :meth:`class_rankings` (the class holds the best treatment).

        Returns
        -------
        DataFrame
            ``class, k, probability, mcse`` in class order (within each ``k``).
        """
        return class_top_k_table(self.posterior, k=k, lower_is_better=lower_is_better)

    def prob_difference(
        self,
        *,
        threshold,
        lower_is_better: bool,
        comparator: str | None = None,
        all_pairs: bool = False,
        scale: str | None = None,
        at: dict | None = None,
    ) -> pd.DataFrame:
        """Probability of beating a comparator by more than ``threshold`` (e.g. an MCID), with MCSE.

        Lower is better: ``P(d_t - d_c < -threshold)``; higher is better:
        ``P(d_t - d_c > threshold)``, on the effect scale of the fit.

        Parameters
        ----------
        threshold : float
            Minimal clinically important difference, ``>= 0`` (0: the probability of being
            better). With ``scale="ratio"`` a ratio ``> 0`` (0.8 and 1.25 give the margin
            ``|log 0.8|``).
        lower_is_better : bool
            Benefit direction; required.
        comparator : str, optional
            Comparator of every treatment (default: the model reference).
        all_pairs : bool
            Every ordered pair of treatments instead of one comparator.
        scale : {None, "ratio"}
            ``"ratio"``: the threshold is on the ratio scale (OR, RR, HR, rate ratio) of a
            log-ratio measure; refused for continuous outcomes.
        at : dict, optional
            Covariate values of a meta-regression (see ``relative_effects``).

        Returns
        -------
        DataFrame
            ``treatment, comparator, threshold, probability, mcse``.
        """
        return prob_difference_table(
            self.posterior.at(at), threshold=threshold, lower_is_better=lower_is_better,
            comparator=comparator, all_pairs=all_pairs, scale=scale,
        )  # fmt: skip
