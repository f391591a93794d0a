"""Plots of networks and fits (matplotlib and networkx are imported only when a plot is drawn)."""

from .checking import plot_dev_dev, plot_nodesplit
from .network import plot_network
from .ranks import plot_class_ranks

__all__ = ["plot_network", "plot_class_ranks", "plot_nodesplit", "plot_dev_dev"]
