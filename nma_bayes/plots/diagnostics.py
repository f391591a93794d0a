"""MCMC diagnostic plots: thin wrappers over ArviZ (1.x) trace and rank plots.

ArviZ draws into a ``PlotCollection``; these wrappers draw with the matplotlib backend and
return its figure, let go by pyplot (ArviZ makes it with pyplot; Jupyter would otherwise draw it
twice, see :mod:`nma_bayes.plots._figure`). ArviZ and matplotlib are imported when a plot is
drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base.errors import ModelSpecError
from ._figure import release_from_pyplot

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_trace", "plot_rank_diagnostics"]


def plot_trace(fit, *, var_names: str | Sequence[str] = ("d", "tau"), **kwargs) -> Figure:
    """Draw trace plots of posterior draws with ``arviz.plot_trace``.

    Parameters
    ----------
    fit : NetworkFit
        The fit.
    var_names : str or sequence of str
        Posterior variables to draw; those the posterior lacks (e.g. ``tau`` of a fixed-effect
        model) are skipped.
    **kwargs
        Passed on to ``arviz.plot_trace``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure ArviZ drew (not shown): one panel per variable and treatment.

    Raises
    ------
    ModelSpecError
        If the posterior holds none of ``var_names``.
    """
    import arviz

    return _figure(arviz.plot_trace, fit, var_names, kwargs)


def plot_rank_diagnostics(
    fit, *, var_names: str | Sequence[str] = ("d", "tau"), **kwargs
) -> Figure:
    """Draw rank (fractional rank ECDF) plots of posterior draws with ``arviz.plot_rank``.

    Parameters
    ----------
    fit : NetworkFit
        The fit.
    var_names : str or sequence of str
        Posterior variables to draw; those the posterior lacks are skipped.
    **kwargs
        Passed on to ``arviz.plot_rank``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure ArviZ drew (not shown).

    Raises
    ------
    ModelSpecError
        If the posterior holds none of ``var_names``.
    """
    import arviz

    return _figure(arviz.plot_rank, fit, var_names, kwargs)


def _figure(plot, fit, var_names, kwargs) -> Figure:
    """Call an ArviZ plot with the matplotlib backend and return its figure."""
    names = [var_names] if isinstance(var_names, str) else list(var_names)
    posterior = fit.idata["posterior"]
    present = [v for v in names if v in posterior.data_vars]
    if not present:
        raise ModelSpecError(
            f"var_names={names!r}: the posterior has none of them; it has "
            f"{list(posterior.data_vars)}.",
            rule="bad-option",
        )
    import matplotlib.pyplot as plt

    kwargs.setdefault("backend", "matplotlib")
    before = plt.get_fignums()
    collection = plot(fit.idata, var_names=present, **kwargs)
    return release_from_pyplot(collection.viz["figure"].item(), before)
