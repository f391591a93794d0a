"""Parse a report into what its reader sees: sections, their tables, figures and captions.

Shared by the report tests (``tests/report`` is on ``sys.path`` while they run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Figure:
    """One ``<figure>``: its image source, alt text and caption text."""

    src: str = ""
    alt: str = ""
    caption: str = ""


@dataclass
class Section:
    """One ``<section>``: heading, text, tables (header + rows of cell texts), figures, notes."""

    heading: str = ""
    text: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    scale_notes: list[str] = field(default_factory=list)
    # the order of tables and scale notes: ("scale", i) / ("table", i)
    order: list[tuple[str, int]] = field(default_factory=list)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


class ReportDocument(HTMLParser):
    """Sections by id, navigation links, every tag and every URL-bearing attribute."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, Section] = {}
        self.links: list[str] = []
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self._section: Section | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in: list[str] = []
        self._figure: Figure | None = None
        self._caption: list[str] | None = None
        self._heading: list[str] | None = None
        self._scale: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href", "action", "data", "poster", "srcset"):
            if name in attrs:
                self.urls.append((tag, name, attrs[name] or ""))
        if "style" in attrs:
            self.urls.append((tag, "style", attrs["style"] or ""))
        sec = self._section
        if tag == "section":
            self._section = self.sections.setdefault(attrs["id"], Section())
        elif tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        elif sec is None:
            return
        elif tag == "h2":
            self._heading = []
        elif tag == "table":
            sec.tables.append([])
            sec.order.append(("table", len(sec.tables) - 1))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "figure":
            self._figure = Figure()
        elif tag == "img" and self._figure is not None:
            self._figure.src, self._figure.alt = attrs.get("src", ""), attrs.get("alt", "")
        elif tag == "img":
            sec.figures.append(Figure(src=attrs.get("src", ""), alt=attrs.get("alt", "")))
        elif tag == "figcaption":
            self._caption = []
        elif tag == "p" and attrs.get("class") == "scale":
            self._scale = []

    def handle_endtag(self, tag):
        sec = self._section
        if tag == "section":
            self._section = None
        elif sec is None:
            return
        elif tag == "h2" and self._heading is not None:
            sec.heading, self._heading = _squash(self._heading), None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            sec.tables[-1].append(self._row)
            self._row = None
        elif tag == "figcaption" and self._caption is not None and self._figure is not None:
            self._figure.caption = _squash(self._caption)
            self._caption = None
        elif tag == "figure" and self._figure is not None:
            sec.figures.append(self._figure)
            self._figure = None
        elif tag == "p" and self._scale is not None:
            sec.scale_notes.append(_squash(self._scale))
            sec.order.append(("scale", len(sec.scale_notes) - 1))
            self._scale = None

    def handle_data(self, data):
        if self._section is None:
            return
        self._section.text.append(data)
        for buffer in (self._cell, self._caption, self._heading, self._scale):
            if buffer is not None:
                buffer.append(data)

    def table(self, sid: str, i: int = 0) -> list[list[str]]:
        """Rows (header first) of table ``i`` of section ``sid``, cells as the reader sees them."""
        return self.sections[sid].tables[i]

    def figures(self) -> list[Figure]:
        """Every figure of the report, in order."""
        return [f for s in self.sections.values() for f in s.figures]


def _squash(parts: list[str]) -> str:
    """Join text pieces, with runs of white space made one space."""
    return " ".join("".join(parts).split())


def parse(html: str) -> ReportDocument:
    """Parse a report's HTML."""
    return ReportDocument(html)


def fmt(value: float) -> str:
    """A number as the report writes it (3 decimals)."""
    return f"{value:.3f}"
