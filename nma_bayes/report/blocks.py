"""Building blocks of the HTML report: sections, readable tables, figures with captions.

Readable tables follow four rules: column and row labels are words, not identifiers
(``studies_with_2_arms`` reads "Studies with 2 arms", ``ess_bulk`` "Bulk ESS"); empty cells are
blank and rows without a value are left out; counts (ESS, data points, ranks) are integers; and
every other number has :data:`DECIMALS` decimals. Every string is HTML-escaped. A figure is an
embedded base64 PNG with a caption (``<figure>`` and ``<figcaption>``), so the report needs no
other file and no network.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from ..data.network import MEASURES

__all__ = [
    "DECIMALS",
    "ReportContext",
    "figure_html",
    "figure_png",
    "frame_html",
    "humanize",
    "kv_table",
    "on_new_axes",
    "section",
]

#: Decimals of every non-integer number in the report's tables.
DECIMALS = 3

#: Column labels shared by the report's tables (``{pct}`` is the interval probability).
COLUMN_LABELS = {
    "treatment": "Treatment",
    "comparator": "Comparator",
    "class": "Class",
    "parameter": "Parameter",
    "mean": "Mean",
    "sd": "SD",
    "median": "Median",
    "ci_lower": "{pct} CrI lower",
    "ci_upper": "{pct} CrI upper",
    "pi_lower": "{pct} PrI lower",
    "pi_upper": "{pct} PrI upper",
    "sucra": "SUCRA",
    "mean_rank": "Mean rank",
    "p_best": "P(best)",
    "r_hat": "R-hat",
    "ess_bulk": "Bulk ESS",
    "ess_tail": "Tail ESS",
    "mcse_mean": "MCSE of the mean",
    "resdev": "Residual deviance",
    "pD": "pD",
    "DIC": "DIC",
    "n_data": "Data points",
}

#: Columns holding counts, written as integers.
INTEGER_COLUMNS = frozenset({"ess_bulk", "ess_tail", "n_data", "rank", "n_studies"})


def humanize(identifier: object) -> str:
    """Return an identifier as words: ``"studies_with_2_arms"`` -> ``"Studies with 2 arms"``."""
    text = str(identifier).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def is_blank(value: object) -> bool:
    """Whether a cell holds nothing (``None``, NaN, ``pd.NA`` or an empty string)."""
    if value is None or value is pd.NA or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def format_number(value: object, *, integer: bool = False) -> str:
    """Format one cell: integers for counts, :data:`DECIMALS` decimals for floats, else text."""
    if is_blank(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer) or (integer and isinstance(value, float | np.floating)):
        return f"{round(float(value)):d}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.{DECIMALS}f}"
    return str(value)


def interval_cell(estimate: object, lower: object, upper: object) -> str:
    """Return ``"est (lower, upper)"`` with :data:`DECIMALS` decimals (blank if any is missing)."""
    if any(is_blank(v) for v in (estimate, lower, upper)):
        return ""
    return f"{estimate:.{DECIMALS}f} ({lower:.{DECIMALS}f}, {upper:.{DECIMALS}f})"


def frame_html(
    table: pd.DataFrame,
    *,
    pct: str = "",
    labels: dict[str, str] | None = None,
    integers: tuple[str, ...] = (),
    index: bool = False,
    relabel: bool = True,
) -> str:
    """Render a table readably: labelled columns, integer counts, fixed decimals, escaped text.

    Parameters
    ----------
    table : DataFrame
        The table (not modified).
    pct : str
        The interval probability in words (``"95%"``), for the interval columns' labels.
    labels : dict, optional
        Column labels overriding :data:`COLUMN_LABELS` (a column in neither is humanized).
    integers : tuple of str
        Further columns to write as integers (besides :data:`INTEGER_COLUMNS`).
    index : bool
        Write the index (e.g. the league table's row treatments).
    relabel : bool
        Label the columns; ``False`` keeps them as they are (already words, or user names).

    Returns
    -------
    str
        An HTML ``<table>``; every cell and label is escaped with :func:`html.escape`.
    """
    ints = INTEGER_COLUMNS | set(integers)
    names = {**COLUMN_LABELS, **(labels or {})}
    header = [
        names.get(c, humanize(c)).replace("{pct}", pct) if relabel else str(c)
        for c in table.columns
    ]
    # every cell, label and row name escaped here (quotes too), so pandas writes them as they are
    shown = pd.DataFrame(
        {
            i: [escape(format_number(v, integer=c in ints)) for v in table.iloc[:, i]]
            for i, c in enumerate(table.columns)
        },
        index=range(len(table)),
    )
    shown.columns = [escape(h) for h in header]
    if index:
        shown.index = [escape(format_number(v)) for v in table.index]
    return shown.to_html(escape=False, index=index, border=0, classes="nma-table")


def kv_table(items: dict, *, labels: dict[str, str] | None = None) -> str:
    """Render ``{item: value}`` as a two-column table; blank values are left out.

    Keys are shown through ``labels`` (else humanized); values as :func:`format_number`.
    """
    labels = labels or {}
    rows = "".join(
        f"<tr><th>{escape(labels.get(str(k), humanize(k)))}</th>"
        f"<td>{escape(format_number(v))}</td></tr>"
        for k, v in items.items()
        if not is_blank(v)
    )
    return f'<table class="kv">{rows}</table>'


def section(sid: str, heading: str, body: str) -> str:
    """Return one ``<section id=...>`` with its ``<h2>`` heading."""
    return f'<section id="{escape(sid)}"><h2>{escape(heading)}</h2>{body}</section>\n'


def paragraph(text: str, cls: str | None = None) -> str:
    """Return an escaped ``<p>`` (with a CSS class if given)."""
    attr = f' class="{escape(cls)}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def figure_png(draw: Callable[[], object], *, dpi: int = 100) -> tuple[str | None, str]:
    """Draw ``draw()``'s figure as a base64 PNG.

    Returns
    -------
    png : str or None
        The PNG, base64-encoded; ``None`` when the figure could not be drawn.
    error : str
        Why it could not be drawn (empty when it was).
    """
    try:
        fig = draw()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    except Exception as exc:  # a report without one plot beats no report
        return None, f"{type(exc).__name__}: {exc}"
    return base64.b64encode(buf.getvalue()).decode("ascii"), ""


def on_new_axes(figsize: tuple[float, float], draw: Callable[[object], object]) -> object:
    """Draw ``draw(ax)`` on the Axes of a new figure of ``figsize`` inches; return the figure.

    For plots whose default size is too small in the report (long labels, outside legends).
    """
    import warnings

    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    draw(fig.add_subplot())
    with warnings.catch_warnings():
        # a legend taller than the figure: the PNG is cropped to all artists anyway
        # (``bbox_inches="tight"`` in :func:`figure_png`)
        warnings.filterwarnings("ignore", "Tight layout not applied", UserWarning)
        fig.tight_layout()
    return fig


def figure_html(draw: Callable[[], object], what: str, caption: str) -> str:
    """Return a ``<figure>``: the embedded PNG and its caption (or a note if it failed).

    Parameters
    ----------
    draw : callable
        Returns the matplotlib figure.
    what : str
        The figure in a few words (its ``alt`` text, and the start of the caption).
    caption : str
        What is shown and on which scale (plain text; escaped here).
    """
    png, error = figure_png(draw)
    if png is None:
        return paragraph(f"The {what} could not be drawn ({error}).", "problem")
    return (
        f'<figure><img alt="{escape(what)}" src="data:image/png;base64,{png}">'
        f"<figcaption><b>{escape(what[:1].upper() + what[1:])}.</b> {escape(caption)}"
        "</figcaption></figure>"
    )


@dataclass(frozen=True)
class ReportContext:
    """What every section needs: the fit, the direction, the interval and the effect scale."""

    fit: object
    direction: bool | None
    ci_prob: float

    @property
    def pct(self) -> str:
        """The interval probability in words (``"95%"``)."""
        return f"{100 * self.ci_prob:g}%"

    @property
    def measure(self) -> str:
        """The effect measure in words (``"standardised mean difference ... (SMD)"``), or a note."""
        code = self.fit.network.measure
        if code is None:
            return "not recorded on the network (pass measure= when building it)"
        return f"{MEASURES.get(code, code)} ({code})"

    @property
    def on_scale(self) -> str:
        """Where effects live, for captions: ``"on the SMD scale"`` or the scale of the data."""
        code = self.fit.network.measure
        if code is None:
            return "on the scale of the data (no effect measure recorded)"
        return f"on the {code} scale ({MEASURES.get(code, code)})"

    @property
    def better(self) -> str:
        """The benefit direction in words."""
        if self.direction is None:
            return "benefit direction not given (pass lower_is_better to rank the treatments)"
        return "lower values are better" if self.direction else "higher values are better"

    def scale_note(self, what: str = "treatment minus comparator") -> str:
        """Return the line above an effects table: measure, what the numbers are, direction."""
        return paragraph(f"Effect measure: {self.measure}; {what}; {self.better}.", "scale")

    def rank_note(self) -> str:
        """Return the line above a ranking table: the direction behind the ranks."""
        return paragraph(
            f"Effect measure: {self.measure}; ranks of the effects, rank 1 = best; {self.better}.",
            "scale",
        )
