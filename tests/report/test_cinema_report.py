"""The report sections "Confidence in the results (CINeMA)" and "Threshold analysis", their
exports, and the page in a real headless Chromium.

Every cell shown is compared with the result object it comes from (``Confidence.summary()``,
``Confidence.league()``, ``Thresholds.to_frame()``); a treatment name that is HTML checks the
escaping throughout.
"""

from __future__ import annotations

import base64
import dataclasses
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from report_browser import CHROMIUM, assert_quiet, open_report
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.report.export import TABLE_TITLES, export_tables
from nma_bayes.report.html_report import report_html, write_report
from nma_bayes.results.cinema_result import RATING_COLOURS

HOSTILE = "<script>alert('trt')</script>"
DOMAIN_HEADER = ["Treatment", "Comparator", "Within-study bias", "Reporting bias",
                 "Indirectness", "Imprecision", "Heterogeneity", "Incoherence",
                 "Confidence"]  # fmt: skip


@pytest.fixture(scope="module")
def fit():
    df = nb.datasets.load_dataset("parkinsons").copy()
    for col in ("treat1", "treat2"):
        df[col] = df[col].replace({"Pramipexole": HOSTILE})
    return nb.fit_network(df, reference="Placebo", engine="exact", random_seed=1)


@pytest.fixture(scope="module")
def conf(fit):
    studies = fit.network.studies
    rob = {s: (i % 3) + 1 for i, s in enumerate(studies)}
    result = nb.cinema(fit, rob=rob, indirectness=dict.fromkeys(studies, 1), mcid=0.5)
    assert result.to_frame()["rating"].nunique() >= 3  # the colours can tell ratings apart
    return result


@pytest.fixture(scope="module")
def th(fit):
    result = nb.threshold_analysis(fit, lower_is_better=True)
    table = result.to_frame()
    assert np.isinf(table["threshold_lower"]).any()  # the "none" cells are exercised
    return result


@pytest.fixture(scope="module")
def html(fit, conf, th):
    return report_html(fit, cinema=conf, thresholds=th)


@pytest.fixture(scope="module")
def report(html):
    return parse(html)


class _Cells(HTMLParser):
    """Rows of ``(text, inline style)`` cells of the tables with CSS class ``cls``."""

    def __init__(self, html: str, cls: str):
        super().__init__(convert_charrefs=True)
        self.cls, self.rows, self._depth, self._cell = cls, [], 0, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.cls in (attrs.get("class") or "").split():
            self._depth = 1
        elif self._depth and tag == "tr":
            self.rows.append([])
        elif self._depth and tag in ("td", "th"):
            self._cell = ["", attrs.get("style") or ""]

    def handle_endtag(self, tag):
        if self._depth and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._cell[0].strip(), self._cell[1]))
            self._cell = None
        elif tag == "table":
            self._depth = 0

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def _background(style: str) -> str:
    """The ``background`` colour of an inline style ("" when none)."""
    for part in style.split(";"):
        name, _, value = part.partition(":")
        if name.strip() == "background":
            return value.strip()
    return ""


# ----------------------------------------------------------------------------- CINeMA
def test_sections_are_in_the_page_and_its_navigation(html, report):
    assert report.sections["cinema"].heading == "Confidence in the results (CINeMA)"
    assert report.sections["thresholds"].heading == "Threshold analysis"
    starts = [html.index(f'<section id="{s}">') for s in ("model-fit", "cinema", "cinema-league",
                                                          "thresholds", "software")]  # fmt: skip
    assert starts == sorted(starts)
    assert report.links.index("thresholds") == report.links.index("cinema") + 1
    assert HOSTILE not in html and "&lt;script&gt;" in html


def test_summary_table_equals_the_summary_with_coloured_ratings(html, report, conf):
    summary = conf.summary()
    (table,) = [t for t in report.sections["cinema"].tables if t[0] == DOMAIN_HEADER]
    assert table[1:] == summary.astype(str).to_numpy().tolist()
    cells = _Cells(html, "nma-cinema-summary").rows
    assert [c[0] for c in cells[0]] == DOMAIN_HEADER
    colours = [_background(row[-1][1]) for row in cells[1:]]
    assert colours == [RATING_COLOURS[r] for r in summary["rating"]]
    assert all(_background(style) == "" for row in cells[1:] for _, style in row[:-1])


