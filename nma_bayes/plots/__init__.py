"""Plots of networks and fits (matplotlib and networkx are imported only when a plot is drawn)."""

from .network import plot_network

__all__ = ["plot_network"]
