"""``nma-bayes fit --nodesplit --inconsistency``: local and global inconsistency checks.

``--nodesplit`` splits arm-level outcome data too (NUTS); ``--inconsistency`` fits the
design-by-treatment model and, for contrast data, writes the frequentist evidence structure; both
reach the report's "Inconsistency and evidence" section.
"""

from __future__ import annotations

import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes import cli
from nma_bayes.data.formats import as_network

#: Short PyMC runs (the arm-level test checks what is written, not the sampler's accuracy).
PYMC_ARGS = ["--draws=100", "--tune=150", "--chains=2"]
EVIDENCE_FILES = ("q_decomposition", "evidence_summary", "contribution_matrix")


def _csv(tmp_path, name, table=None):
    path = tmp_path / f"{name}.csv"
    data = nb.datasets.load_dataset(name, table) if table else nb.datasets.load_dataset(name)
    data.to_csv(path, index=False)
    return path


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and err.rstrip().splitlines()[-1] == errors[0], err
    return errors[0]


def _same(path, expected: pd.DataFrame) -> None:
    written = pd.read_csv(path, keep_default_na=False, na_values=[""])
    expected = expected.reset_index(drop=True)
    assert list(written.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False, rtol=1e-12, atol=0)


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if the command reaches the fit."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the fit was reached")

    monkeypatch.setattr("nma_bayes.fitting.fit.fit_network", forbidden)


def test_help_lists_the_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--inconsistency" in text and "interaction model" in text


def test_contrast_data_writes_every_table_and_the_report_section(tmp_path, capsys, monkeypatch):
    from nma_bayes.report import html_report

    csv, out = _csv(tmp_path, "parkinsons"), tmp_path / "out"
    passed = {}
    original = html_report.write_report

    def spy(fit, path, **kwargs):
        passed.update(kwargs)
        return original(fit, path, **kwargs)

    monkeypatch.setattr(html_report, "write_report", spy)
    args = ["fit", str(csv), "--engine", "exact", "--effects", "fixed", "--reference", "Placebo",
            "--nodesplit", "--inconsistency", "--seed", "4", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0, capsys.readouterr().err
    data = nb.read_csv_table(csv)
    settings = {"engine": "exact", "effects": "fixed", "reference": "Placebo", "random_seed": 4}
    dbt = nb.design_by_treatment(data, **settings)
    _same(out / "design_by_treatment.csv", dbt.inconsistency)
    _same(out / "design_by_treatment_fit.csv", dbt.model_fit)
    _same(out / "nodesplit.csv", nb.nodesplit(data, **settings))
    network = as_network(data, reference="Placebo")
    _same(out / "q_decomposition.csv", nb.decompose_q(network).summary())
    _same(out / "evidence_summary.csv", nb.evidence_summary(network, effects="fixed").to_frame())
    contribution = nb.contribution_matrix(network, effects="fixed").to_frame()
    _same(out / "contribution_matrix.csv", contribution)
    pd.testing.assert_frame_equal(passed["design_by_treatment"].inconsistency, dbt.inconsistency)
    assert cli.analysis.inconsistency_line(dbt) in capsys.readouterr().out.splitlines()
    html = (out / "report.html").read_text(encoding="utf-8")
    for sid in ("inconsistency", "nodesplit", "design-by-treatment", "direct-evidence",
                "contribution"):  # fmt: skip
        assert f'<section id="{sid}">' in html, sid


def test_nodesplit_alone_writes_no_global_tables(tmp_path, capsys):
    csv, out = _csv(tmp_path, "parkinsons"), tmp_path / "out"
    args = ["fit", str(csv), "--engine", "exact", "--nodesplit", "--seed", "2", "--out", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert (out / "nodesplit.csv").is_file()
    assert not [f for f in EVIDENCE_FILES if (out / f"{f}.csv").exists()]
    assert not (out / "design_by_treatment.csv").exists()
    assert "design-by-treatment model:" not in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::nma_bayes.NMAConvergenceWarning")  # short NUTS runs
# smoking's design Group counselling:No intervention is one study with a zero-event arm: its
# omega has no finite MLE (rule design-separation, tested in test_validation_catalogue.py)
@pytest.mark.filterwarnings("ignore::nma_bayes.IdentificationWarning")
def test_arm_level_outcomes_are_split_and_checked(tmp_path, capsys, monkeypatch):
    from nma_bayes.analyses import inconsistency

    calls = []
    original = inconsistency.nodesplit

    def spy(data, *args, **kwargs):
        calls.append((data, kwargs))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(inconsistency, "nodesplit", spy)
    csv, out = _csv(tmp_path, "smoking", "arms"), tmp_path / "out"
    args = ["fit", str(csv), "--likelihood", "binomial", "--reference", "No intervention",
            "--nodesplit", "--inconsistency", "--seed", "5", *PYMC_ARGS,
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0, capsys.readouterr().err
    ((network, settings),) = calls
    assert network.likelihood == "binomial" and settings["engine"] == "pymc"
    assert settings["draws"] == 100 and settings["random_seed"] == 5
    split = pd.read_csv(out / "nodesplit.csv")
    pairs = nb.splittable_comparisons(network)
    assert len(split) == len(pairs) == 6
    assert set(zip(split["comparator"], split["treatment"], strict=True)) == set(pairs)
    assert split[["direct", "indirect", "p_value"]].notna().all().all()
    dbt = pd.read_csv(out / "design_by_treatment.csv")
    fits = pd.read_csv(out / "design_by_treatment_fit.csv")
    assert list(fits["model"]) == ["consistency", "design-by-treatment"]
    assert len(dbt) > 0 and dbt["omega"].notna().all()
    for name in EVIDENCE_FILES:  # by the normal approximation of the arms
        assert not pd.read_csv(out / f"{name}.csv").empty, name
    printed = capsys.readouterr().out
    assert f"({len(dbt)} inconsistency parameters)" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="design-by-treatment">' in html and '<section id="nodesplit">' in html
    assert "normal approximation" in html and '<section id="contribution">' in html


def test_without_a_loop_is_refused_before_the_fit(tmp_path, capsys, no_fit):
    star = tmp_path / "star.csv"
    star.write_text("study,treat1,treat2,TE,seTE\ns1,B,A,0.1,0.2\ns2,C,A,0.3,0.25\n")
    out = tmp_path / "out"
    assert cli.main(["fit", str(star), "--engine", "exact", "--inconsistency",
                     "--out", str(out)]) == 2  # fmt: skip
    line = _one_error_line(capsys.readouterr().err)
    assert "--inconsistency" in line and "no identifiable design inconsistency" in line
    assert not out.exists()


def test_class_model_is_refused_before_the_fit(tmp_path, capsys, no_fit):
    csv = _csv(tmp_path, "psps_t2_illustrative")
    args = ["fit", str(csv), "--classes", "class", "--class-model", "common", "--inconsistency",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert cli.main(args) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--inconsistency" in line and "class" in line
