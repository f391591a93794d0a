"""Hostile inputs (issue 17): absurd magnitudes, structure, options and CSV cells.

Every case asserts the typed error, its rule and a message fragment naming the column, rows or
studies, before any model is built (the PyMC builder and sampler are replaced by functions that
fail the test); fits that must succeed use the exact engine.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base import errors as E
from nma_bayes.data import validation as V
from nma_bayes.datasets import DATASETS, load_dataset
from nma_bayes.engines.nuts import SamplerSettings
from nma_bayes.fitting.fit import as_network
from nma_bayes.results.tables import finite as _finite

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def contrasts(rows=None):
    rows = rows or [
        ("s1", "B", "A", 0.1, 0.2, np.nan),
        ("s2", "C", "A", 0.2, 0.25, np.nan),
        ("s3", "C", "B", 0.1, 0.3, np.nan),
    ]
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])


def arms():
    rows = [
        ("a1", "A", 10.0, 3.0, 40),
        ("a1", "B", 9.0, 3.2, 41),
        ("a2", "B", 9.5, 2.9, 30),
        ("a2", "C", 8.0, 3.1, 33),
    ]
    return pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])


def with_value(df, row, col, value):
    df = df.copy()
    df[col] = df[col].astype(object if isinstance(value, str) else float)
    df.loc[row, col] = value
    return df


def exact(data, **kwargs):
    return nb.fit_network(data, engine="exact", random_seed=1, **kwargs)


@pytest.fixture(autouse=True)
def no_pymc(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("PyMC was reached with bad input")

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", forbidden)
    monkeypatch.setattr("nma_bayes.models.pymc_graph.build_model", forbidden)


def raises(call, exc, rule, fragment):
    with pytest.raises(exc, match=fragment) as info:
        call()
    assert info.value.rule == rule
    return info.value


# ------------------------------------------------------------------------- magnitudes
@pytest.mark.parametrize(
    ("data", "kwargs", "fragment"),
    [
        (with_value(contrasts(), 0, "TE", 1e308), {}, r"'TE'.*row 0: 1e\+308"),
        (with_value(contrasts(), 2, "TE", -1e51), {}, r"'TE'.*row 2: -1e\+51"),
        (with_value(contrasts(), 1, "seTE", 1e-100), {}, r"'seTE'.*row 1: 1e-100"),
        (with_value(contrasts(), 1, "seTE", 1e155), {}, r"'seTE'.*row 1: 1e\+155"),
        (contrasts().assign(seTE=1e-150, TE=1e-150), {"effects": "fixed"}, r"'seTE'.*3 in total"),
        (with_value(arms(), 0, "sd", 1e200), {"measure": "SMD"}, r"'sd'.*row 0: 1e\+200"),
        (with_value(arms(), 3, "sd", 1e-200), {"measure": "MD"}, r"'sd'.*row 3: 1e-200"),
        (arms().assign(sd=1e-150), {"measure": "SMD"}, r"'sd'.*4 in total"),
        (with_value(arms(), 1, "n", 1e300), {"measure": "SMD"}, r"'n'.*at most 1e\+09.*row 1"),
        (with_value(arms(), 1, "mean", 1e60), {"measure": "MD"}, r"'mean'.*row 1: 1e\+60"),
    ],
)
def test_hard_bounds(data, kwargs, fragment):
    raises(lambda: exact(data, **kwargs), E.InvalidValueError, "out-of-range", fragment)


def test_se_base_hard_bounds():
    df = contrasts([("m", "B", "A", 0.2, 0.3, 1e-60), ("m", "C", "A", 0.3, 0.3, 1e-60)])
    raises(lambda: exact(df), E.InvalidValueError, "out-of-range", r"'se_base'.*rows? 0: 1e-60")


def test_unit_free_rules_name_the_studies():
    raises(
        lambda: exact(with_value(contrasts(), 0, "TE", 1e10)),
        E.InvalidValueError,
        "te-vs-se",
        r"'s1' \(B vs A\): seTE=0.2.*'s1' \(B vs A\): TE=1e\+10",
    )
    raises(
        lambda: exact(with_value(contrasts(), 2, "seTE", 1e-7)),
        E.InvalidValueError,
        "se-spread",
        r"Smallest: study 's3' \(C vs B\): seTE=1e-07",
    )
    # a base-form study whose se_base is almost its seTE: arm SE sqrt(seTE^2 - se_base^2) ~ 3e-8
    tight = contrasts(
        [("m", "B", "A", 0.2, 0.3, 0.3 - 1e-15), ("m", "C", "A", 0.3, 0.3, 0.3 - 1e-15),
         ("s2", "C", "A", 0.2, 0.25, np.nan)]
    )  # fmt: skip
    raises(lambda: exact(tight), E.InvalidValueError, "se-spread", r"study 'm' \(arm B: SE\)")


def test_measure_ranges_cover_contrasts_computed_from_arms():
    raises(
        lambda: exact(arms().assign(sd=1e-40), measure="SMD"),
        E.InvalidValueError,
        "implausible-for-measure",
        r"measure='SMD'.*study 'a1' \(B vs A\).*arm columns 'mean', 'sd', 'n'",
    )
    raises(
        lambda: exact(with_value(contrasts(), 1, "TE", 1.5), measure="RD"),
        E.InvalidValueError,
        "implausible-for-measure",
        r"study 's2' \(C vs A\): TE=1.5",
    )
    # MD has no absolute scale: the same magnitudes fit
    fit = exact(contrasts().assign(TE=lambda d: d.TE * 1e3, seTE=lambda d: d.seTE * 1e3))
    assert np.isfinite(fit.relative_effects()["mean"]).all()


def test_extreme_but_allowed_scales_fit_without_nan():
    for scale in (1e-20, 1e20):
        df = contrasts().assign(TE=lambda d, s=scale: d.TE * s, seTE=lambda d, s=scale: d.seTE * s)
        for effects in ("fixed", "random"):
            fit = exact(df, effects=effects)
            assert np.isfinite(fit.relative_effects().select_dtypes("number")).all().all()


def test_bounds_are_documented_with_their_values():
    text = DOCS.read_text(encoding="utf-8")
    for name in ("SE_BOUNDS", "ABS_VALUE_MAX", "N_MAX", "SE_RATIO_MAX", "TE_SE_RATIO_MAX",
                 "MEASURE_RANGES", "PRIOR_SCALE_BOUNDS", "PRIOR_LOCATION_MAX"):  # fmt: skip
        assert f"`{name}`" in text
    assert f"`[{V.SE_BOUNDS[0]:g}, {V.SE_BOUNDS[1]:g}]`".replace("e+", "e") in text
    assert f"`{V.N_MAX:g}`".replace("e+0", "e") in text
    assert f"`{V.SE_RATIO_MAX:g}`".replace("e+0", "e") in text


@pytest.mark.parametrize("name", list(DATASETS))
def test_bundled_datasets_pass_the_range_rules(name):
    info = DATASETS[name]
    for kind in info.files:
        df = load_dataset(name, kind)
        if not {"study", "treat1", "TE", "seTE"} <= set(df) and not {"study", "mean"} <= set(df):
            continue  # treatment tables and published results
        net = as_network(df, reference=info.reference, measure=info.measure)
        assert net.n_treatments >= 2


# -------------------------------------------------------------------------------- priors
@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: nb.Normal(0, "10"), r"'sd'.*'10' \(str\)"),
        (lambda: nb.Normal("0", 10), r"'mean'.*'0' \(str\)"),
        (lambda: nb.HalfNormal(None), r"'scale'.*None"),
        (lambda: nb.HalfNormal(True), r"'scale'.*True \(bool\)"),
        (lambda: nb.Normal(0, 1e155), r"'sd'.*between 1e-06 and 1e\+10"),
        (lambda: nb.Normal(1e7, 1), r"'mean'.*at most 1e\+06"),
        (lambda: nb.Uniform(0, 1e155), r"upper <= 1e\+10"),
        (lambda: nb.Uniform(0, "5"), r"'upper'.*'5'"),
        (lambda: nb.LogNormal(0, 100), r"LogNormal: .*log\(tau\)"),
        (lambda: nb.LogStudentTTau2(nu=1), r"LogStudentTTau2: .*log\(tau\)"),
        (lambda: nb.LogNormalTau2(label=3), "label must be a string"),
    ],
)
def test_prior_parameters_refused_at_construction(make, fragment):
    raises(make, E.ModelSpecError, "bad-prior", fragment)


def test_wrong_prior_family_is_a_bad_prior():
    raises(lambda: exact(contrasts(), prior_tau=nb.Normal(0, 1)), E.ModelSpecError, "bad-prior",
           "prior_tau")  # fmt: skip


# ----------------------------------------------------------------------------- structure
def test_arm_data_with_a_stray_treat1_column():
    stray = arms().assign(treat1="x")
    error = raises(lambda: exact(stray), E.MissingColumnError, "missing-column", "'TE'")
    assert "read as contrast data (a 'treat1' column is present" in str(error)
    assert "measure='SMD' or 'MD'" in str(error)
    with_stray = exact(stray, measure="SMD").relative_effects()
    pd.testing.assert_frame_equal(with_stray, exact(arms(), measure="SMD").relative_effects())


def test_arm_data_without_measure_says_which_format_was_detected():
    error = raises(lambda: exact(arms()), E.ModelSpecError, "unknown-measure", "measure None")
    assert "read as arm-level data (a 'treatment' column and no 'treat1' column)" in str(error)


def test_duplicated_class_column_is_refused():
    df = arms().assign(cls=["x", "y", "y", "z"])
    df = pd.concat([df, df[["cls"]]], axis=1)
    raises(lambda: exact(df, measure="MD", classes="cls"), E.InvalidValueError,
           "duplicate-column", "'cls'")  # fmt: skip


# ------------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"draws": True}, r"draws must be an integer >= 1.*True \(bool\)"),
        ({"draws": 10.0}, "draws must be an integer"),
        ({"tune": -1}, "tune must be an integer >= 1"),
        ({"tune": 0}, "tune must be an integer >= 1"),  # nutpie panics without warm-up
        ({"tune": -1, "sampler": "pymc"}, "tune must be an integer >= 0"),
        ({"chains": 0}, "chains must be an integer >= 1"),
        ({"cores": -1}, "cores must be an integer >= 1 or None"),
        ({"cores": "2"}, "cores must be an integer"),
        ({"target_accept": "0.9"}, r"target_accept.*'0.9' \(str\)"),
        ({"target_accept": 1.0}, "target_accept must be a number strictly between 0 and 1"),
        ({"random_seed": 2**80}, r"random_seed.*< 2\*\*64"),
        ({"random_seed": -1}, "random_seed"),
        ({"random_seed": True}, "random_seed"),
        ({"random_seed": 1.5}, "random_seed"),
        ({"progressbar": "yes"}, "progressbar must be True or False"),
        ({"sampler": ["nutpie"]}, "sampler="),
        ({"classes": ["A", "B"]}, "classes= must be a column name or a dict"),
        ({"effects": "mixed"}, "effects='mixed'"),
    ],
)
def test_options_are_validated_before_anything_runs(kwargs, fragment):
    call = lambda: nb.fit_network(contrasts(), **{"engine": "pymc", **kwargs})  # noqa: E731
    raises(call, E.ModelSpecError, "bad-option", fragment)


def test_settings_accept_valid_values():
    s = SamplerSettings(draws=np.int64(10), tune=0, cores=None, target_accept=0.8, sampler="pymc")
    assert (s.draws, s.tune, s.cores, s.target_accept) == (10, 0, None, 0.8)
    assert type(s.draws) is int


def test_unknown_keywords_name_the_function_and_suggest():
    raises(lambda: exact(contrasts(), refrence="A"), E.ModelSpecError, "unknown-option",
           r"fit_network\(\).*did you mean reference=.*Valid options:.*random_seed")  # fmt: skip
    raises(lambda: nb.Network.from_contrasts(contrasts(), seTe="x"), E.ModelSpecError,
           "unknown-option", r"Network.from_contrasts\(\).*did you mean seTE=")  # fmt: skip
    raises(lambda: as_network(contrasts(), closure_to=1), E.ModelSpecError, "unknown-option",
           r"as_network\(\).*did you mean closure_tol=")  # fmt: skip


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: exact(contrasts(), treatment="arm"), "'treatment='.*contrast data"),
        (lambda: exact(contrasts(), smd_method="netmeta"), "'smd_method='"),
        (lambda: exact(arms(), measure="MD", TE="x"), "'TE='.*arm-level data"),
        (lambda: exact(arms(), measure="MD", closure_tol=0.1), "'closure_tol='"),
        (lambda: nb.Network.from_contrasts(contrasts(), mean="m"), "'mean='.*contrast data"),
        (lambda: nb.Network.from_arms(arms(), measure="MD", seTE="s"), "'seTE='.*arm-level"),
        (lambda: exact(arms().assign(se=1.0), measure="SMD", se="se"), "se='se'.*SMD"),
    ],
)
def test_options_of_the_other_format_are_refused(call, fragment):
    raises(call, E.ModelSpecError, "option-not-applicable", fragment)


def test_summary_options_must_be_real_booleans_and_probabilities():
    fit = exact(contrasts())
    bad = [
        lambda: fit.relative_effects(all_pairs="no"),
        lambda: fit.relative_effects(all_pairs=1),
        lambda: fit.relative_effects(ci_prob="0.9"),
        lambda: fit.relative_effects(ci_prob=None),
        lambda: fit.relative_effects(ci_prob=1.0),
        lambda: fit.heterogeneity(ci_prob="0.9"),
        lambda: fit.sucra(lower_is_better=1),
        lambda: fit.sucra(lower_is_better=True, ci_prob=None),
        lambda: fit.prediction_interval(all_pairs="yes"),
        lambda: fit.model_fit(per_study="yes"),
        lambda: fit.league_table(digits="2"),
        lambda: fit.league_table(ci_prob=True),
    ]
    for call in bad:
        with pytest.raises(E.ModelSpecError) as info:
            call()
        assert info.value.rule == "bad-option"
    assert len(fit.relative_effects(all_pairs=np.bool_(True), ci_prob=np.float64(0.9))) == 3


def test_nan_summaries_raise_instead_of_returning():
    table = pd.DataFrame({"treatment": ["B", "C"], "mean": [0.1, np.nan], "sd": [0.2, 0.3]})
    with pytest.raises(E.NumericalError, match=r"relative_effects\(\).*C: mean"):
        _finite(table, "relative_effects")
    assert _finite(table.fillna(0.0), "relative_effects") is not None


def test_nan_guard_is_wired_into_relative_effects():
    fit = exact(contrasts())
    nan_draws = fit.d_full() * np.nan
    fit.posterior.engine, fit.posterior.d_full = "pymc", lambda: nan_draws  # (NaN) draws
    with pytest.raises(E.NumericalError, match=r"relative_effects\(\).*B: mean"):
        fit.relative_effects()


# ---------------------------------------------------------------------------- CSV cells
def test_only_the_cells_that_do_not_parse_are_named():
    df = contrasts().assign(TE=["0.1", "0.1a", "-0.2"])
    error = raises(lambda: exact(df), E.InvalidValueError, "non-numeric", "row 1: '0.1a'")
    assert "row 0" not in str(error) and "'0.1'" not in str(error)


def test_unicode_minus_and_decimal_comma_get_a_hint():
    df = contrasts().assign(TE=["0.1", "\u22120.2", "0.3"])
    error = raises(lambda: exact(df), E.InvalidValueError, "non-numeric", "row 1: '\u22120.2'")
    assert "MINUS SIGN" in str(error) and "row 0" not in str(error)
    df = contrasts().assign(seTE=["0,2", "0.25", "0.3"])
    raises(lambda: exact(df), E.InvalidValueError, "non-numeric", "row 0: '0,2'.*decimal=','")


def test_numbers_stored_as_text_are_not_coerced():
    df = contrasts().assign(TE=["0.1", "-0.2", "0.1"])
    raises(lambda: exact(df), E.InvalidValueError, "non-numeric", "numbers stored as text")
