"""The ``nma-bayes`` command line (``python -m nma_bayes``)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes import cli


@pytest.fixture
def data_csv(tmp_path):
    path = tmp_path / "therapy.csv"
    nb.datasets.load_dataset("therapy_formats").to_csv(path, index=False)
    return path


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nma_bayes", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_cli_fit_subprocess(data_csv, tmp_path):
    out = tmp_path / "results"
    result = _run(
        "fit", data_csv, "--reference", "cau", "--lower-is-better", "--engine", "exact",
        "--seed", "7", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = out / "report.html"
    assert report.exists()
    html = report.read_text(encoding="utf-8")
    for sid in ("relative-effects", "league-table", "rankings", "software"):
        assert f'<section id="{sid}">' in html
    for name in ("relative_effects.csv", "league_table.csv", "sucra.csv"):
        assert (out / name).exists()
    assert "grp" in result.stdout and "cau" in result.stdout
    assert "validating" in result.stderr and "fitting" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_bad_csv_exits_2(tmp_path):
    bad = tmp_path / "bad.csv"
    nb.datasets.load_dataset("therapy_formats").drop(columns="seTE").to_csv(bad, index=False)
    result = _run("fit", bad, "--reference", "cau", "--engine", "exact", "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "seTE" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "report.html").exists()


def test_cli_main_in_process(data_csv, tmp_path, capsys):
    out = tmp_path / "inproc"
    status = cli.main(
        ["fit", str(data_csv), "--reference", "cau", "--engine", "exact", "--effects", "fixed",
         "--seed", "1", "--out", str(out)]
    )  # fmt: skip
    assert status == 0
    captured = capsys.readouterr()
    assert "ind" in captured.out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="relative-effects">' in html
    assert "Not computed" in html  # no direction given: no rankings
    assert not (out / "sucra.csv").exists()


def test_cli_main_bad_reference(data_csv, tmp_path, capsys):
    status = cli.main(
        ["fit", str(data_csv), "--reference", "nope", "--engine", "exact", "--out", str(tmp_path)]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("reading data") and "error:" in err and "nope" in err


def test_cli_missing_file(tmp_path, capsys):
    assert cli.main(["fit", str(tmp_path / "missing.csv"), "--engine", "exact"]) == 2
    assert "error: cannot read" in capsys.readouterr().err


def test_cli_usage():
    with pytest.raises(SystemExit) as info:
        cli.main(["fit", "x.csv", "--lower-is-better", "--higher-is-better"])
    assert info.value.code == 2


def test_console_script_is_installed_and_runs(tmp_path):
    """The ``nma-bayes`` entry point of the installed package (fresh venv in CI)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "nma-bayes"
    if not exe.exists():
        exe = shutil.which("nma-bayes")
    assert exe is not None and Path(exe).exists(), "console script nma-bayes not installed"
    result = subprocess.run([str(exe), "fit", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--lower-is-better" in result.stdout
    import nma_bayes as nb

    data = tmp_path / "senn.csv"
    nb.datasets.load_dataset("senn2013").to_csv(data, index=False)
    out = tmp_path / "out"
    args = [str(exe), "fit", str(data), "--reference", "plac", "--lower-is-better"]
    args += ["--engine", "exact", "--effects", "fixed", "--out", str(out)]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (out / "report.html").exists()


# ------------------------------------------------------------------ failures: one line, exit 2
def _one_error_line(err):
    """The stderr of a failed run: progress lines, then exactly one ``error:`` line."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and err.rstrip().splitlines()[-1] == errors[0], err
    return errors[0]


@pytest.fixture
def senn_csv(tmp_path):
    path = tmp_path / "senn.csv"
    nb.datasets.load_dataset("senn2013").to_csv(path, index=False)
    return path


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if the command reaches the fit."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the fit was reached")

    monkeypatch.setattr("nma_bayes.fitting.fit.fit_network", forbidden)


def _fit_cli(data, out, *extra):
    args = ["fit", str(data), "--engine", "exact", "--effects", "fixed", "--out", str(out)]
    return cli.main(args + [str(e) for e in extra])


def test_out_is_an_existing_file(senn_csv, tmp_path, capsys, no_fit):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    assert _fit_cli(senn_csv, target) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "exists and is not a directory" in line and str(target) in line
    assert target.read_text() == "keep me"


def test_out_under_a_regular_file(senn_csv, tmp_path, capsys, no_fit):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _fit_cli(senn_csv, blocker / "sub") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "cannot create the output directory" in line and "Not a directory" in line


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_out_in_an_unwritable_place(senn_csv, capsys, no_fit):
    assert _fit_cli(senn_csv, "/proc/nma-bayes-test/out") == 2
    assert "cannot create the output directory" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("name", ["report.html", "league_table.csv"])
def test_output_file_exists_as_a_directory(senn_csv, tmp_path, capsys, no_fit, name):
    (tmp_path / "out" / name).mkdir(parents=True)
    assert _fit_cli(senn_csv, tmp_path / "out") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"'{name}'" in line and "exist as directories" in line


def test_write_failure_after_the_fit_is_one_line(senn_csv, tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "out" / "report.html"))

    monkeypatch.setattr("nma_bayes.report.html_report.write_report", fail)
    assert _fit_cli(senn_csv, tmp_path / "out") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"error: Permission denied: {tmp_path / 'out' / 'report.html'}"


def test_internal_error_is_one_line_and_debug_reraises(senn_csv, tmp_path, capsys, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("nma_bayes.fitting.fit.fit_network", crash)
    assert _fit_cli(senn_csv, tmp_path / "out") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("error: internal error: RuntimeError: boom second line")
    assert "--debug" in line
    with pytest.raises(RuntimeError, match="boom"):
        _fit_cli(senn_csv, tmp_path / "out", "--debug")


def test_data_file_is_a_directory(tmp_path, capsys):
    assert _fit_cli(tmp_path, tmp_path / "out") == 2
    assert "cannot read" in _one_error_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------- CSV reality
def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_integer_labels_and_na_labels_fit_from_the_cli(tmp_path, capsys):
    data = _write(
        tmp_path / "codes.csv",
        "study,treat1,treat2,TE,seTE,se_base\n"
        "1,2,1,0.1,0.2,\n"
        "2,3,1,0.3,0.25,\n"
        "3,NA,1,0.2,0.3,\n"
        "4,NA,2,0.1,0.2,\n"
        "None,3,2,0.15,0.3,\n",
    )
    out = tmp_path / "out"
    assert _fit_cli(data, out, "--reference", "1", "--seed", "1") == 0, capsys.readouterr().err
    rel = pd.read_csv(out / "relative_effects.csv", dtype=str, keep_default_na=False)
    assert set(rel["treatment"]) == {"2", "3", "NA"}
    assert set(rel["comparator"]) == {"1"}


def test_read_csv_table_types(tmp_path):
    from nma_bayes.data.io import read_csv_table

    data = _write(
        tmp_path / "d.csv",
        "\ufeffstudy,treat1,treat2,TE,seTE,se_base,cls,note\n"
        "1,NA,None,-0.1,0.2,,1,x\n"
        "\n"
        "2,null,NA,0.2,0.3,NA,2,\n",
    )
    df = read_csv_table(data, labels=["cls"])
    assert list(df.columns) == ["study", "treat1", "treat2", "TE", "seTE", "se_base", "cls", "note"]
    assert df["study"].tolist() == ["1", "2"] and df["treat1"].tolist() == ["NA", "null"]
    assert df["treat2"].tolist() == ["None", "NA"] and df["cls"].tolist() == ["1", "2"]
    assert df["TE"].tolist() == [-0.1, 0.2] and df["se_base"].isna().all()
    assert pd.api.types.is_float_dtype(df["se_base"]) and df["note"].tolist() == ["x", None]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("study,treat1,treat2,TE,seTE,TE\ns1,B,A,0.1,0.2,0.3\n", "'TE' in columns 4, 6"),
        ("study,treat1,treat2,TE,seTE\ns1,B,A,0.1,0.2\ns2,C,A,0,1,0.2\n", "lines 3 "),
        ("study,treat1,treat2,TE,seTE\ns1,B,A,0.1,0.2\ns2,C,A,0.2\n", "lines 3 "),
        ('study,treat1,treat2,TE,seTE\ns1,B,A,0.1,0.2\ns2,C,"A,0.2,0.1\n', "line 3"),
        ("", "is empty"),
        ("study,treat1,treat2,TE,seTE\ns1,B,A,0.1a,0.2\n", "'TE' must be numeric"),
    ],
    ids=["duplicate-header", "long-row", "short-row", "open-quote", "empty", "non-numeric"],
)
def test_malformed_csv_is_refused(tmp_path, capsys, no_fit, text, fragment):
    data = _write(tmp_path / "bad.csv", text)
    assert _fit_cli(data, tmp_path / "out") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert fragment in line, line
    assert not (tmp_path / "out").exists()  # refused before the output directory is made


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("study,TE,TE\ns1,1,2\n", "duplicate-column"),
        ("study,TE\ns1,1\ns2,1,2\n", "ragged-row"),
        ("\n\n", "empty-data"),
    ],
)
def test_read_csv_table_rule_tags(text, rule):
    from io import StringIO

    from nma_bayes.base.errors import InvalidValueError
    from nma_bayes.data.io import read_csv_table

    with pytest.raises(InvalidValueError) as info:
        read_csv_table(StringIO(text))
    assert info.value.rule == rule


def test_control_characters_in_names_do_not_reach_the_terminal(tmp_path, capsys):
    data = _write(
        tmp_path / "ansi.csv",
        "study,treat1,treat2,TE,seTE\ns1,\x1b[2Jevil,A,0.1,0.2\ns2,C,A,0.3,0.25\n"
        "s3,C,\x1b[2Jevil,0.2,0.3\n",
    )
    assert _fit_cli(data, tmp_path / "out", "--reference", "A", "--seed", "1") == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out and "\\x1b[2Jevil" in captured.out
    rel = (tmp_path / "out" / "relative_effects.csv").read_text(encoding="utf-8")
    assert "\x1b" not in rel and "\\x1b[2Jevil" in rel


def test_integer_class_codes_are_labels(tmp_path, capsys):
    data = _write(
        tmp_path / "classes.csv",
        "study,treat1,treat2,TE,seTE,treat1_cls,treat2_cls\n"
        "s1,B,A,0.1,0.2,2,1\ns2,C,A,0.3,0.25,2,1\ns3,C,B,0.2,0.3,2,2\n",
    )
    status = _fit_cli(data, tmp_path / "out", "--classes", "cls", "--reference", "A")
    assert status == 0, capsys.readouterr().err


def test_cli_fits_arm_level_binary_outcomes(tmp_path, capsys):
    """--likelihood binomial: events per arm with the exact binomial likelihood (PyMC engine;
    the exact engine refuses non-normal likelihoods with one error line and exit 2)."""
    csv = tmp_path / "smoking.csv"
    nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]].to_csv(
        csv, index=False
    )
    out = tmp_path / "out"
    args = ["fit", str(csv), "--likelihood", "binomial", "--reference", "No intervention",
            "--effects", "fixed", "--seed", "2", "--draws", "300", "--out", str(out)]  # fmt: skip
    assert cli.main([*args, "--engine", "exact"]) == 2
    assert "exact engine" in capsys.readouterr().err
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "Individual counselling" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "binomial (logit link) on arm-level outcomes" in html
