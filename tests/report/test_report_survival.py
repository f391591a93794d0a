"""The survival report: its sections hold what the summaries return; it opens in Chromium."""

import warnings

import numpy as np
import pandas as pd
import pytest
from report_browser import CHROMIUM, open_report
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.base.errors import NMAConvergenceWarning

#: A hostile treatment name: if escaping failed, a script would run.
SCRIPT = "<script>alert('len')</script>"
TIMES = [1.0, 2.0, 4.0]


def _ndmm() -> pd.DataFrame:
    agd = nb.datasets.load_dataset("ndmm_survival", "ndmm_agd")
    data = agd.rename(columns={"trt": "treatment"}).assign(time=agd["eventtime"] / 12)
    return data.assign(treatment=data["treatment"].replace("Thal", SCRIPT))


@pytest.fixture(scope="module")
def fit():
    with warnings.catch_warnings():  # a short run: the report, not the posterior, is the subject
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        return nb.fit_survival(_ndmm(), model="weibull", reference="Pbo", random_seed=4,
                               draws=300, tune=300)  # fmt: skip


def test_survival_report_sections_hold_the_summaries(fit):
    html = nb.survival_report_html(fit, times=TIMES, baseline_study="Morgan2012",
                                   data=_ndmm())  # fmt: skip
    report = parse(html)
    assert list(report.sections) == ["model", "diagnostics", "hazard-ratios", "survival",
                                     "model-fit", "software"]  # fmt: skip
    assert "Weibull (proportional hazards)" in report.sections["model"].all_text
    hr = nb.hazard_ratios(fit, TIMES, baseline_study="Morgan2012")
    table = report.table("hazard-ratios")
    assert len(table) == 1 + len(hr)
    first = hr.iloc[0]
    assert table[1][:3] == [fmt(first["time"]), SCRIPT, fmt(first["mean"])]
    out = nb.survival_summary(fit, np.unique(np.r_[np.linspace(0, 4, 60), TIMES]),
                              baseline_study="Morgan2012", horizon=4.0)  # fmt: skip
    median = report.table("survival", 1)
    assert median[1][:3] == [out["median"]["treatment"].iloc[0],
                             *(fmt(out["median"][c].iloc[0]) for c in ("mean", "sd"))]  # fmt: skip
    ranks = nb.rmst_rankings(fit, 4.0, baseline_study="Morgan2012")["sucra"]
    assert report.table("survival", 3)[1][:2] == [ranks["treatment"].iloc[0],
                                                  fmt(ranks["sucra"].iloc[0])]  # fmt: skip
    assert fmt(fit.model_fit()["DIC"].iloc[0]) in report.sections["model-fit"].all_text
    captions = [f.caption for f in report.figures()]
    assert len(captions) == 2 and "Kaplan-Meier" in captions[1]
    assert "<script>alert" not in html.replace(SCRIPT.replace("<", "&lt;"), "")


def test_survival_report_refuses_times_at_zero(fit):
    with pytest.raises(nb.ModelSpecError, match="times > 0"):
        nb.survival_report_html(fit, times=[0, 1], baseline_study="Morgan2012")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable on PATH")
def test_survival_report_opens_in_chromium(fit, tmp_path):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = nb.write_survival_report(fit, tmp_path / "survival.html", times=TIMES,
                                    baseline_study="Morgan2012", data=_ndmm())  # fmt: skip
    seen = open_report(path, {
        "images": "Array.from(document.images).map(i => [i.complete, i.naturalWidth])",
        "captions": "document.querySelectorAll('figcaption').length",
    })  # fmt: skip
    others = [r for r in seen["requests"] if r != path.as_uri() and not r.startswith("data:")]
    assert others == []
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert len(seen["images"]) == 2 and all(c and w > 100 for c, w in seen["images"])
    assert seen["captions"] == 2


def test_survival_fit_repr_html_is_escaped_and_summarises_the_fit(fit):
    html = fit._repr_html_()
    assert SCRIPT not in html and "&lt;script&gt;" in html
    assert "weibull (fixed effects)" in html and "reference Pbo" in html
    effects = fit.relative_effects().set_index("treatment")
    assert f"{effects.loc['Len', 'median']:.3g}" in html
    assert repr(fit).startswith("SurvivalFit(model='weibull'")
