"""The report of a network with treatment classes: class effects, class rankings, class plot."""

from __future__ import annotations

import warnings

import pytest
from report_parsing import fmt, parse

import nma_bayes as nb
from nma_bayes.report.html_report import report_html, write_report

REFERENCE = "Conventional medical management"
CLASS_SECTIONS = ("class-effects", "class-effects-all-pairs", "class-rankings")


@pytest.fixture(scope="module")
def class_fit():
    """A short exchangeable class-model fit of the simulated PSPS-T2 network (PyMC engine)."""
    with warnings.catch_warnings():
        # 300 draws: the report of the fit is under test, not its convergence (which the
        # report must show; see the diagnostics assertion below)
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        return nb.fit_network(
            nb.datasets.load_dataset("psps_t2_illustrative"),
            reference=REFERENCE,
            classes="class",
            class_model="exchangeable",
            measure="SMD",
            draws=300,
            tune=300,
            random_seed=1,
        )


@pytest.fixture(scope="module")
def class_report(class_fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("classes") / "classes.html"
    return parse(write_report(class_fit, path, lower_is_better=True).read_text(encoding="utf-8"))


def _effect_rows(table):
    return [[r["class"], r["comparator"], *(fmt(r[c]) for c in STATS)] for _, r in table.iterrows()]


STATS = ("mean", "sd", "median", "ci_lower", "ci_upper")
EFFECT_HEADER = ["Class", "Comparator", "Mean", "SD", "Median", "95% CrI lower", "95% CrI upper"]


def test_class_effects_equal_the_fits_class_effects(class_fit, class_report):
    assert class_fit.spec.class_model == "exchangeable"
    vs_reference = class_report.table("class-effects")
    assert vs_reference[0] == EFFECT_HEADER
    expected = _effect_rows(class_fit.class_effects())
    assert len(expected) == 4  # five classes, one of them the reference's
    assert vs_reference[1:] == expected
    assert {row[1] for row in expected} == {"conservative"}  # the reference's class
    pairs = class_report.table("class-effects-all-pairs")
    assert pairs[0] == EFFECT_HEADER
    assert pairs[1:] == _effect_rows(class_fit.class_effects(all_pairs=True))
    assert len(pairs) - 1 == 10  # every pair of 5 classes once
    text = class_report.sections["class-effects"].all_text
    assert "class means of the exchangeable class model" in text
    assert f"the class of the reference treatment, {REFERENCE}" in text


def test_class_rankings_equal_the_fits_class_rankings(class_fit, class_report):
    table = class_report.table("class-rankings")
    assert table[0] == [
        "Class",
        "P(class contains the best treatment)",
        "Class SUCRA",
        "Mean rank of the class effect",
        "Class SUCRA 95% interval lower",
        "Class SUCRA 95% interval upper",
    ]
    rankings = class_fit.class_rankings(lower_is_better=True)
    expected = [
        [r["class"], *(fmt(r[c]) for c in ("p_best", "sucra", "mean_rank", "ci_lower", "ci_upper"))]
        for _, r in rankings.iterrows()
    ]
    assert table[1:] == expected
    # the other direction ranks differently: the table follows the direction given
    other = class_fit.class_rankings(lower_is_better=False)
    assert fmt(other["sucra"].iloc[1]) != table[2][2]


def test_class_rank_plot_and_navigation(class_fit, class_report):
    (figure,) = class_report.sections["class-rankings"].figures
    assert figure.src.startswith("data:image/png;base64,") and len(figure.src) > 5000
    assert figure.alt == "class rank plot"
    assert "one panel per class" in figure.caption
    assert "among all 10 treatments" in figure.caption
    assert "rank 1 = best; lower values are better" in figure.caption
    links = class_report.links
    assert links.index("class-effects") == links.index("rankings") + 1
    assert links.index("class-rankings") == links.index("class-effects") + 1
    # the forest plot groups treatments by class
    (forest,) = class_report.sections["relative-effects"].figures
    assert "grouped by class" in forest.caption
    # the short fit's convergence problems are reported, not hidden
    assert class_fit.problems
    assert class_fit.problems[0] in class_report.sections["diagnostics"].all_text


def test_class_sections_state_measure_and_direction(class_report):
    for sid in CLASS_SECTIONS:
        section = class_report.sections[sid]
        (note,) = section.scale_notes
        assert "standardised mean difference" in note and "(SMD)" in note, sid
        assert "lower values are better" in note, sid
        assert section.order[0] == ("scale", 0), sid  # the note comes before the table


@pytest.fixture(scope="module")
def exact_class_fit():
    """Classes without a class model: exact engine (class effects are equal-weight means)."""
    return nb.fit_network(
        nb.datasets.load_dataset("psps_t2_illustrative"),
        reference=REFERENCE,
        classes="class",
        engine="exact",
        random_seed=2,
        draws=250,
    )


def test_classes_without_direction_and_without_class_model(exact_class_fit):
    report = parse(report_html(exact_class_fit))
    assert set(CLASS_SECTIONS) <= set(report.sections)
    assert report.table("class-effects")[1:] == _effect_rows(exact_class_fit.class_effects())
    assert "equal-weight mean of its treatments' effects" in (
        report.sections["class-effects"].all_text
    )
    rankings = report.sections["class-rankings"]
    assert "Not computed" in rankings.all_text
    assert not rankings.tables and not rankings.figures
    assert "benefit direction not given" in report.sections["class-effects"].scale_notes[0]


def test_no_class_sections_without_classes():
    fit = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", engine="exact", random_seed=1
    )
    report = parse(report_html(fit, lower_is_better=True))
    assert not set(CLASS_SECTIONS) & set(report.sections)
    assert not {"class-effects", "class-rankings"} & set(report.links)
    assert "rankings" in report.sections  # the treatment rankings are still there
