"""Class-level summaries: class effects, class rankings, within-class rankings, class contrasts.

All are computed from posterior draws. The *class effect* of a class is its class mean under a
class model (``mu_c``; 0 for the reference's class when the reference is alone in it, or under the
common model), and, without a class model, the equal-weight mean of its treatments' effects. The
probability that a class "contains the best treatment" is computed from treatment-level ranks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..base import validate as VA
from ..base.errors import ModelSpecError, UnknownTreatmentError, format_items
from ..models.classes import class_order
from . import summaries

__all__ = [
    "ClassSummaryMethods",
    "class_draws",
    "class_effects_table",
    "class_rankings_table",
    "class_rank_probabilities_table",
    "within_class_rankings_table",
    "class_contrast_table",
    "rank_probabilities_by_class_table",
]


def class_draws(fit) -> xr.DataArray:
    """Draws of every class effect vs the model reference (dims ``chain, draw, class``)."""
    net = fit.network
    classes = class_order(net)
    post = fit.idata["posterior"]
    if fit.spec.class_model is not None and "class_mean" in post:
        mean = post["class_mean"]
        parts = []
        for c in classes:
            if c in mean["class"].values:
                parts.append(mean.sel({"class": c}, drop=True))
            else:  # the reference's class with a fixed zero mean
                parts.append(xr.zeros_like(mean.isel({"class": 0}, drop=True)))
        return (
            xr.concat(parts, "class")
            .assign_coords({"class": list(classes)})
            .transpose("chain", "draw", "class")
        )
    d = fit.d_full()
    members = [[t for t in net.treatments if net.classes[t] == c] for c in classes]
    parts = [d.sel(treatment=m).mean("treatment") for m in members]
    return (
        xr.concat(parts, "class")
        .assign_coords({"class": list(classes)})
        .transpose("chain", "draw", "class")
    )


def _as_treatment_dim(draws: xr.DataArray) -> xr.DataArray:
    return draws.rename({"class": "treatment"})


def _check_class(fit, name: str) -> str:
    classes = class_order(fit.network)
    if name not in classes:
        raise UnknownTreatmentError(
            f"Class {name!r} is not in the network. Classes: {format_items(classes, 20)}.",
            rule="unknown-reference",
        )
    return name


def class_effects_table(fit, reference_class, *, all_pairs: bool, ci_prob: float) -> pd.DataFrame:
    """Class effects vs ``reference_class`` (or all pairs): ``class, comparator, mean, ...``."""
    ref = _check_class(fit, reference_class or fit.network.classes[fit.reference])
    table = summaries.relative_effects_table(
        _as_treatment_dim(class_draws(fit)), ref, all_pairs=all_pairs, ci_prob=ci_prob
    )
    return table.rename(columns={"treatment": "class"})


def class_rank_probabilities_table(fit, *, lower_is_better: bool) -> pd.DataFrame:
    """Probability of each rank of each class effect (rows and columns sum to 1)."""
    table = summaries.rank_probabilities_table(
        _as_treatment_dim(class_draws(fit)), lower_is_better=lower_is_better
    )
    table.index.name = "class"
    return table


def _best_class_probability(fit, lower_is_better: bool, classes) -> np.ndarray:
    ranks = summaries.rank_draws(fit.d_full(), lower_is_better=lower_is_better)
    best = np.argmin(ranks, axis=1)  # index of the best treatment in each draw
    cls = np.array([fit.network.classes[t] for t in fit.treatments])[best]
    return np.array([(cls == c).mean() for c in classes])


def class_rankings_table(fit, *, lower_is_better: bool, ci_prob: float) -> pd.DataFrame:
    """``class, p_best, sucra, mean_rank, ci_lower, ci_upper`` (SUCRA of class effects)."""
    draws = class_draws(fit)
    sucra = summaries.sucra_table(
        _as_treatment_dim(draws), lower_is_better=lower_is_better, ci_prob=ci_prob
    ).rename(columns={"treatment": "class"})
    sucra["p_best"] = _best_class_probability(fit, lower_is_better, sucra["class"])
    return sucra[["class", "p_best", "sucra", "mean_rank", "ci_lower", "ci_upper"]]


def within_class_rankings_table(fit, *, lower_is_better: bool) -> pd.DataFrame:
    """Ranks of treatments within their class: ``class, treatment, mean_rank, sucra, p_best``.

    SUCRA within a class of one treatment is undefined (NaN); its rank is 1.
    """
    d = fit.d_full()
    rows = []
    for c in class_order(fit.network):
        members = [t for t in fit.treatments if fit.network.classes[t] == c]
        ranks = summaries.rank_draws(d.sel(treatment=members), lower_is_better=lower_is_better)
        n = len(members)
        for j, t in enumerate(members):
            r = ranks[:, j]
            rows.append(
                {
                    "class": c,
                    "treatment": t,
                    "mean_rank": r.mean(),
                    "sucra": ((n - r) / (n - 1)).mean() if n > 1 else np.nan,
                    "p_best": (r == 1).mean(),
                }
            )
    return pd.DataFrame(rows)


def class_contrast_table(fit, classes, versus, *, weighting, ci_prob: float) -> pd.DataFrame:
    """Effect of a combination of classes vs another combination.

    Parameters
    ----------
    fit : NetworkFit
        A fit whose network has classes.
    classes, versus : sequence of str
        The classes combined on each side.
    weighting : {"class_means", "treatments"} or dict
        ``"class_means"``: equal weight per class (class effects as in :func:`class_draws`);
        ``"treatments"``: equal weight per treatment of the listed classes (treatment effects);
        a dict ``{class: weight}``: the given weights per class, normalised on each side.
    ci_prob : float
        Interval probability.
    """
    classes, versus = [list(_as_list(x)) for x in (classes, versus)]
    for c in classes + versus:
        _check_class(fit, c)
    if set(classes) & set(versus):
        raise ModelSpecError(
            f"Classes {format_items(sorted(set(classes) & set(versus)))} are on both sides.",
            rule="bad-option",
        )
    flat = summaries.flat_draws
    if weighting == "treatments":
        d = fit.d_full()

        def side(cs):
            members = [t for t in fit.treatments if fit.network.classes[t] in cs]
            return flat(d.sel(treatment=members)).mean(axis=1)

        label = "equal weight per treatment"
    else:
        draws = class_draws(fit)
        if weighting == "class_means":
            weights = {c: 1.0 for c in classes + versus}
            label = "equal weight per class (class means)"
        elif isinstance(weighting, dict):
            missing = [c for c in classes + versus if c not in weighting]
            if missing:
                raise ModelSpecError(
                    f"weighting gives no weight for {format_items(missing)}.", rule="bad-option"
                )
            weights = {c: float(weighting[c]) for c in classes + versus}
            label = "user weights per class"
        else:
            raise ModelSpecError(
                f"weighting={weighting!r}: use 'class_means', 'treatments' or a dict.",
                rule="bad-option",
            )

        def side(cs):
            w = np.array([weights[c] for c in cs])
            return flat(draws.sel({"class": cs})) @ (w / w.sum())

    stats = summaries.describe_draws(side(classes) - side(versus), ci_prob)
    return pd.DataFrame(
        [
            {
                "classes": " + ".join(classes),
                "versus": " + ".join(versus),
                "weighting": label,
                **{k: float(v) for k, v in stats.items()},
            }
        ]
    )


def _as_list(x):
    return [x] if isinstance(x, str) else x


def rank_probabilities_by_class_table(fit, *, lower_is_better: bool) -> pd.DataFrame:
    """Tidy treatment rank probabilities grouped by class: for side-by-side comparison.

    Returns
    -------
    DataFrame
        ``treatment, class, rank, probability, cumulative`` (ranks among all treatments; rank 1 =
        best), classes in class order and treatments in network order within them.
    """
    probs = summaries.rank_probabilities_table(fit.d_full(), lower_is_better=lower_is_better)
    rows = []
    for c in class_order(fit.network):
        for t in [t for t in fit.treatments if fit.network.classes[t] == c]:
            cum = probs.loc[t].cumsum()
            for r in probs.columns:
                rows.append((t, c, int(r), float(probs.loc[t, r]), float(cum[r])))
    return pd.DataFrame(rows, columns=["treatment", "class", "rank", "probability", "cumulative"])


class ClassSummaryMethods:
    """The class summaries as methods of a fit (mixed into :class:`~.record.FitRecord`).

    Thin delegates to the functions above; the fit supplies ``_direction`` (the benefit
    direction rule).
    """

    def class_effects(
        self, reference_class: str | None = None, *, all_pairs: bool = False, ci_prob: float = 0.95
    ) -> pd.DataFrame:
        """Class effects: class means under a class model, else equal-weight treatment means.

        Parameters
        ----------
        reference_class : str, optional
            Comparator class (default: the class of the reference treatment).
        all_pairs : bool
            Every unordered pair of classes instead.
        ci_prob : float
            Interval probability.

        Returns
        -------
        DataFrame
            ``class, comparator, mean, sd, median, ci_lower, ci_upper``.
        """
        all_pairs = VA.check_bool(all_pairs, "all_pairs")
        return class_effects_table(self, reference_class, all_pairs=all_pairs, ci_prob=ci_prob)

    def class_rankings(self, *, lower_is_better: bool, ci_prob: float = 0.95) -> pd.DataFrame:
        """Class rankings: P(class contains the best treatment) and SUCRA of class effects.

        Returns
        -------
        DataFrame
            ``class, p_best, sucra, mean_rank, ci_lower, ci_upper`` (the interval is that of the
            per-draw scaled rank of the class effect).
        """
        return class_rankings_table(
            self, lower_is_better=self._direction(lower_is_better), ci_prob=ci_prob
        )

    def class_rank_probabilities(self, *, lower_is_better: bool) -> pd.DataFrame:
        """Probability of each rank of each class effect (class x rank)."""
        direction = self._direction(lower_is_better)
        return class_rank_probabilities_table(self, lower_is_better=direction)

    def within_class_rankings(self, *, lower_is_better: bool) -> pd.DataFrame:
        """Rank treatments within their class.

        Returns
        -------
        DataFrame
            ``class, treatment, mean_rank, sucra, p_best`` (SUCRA is NaN in one-treatment
            classes).
        """
        direction = self._direction(lower_is_better)
        return within_class_rankings_table(self, lower_is_better=direction)

    def class_contrast(
        self, classes, versus, *, weighting="class_means", ci_prob: float = 0.95
    ) -> pd.DataFrame:
        """Effect of one class (or a combination) against a combination of classes.

        E.g. ``fit.class_contrast(["neuromodulation"], ["conservative", "minimal invasive"])``.

        Parameters
        ----------
        classes, versus : str or sequence of str
            Classes on each side.
        weighting : {"class_means", "treatments"} or dict
            Equal weight per class (default), equal weight per treatment, or ``{class: weight}``.
        ci_prob : float
            Interval probability.

        Returns
        -------
        DataFrame
            One row: ``classes, versus, weighting, mean, sd, median, ci_lower, ci_upper``.
        """
        return class_contrast_table(self, classes, versus, weighting=weighting, ci_prob=ci_prob)

    def rank_probabilities_by_class(self, *, lower_is_better: bool) -> pd.DataFrame:
        """Tidy treatment rank probabilities grouped by class (for ``plot_class_ranks``).

        Returns
        -------
        DataFrame
            ``treatment, class, rank, probability, cumulative``.
        """
        return rank_probabilities_by_class_table(
            self, lower_is_better=self._direction(lower_is_better)
        )
