"""Plots of networks and fits (matplotlib and networkx are imported only when a plot is drawn).

Every plot consumes computed results (a fit or a table) and returns a matplotlib ``Figure``.
"""

from .class_ranks import plot_class_ranks
from .diagnostics import plot_rank_diagnostics, plot_trace
from .forest import plot_forest
from .league import plot_league
from .model_checking import plot_dev_dev, plot_nodesplit
from .network import plot_network
from .rankings import plot_ranks, plot_sucra

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
]
