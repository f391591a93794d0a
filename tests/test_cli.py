"""The ``nma-bayes`` command line (``python -m nma_bayes``)."""

import subprocess
import sys
import warnings
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes import cli
from nma_bayes.cli.priors import parse_prior


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


def test_cli_fits_ordered_categorical_outcomes(tmp_path, capsys):
    """--likelihood ordered with --category and --arm: the in-process seeded fit, and a report
    with the cutpoints."""
    csv = tmp_path / "psoriasis.csv"
    data = nb.datasets.load_dataset("psoriasis", "arms_long_cumulative")
    data[["study", "arm", "treatment", "cutpoint", "r", "n"]].to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["fit", str(csv), "--likelihood", "ordered", "--category", "cutpoint", "--events", "r",
            "--arm", "arm", "--reference", "Supportive care", "--effects", "fixed", "--seed", "3",
            "--draws", "300", "--out", str(out)]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        assert cli.main(args) == 0
        fit = nb.fit_network(data, likelihood="ordered", category="cutpoint", events="r", n="n",
                             arm="arm", reference="Supportive care", effects="fixed",
                             random_seed=3, draws=300)  # fmt: skip
    got = pd.read_csv(out / "relative_effects.csv").set_index("treatment")["mean"]
    want = fit.relative_effects().set_index("treatment")["mean"]
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-9)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="cutpoints"' in html and "ordered (probit link)" in html


def test_cli_laplace_and_auto_engines_give_the_in_process_fit(tmp_path, capsys):
    """--engine laplace (and auto, which picks it for arm-level outcomes) on smoking's arms: the
    relative effects written equal those of the same seeded fit in process."""
    csv = tmp_path / "smoking.csv"
    arms = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    arms.to_csv(csv, index=False)
    base = ["fit", str(csv), "--likelihood", "binomial", "--reference", "No intervention",
            "--seed", "4", "--prior-tau", "uniform(0, 5)"]  # fmt: skip
    fit = nb.fit_network(arms, likelihood="binomial", reference="No intervention",
                         engine="laplace", random_seed=4, prior_tau=nb.Uniform(0, 5))  # fmt: skip
    for engine in ("laplace", "auto"):
        out = tmp_path / engine
        assert cli.main([*base, "--engine", engine, "--out", str(out)]) == 0
        assert "engine laplace" in capsys.readouterr().err
        got = pd.read_csv(out / "relative_effects.csv").set_index("treatment")["mean"]
        want = fit.relative_effects().set_index("treatment")["mean"]
        np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-6)


# ---------------------------------------------------------------------------- issue 14: the
# whole analysis from the command line: version, class models, priors by name, node-splitting,
# DIC, arm-level likelihoods, both engines

#: Short PyMC runs: the CLI and the in-process fit use the same settings and seed.
PYMC = {"draws": 150, "tune": 200, "chains": 2}
PYMC_ARGS = [f"--{k}={v}" for k, v in PYMC.items()]


def _csv(tmp_path, name, table=None, **columns):
    """Write a bundled data set (or ``table``) to a CSV; return its path."""
    path = tmp_path / f"{name}.csv"
    data = nb.datasets.load_dataset(name, table) if table else nb.datasets.load_dataset(name)
    data.rename(columns=columns).to_csv(path, index=False)
    return path


