"""The report of an ordered categorical fit and of a risk-ratio fit: sections and scale words."""

import warnings

import pytest
from reference_helpers import PSORIASIS, psoriasis_arms
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.base.errors import NMAConvergenceWarning
from nma_bayes.report.html_report import report_html


@pytest.fixture(scope="module")
def ordered_fit():
    with warnings.catch_warnings():  # a short run: the report, not the posterior, is the subject
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        short = dict(effects="fixed", draws=200, tune=300, random_seed=4)
        return nb.fit_network(psoriasis_arms(), **PSORIASIS, **short)


def test_ordered_report_has_its_cutpoints_and_probit_scale(ordered_fit):
    report = parse(report_html(ordered_fit, lower_is_better=False))
    table = report.table("cutpoints")
    cut = ordered_fit.cutpoints()
    assert [row[0] for row in table[1:]] == ["PASI75", "PASI90"]
    assert table[1][2:7] == [
        fmt(cut.iloc[0][c]) for c in ("mean", "sd", "median", "ci_lower", "ci_upper")
    ]
    assert "probit difference" in report.sections["relative-effects"].scale_notes[0]
    assert "PASI50 fixed at 0" in report.sections["cutpoints"].all_text
    model = report.sections["model"].all_text
    assert "ordered (probit link)" in model and "prior cutpoints" in model.lower()
    fit_table = report.table("model-fit")
    assert fit_table[1][-1] == "58"  # data points: reported cutpoints over all arms


def test_risk_ratio_report_says_risk_ratio():
    smoking = nb.datasets.load_dataset("smoking", "arms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NMAConvergenceWarning)
        fit = nb.fit_network(
            smoking,
            likelihood="binomial",
            link="log",
            effects="fixed",
            reference="No intervention",
            draws=200,
            tune=300,
            random_seed=4,
        )
    report = parse(report_html(fit, lower_is_better=False))
    assert "log risk ratio (logRR)" in report.sections["relative-effects"].scale_notes[0]
    assert "cutpoints" not in report.sections
    assert "truncated to mu <= 0" in report.sections["model"].all_text
