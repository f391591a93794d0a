"""HTML report and table exports: sections, numbers, escaping of hostile names, formats."""

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from report_parsing import parse

import nma_bayes as nb
from nma_bayes.report.export import export_tables
from nma_bayes.report.html_report import package_versions, write_report


@pytest.fixture(scope="module")
def fit():
    df = nb.datasets.load_dataset("therapy_formats")
    return nb.fit_network(df, reference="cau", engine="exact", random_seed=1)


class _Sections(HTMLParser):
    """Collect section ids and the text inside each section."""

    def __init__(self):
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.current = None
        self.images = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.text[self.current] = []
        if tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.text[self.current].append(data)


def _parse(path):
    parser = _Sections()
    parser.feed(path.read_text(encoding="utf-8"))
    return {k: " ".join(v) for k, v in parser.text.items()}, parser.images


def test_report_sections_and_numbers(fit, tmp_path):
    path = write_report(fit, tmp_path / "sub" / "report.html", lower_is_better=True)
    assert path.exists()
    sections, images = _parse(path)
    for sid in (
        "data",
        "network-plot",
        "model",
        "diagnostics",
        "relative-effects",
        "relative-effects-all-pairs",
        "league-table",
        "rankings",
        "heterogeneity",
        "model-fit",
        "software",
    ):
        assert sid in sections, sid
    rel = fit.relative_effects()
    ind = rel.set_index("treatment").loc["ind"]
    assert f"{ind['median']:.3f}" in sections["relative-effects"]
    assert f"{ind['ci_lower']:.3f}" in sections["relative-effects"]
    league = fit.league_table(digits=3)  # the report's effects all have 3 decimals
    assert league.loc["grp", "cau"] in sections["league-table"]
    assert fit.league_table().loc["grp", "cau"] not in sections["league-table"]
    sucra = fit.sucra(lower_is_better=True).set_index("treatment")
    assert f"{sucra.loc['ind', 'sucra']:.3f}" in sections["rankings"]
    tau = fit.heterogeneity().loc["tau", "median"]
    assert f"{tau:.3f}" in sections["heterogeneity"]
    assert "normal(0, 10^2)" in sections["model"]
    assert "half-normal(0, 1^2)" in sections["model"]
    assert "182" in sections["data"]
    software = sections["software"]
    assert re.search(r"Seed\s+1\b", software)
    assert "exact" in software
    for name, version in package_versions().items():
        assert name in software and version in software
    assert any(src.startswith("data:image/png;base64,") for src in images)


def test_report_without_direction_has_no_rankings_table(fit, tmp_path):
    path = write_report(fit, tmp_path / "r.html", title="My & title")
    html = path.read_text(encoding="utf-8")
    sections, _ = _parse(path)
    assert "Not computed" in sections["rankings"]
    assert "My &amp; title" in html and "My & title" not in html


def test_fixed_effect_report(tmp_path):
    df = nb.datasets.load_dataset("parkinsons")
    fe = nb.fit_network(df, effects="fixed", engine="exact", random_seed=3)
    sections, _ = _parse(write_report(fe, tmp_path / "fe.html"))
    assert "no between-study heterogeneity" in sections["heterogeneity"]
    assert re.search(r"Seed\s+3\b", sections["software"])


#: Hostile class names: a script, an attribute break-out with quotes, an ampersand entity.
HOSTILE_CLASSES = {
    "Placebo": "<script>alert('class')</script>",
    "Bromocriptine": 'ergot" onmouseover="alert(2)',
    "Cabergoline": 'ergot" onmouseover="alert(2)',
    "Pramipexole": "non-ergot & <b>bold</b> &amp;",
}


