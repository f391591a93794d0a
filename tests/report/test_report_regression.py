"""The report of a meta-regression fit: its section, numbers, figure, and escaping."""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser

import pytest
from reference_helpers import PARKINSONS_YEAR as YEAR

import nma_bayes as nb
from nma_bayes.base.errors import CovariateWarning
from nma_bayes.report.html_report import report_html, write_report

HOSTILE = "<script>alert('x')</script>"
NAV_WITHOUT_REGRESSION = [
    "data",
    "network-plot",
    "model",
    "diagnostics",
    "relative-effects",
    "league-table",
    "rankings",
    "decisions",  # a note without a direction
    "heterogeneity",
    "model-fit",
    "software",
]


def parkinsons(name: str = "year"):
    df = nb.datasets.load_dataset("parkinsons").copy()
    df[name] = df["study"].map(YEAR)
    df["setting"] = df["study"].map({s: ("a" if v < 6 else "b") for s, v in YEAR.items()})
    return df


@pytest.fixture(scope="module")
def fit():
    with warnings.catch_warnings():  # each comparison's studies sit in one setting
        warnings.simplefilter("ignore", CovariateWarning)
        return nb.fit_network(
            parkinsons(),
            reference="Placebo",
            covariates=["year", "setting"],
            interaction="independent",
            engine="exact",
            random_seed=1,
        )


class _Report(HTMLParser):
    """Section texts, images per section, headings and navigation links of a report."""

    def __init__(self):
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.images: dict[str, list[str]] = {}
        self.links: list[str] = []
        self.current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.text[self.current], self.images[self.current] = [], []
        elif tag == "img" and self.current is not None:
            self.images[self.current].append(attrs.get("src", ""))
        elif tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.text[self.current].append(data)


def parse(html: str) -> _Report:
    parser = _Report()
    parser.feed(html)
    return parser


def test_regression_section_numbers_and_figure(fit, tmp_path):
    path = write_report(fit, tmp_path / "reg.html", lower_is_better=True)
    html = path.read_text(encoding="utf-8")
    assert "could not be drawn" not in html  # every figure drawn, the forest plot included
    assert html.count("<figcaption>") == html.count("<img ") == 5
    report = parse(html)
    assert "meta-regression" in report.text
    text = " ".join(report.text["meta-regression"])
    assert text.startswith("Meta-regression")  # the section heading
    assert report.links.index("meta-regression") == report.links.index("diagnostics") + 1
    table = fit.regression()
    assert len(table) == 2 * 4  # year and setting[b], one beta per non-reference treatment
    # every 3-decimal number of the section, in order, is the table's, row by row
    cells = re.findall(r"-?\d+\.\d{3}\b", text)
    stats = table[["mean", "sd", "median", "ci_lower", "ci_upper"]].to_numpy().ravel()
    assert cells == [f"{v:.3f}" for v in stats]
    assert re.findall(r"\bbeta\s+(\S+)\s+\S+\s+(\w+)\s+-?\d", text) == list(
        zip(table["term"], table["group"], strict=True)
    )
    assert "setting[b]" in text
    # the model in words, with the centring value, and the note on where effects are evaluated
    about = fit.describe()
    assert about["meta-regression"] in text
    center = table.attrs["center"]["year"]
    assert f"year at {center:.6g}" in text and "setting vs a" in text
    assert "interaction independent" in text
    assert "at the centring values" in text
    (image,) = report.images["meta-regression"]
    assert image.startswith("data:image/png;base64,") and len(image) > 1000


def test_report_without_covariates_has_no_regression_section(tmp_path):
    plain = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", engine="exact", random_seed=1
    )
    html = write_report(plain, tmp_path / "plain.html").read_text(encoding="utf-8")
    report = parse(html)
    assert "meta-regression" not in report.text
    assert report.links == NAV_WITHOUT_REGRESSION
    assert "Meta-regression" not in html and "meta-regression" not in html


def test_hostile_covariate_name_is_escaped():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovariateWarning)
        fit = nb.fit_network(
            parkinsons(HOSTILE),
            reference="Placebo",
            covariates=HOSTILE,
            effects="fixed",
            engine="exact",
            random_seed=1,
        )
    html = report_html(fit)
    assert HOSTILE not in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    text = " ".join(parse(html).text["meta-regression"])
    assert HOSTILE in text  # shown as text (escaped in the file, decoded by the parser)
    beta = fit.regression().iloc[0]
    assert f"{beta['median']:.3f}" in text