def test_facts_and_the_bayesian_counterparts(report, conf):
    facts = dict(map(tuple, report.sections["cinema"].tables[0]))
    assert facts["Range of equivalence"] == f"{fmt(conf.zone[0])} to {fmt(conf.zone[1])}"
    assert facts["Study-judgement rule"] == conf.rule == "majority"
    q = conf.global_test
    assert facts["Global test of incoherence"] == (
        f"Q = {fmt(q['Q'])}, df = {q['df']}, p = {fmt(q['p_value'])}")  # fmt: skip
    text = report.sections["cinema"].all_text
    assert "posterior predictive interval" in text and "Wald test" in text
    counts = ", ".join(f"{n} {r}" for r, n in conf.counts().itertuples(index=False))
    assert f"Comparisons rated: {counts}." in text


def test_league_cells_are_coloured_by_the_ratings(html, report, conf):
    estimates, ratings = conf.league()
    names = list(conf.treatments)
    assert HOSTILE in names
    cells = _Cells(html, "nma-cinema-league").rows
    assert [c[0] for c in cells[0]] == ["", *names]
    assert len(cells) == len(names) + 1
    for name, row in zip(names, cells[1:], strict=True):
        assert row[0][0] == name
        for col, (text, style) in zip(names, row[1:], strict=True):
            if col == name:
                assert text == name
                continue
            assert text == estimates.loc[name, col]
            assert _background(style) == RATING_COLOURS[ratings.loc[name, col]]
    # the reader's view (report_parsing) agrees
    shown = report.table("cinema-league")
    assert shown[1][1:] == [names[0], *estimates.iloc[0, 1:]]