def test_hostile_names_are_escaped(tmp_path):
    df = nb.datasets.load_dataset("parkinsons").copy()
    script = "<script>alert(1)</script>"
    img = "<img src=x onerror=alert(1)>"
    for col in ("treat1", "treat2"):
        df[col] = df[col].replace("Ropinirole", script)
    df["study"] = df["study"].replace("Lieberman 1998", img)
    assert (df["study"] == img).any()
    classes = {**HOSTILE_CLASSES, script: HOSTILE_CLASSES["Pramipexole"]}
    fit = nb.fit_network(df, reference="Placebo", classes=classes, engine="exact", random_seed=1)
    assert script in fit.treatments
    assert set(fit.network.classes.values()) == set(HOSTILE_CLASSES.values())
    split = nb.nodesplit(df, reference="Placebo", random_seed=1)
    prior = "<script>alert('prior')</script>"
    sensitivity = nb.prior_sensitivity(
        df, {prior: nb.HalfNormal(0.5)}, reference="Placebo", lower_is_better=True, random_seed=1
    )
    html = write_report(
        fit,
        tmp_path / "hostile.html",
        lower_is_better=True,
        nodesplit=split,
        sensitivity=sensitivity,
    ).read_text()
    assert script not in html
    assert img not in html
    assert "<script" not in html
    assert "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # class names: no tag, no attribute break-out, the ampersand escaped once more
    assert "<b>bold</b>" not in html and 'ergot" onmouseover' not in html
    assert "ergot&quot; onmouseover=&quot;alert(2)" in html
    assert "non-ergot &amp; &lt;b&gt;bold&lt;/b&gt; &amp;amp;" in html
    # the reader sees the names as they were given, in the class sections and the rest
    report = parse(html)
    assert {"class-effects", "class-effects-all-pairs", "class-rankings"} <= set(report.sections)
    shown = {row[0] for row in report.table("class-rankings")[1:]}
    assert shown == set(HOSTILE_CLASSES.values())
    assert HOSTILE_CLASSES["Placebo"] in {row[1] for row in report.table("class-effects")[1:]}
    assert script in {row[0] for row in report.table("nodesplit")[1:]} | {
        row[1] for row in report.table("nodesplit")[1:]
    }
    assert prior in report.table("prior-sensitivity", 1)[0]  # a column per prior
    assert all(tag != "script" for tag in report.tags)
    for path in export_tables(fit, tmp_path / "t.html", format="html", lower_is_better=True):
        text = path.read_text()
        assert script not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_export_csv(fit, tmp_path):
    paths = export_tables(fit, tmp_path / "csv", lower_is_better=False)
    names = sorted(p.name for p in paths)
    assert names == [
        "cumulative_rank_probabilities.csv",  # the decision tables (direction known)
        "league_table.csv",
        "relative_effects.csv",
        "relative_effects_all_pairs.csv",
        "sucra.csv",
        "top_k.csv",
    ]
    rel = pd.read_csv(tmp_path / "csv" / "relative_effects.csv")
    pd.testing.assert_frame_equal(rel, fit.relative_effects(), check_exact=False, rtol=1e-9)
    league = pd.read_csv(tmp_path / "csv" / "league_table.csv", index_col=0)
    cell = fit.league_table().loc["grp", "cau"]
    assert league.loc["grp", "cau"] == ("'" + cell if cell.startswith("-") else cell)
    assert len(export_tables(fit, tmp_path / "csv2")) == 3  # no direction: no SUCRA


def test_export_xlsx(fit, tmp_path):
    pytest.importorskip("openpyxl")
    (path,) = export_tables(fit, tmp_path / "tables.xlsx", format="xlsx", lower_is_better=True)
    sheets = pd.read_excel(path, sheet_name=None)
    assert set(sheets) == {
        "relative_effects",
        "relative_effects_all_pairs",
        "league_table",
        "sucra",
        "top_k",
        "cumulative_rank_probabilities",
    }
    assert sheets["relative_effects"]["median"].tolist() == pytest.approx(
        fit.relative_effects()["median"].tolist()
    )


def test_export_bad_format(fit, tmp_path):
    with pytest.raises(ValueError, match="format"):
        export_tables(fit, tmp_path / "x", format="pdf")


