"""Rich HTML representation of a fit for Jupyter (all user text escaped)."""

from __future__ import annotations

from html import escape

__all__ = ["fit_html"]


def fit_html(fit) -> str:
    """Render a fit's description, parameter summary and convergence status as HTML.

    Every string that comes from the data (study and treatment names) is HTML-escaped.
    """
    rows = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
        for k, v in fit.describe().items()
    )
    status = (
        "<p style='color:#b00'>Convergence problems: " + escape("; ".join(fit.problems)) + "</p>"
        if fit.problems
        else "<p>Diagnostics: R-hat &le; 1.01, bulk ESS &ge; 400, no divergences.</p>"
    )
    table = fit.summary().round(3).to_html(escape=True)
    return f"<div><h4>nma_bayes NetworkFit</h4><table>{rows}</table>{status}{table}</div>"
