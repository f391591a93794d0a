"""The report's decision section and the decision exports equal the fit's decision summaries."""

from __future__ import annotations

import pandas as pd
import pytest
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.report.export import export_tables, fit_tables
from nma_bayes.report.html_report import report_html

REFERENCE = "Conventional medical management"


@pytest.fixture(scope="module")
def fit():
    """Exact fit of the simulated PSPS-T2 network (10 treatments, 5 classes; SMD of pain)."""
    data = nb.datasets.load_dataset("psps_t2_illustrative")
    return nb.fit_network(data, reference=REFERENCE, classes="class", measure="SMD",
                          engine="exact", random_seed=7)  # fmt: skip


@pytest.fixture(scope="module")
def report(fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("decisions") / "report.html"
    return parse(fit.to_report(path, lower_is_better=True, mcid=0.3).read_text(encoding="utf-8"))


def test_top_k_table_equals_the_fits_top_k(fit, report):
    table = report.table("decisions", 0)
    assert table[0] == ["Treatment", "P(best)", "MCSE", "P(among the best 3)", "MCSE"]
    top = fit.top_k(k=[1, 3], lower_is_better=True)
    one, three = (top[top["k"] == k].reset_index(drop=True) for k in (1, 3))
    expected = [
        [t, fmt(one.loc[i, "probability"]), fmt(one.loc[i, "mcse"]),
         fmt(three.loc[i, "probability"]), fmt(three.loc[i, "mcse"])]
        for i, t in enumerate(one["treatment"])
    ]  # fmt: skip
    assert table[1:] == expected
    assert len(expected) == 10
    assert max(float(row[1]) for row in table[1:]) > 0.5  # a clear best treatment
    section = report.sections["decisions"]
    assert section.heading == "Decisions"
    assert "sqrt(p(1 - p)/n)" in section.all_text  # the exact engine's MCSE, said in words
    assert "lower values are better" in section.scale_notes[0]
    assert "decisions" in report.links


def test_cumulative_table_equals_the_cumulative_rank_probabilities_and_sucra(fit, report):
    table = report.table("decisions", 1)
    n = fit.network.n_treatments
    assert table[0] == ["Treatment", *(f"P(rank \u2264 {k})" for k in range(1, n)), "SUCRA"]
    cum = fit.rank_probabilities(lower_is_better=True, cumulative=True)
    sucra = fit.sucra(lower_is_better=True).set_index("treatment")["sucra"]
    expected = [
        [t, *(fmt(cum.loc[t, k]) for k in range(1, n)), fmt(sucra[t])] for t in fit.treatments
    ]
    assert table[1:] == expected
    worst = fit.top_k(k=list(range(1, n)), lower_is_better=True)["mcse"].max()
    assert f"The largest MCSE of these probabilities is {worst:.3f}" in (
        report.sections["decisions"].all_text
    )


def test_mcid_table_and_forest_plot(fit, report):
    table = report.table("decisions", 2)
    assert table[0] == ["Treatment", "Comparator", "P(better by more than the MCID)", "MCSE"]
    probs = fit.prob_difference(threshold=0.3, lower_is_better=True)
    expected = [
        [r["treatment"], r["comparator"], fmt(r["probability"]), fmt(r["mcse"])]
        for _, r in probs.iterrows()
    ]
    assert table[1:] == expected
    assert {row[1] for row in table[1:]} == {REFERENCE}
    section = report.sections["decisions"]
    text = section.all_text
    assert "minimal clinically important difference (MCID) 0.3 on the SMD scale" in text
    assert "its effect minus the reference's is lower than -0.3" in text
    (figure,) = section.figures
    assert figure.alt == "MCID forest plot"
    assert figure.src.startswith("data:image/png;base64,")
    assert "\u00b1 the MCID (0.3)" in figure.caption and REFERENCE in figure.caption


def test_class_top_k_table(fit, report):
    table = report.table("decisions", 3)
    assert table[0] == [
        "Class", "P(class holds the best treatment)", "MCSE",
        "P(class holds one of the best 3)", "MCSE",
    ]  # fmt: skip
    top = fit.class_top_k(k=[1, 3], lower_is_better=True)
    one, three = (top[top["k"] == k].reset_index(drop=True) for k in (1, 3))
    expected = [
        [c, fmt(one.loc[i, "probability"]), fmt(one.loc[i, "mcse"]),
         fmt(three.loc[i, "probability"]), fmt(three.loc[i, "mcse"])]
        for i, c in enumerate(one["class"])
    ]  # fmt: skip
    assert table[1:] == expected
    best = fit.class_rankings(lower_is_better=True)["p_best"]
    assert [row[1] for row in table[1:]] == [fmt(p) for p in best]


def test_without_mcid_or_classes_the_parts_are_left_out(tmp_path):
    data = nb.datasets.load_dataset("therapy_formats")
    plain = nb.fit_network(data, reference="cau", engine="exact", random_seed=1)
    doc = parse(report_html(plain, lower_is_better=False))
    section = doc.sections["decisions"]
    assert len(section.tables) == 2 and not section.figures  # top k and cumulative only
    top = plain.top_k(k=1, lower_is_better=False)
    assert [row[1] for row in doc.table("decisions", 0)[1:]] == [fmt(p) for p in top["probability"]]
    assert "higher values are better" in section.scale_notes[0]


def test_without_direction_the_section_says_why(fit):
    doc = parse(report_html(fit))
    section = doc.sections["decisions"]
    assert not section.tables and "Not computed" in section.all_text


@pytest.mark.parametrize("mcid", [-0.3, "0.3", float("nan"), True])
def test_bad_mcid_is_refused_before_anything_is_computed(fit, mcid):
    with pytest.raises(ModelSpecError, match="mcid must be") as err:
        report_html(fit, lower_is_better=True, mcid=mcid)
    assert err.value.rule == "bad-option"
    with pytest.raises(ModelSpecError, match="mcid must be"):
        fit_tables(fit, lower_is_better=True, mcid=mcid)


def test_mcid_needs_a_direction(fit, tmp_path):
    with pytest.raises(ModelSpecError, match="mcid= needs the benefit direction"):
        report_html(fit, mcid=0.3)
    with pytest.raises(ModelSpecError, match="mcid= needs the benefit direction"):
        fit.to_csv(tmp_path / "csv", mcid=0.3)
    assert not (tmp_path / "csv").exists()  # refused before anything was written


# ------------------------------------------------------------------------------ exports
def test_csv_export_of_the_decision_tables(fit, tmp_path):
    written = {p.name for p in fit.to_csv(tmp_path, lower_is_better=True, mcid=0.3)}
    assert {"top_k.csv", "cumulative_rank_probabilities.csv", "prob_difference.csv",
            "class_top_k.csv"} <= written  # fmt: skip
    top = pd.read_csv(tmp_path / "top_k.csv")
    pd.testing.assert_frame_equal(top, fit.top_k(k=[1, 3], lower_is_better=True), rtol=1e-12)
    cum = pd.read_csv(tmp_path / "cumulative_rank_probabilities.csv")
    assert list(cum.columns) == ["treatment", "rank", "cumulative_probability", "mcse"]
    wide = cum.pivot(index="treatment", columns="rank", values="cumulative_probability")
    expected = fit.rank_probabilities(lower_is_better=True, cumulative=True)
    pd.testing.assert_frame_equal(
        wide.loc[list(expected.index)], expected, check_names=False, rtol=1e-12
    )
    diff = pd.read_csv(tmp_path / "prob_difference.csv")
    pd.testing.assert_frame_equal(
        diff, fit.prob_difference(threshold=0.3, lower_is_better=True), rtol=1e-12
    )
    classes = pd.read_csv(tmp_path / "class_top_k.csv")
    pd.testing.assert_frame_equal(
        classes, fit.class_top_k(k=[1, 3], lower_is_better=True), rtol=1e-12
    )
    # no MCID: no prob_difference; no direction: no decision table at all
    assert "prob_difference.csv" not in {
        p.name for p in fit.to_csv(tmp_path / "b", lower_is_better=True)
    }
    names = {p.name for p in fit.to_csv(tmp_path / "c")}
    assert not names & {"top_k.csv", "cumulative_rank_probabilities.csv", "class_top_k.csv"}


def test_xlsx_and_html_exports_carry_the_decision_tables(fit, tmp_path):
    pytest.importorskip("openpyxl")
    (path,) = fit.to_excel(tmp_path / "t.xlsx", lower_is_better=True, mcid=0.3)
    sheets = pd.read_excel(path, sheet_name=None)
    assert {"top_k", "cumulative_rank_probabilities", "prob_difference", "class_top_k"} <= set(
        sheets
    )
    expected = fit.prob_difference(threshold=0.3, lower_is_better=True)["probability"]
    assert sheets["prob_difference"]["probability"].tolist() == pytest.approx(expected.tolist())
    (html,) = export_tables(fit, tmp_path / "t.html", format="html", lower_is_better=True,
                            mcid=0.3)  # fmt: skip
    doc = parse(html.read_text(encoding="utf-8"))
    assert {"top-k", "cumulative-rank-probabilities", "prob-difference"} <= set(doc.sections)
    assert doc.table("top-k")[0] == ["treatment", "k", "probability", "mcse"]


def test_hostile_names_in_the_decision_section_are_escaped():
    data = nb.datasets.load_dataset("parkinsons").copy()
    script = "<script>alert(1)</script>"
    for col in ("treat1", "treat2"):
        data[col] = data[col].replace("Ropinirole", script)
    classes = {t: ("<b>ergot</b>" if t in ("Bromocriptine", "Cabergoline") else "other & more")
               for t in set(data["treat1"]) | set(data["treat2"])}  # fmt: skip
    f = nb.fit_network(data, reference="Placebo", classes=classes, engine="exact", random_seed=1)
    html = report_html(f, lower_is_better=True, mcid=0.5)
    assert "<script" not in html and "<b>ergot</b>" not in html
    doc = parse(html)
    section = doc.sections["decisions"]
    assert script in {row[0] for row in doc.table("decisions", 0)[1:]}  # shown as given
    assert script in {row[0] for row in doc.table("decisions", 2)[1:]}
    assert {row[0] for row in doc.table("decisions", 3)[1:]} == {"<b>ergot</b>", "other & more"}
    assert len(section.figures) == 1 and section.figures[0].src.startswith("data:image/png")