def _fit_in_process(csv, *, labels=(), **kwargs):
    """The fit the command should reproduce: same CSV reader, options and seed."""
    data = nb.read_csv_table(csv, labels=list(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)  # short runs
        return nb.fit_network(data, **kwargs)


def _same(path, expected):
    """The CSV written by the command equals the in-process table (floats round-trip)."""
    written = pd.read_csv(path, keep_default_na=False, na_values=[""])
    expected = expected.reset_index(drop=True)
    assert list(written.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False, rtol=1e-12, atol=0)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.split() == ["nma-bayes", nb.__version__]
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.split() == ["nma-bayes", nb.__version__]


def test_pymc_engine_subprocess_matches_an_in_process_fit(tmp_path):
    """CI: ``nma-bayes fit --engine pymc`` on a bundled data set, in a fresh process."""
    csv, out = _csv(tmp_path, "parkinsons"), tmp_path / "out"
    result = _run(
        "fit", csv, "--engine", "pymc", "--lower-is-better", "--seed", 11, *PYMC_ARGS, "--dic",
        "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = {p.name for p in out.iterdir()}
    assert written == {
        "report.html", "relative_effects.csv", "relative_effects_all_pairs.csv",
        "league_table.csv", "sucra.csv", "model_fit.csv", "top_k.csv",
        "cumulative_rank_probabilities.csv",
    }  # fmt: skip
    fit = _fit_in_process(csv, engine="pymc", random_seed=11, lower_is_better=True, **PYMC)
    assert fit.engine == "pymc" and fit.idata.posterior.sizes["draw"] == PYMC["draws"]
    _same(out / "relative_effects.csv", fit.relative_effects())
    _same(out / "sucra.csv", fit.sucra(lower_is_better=True))
    _same(out / "model_fit.csv", fit.model_fit())
    assert cli.analysis.dic_line(fit.model_fit()) in result.stdout.splitlines()
    assert "seed 11, engine pymc" in result.stderr and "Traceback" not in result.stderr
    assert "Pramipexole" in result.stdout


# ------------------------------------------------------------------------------ class models
def _psps_cli(tmp_path, *extra):
    csv, out = _csv(tmp_path, "psps_t2_illustrative"), tmp_path / "out"
    args = ["fit", str(csv), "--classes", "class", "--effects", "fixed", "--lower-is-better",
            "--seed", "3", *PYMC_ARGS, "--out", str(out), *map(str, extra)]  # fmt: skip
    return csv, out, cli.main(args)


@pytest.mark.filterwarnings("ignore::nma_bayes.NMAConvergenceWarning")
def test_class_model_writes_class_summaries_of_the_same_fit(tmp_path, capsys):
    csv, out, status = _psps_cli(tmp_path, "--class-model", "common")
    assert status == 0, capsys.readouterr().err
    fit = _fit_in_process(
        csv, labels=["class", "treat1_class", "treat2_class"], classes="class",
        class_model="common", effects="fixed", lower_is_better=True, random_seed=3, **PYMC,
    )  # fmt: skip
    _same(out / "class_effects.csv", fit.class_effects())
    _same(out / "class_rankings.csv", fit.class_rankings(lower_is_better=True))
    _same(out / "relative_effects.csv", fit.relative_effects())
    # a common class model: treatments of one class share one effect
    rel = pd.read_csv(out / "relative_effects.csv")
    scs = rel[rel["treatment"].str.startswith("SCS")]["mean"]
    assert len(scs) >= 2 and scs.nunique() == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "common: one effect per class" in html and '<section id="class-effects">' in html


def test_class_options_reach_fit_network(tmp_path, capsys, monkeypatch):
    """Exchangeable model and class priors by name are passed on as objects."""
    seen = {}

    def spy(network, **kwargs):
        seen.update(kwargs, classes=network.classes)
        raise RuntimeError("stop before sampling")

    monkeypatch.setattr("nma_bayes.fitting.fit.fit_network", spy)
    _, _, status = _psps_cli(
        tmp_path, "--class-model", "exchangeable", "--prior-class-mean", "normal(0, 5)",
        "--prior-class-sd", "truncnormal(0.33, 0.1)", "--effects", "random",
        "--prior-tau", "half-cauchy(0.5)", "--prior-d", "normal(mean=0, sd=4)",
    )  # fmt: skip
    assert status == 2 and "stop before sampling" in capsys.readouterr().err
    assert seen["class_model"] == "exchangeable" and seen["effects"] == "random"
    assert seen["prior_class_mean"] == nb.Normal(0, 5)
    assert seen["prior_class_sd"] == nb.priors.TruncatedNormal(0.33, 0.1)
    assert seen["prior_tau"] == nb.HalfCauchy(0.5) and seen["prior_d"] == nb.Normal(0, 4)
    assert (seen["draws"], seen["tune"], seen["chains"]) == (150, 200, 2)
    assert seen["classes"] is not None and "neuromodulation" in set(seen["classes"].values())


def test_classes_without_a_class_model_still_give_class_effects(tmp_path, capsys):
    data = _write(
        tmp_path / "classes.csv",
        "study,treat1,treat2,TE,seTE,treat1_cls,treat2_cls\n"
        "s1,B,A,0.1,0.2,x,y\ns2,C,A,0.3,0.25,x,y\ns3,C,B,0.2,0.3,x,x\n",
    )
    out = tmp_path / "out"
    assert _fit_cli(data, out, "--classes", "cls", "--reference", "A", "--seed", "1") == 0
    fit = _fit_in_process(
        data, labels=["treat1_cls", "treat2_cls"], classes="cls", reference="A", engine="exact",
        effects="fixed", random_seed=1,
    )  # fmt: skip
    _same(out / "class_effects.csv", fit.class_effects())
    assert not (out / "class_rankings.csv").exists()  # no direction: no rankings
    assert "class_effects.csv" in capsys.readouterr().err


# -------------------------------------------------------------------------- priors by name
@pytest.mark.parametrize(
    ("option", "text", "expected"),
    [
        ("--prior-d", "normal(0,10)", nb.Normal(0, 10)),
        ("--prior-d", " Normal( mean = -1 , sd = 2.5e1 ) ", nb.Normal(-1, 25)),
        ("--prior-tau", "halfnormal(1)", nb.HalfNormal(1)),
        ("--prior-tau", "half-normal(.5)", nb.HalfNormal(0.5)),
        ("--prior-tau", "uniform(0,5)", nb.Uniform(0, 5)),
        ("--prior-tau", "lognormal(-2,1)", nb.LogNormal(-2, 1)),
        ("--prior-tau", "halfcauchy(0.5)", nb.HalfCauchy(0.5)),
        ("--prior-tau", "turner()", nb.turner2015()),
        ("--prior-tau", "turner2015(all-cause, pharma vs placebo)",
         nb.turner2015("all-cause mortality", "pharmacological vs placebo/control")),
        ("--prior-tau", "rhodes()", nb.rhodes2015()),
        ("--prior-tau", "rhodes(outcome='mental health', comparison=pharma vs pharma, "
         "area=respiratory)", nb.rhodes2015("mental health outcome",
                                            "pharmacological vs pharmacological",
                                            area="respiratory")),
        ("--prior-class-sd", "truncnormal(0.33, 0.1)", nb.priors.TruncatedNormal(0.33, 0.1)),
        ("--prior-class-mean", "normal(0, 3)", nb.Normal(0, 3)),
    ],
)  # fmt: skip
def test_parse_prior(option, text, expected):
    prior = parse_prior(option, text)
    assert type(prior) is type(expected) and prior == expected


@pytest.mark.parametrize(
    "tau",
    ["turner(all-cause mortality, pharmacological vs placebo/control)",
     "rhodes(mental health, pharma vs placebo)", "uniform(0, 2)"],
)  # fmt: skip
def test_priors_by_name_are_used_by_the_fit(senn_csv, tmp_path, capsys, tau):
    out = tmp_path / "out"
    status = cli.main(["fit", str(senn_csv), "--engine", "exact", "--seed", "5", "--prior-d",
                       "normal(0, 5)", "--prior-tau", tau, "--out", str(out)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    prior_tau = parse_prior("--prior-tau", tau)
    fit = _fit_in_process(senn_csv, engine="exact", random_seed=5, prior_d=nb.Normal(0, 5),
                          prior_tau=prior_tau)  # fmt: skip
    _same(out / "relative_effects.csv", fit.relative_effects())
    default = _fit_in_process(senn_csv, engine="exact", random_seed=5)
    assert not np.allclose(default.relative_effects()["sd"], fit.relative_effects()["sd"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "normal(0, 5^2)" in html
    assert escape(prior_tau.describe()) in html


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--prior-d", "halfnormal(1)"], ["--prior-d 'halfnormal(1)'", "normal(mean, sd)"]),
        (["--prior-d", "normal(0)"], ["--prior-d", "needs sd"]),
        (["--prior-d", "normal(0, -1)"], ["--prior-d", "'sd' (a scale)"]),
        (["--prior-d", "normal(0, ten)"], ["--prior-d", "'ten' is not a number"]),
        (["--prior-d", "normal(0, nan)"], ["--prior-d", "not a number"]),
        (["--prior-d", "normal 0 10"], ["--prior-d", "is not a prior"]),
        (["--prior-d", "normal(0, 1, 2)"], ["--prior-d", "3 values"]),
        (["--prior-d", "normal(mu=0, sd=1)"], ["--prior-d", "no parameter 'mu'"]),
        (["--prior-tau", "gamma(1, 1)"], ["--prior-tau", "unknown family 'gamma'", "rhodes("]),
        (["--prior-tau", "turner(nonsense, pharma vs placebo)"],
         ["--prior-tau", "Unknown Turner et al. outcome type 'nonsense'"]),
        (["--prior-tau", "turner(pain)"], ["--prior-tau", "give both outcome and comparison"]),
        (["--prior-tau", "rhodes(pain, drug vs placebo, area=mars)"], ["--prior-tau", "'mars'"]),
        (["--prior-class-sd", "halfcauchy(1)", "--class-model", "exchangeable", "--classes",
          "c"], ["--prior-class-sd", "truncnormal(mean, sd)"]),
    ],
)  # fmt: skip
def test_bad_prior_strings_are_one_line_errors(senn_csv, tmp_path, capsys, no_fit, args,
                                               fragments):  # fmt: skip
    args = ["fit", str(senn_csv), "--engine", "exact", "--out", str(tmp_path / "out"), *args]
    assert cli.main(args) == 2  # random effects: --prior-tau applies
    err = capsys.readouterr().err
    line = _one_error_line(err)
    for fragment in fragments:
        assert fragment in line, line
    assert "accepted forms:" in line
    assert "reading data" not in err  # refused before the data are read
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--effects", "fixed", "--prior-tau", "halfnormal(1)"], "--prior-tau has no effect"),
        (["--prior-class-sd", "halfnormal(1)"], "--prior-class-sd needs --class-model"),
        (["--class-model", "common"], "--class-model needs --classes"),
    ],
)
def test_options_that_would_be_ignored_are_refused(senn_csv, tmp_path, capsys, no_fit, args,
                                                   fragment):  # fmt: skip
    assert _fit_cli(senn_csv, tmp_path / "out", *args) == 2
    assert fragment in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--draws", "0"], "draws"),
        (["--chains", "0"], "chains"),
        (["--class-model", "common", "--classes", "cls"], "exact engine"),
    ],
)
def test_invalid_model_settings_are_one_line_errors(tmp_path, capsys, args, fragment):
    data = _write(
        tmp_path / "classes.csv",
        "study,treat1,treat2,TE,seTE,treat1_cls,treat2_cls\n"
        "s1,B,A,0.1,0.2,x,y\ns2,C,A,0.3,0.25,x,y\ns3,C,B,0.2,0.3,x,x\n",
    )
    assert _fit_cli(data, tmp_path / "out", *args) == 2
    assert fragment in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out" / "report.html").exists()


