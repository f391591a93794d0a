"""The written report in a real headless Chromium: no console error, no request but the file.

A negative control (the same page with one external image and one console error added) checks
that the listeners would have caught them. Skipped where Chromium or playwright is missing.
"""

from __future__ import annotations

import pytest
from report_browser import CHROMIUM, open_report

import nma_bayes as nb
from nma_bayes.report.html_report import write_report

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable on PATH")

#: Hostile names: if escaping failed, a script would run (a dialog or a console message).
SCRIPT = "<script>alert('treatment')</script>"
CLASS = "<img src=x onerror=\"console.error('class')\">"


@pytest.fixture(scope="module")
def report_path(tmp_path_factory):
    df = nb.datasets.load_dataset("psps_t2_illustrative").copy()
    for col in ("treat1", "treat2"):
        df[col] = df[col].replace("Sham", SCRIPT)
    for col in ("treat1_class", "treat2_class"):
        df[col] = df[col].replace("placebo/sham", CLASS)
    fit = nb.fit_network(
        df,
        reference="Conventional medical management",
        classes="class",
        measure="SMD",
        engine="exact",
        random_seed=1,
        draws=250,
    )
    assert CLASS in fit.network.classes.values()
    path = tmp_path_factory.mktemp("browser") / "report.html"
    return write_report(fit, path, lower_is_better=True)


def _open(path):
    """Load ``path`` in Chromium; return what the page did: requests, console, errors, images."""
    return open_report(path, {
        "images": "Array.from(document.images).map(i => [i.complete, i.naturalWidth])",
        "captions": "document.querySelectorAll('figcaption').length",
    })  # fmt: skip


def test_report_loads_nothing_else_and_logs_no_error(report_path, tmp_path):
    seen = _open(report_path)
    url = report_path.as_uri()
    others = [r for r in seen["requests"] if r != url and not r.startswith("data:")]
    assert others == []
    assert url in seen["requests"]
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["errors"] == [] and seen["dialogs"] == []
    # every figure decoded as an image, each with its caption
    images = seen["images"]
    assert len(images) == 5  # network, forest, rankogram, SUCRA plot, class rank plot
    assert all(complete and width > 100 for complete, width in images)
    assert seen["captions"] == len(images)
    assert seen["title"].startswith("Network meta-analysis")

    # negative control: the listeners catch an external request and a console error
    html = report_path.read_text(encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(
        html.replace(
            "</body>",
            '<img src="https://example.invalid/x.png"><script>console.error("boom")</script>'
            "</body>",
        ),
        encoding="utf-8",
    )
    control = _open(bad)
    assert "https://example.invalid/x.png" in control["requests"]
    assert ("error", "boom") in control["console"]
