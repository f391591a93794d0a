"""Jupyter support: is this a kernel, and the rich HTML representation of a fit.

:func:`in_jupyter_kernel` tells whether the process is a Jupyter (IPython) kernel, without
importing IPython; the sampler's progress bar and the plots' display follow it.

:func:`fit_html` draws what a fit already holds or computes in milliseconds: the description of
its data, model, priors and sampler (``fit.describe()``), the posterior summary of ``tau``
(``fit.heterogeneity()``), the first few relative effects against the reference
(``fit.relative_effects()``) and the convergence problems found when the fit was made
(``fit.problems``); it never recomputes diagnostics. Every string that may come from the data
(study, treatment and class names, covariates) goes through :func:`html.escape`.
"""

from __future__ import annotations

import sys
from html import escape

__all__ = ["fit_html", "facts_table", "number", "in_jupyter_kernel"]

#: Relative effects listed in the summary; the rest are counted.
MAX_EFFECT_ROWS = 8
#: Keys of ``fit.describe()`` shown under another name (the priors are merged into one row).
_LABELS = {"data": "network", "sampler": "engine"}
#: One style sheet for the summary (its selectors reach only inside ``div.nma-fit``).
_STYLE = (
    "<style>.nma-fit{font-size:0.92em;line-height:1.3}"
    ".nma-fit table{border-collapse:collapse;margin:2px 0}"
    ".nma-fit th,.nma-fit td{text-align:left;padding:1px 10px 1px 0;vertical-align:top;"
    "border:none}"
    ".nma-fit caption{text-align:left;font-style:italic}</style>"
)
_OK, _BAD = "#1a7f37", "#b00020"


def in_jupyter_kernel() -> bool:
    """Return whether this process is a Jupyter (IPython) kernel, e.g. a notebook's.

    True when IPython is already imported and its running shell has a ``kernel`` (an ``ipykernel``
    shell); a terminal IPython session has none, and IPython is never imported here (a script
    that did not import it is not in a kernel).
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # a broken or partial IPython install is not a kernel
        return False
    return getattr(shell, "kernel", None) is not None


def number(value: float) -> str:
    """Format a summary statistic with three significant digits (``"nan"`` kept visible)."""
    return f"{float(value):.3g}"


def facts_table(rows: dict[str, str], css_class: str, *, extra_rows: str = "") -> str:
    """Return a two-column HTML table of ``{label: text}``, both escaped.

    Parameters
    ----------
    rows : dict of str to str
        Labels and their text (plain text: escaped here).
    css_class : str
        Class of the table element.
    extra_rows : str
        HTML rows appended as they are (the caller escapes their text).

    Returns
    -------
    str
        The ``<table>`` element.
    """
    body = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows.items()
    )
    return f"<table class='{escape(css_class)}'>{body}{extra_rows}</table>"


def fit_html(fit) -> str:
    """Render a compact summary of a fit as HTML (for ``_repr_html_``).

    Parameters
    ----------
    fit : FitRecord
        The fit (anything with ``describe``, ``relative_effects``, ``heterogeneity``,
        ``problems``, ``engine``, ``spec``, ``network`` and ``reference``).

    Returns
    -------
    str
        A ``<div class='nma-fit'>`` holding the facts table (network, reference, model, priors,
        engine, ``tau``, convergence) and the table of the first relative effects.
    """
    status, colour = _convergence(fit)
    status_row = (
        "<tr><th>convergence</th>"
        f"<td class='nma-fit-status' style='color:{colour}'>{escape(status)}</td></tr>"
    )
    table = facts_table(_facts(fit), "nma-fit-facts", extra_rows=status_row)
    title = f"<strong>{escape(type(fit).__name__)}</strong>"
    return f"<div class='nma-fit'>{_STYLE}{title}{table}{_effects_html(fit)}</div>"


def _facts(fit) -> dict[str, str]:
    """Return the fit's description, its priors on one row, and the summary of ``tau``."""
    described = fit.describe()
    priors = {k: v for k, v in described.items() if k.startswith("prior ")}
    facts: dict[str, str] = {}
    for key, text in described.items():
        if key in priors:
            if "priors" not in facts:
                facts["priors"] = "; ".join(f"{k[6:]}: {v}" for k, v in priors.items())
            continue
        facts[_LABELS.get(key, key)] = text
    if fit.spec.random:
        tau = fit.heterogeneity().loc["tau"]
        facts["tau"] = (
            f"median {number(tau['median'])} (95% CrI {number(tau['ci_lower'])} to "
            f"{number(tau['ci_upper'])}), mean {number(tau['mean'])}"
        )
    return facts


def _convergence(fit) -> tuple[str, str]:
    """Convergence status in words, and its colour (from the checks made when fitting)."""
    if fit.engine == "exact":
        return "exact posterior (quadrature): independent draws, no MCMC to check", _OK
    if fit.problems:
        return "problems: " + "; ".join(fit.problems), _BAD
    return "no problems: R-hat ≤ 1.01, bulk ESS ≥ 400, no divergences", _OK


def _effects_html(fit) -> str:
    """Return the first :data:`MAX_EFFECT_ROWS` effects vs the reference, and how many more."""
    table = fit.relative_effects()
    shown = table.head(MAX_EFFECT_ROWS)
    measure = getattr(fit.network, "measure", None)
    scale = f"; {measure}" if measure else ""
    caption = f"Relative effects vs {fit.reference} (median, 95% CrI{scale})"
    if getattr(fit.posterior, "regression", None) is not None:
        caption += ", at the covariates' centring values"
    rows = "".join(
        f"<tr><td>{escape(str(r.treatment))}</td><td>{number(r.median)}</td>"
        f"<td>{number(r.ci_lower)} to {number(r.ci_upper)}</td></tr>"
        for r in shown.itertuples(index=False)
    )
    more = ""
    if len(table) > len(shown):
        more = (
            f"<div class='nma-fit-more'>… and {len(table) - len(shown)} more: "
            "<code>fit.relative_effects()</code></div>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("treatment", "median", "95% CrI"))
    return (
        f"<table class='nma-fit-effects'><caption>{escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"
    )