# ------------------------------------------------------------------------- nodesplit and DIC
def test_dic_writes_model_fit_and_prints_the_dic(tmp_path, capsys):
    csv, out = _csv(tmp_path, "parkinsons"), tmp_path / "out"
    assert _fit_cli(csv, out, "--dic", "--seed", "4") == 0
    fit = _fit_in_process(csv, engine="exact", effects="fixed", random_seed=4)
    _same(out / "model_fit.csv", fit.model_fit())
    printed = capsys.readouterr().out.splitlines()
    assert cli.analysis.dic_line(fit.model_fit()) in printed
    assert printed[-1].startswith("DIC ") and "pD" in printed[-1]
    assert '<section id="nodesplit">' not in (out / "report.html").read_text(encoding="utf-8")


def test_nodesplit_writes_the_table_and_passes_it_to_the_report(tmp_path, capsys, monkeypatch):
    """The table is written, drawn into the report (``write_report(..., nodesplit=)``) and
    computed with the model settings of the main fit (here a prior by name)."""
    from nma_bayes.report import html_report

    csv, out = _csv(tmp_path, "parkinsons"), tmp_path / "out"
    passed = {}
    original = html_report.write_report

    def spy(fit, path, **kwargs):
        passed.update(kwargs)
        return original(fit, path, **kwargs)

    monkeypatch.setattr(html_report, "write_report", spy)
    status = cli.main(["fit", str(csv), "--engine", "exact", "--nodesplit", "--seed", "4",
                       "--prior-tau", "halfnormal(0.5)", "--out", str(out)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    expected = nb.nodesplit(nb.read_csv_table(csv), engine="exact", random_seed=4,
                            prior_tau=nb.HalfNormal(0.5))  # fmt: skip
    assert len(expected) == 4
    _same(out / "nodesplit.csv", expected)
    pd.testing.assert_frame_equal(passed["nodesplit"], expected)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="nodesplit">' in html and '<section id="model-fit">' in html
    other = nb.nodesplit(nb.read_csv_table(csv), engine="exact", random_seed=4)
    assert not np.allclose(other["difference"], expected["difference"])  # the prior was used


def test_nodesplit_without_a_loop_is_refused_before_the_fit(tmp_path, capsys, no_fit):
    data = _write(tmp_path / "star.csv",
                  "study,treat1,treat2,TE,seTE\ns1,B,A,0.1,0.2\ns2,C,A,0.3,0.25\n")  # fmt: skip
    assert _fit_cli(data, tmp_path / "out", "--nodesplit") == 2
    assert "no closed loop" in _one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------------- arm-level likelihoods
@pytest.mark.filterwarnings("ignore::nma_bayes.NMAConvergenceWarning")
def test_poisson_rates_with_renamed_columns(tmp_path, capsys):
    csv = _csv(tmp_path, "dietary_fat", "arms", events="deaths", exposure="years")
    pd.read_csv(csv).drop(columns="n").to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["fit", str(csv), "--likelihood", "poisson", "--link", "log", "--events", "deaths",
            "--exposure", "years", "--effects", "fixed", "--seed", "8", *PYMC_ARGS, "--dic",
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0, capsys.readouterr().err
    fit = _fit_in_process(csv, likelihood="poisson", link="log", events="deaths",
                          exposure="years", effects="fixed", random_seed=8, **PYMC)  # fmt: skip
    _same(out / "relative_effects.csv", fit.relative_effects())
    _same(out / "model_fit.csv", fit.model_fit())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "poisson (log link) on arm-level outcomes" in html
    # without --exposure the default column name is looked for, and its absence is one line
    assert cli.main([a for a in args if a not in ("--exposure", "years")]) == 2
    assert "exposure" in _one_error_line(capsys.readouterr().err)


# ------------------------------------------- outcome options the likelihood would ignore
def _events_csv(tmp_path):
    path = tmp_path / "smoking.csv"
    data = nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]
    data.assign(t=1.0).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--likelihood", "binomial", "--time", "t"],
         "--time needs --likelihood binomial --link cloglog"),
        (["--likelihood", "binomial", "--link", "logit", "--time", "t"], "--time needs"),
        (["--likelihood", "binomial", "--exposure", "t"], "--exposure needs --likelihood poisson"),
        (["--likelihood", "poisson", "--exposure", "n", "--n", "n"],
         "--n has no effect with --likelihood poisson"),
        (["--time", "t"], "--time needs"),
        (["--likelihood", "binomial", "--category", "c"], "--category needs --likelihood ordered"),
        (["--likelihood", "binomial", "--arm", "a"], "--arm needs --likelihood ordered"),
    ],
)  # fmt: skip
def test_outcome_options_the_likelihood_ignores_are_refused(tmp_path, capsys, no_fit, args,
                                                            fragment):  # fmt: skip
    assert _fit_cli(_events_csv(tmp_path), tmp_path / "out", *args) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert fragment in line and "would be ignored" in line


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--events", "events"], "--events needs --likelihood"),
        (["--link", "logit"], "--link needs --likelihood"),
        (["--exposure", "e"], "--exposure needs --likelihood poisson"),
    ],
)
def test_outcome_options_on_contrast_data_are_refused(senn_csv, tmp_path, capsys, no_fit, args,
                                                      fragment):  # fmt: skip
    assert _fit_cli(senn_csv, tmp_path / "out", *args) == 2
    assert fragment in _one_error_line(capsys.readouterr().err)


def test_outcome_options_the_likelihood_uses_reach_the_fit(tmp_path, capsys, monkeypatch):
    passed = {}

    def spy(network, **kwargs):
        passed["network"] = network
        raise AssertionError("the fit was reached")

    monkeypatch.setattr("nma_bayes.fitting.fit.fit_network", spy)
    args = ["--likelihood", "binomial", "--link", "cloglog", "--time", "t"]
    assert _fit_cli(_events_csv(tmp_path), tmp_path / "out", *args) == 2
    assert "the fit was reached" in capsys.readouterr().err
    assert passed["network"].link == "cloglog" and passed["network"].columns["time"] == "t"


