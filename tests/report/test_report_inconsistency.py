"""The report section "Inconsistency and evidence", its exports, and the page in a real browser.

Every number shown is compared with the result object it comes from (node-split table,
design-by-treatment result, the frequentist evidence structure of the fit's network).
"""

from __future__ import annotations

import base64
import types

import numpy as np
import pandas as pd
import pytest
from report_browser import CHROMIUM, assert_quiet, open_report
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.report.export import INCONSISTENCY_TABLES, TABLE_TITLES, export_tables
from nma_bayes.report.html_report import report_html, write_report
from nma_bayes.report.inconsistency_sections import evidence_structure, inconsistency_tables

SUBSECTIONS = ("nodesplit", "design-by-treatment", "q-decomposition", "direct-evidence",
               "contribution")  # fmt: skip
HOSTILE = "<script>alert('trt')</script>"


def _data(rename: dict | None = None) -> pd.DataFrame:
    df = nb.datasets.load_dataset("parkinsons").copy()
    for col in ("treat1", "treat2"):
        df[col] = df[col].replace(rename or {})
    return df


@pytest.fixture(scope="module")
def fit():
    return nb.fit_network(_data(), reference="Placebo", engine="exact", random_seed=1)


@pytest.fixture(scope="module")
def split():
    return nb.nodesplit(_data(), reference="Placebo", random_seed=1)


@pytest.fixture(scope="module")
def dbt():
    return nb.design_by_treatment(_data(), reference="Placebo", random_seed=1)


@pytest.fixture(scope="module")
def report(fit, split, dbt):
    return parse(report_html(fit, nodesplit=split, design_by_treatment=dbt))


def test_section_and_subsections_in_order(fit, split, dbt):
    html = report_html(fit, nodesplit=split, design_by_treatment=dbt)
    report = parse(html)
    assert report.sections["inconsistency"].heading == "Inconsistency and evidence"
    starts = [html.index(f'<section id="{sid}">') for sid in ("inconsistency", *SUBSECTIONS)]
    assert starts == sorted(starts)
    assert html.index('<section id="model-fit">') < starts[0]
    assert starts[-1] < html.index('<section id="software">')
    # the sub-sections are inside the section: it closes after the last one
    last = html.index("</section>", starts[-1])
    assert html[last:].startswith("</section>\n</section>")
    assert report.links.index("nodesplit") == report.links.index("inconsistency") + 1
    assert "Local checks (node-splitting)" in report.sections["inconsistency"].all_text
    assert not any("arm-level" in t for t in report.sections["inconsistency"].text)


def test_nodesplit_subsection_equals_the_table(report, split):
    table = report.table("nodesplit")
    assert table[0][:2] == ["Treatment", "Comparator"] and len(table) - 1 == len(split)
    for row, (_, r) in zip(table[1:], split.iterrows(), strict=True):
        assert row[2] == f"{fmt(r['direct'])} ({fmt(r['direct_lower'])}, {fmt(r['direct_upper'])})"
        assert row[-1] == fmt(r["p_value"])
    (figure,) = report.sections["nodesplit"].figures
    assert figure.alt == "node-split plot"
    assert "van Valkenhoef" in report.sections["nodesplit"].all_text


def test_design_by_treatment_subsection_equals_the_result(report, dbt):
    fits, omegas = report.table("design-by-treatment", 0), report.table("design-by-treatment", 1)
    assert fits[0] == ["Model", "Residual deviance", "pD", "DIC", "Data points"]
    for row, (_, r) in zip(fits[1:], dbt.model_fit.iterrows(), strict=True):
        assert row == [r["model"], fmt(r["resdev"]), fmt(r["pD"]), fmt(r["DIC"]),
                       str(int(r["n_data"]))]  # fmt: skip
    assert omegas[0] == ["Design", "Treatment", "Comparator", "Inconsistency omega",
                         "Bayesian p-value", "Bulk ESS", "R-hat"]  # fmt: skip
    assert len(omegas) - 1 == len(dbt.inconsistency) == dbt.n_parameters
    for row, (_, r) in zip(omegas[1:], dbt.inconsistency.iterrows(), strict=True):
        omega = f"{fmt(r['omega'])} ({fmt(r['omega_lower'])}, {fmt(r['omega_upper'])})"
        assert row[:5] == [r["design"], r["treatment"], r["comparator"], omega, fmt(r["p_value"])]
        assert row[5] == str(round(r["ess_bulk"])) and row[6] == fmt(r["r_hat"])
    dic = dbt.model_fit.set_index("model")["DIC"]
    diff = dic["design-by-treatment"] - dic["consistency"]
    text = report.sections["design-by-treatment"].all_text
    assert f"consistency model: {fmt(diff)}" in text
    assert f"{dbt.n_parameters} inconsistency parameters" in text
    g = dbt.global_test
    assert f"Q = {fmt(g['Q'])} on {g['df']} df, p = {fmt(g['p_value'])}" in text


