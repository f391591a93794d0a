"""Readable tables, captions, optional sections and the interface of the report."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.analyses.sensitivity import SENSITIVITY_COLUMNS
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.fitting.network_fit import NetworkFit
from nma_bayes.report.blocks import figure_html, format_number, frame_html, humanize, kv_table
from nma_bayes.report.html_report import report_html, write_report

THREE_DECIMALS = re.compile(r"-?\d+\.\d{3}")
EFFECT_SECTIONS = ("relative-effects", "relative-effects-all-pairs", "league-table", "rankings")


@pytest.fixture(scope="module")
def fit():
    """Contrast data (no sample sizes, no measure): the data table has empty items to drop."""
    return nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", engine="exact", random_seed=1
    )


@pytest.fixture(scope="module")
def report_text(fit):
    return report_html(fit, lower_is_better=True)


@pytest.fixture(scope="module")
def report(report_text):
    return parse(report_text)


@pytest.fixture(scope="module")
def split(fit):
    return nb.nodesplit(nb.datasets.load_dataset("parkinsons"), reference="Placebo", random_seed=1)


# ----------------------------------------------------------------- the rules, one by one
def test_humanize_and_number_formats():
    assert humanize("studies_with_2_arms") == "Studies with 2 arms"
    assert humanize("excluded_studies") == "Excluded studies"
    assert format_number(4063.574389, integer=True) == "4064"
    assert format_number(np.int64(7)) == "7"
    assert format_number(-0.12345) == "-0.123"
    assert format_number(2.0) == "2.000"  # a float keeps its decimals unless it is a count
    for blank in (None, np.nan, pd.NA, "", "  "):
        assert format_number(blank) == ""


def test_kv_table_leaves_out_empty_rows():
    html = kv_table({"studies": 7, "patients": None, "measure": np.nan, "note": "", "zero": 0})
    table = parse(f'<section id="s">{html}</section>').table("s")
    assert table == [["Studies", "7"], ["Zero", "0"]]


def test_frame_html_labels_integers_and_decimals():
    table = pd.DataFrame(
        {
            "parameter": ["d[a]", "tau"],
            "r_hat": [1.0012, 0.9996],
            "ess_bulk": [4063.57, 388.2],
            "ci_lower": [-0.5, np.nan],
        }
    )
    rows = parse(f'<section id="s">{frame_html(table, pct="90%")}</section>').table("s")
    assert rows == [
        ["Parameter", "R-hat", "Bulk ESS", "90% CrI lower"],
        ["d[a]", "1.001", "4064", "-0.500"],
        ["tau", "1.000", "388", ""],
    ]


# ----------------------------------------------------------------- the rules in a report
def test_data_section_is_readable(fit, report):
    rows = dict(report.table("data"))
    assert rows["Studies with 2 arms"] == "6" and rows["Studies with 3 arms"] == "1"
    assert rows["Multi-arm studies"] == "1"
    assert rows["Reference treatment"] == "Placebo"
    items = fit.network.summary().set_index("item")["value"]
    assert items["patients"] is None and items["measure"] is None
    assert "Patients" not in rows and "Effect measure" not in rows  # empty rows left out
    assert all(value != "" for value in rows.values())
    assert not any("_" in label for label in rows)  # no identifier left
    with_measure = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), measure="MD", engine="exact", random_seed=1
    )
    shown = dict(parse(report_html(with_measure)).table("data"))
    assert shown["Effect measure"] == "mean difference (MD)"


def test_diagnostics_ess_are_integers(fit, report):
    table = report.table("diagnostics")
    header, rows = table[0], table[1:]
    assert header == ["Parameter", "R-hat", "Bulk ESS", "Tail ESS", "MCSE of the mean"]
    diag = fit.diagnostics()
    assert [r[0] for r in rows] == list(diag["parameter"])
    for row, (_, expected) in zip(rows, diag.iterrows(), strict=True):
        assert re.fullmatch(r"\d+", row[2]) and re.fullmatch(r"\d+", row[3])
        assert int(row[2]) == round(expected["ess_bulk"])
        assert int(row[3]) == round(expected["ess_tail"])
        assert row[1] == fmt(expected["r_hat"]) and row[4] == fmt(expected["mcse_mean"])


def test_effect_tables_have_three_decimals_and_a_scale_line(fit, report):
    for sid in EFFECT_SECTIONS:
        section = report.sections[sid]
        (note,) = section.scale_notes
        assert note.startswith("Effect measure: not recorded on the network"), sid
        assert note.endswith("lower values are better."), sid
        assert section.order[0] == ("scale", 0) and ("table", 0) in section.order, sid
        numbers = [
            n for row in section.tables[0][1:] for cell in row for n in re.findall(r"\S+", cell)
        ]
        numeric = [n.strip("(),") for n in numbers if re.fullmatch(r"\(?-?[\d.]+[,)]*", n)]
        assert numeric and all(THREE_DECIMALS.fullmatch(n) for n in numeric), sid
    rel = report.table("relative-effects")
    assert rel[0] == ["Treatment", "Comparator", "Mean", "SD", "Median"] + [
        "95% CrI lower",
        "95% CrI upper",
    ]
    first = fit.relative_effects().iloc[0]
    assert rel[1] == [first["treatment"], first["comparator"]] + [
        fmt(first[c]) for c in ("mean", "sd", "median", "ci_lower", "ci_upper")
    ]
    higher = parse(report_html(fit, lower_is_better=False))
    assert higher.sections["rankings"].scale_notes[0].endswith("higher values are better.")


def test_every_figure_has_a_caption_with_its_scale(fit, report_text, report):
    assert "could not be drawn" not in report_text
    figures = report.figures()
    assert [f.alt for f in figures] == ["network", "forest plot", "rankogram", "SUCRA plot"]
    for figure in figures:
        assert figure.src.startswith("data:image/png;base64,") and len(figure.src) > 2000
        assert figure.caption.startswith(figure.alt[:1].upper() + figure.alt[1:] + "."), figure
    forest, rankogram, sucra = figures[1:]
    assert "on the scale of the data (no effect measure recorded)" in forest.caption
    assert "95% prediction interval" in forest.caption
    assert "Probability (0 to 1)" in rankogram.caption and "rank 1 = best" in rankogram.caption
    assert "0 = always last, 1 = always best" in sucra.caption


def test_a_figure_that_fails_leaves_a_note_not_a_broken_report():
    def broken():
        raise ValueError("no <data>")

    html = figure_html(broken, "forest plot", "caption")
    expected = "The forest plot could not be drawn (ValueError: no &lt;data&gt;)."
    assert html == f'<p class="problem">{expected}</p>'
    assert "<img" not in html and "<figure" not in html


def test_fixed_effect_forest_has_no_prediction_interval(tmp_path):
    fe = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), effects="fixed", engine="exact", random_seed=3
    )
    (forest,) = parse(report_html(fe)).sections["relative-effects"].figures
    assert "no prediction interval" in forest.caption
    assert "prediction interval of the effect in a new study" not in forest.caption


def test_report_is_self_contained(report_text, report):
    style = re.search(r"<style>(.*?)</style>", report_text, re.S).group(1)
    assert "{" in style and "url(" not in style and "@import" not in style
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", report_text)  # the PNGs hold "//"
    assert len(text) < len(report_text) / 5
    assert not re.search(r"(https?:|ftp:|file:)?//[a-z]", text, re.I)
    assert "script" not in report.tags and "iframe" not in report.tags
    assert ("img", "src") in {(tag, attribute) for tag, attribute, _ in report.urls}
    for tag, attribute, value in report.urls:
        if attribute == "style":  # inline styles load nothing
            assert "url(" not in value and "@import" not in value, value
        elif tag == "a":
            assert value.startswith("#"), value
        else:
            assert value.startswith(("data:image/png;base64,", "data:,")), (tag, attribute)


# ----------------------------------------------------------------- optional sections
def test_model_fit_section_by_default_and_on_request(fit, report):
    table = report.table("model-fit")
    assert table[0] == ["Residual deviance", "pD", "DIC", "Data points"]
    mf = fit.model_fit().iloc[0]
    assert table[1] == [fmt(mf["resdev"]), fmt(mf["pD"]), fmt(mf["DIC"]), str(int(mf["n_data"]))]
    without = parse(report_html(fit, model_fit=False))
    assert "model-fit" not in without.sections and "model-fit" not in without.links
    with pytest.raises(ModelSpecError, match="model_fit"):
        report_html(fit, model_fit="no")


def test_nodesplit_section(fit, split, tmp_path):
    path = fit.to_report(tmp_path / "ns.html", nodesplit=split, model_fit=False)
    report = parse(path.read_text(encoding="utf-8"))
    assert "nodesplit" in report.links and "model-fit" not in report.sections
    table = report.table("nodesplit")
    assert table[0] == [
        "Treatment",
        "Comparator",
        "Direct",
        "Indirect",
        "Network",
        "Direct - indirect",
        "Bayesian p-value",
    ]
    assert len(table) - 1 == len(split)
    for row, (_, r) in zip(table[1:], split.iterrows(), strict=True):
        cells = [
            f"{fmt(r[s])} ({fmt(r[s + '_lower'])}, {fmt(r[s + '_upper'])})"
            for s in ("direct", "indirect", "network", "difference")
        ]
        assert row == [r["treatment"], r["comparator"], *cells, fmt(r["p_value"])]
    (figure,) = report.sections["nodesplit"].figures
    assert figure.alt == "node-split plot" and "Direct (circle)" in figure.caption


def test_sensitivity_section(fit, tmp_path):
    priors = {"half-normal(0.5)": nb.HalfNormal(0.5), "uniform(0, 5)": nb.Uniform(0, 5)}
    table = nb.prior_sensitivity(
        nb.datasets.load_dataset("parkinsons"),
        priors,
        reference="Placebo",
        lower_is_better=True,
        random_seed=1,
    )
    report = parse(report_html(fit, sensitivity=table, lower_is_better=True))
    assert "prior-sensitivity" in report.links
    tau = report.table("prior-sensitivity", 0)
    assert tau[0] == ["Prior", "Prior in words", "tau (between-study SD)"]
    rows = table[table["quantity"] == "tau"]
    assert [r[0] for r in tau[1:]] == list(priors)
    for row, (_, r) in zip(tau[1:], rows.iterrows(), strict=True):
        assert row[2] == f"{fmt(r['estimate'])} ({fmt(r['ci_lower'])}, {fmt(r['ci_upper'])})"
    effects = report.table("prior-sensitivity", 1)
    assert effects[0] == ["Treatment", "Comparator", *priors]
    first = table[(table["quantity"] == "relative_effect")].iloc[0]
    assert effects[1][:2] == [first["treatment"], first["comparator"]]
    assert effects[1][2] == f"{fmt(first['estimate'])} ({fmt(first['ci_lower'])}, " + (
        f"{fmt(first['ci_upper'])})"
    )
    sucra = report.table("prior-sensitivity", 2)
    best = table[(table["quantity"] == "sucra") & (table["rank"] == 1)].iloc[0]
    assert sucra[1][0] == best["treatment"]
    assert sucra[1][1] == f"{fmt(best['estimate'])} (rank 1)"


def test_bad_tables_are_refused_before_anything_is_computed(fit, split):
    with pytest.raises(ModelSpecError, match=r"nodesplit lacks columns \['p_value'\]"):
        report_html(fit, nodesplit=split.drop(columns="p_value"))
    with pytest.raises(ModelSpecError, match="nodesplit must be the DataFrame"):
        report_html(fit, nodesplit=split.to_dict())
    with pytest.raises(ModelSpecError, match="sensitivity has no rows"):
        report_html(fit, sensitivity=pd.DataFrame(columns=list(SENSITIVITY_COLUMNS)))
    with pytest.raises(ModelSpecError, match="sensitivity lacks columns"):
        report_html(fit, sensitivity=split)  # a node-split table is not a sensitivity table


def test_interface_of_report_write_report_and_to_report():
    expected = {
        "lower_is_better": None,
        "title": None,
        "ci_prob": 0.95,
        "model_fit": True,
        "nodesplit": None,
        "sensitivity": None,
        "mcid": None,
        "design_by_treatment": None,
        "cinema": None,
        "thresholds": None,
    }
    for function, positional in (
        (report_html, ["fit"]),
        (write_report, ["fit", "path"]),
        (NetworkFit.to_report, ["self", "path"]),
    ):
        params = inspect.signature(function).parameters
        assert [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
        keywords = {n: p.default for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
        assert keywords == expected, function.__qualname__
