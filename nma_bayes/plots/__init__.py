"""Plots of networks and fits (matplotlib and networkx are imported only when a plot is drawn).

One contract for every plot: it only draws. What it draws is computed elsewhere (by the network,
or by a fit's summary methods in :mod:`nma_bayes.results`), and it accepts either

- the object that computes it: a fit (or, for :func:`plot_network`, a network or a fit of one),
  in which case the plot calls the fit's method (``plot_forest``: ``relative_effects`` or
  ``prediction_interval``; ``plot_league``: ``relative_effects(all_pairs=True)``;
  ``plot_sucra``: ``sucra``; ``plot_class_ranks``: ``rank_probabilities_by_class``), or
- the computed table itself, checked for the columns the plot draws.

Plots that need the draws or several summaries take the fit only (``plot_ranks``,
``plot_trace``, ``plot_rank_diagnostics``, ``plot_regression``: ``regression_curve`` and
``study_points``); plots of analyses that need more than one fit take their table only
(``plot_nodesplit``, ``plot_dev_dev``); ``plot_leverage`` takes a fit or its ``Leverage``,
``plot_thresholds`` a fit or its ``Thresholds``, ``plot_confidence`` the ``Confidence`` of
:func:`nma_bayes.cinema`. Every plot draws into ``ax=`` when
given, else into a new figure, and returns the root matplotlib ``Figure`` (not shown, and not
held by pyplot, so that in Jupyter a returned figure shows exactly once). Where a
plot needs the benefit direction and is not given it, it uses the one recorded on the network
(:func:`nma_bayes.base.validate.resolve_direction`); ``plot_ranks`` requires it.
"""

from .class_ranks import plot_class_ranks
from .confidence import plot_confidence
from .contribution import plot_contribution
from .decisions import plot_prob_difference
from .diagnostics import plot_rank_diagnostics, plot_trace
from .evidence import plot_funnel, plot_netheat
from .forest import plot_forest
from .influence import plot_influence
from .league import plot_league
from .leverage import plot_leverage
from .model_checking import plot_dev_dev, plot_nodesplit
from .network import plot_network
from .rankings import plot_ranks, plot_sucra
from .regression import plot_regression
from .survival import plot_hazard_ratios, plot_survival
from .thresholds import plot_thresholds

__all__ = [
    "plot_network",
    "plot_forest",
    "plot_league",
    "plot_ranks",
    "plot_sucra",
    "plot_class_ranks",
    "plot_nodesplit",
    "plot_dev_dev",
    "plot_trace",
    "plot_rank_diagnostics",
    "plot_regression",
    "plot_prob_difference",
    "plot_influence",
    "plot_netheat",
    "plot_funnel",
    "plot_leverage",
    "plot_thresholds",
    "plot_contribution",
    "plot_confidence",
    "plot_survival",
    "plot_hazard_ratios",
]