def test_evidence_subsections_equal_the_frequentist_results(report, fit):
    # the fit's effects model, at the posterior median of its tau
    tau = float(fit.heterogeneity().loc["tau", "median"])
    summary = nb.evidence_summary(fit.network, effects="random", tau=tau).to_frame()
    pd.testing.assert_frame_equal(summary, nb.evidence_summary(fit).to_frame())
    table = report.table("direct-evidence")
    assert table[0] == ["Treatment", "Comparator", "Proportion of direct evidence",
                        "Mean path length", "Minimal parallelism"]  # fmt: skip
    for row, (_, r) in zip(table[1:], summary.iterrows(), strict=True):
        assert row == [r["treatment"], r["comparator"], fmt(r["proportion_direct"]),
                       fmt(r["mean_path_length"]), fmt(r["minimal_parallelism"])]  # fmt: skip
    q = nb.decompose_q(fit).summary()
    shown = report.table("q-decomposition")
    assert shown[0] == ["Part", "Q", "df", "p-value"]
    assert [r[:3] for r in shown[1:]] == [
        [p, fmt(v), str(int(d))] for p, v, d in zip(q["part"], q["Q"], q["df"], strict=True)
    ]
    (figure,) = report.sections["contribution"].figures
    assert figure.alt == "contribution matrix" and "shortest-path" in figure.caption
    png = base64.b64decode(figure.src.removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_fixed_effect_fit_uses_the_fixed_effect_evidence_structure(split):
    fixed = nb.fit_network(_data(), reference="Placebo", engine="exact", effects="fixed",
                           random_seed=1)  # fmt: skip
    structure = evidence_structure(fixed)
    assert structure.summary.effects == "fixed" and structure.contribution.effects == "fixed"
    report = parse(report_html(fixed, nodesplit=split))
    expected = nb.evidence_summary(fixed.network, effects="fixed").to_frame()
    shown = [r[2] for r in report.table("direct-evidence")[1:]]
    assert shown == [fmt(v) for v in expected["proportion_direct"]]
    assert "design-by-treatment" not in report.sections


def test_design_by_treatment_alone_and_no_section_without_checks(fit, dbt):
    alone = parse(report_html(fit, design_by_treatment=dbt))
    assert "inconsistency" in alone.links and "nodesplit" not in alone.sections
    assert {"design-by-treatment", "direct-evidence", "contribution"} <= set(alone.sections)
    plain = parse(report_html(fit))
    assert "inconsistency" not in plain.sections and "inconsistency" not in plain.links


@pytest.mark.filterwarnings("ignore::nma_bayes.NMAConvergenceWarning")  # a short NUTS run
def test_arm_level_outcomes_enter_by_their_normal_approximation_with_a_note(dbt):
    arms = nb.datasets.load_dataset("smoking", "arms")
    fit = nb.fit_network(arms, likelihood="binomial", reference="No intervention",
                         effects="fixed", draws=100, tune=150, chains=2, random_seed=1)  # fmt: skip
    structure = evidence_structure(fit)
    assert "normal approximation" in structure.note and "binomial" in structure.note
    expected = nb.evidence_summary(fit.network, effects="fixed").to_frame()
    pd.testing.assert_frame_equal(structure.summary.to_frame(), expected)
    report = parse(report_html(fit, design_by_treatment=_dbt_like()))
    assert any("normal approximation" in t for t in report.sections["inconsistency"].text)
    shown = [r[2] for r in report.table("direct-evidence")[1:]]
    assert shown == [fmt(v) for v in expected["proportion_direct"]]
    assert set(inconsistency_tables(fit)) == {"q_decomposition", "evidence_summary",
                                              "contribution_matrix"}  # fmt: skip


def test_undefined_evidence_structure_is_a_note_not_an_error(fit, monkeypatch):
    from nma_bayes.report import inconsistency_sections

    def refuse(data, **kwargs):
        raise ModelSpecError("the cloglog link has no normal approximation", rule="bad-option")

    monkeypatch.setattr(inconsistency_sections, "decompose_q", refuse)
    structure = evidence_structure(fit)
    assert structure.q is None and "cloglog link" in structure.note
    assert inconsistency_tables(fit) == {}
    report = parse(report_html(fit, design_by_treatment=_dbt_like()))
    assert "direct-evidence" not in report.sections and "contribution" not in report.sections
    assert any("cloglog link" in t for t in report.sections["inconsistency"].text)


def _dbt_like(**tables):
    model_fit = pd.DataFrame({"model": ["consistency"], "resdev": [1.0], "pD": [1.0],
                              "DIC": [2.0]})  # fmt: skip
    omega = {c: ["x"] for c in ("design", "treatment", "comparator")}
    omega |= {c: [0.1] for c in ("omega", "omega_lower", "omega_upper", "p_value")}
    good = {"model_fit": model_fit, "inconsistency": pd.DataFrame(omega)}
    return types.SimpleNamespace(**(good | tables))


def test_bad_design_by_treatment_is_refused_before_anything_is_computed(fit, split):
    assert "inconsistency" in parse(report_html(fit, design_by_treatment=_dbt_like())).sections
    cases = [
        (split, "must be the result of nb.design_by_treatment"),
        (types.SimpleNamespace(model_fit=_dbt_like().model_fit), "must be the result"),
        (_dbt_like(model_fit=split), r"\.model_fit lacks columns \['model', 'resdev', 'pD'"),
        (_dbt_like(inconsistency=_dbt_like().inconsistency.drop(columns="omega")),
         r"\.inconsistency lacks columns \['omega'\]"),
        (_dbt_like(inconsistency=_dbt_like().inconsistency.iloc[:0]), "has no rows"),
        (_dbt_like(model_fit={"model": ["x"]}), "must be the DataFrame returned by .*, got dict"),
    ]  # fmt: skip
    for bad, message in cases:
        with pytest.raises(ModelSpecError, match=message):
            report_html(fit, design_by_treatment=bad)
        with pytest.raises(ModelSpecError, match=message):
            export_tables(fit, "never-written", design_by_treatment=bad)


# ----------------------------------------------------------------------------- exports
def test_exports_write_the_new_tables(fit, split, dbt, tmp_path):
    paths = export_tables(fit, tmp_path / "csv", nodesplit=split, design_by_treatment=dbt,
                          evidence=True)  # fmt: skip
    names = [p.stem for p in paths]
    assert names[-len(INCONSISTENCY_TABLES) :] == list(INCONSISTENCY_TABLES)
    assert set(INCONSISTENCY_TABLES) <= set(TABLE_TITLES)
    expected = {
        "nodesplit": split,
        "design_by_treatment": dbt.inconsistency,
        "design_by_treatment_fit": dbt.model_fit,
        "q_decomposition": nb.decompose_q(fit).summary(),
        "evidence_summary": nb.evidence_summary(fit).to_frame(),
        "contribution_matrix": nb.contribution_matrix(fit).to_frame(),
    }
    for name, table in expected.items():
        written = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        assert list(written.columns) == list(table.columns), name
        numeric = table.select_dtypes("number").columns
        np.testing.assert_allclose(written[numeric], table[numeric], rtol=1e-12, err_msg=name)
    # without the inputs: the standard tables only; evidence alone: the three evidence tables
    plain = {p.stem for p in export_tables(fit, tmp_path / "plain")}
    assert not plain & set(INCONSISTENCY_TABLES)
    only = {p.stem for p in export_tables(fit, tmp_path / "ev", evidence=True)} - plain
    assert only == {"q_decomposition", "evidence_summary", "contribution_matrix"}
    (book,) = export_tables(fit, tmp_path / "t.xlsx", format="xlsx", nodesplit=split,
                            design_by_treatment=dbt, evidence=True)  # fmt: skip
    sheets = pd.read_excel(book, sheet_name=None)
    assert set(INCONSISTENCY_TABLES) <= set(sheets)
    with pytest.raises(ModelSpecError, match="evidence"):
        export_tables(fit, tmp_path / "bad", evidence="yes")


def test_hostile_names_in_exports_are_spreadsheet_safe(tmp_path):
    formula = "=HYPERLINK(1)"
    fit = nb.fit_network(_data({"Pramipexole": formula}), reference="Placebo", engine="exact",
                         random_seed=1)  # fmt: skip
    export_tables(fit, tmp_path, evidence=True)
    summary = pd.read_csv(tmp_path / "evidence_summary.csv")
    cells = set(summary["treatment"]) | set(summary["comparator"])
    assert "'" + formula in cells and formula not in cells


# ----------------------------------------------------------------------------- browser


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable on PATH")
def test_report_in_headless_chromium(tmp_path):
    df = _data({"Pramipexole": HOSTILE})
    fit = nb.fit_network(df, reference="Placebo", engine="exact", random_seed=1)
    split = nb.nodesplit(df, reference="Placebo", random_seed=1)
    dbt = nb.design_by_treatment(df, reference="Placebo", random_seed=1)
    path = write_report(fit, tmp_path / "report.html", nodesplit=split, design_by_treatment=dbt)
    html = path.read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;" in html
    seen = open_report(path, {
        "images": "Array.from(document.querySelectorAll('#inconsistency img'))"
                  ".map(i => [i.alt, i.complete, i.naturalWidth])",
        "headings": "Array.from(document.querySelectorAll('#inconsistency h3'))"
                    ".map(h => h.innerText)",
        "cells": "Array.from(document.querySelectorAll('#direct-evidence td'))"
                 ".map(c => c.innerText)",
    })  # fmt: skip
    assert_quiet(seen, path)
    images, headings, cells = seen["images"], seen["headings"], seen["cells"]
    assert [(alt, ok, w > 100) for alt, ok, w in images] == [
        ("node-split plot", True, True), ("contribution matrix", True, True)]  # fmt: skip
    assert len(headings) == len(SUBSECTIONS) and headings[0].startswith("Node-splitting")
    assert HOSTILE in cells  # shown as text, not run