FORMULA_NAMES = {
    "Bromocriptine": '=HYPERLINK("http://x","y")',
    "Cabergoline": "+1",
    "Pramipexole": "-cmd",
    "Ropinirole": "@SUM(A1)",
    "Placebo": "A\x07B",  # a control character: openpyxl refuses it unescaped
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")  # a number written as text (CSV)


def _assert_spreadsheet_safe(value):
    if isinstance(value, str):
        assert not value.startswith(TRIGGERS) or NUMERIC.fullmatch(value), repr(value)
        assert not re.search(r"[\x00-\x08\x0b-\x1f]", value), repr(value)


@pytest.fixture(scope="module")
def formula_fit():
    df = nb.datasets.load_dataset("parkinsons").copy()
    for col in ("treat1", "treat2"):
        df[col] = df[col].replace(FORMULA_NAMES)
    return nb.fit_network(df, reference="A\x07B", effects="fixed", engine="exact", random_seed=1)


def test_xlsx_export_neutralises_formulas_and_control_characters(formula_fit, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    (path,) = export_tables(formula_fit, tmp_path / "t.xlsx", format="xlsx", lower_is_better=True)
    book = openpyxl.load_workbook(path)
    texts, numbers = set(), []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                _assert_spreadsheet_safe(cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                elif isinstance(cell.value, int | float):
                    numbers.append(cell.value)
    assert {'\'=HYPERLINK("http://x","y")', "'+1", "'-cmd", "'@SUM(A1)", "A\\x07B"} <= texts
    assert any(v < 0 for v in numbers)  # negative numbers stay numbers, unquoted
    rel = pd.read_excel(path, sheet_name="relative_effects")
    assert pd.api.types.is_float_dtype(rel["mean"])
    expected = formula_fit.relative_effects()["mean"].tolist()
    assert rel["mean"].tolist() == pytest.approx(expected)


def test_csv_export_neutralises_formulas(formula_fit, tmp_path):
    import csv

    paths = export_tables(formula_fit, tmp_path / "csv", lower_is_better=True, mcid=0.2)
    assert len(paths) == 7  # with top_k, cumulative_rank_probabilities and prob_difference
    cells = []
    for p in paths:
        with p.open(newline="", encoding="utf-8") as handle:
            cells += [c for row in csv.reader(handle) for c in row]
    for c in cells:
        _assert_spreadsheet_safe(c)
    assert '\'=HYPERLINK("http://x","y")' in cells and "'-cmd" in cells and "A\\x07B" in cells
    rel = pd.read_csv(tmp_path / "csv" / "relative_effects.csv")
    assert pd.api.types.is_float_dtype(rel["mean"]) and (rel["ci_lower"] < 0).any()
    league = pd.read_csv(tmp_path / "csv" / "league_table.csv", index_col=0)
    original = formula_fit.league_table()
    cell = original.loc["-cmd", "A\x07B"]
    assert cell.startswith("-")  # a negative estimate: its interval cell is quoted in the export
    assert league.loc["'-cmd", "A\\x07B"] == "'" + cell


def test_html_export_is_escaped_not_quoted(formula_fit, tmp_path):
    (path,) = export_tables(formula_fit, tmp_path / "t.html", format="html")
    html = path.read_text(encoding="utf-8")
    assert '<td>=HYPERLINK("http://x","y")</td>' in html  # text content: no formula in HTML
    assert "'=HYPERLINK" not in html


def test_spreadsheet_safe_keeps_numbers_and_input():
    from nma_bayes.report.export import spreadsheet_safe

    table = pd.DataFrame(
        {"name": ["=1+1", "\tx", "\rx", "plain", "-0.10 (-0.20, 0.00)"], "v": [-1.5, 2, 3, 4, 5]},
        index=pd.Index(["@a", "b", "c", "d", "e"], name="=idx"),
    )
    table["mixed"] = pd.Series([-2.0, "-x", None, "ok\x00", 1], index=table.index, dtype=object)
    safe = spreadsheet_safe(table)
    assert safe["name"].tolist() == ["'=1+1", "'\tx", "'\\x0dx", "plain", "'-0.10 (-0.20, 0.00)"]
    assert safe["v"].tolist() == [-1.5, 2, 3, 4, 5] and safe["v"].dtype == table["v"].dtype
    assert safe["mixed"].tolist() == [-2.0, "'-x", None, "ok\\x00", 1]
    assert safe.index.tolist()[0] == "'@a" and safe.index.name == "'=idx"
    assert table.loc["@a", "name"] == "=1+1"  # the input is not modified
