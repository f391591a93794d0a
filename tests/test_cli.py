"""The ``nma-bayes`` command line (``python -m nma_bayes``)."""

import subprocess
import sys

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