# ----------------------------------------------------------------------------- thresholds
def test_threshold_section_has_the_plot_and_the_table(report, th):
    section = report.sections["thresholds"]
    (figure,) = section.figures
    assert figure.alt == "threshold forest plot" and "decision-invariant" in figure.caption
    png = base64.b64decode(figure.src.removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert str(th.kstar) in section.all_text
    header, *rows = report.table("thresholds")
    frame = th.to_frame()
    assert len(rows) == len(frame)
    labels = {"Data point": "data_point", "Estimate": "y", "Likelihood SE": "se",
              "Threshold lower": "threshold_lower", "Threshold upper": "threshold_upper",
              "Invariant interval lower": "invariant_lower",
              "Invariant interval upper": "invariant_upper"}  # fmt: skip
    assert set(labels) <= set(header)
    for label, col in labels.items():
        i = header.index(label)
        if col == "data_point":
            expected = [str(v) for v in frame[col]]
        else:
            expected = ["none" if np.isinf(v) else fmt(v) for v in frame[col]]
        assert [r[i] for r in rows] == expected, label
    for label, col in (("New optimal treatment (lower)", "new_optimal_lower"),
                       ("Contrast", "contrast"), ("Study", "study")):  # fmt: skip
        i = header.index(label)
        assert [r[i] for r in rows] == ["" if v is None else str(v) for v in frame[col]]


def test_sections_only_on_request(fit, conf, th):
    plain = parse(report_html(fit))
    assert not {"cinema", "cinema-league", "thresholds"} & set(plain.sections)
    assert "cinema" not in plain.links and "thresholds" not in plain.links
    only = parse(report_html(fit, thresholds=th))
    assert "thresholds" in only.sections and "cinema" not in only.sections


def test_bad_arguments_are_refused_before_anything_is_written(fit, conf, th, tmp_path):
    other = dataclasses.replace(conf, treatments=("A", "B", "C", "D", "E"))
    cases = [
        ({"cinema": conf.to_frame()}, "cinema must be the Confidence returned by nb.cinema"),
        ({"cinema": "yes"}, "got str"),
        ({"cinema": th}, "got Thresholds"),
        ({"cinema": other}, "not this fit's"),
        ({"thresholds": th.to_frame()}, "thresholds must be the Thresholds returned by"),
        ({"thresholds": conf}, "got Confidence"),
    ]
    path = tmp_path / "sub" / "report.html"
    for kwargs, message in cases:
        for write in (write_report, type(fit).to_report):
            with pytest.raises(ModelSpecError, match=message) as err:
                write(fit, path, **kwargs)
            assert err.value.rule == "bad-option"
        with pytest.raises(ModelSpecError, match=message):
            export_tables(fit, tmp_path / "csv", **kwargs)
        assert not (tmp_path / "sub").exists() and not (tmp_path / "csv").exists()


# ----------------------------------------------------------------------------- exports
def test_exports_write_the_result_tables(fit, conf, th, tmp_path):
    paths = fit.to_csv(tmp_path / "csv", cinema=conf, thresholds=th)
    assert [p.stem for p in paths][-2:] == ["cinema", "thresholds"]
    assert {"cinema", "thresholds"} <= set(TABLE_TITLES)
    for name, table in (("cinema", conf.to_frame()), ("thresholds", th.to_frame())):
        written = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        assert list(written.columns) == list(table.columns), name
        numeric = table.select_dtypes("number").columns
        np.testing.assert_allclose(written[numeric], table[numeric], rtol=1e-12, err_msg=name)
    written = pd.read_csv(tmp_path / "csv" / "cinema.csv")
    assert list(written["rating"]) == list(conf.to_frame()["rating"])
    names = set(written["treatment"]) | set(written["comparator"])
    assert HOSTILE in names  # no formula trigger: written as it is
    (book,) = fit.to_excel(tmp_path / "t.xlsx", cinema=conf, thresholds=th)
    sheets = pd.read_excel(book, sheet_name=None)
    assert list(sheets["cinema"]["rating"]) == list(conf.to_frame()["rating"])
    assert len(sheets["thresholds"]) == len(th.to_frame())
    (page,) = fit.to_html(tmp_path / "t.html", cinema=conf, thresholds=th)
    exported = parse(page.read_text(encoding="utf-8"))
    assert exported.sections["cinema"].heading == TABLE_TITLES["cinema"]
    assert exported.sections["thresholds"].heading == TABLE_TITLES["thresholds"]
    plain = {p.stem for p in export_tables(fit, tmp_path / "plain")}
    assert not {"cinema", "thresholds"} & plain


# ----------------------------------------------------------------------------- browser
def _rgb(colour: str) -> str:
    r, g, b = (round(255 * c) for c in to_rgb(colour))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable on PATH")
def test_report_in_headless_chromium(fit, conf, th, tmp_path):
    path = write_report(fit, tmp_path / "report.html", cinema=conf, thresholds=th)
    seen = open_report(path, {
        "ids": "Array.from(document.querySelectorAll('section[id]')).map(s => s.id)",
        "nav": "Array.from(document.querySelectorAll('nav a')).map(a => a.hash)",
        "colours": "Array.from(document.querySelectorAll('.nma-cinema-league td.rating'))"
                   ".map(c => [c.innerText, getComputedStyle(c).backgroundColor])",
        "images": "Array.from(document.querySelectorAll('#thresholds img'))"
                  ".map(i => [i.alt, i.complete, i.naturalWidth])",
        "heads": "Array.from(document.querySelectorAll('.nma-cinema-league th'))"
                 ".map(c => c.innerText)",
    })  # fmt: skip
    assert_quiet(seen, path)
    ids, nav, colours, images, heads = (seen[k] for k in ("ids", "nav", "colours", "images",
                                                          "heads"))  # fmt: skip
    assert {"cinema", "cinema-league", "thresholds"} <= set(ids)
    assert {"#cinema", "#thresholds"} <= set(nav)
    estimates, ratings = conf.league()
    names = list(conf.treatments)
    expected = [[estimates.loc[r, c], _rgb(RATING_COLOURS[ratings.loc[r, c]])]
                for r in names for c in names if r != c]  # fmt: skip
    assert colours == expected
    assert [(alt, ok, w > 100) for alt, ok, w in images] == [("threshold forest plot", True, True)]
    assert HOSTILE in heads  # shown as text, not run
