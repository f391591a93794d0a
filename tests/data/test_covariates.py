"""Study covariates (meta-regression): read from the data or a studies table, validated.

Every test checks the values read, their kinds, levels and order (the network's study order),
or the rule of the error raised; warnings are errors in this suite, so those expected are
caught with ``pytest.warns``.
"""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base import errors as E
from nma_bayes.data.covariates import StudyCovariates
from nma_bayes.data.transforms import nodesplit_network, ume_network
from nma_bayes.datasets import load_dataset


def contrasts(**cols):
    """Studies in a non-sorted order, 'm' a three-arm study in base form (two rows)."""
    rows = [
        ("z1", "B", "A", 0.1, 0.2, np.nan),
        ("m", "B", "A", 0.2, 0.3, 0.15),
        ("m", "C", "A", 0.3, 0.3, 0.15),
        ("a2", "C", "B", 0.1, 0.3, np.nan),
        ("k3", "C", "A", 0.2, 0.25, np.nan),
    ]
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    for k, v in cols.items():
        df[k] = v
    return df


def arms(**cols):
    rows = [("a1", "A", 10.0, 3.0, 40), ("a1", "B", 9.0, 3.2, 41), ("b2", "B", 9.5, 2.9, 30),
            ("b2", "C", 8.0, 3.1, 33), ("c3", "A", 9.9, 3.0, 35),
            ("c3", "C", 8.1, 2.8, 36)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])
    for k, v in cols.items():
        df[k] = v
    return df


def certolizumab():
    return load_dataset("certolizumab", "arms"), load_dataset("certolizumab", "studies")


# ---------------------------------------------------------------------------- reading
def test_no_covariates_by_default():
    assert nb.Network.from_contrasts(contrasts()).covariates is None


def test_numeric_covariate_from_contrast_rows_in_network_order():
    net = nb.Network.from_contrasts(contrasts(age=[40, 50, 50, 60, 45]), covariates="age")
    cov = net.covariates
    assert isinstance(cov, StudyCovariates)
    assert net.studies == ("z1", "m", "a2", "k3")
    assert list(cov.values.index) == list(net.studies)
    assert cov.names == ("age",) and cov.kinds == ("numeric",) and cov.kind("age") == "numeric"
    assert cov.values["age"].dtype == np.float64
    np.testing.assert_array_equal(cov.values["age"].to_numpy(), [40.0, 50.0, 60.0, 45.0])
    assert cov.levels == {} and cov.source == {"age": "data"} and not cov.baseline_risk
    assert cov.subgroups("age") is None  # four distinct values: not a subgroup covariate


def test_categorical_covariate_from_arm_rows_sorted_levels():
    df = arms(region=["us", "us", "eu", "eu", "asia", "asia"])
    # every level is held by one study and every comparison lies in one subgroup
    with pytest.warns(E.CovariateWarning) as record:
        net = nb.Network.from_arms(df, measure="MD", covariates="region")
    assert sorted(w.message.rule for w in record) == [
        "covariate-level-one-study",
        "covariate-subgroup-empty",
    ]
    cov = net.covariates
    assert cov.kinds == ("categorical",)
    assert cov.levels == {"region": ("asia", "eu", "us")}
    assert cov.values["region"].dtype == object
    assert cov.values["region"].to_dict() == {"a1": "us", "b2": "eu", "c3": "asia"}
    assert cov.subgroups("region") == ("asia", "eu", "us")


def test_covariate_from_both_tables_of_mixed_data():
    net = nb.Network.from_data(
        contrasts=contrasts(dose=[1.0, 2.0, 2.0, 1.0, 2.0]),
        arms=arms(dose=[2.0, 2.0, 1.0, 1.0, 3.0, 3.0]),
        measure="MD",
        covariates="dose",
    )
    assert net.studies == ("z1", "m", "a2", "k3", "a1", "b2", "c3")
    expected = [1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 3.0]
    np.testing.assert_array_equal(net.covariates.values["dose"].to_numpy(), expected)


def test_covariate_in_one_table_of_mixed_data_is_missing_for_the_others():
    with pytest.raises(E.InvalidValueError, match="'a1', 'b2', 'c3'.*not in the data") as info:
        nb.Network.from_data(
            contrasts=contrasts(dose=[1.0, 2.0, 2.0, 1.0, 2.0]), arms=arms(), measure="MD",
            covariates="dose",
        )  # fmt: skip
    assert info.value.rule == "covariate-missing"


def test_studies_table_certolizumab_numeric_and_joined_on_study():
    data, table = certolizumab()
    shuffled = table.iloc[::-1].reset_index(drop=True)  # row order does not matter
    net = nb.Network.from_data(
        arms=data, likelihood="binomial", covariates="disease_duration", studies=shuffled
    )
    cov = net.covariates
    assert list(cov.values.index) == list(net.studies) == list(dict.fromkeys(data["study"]))
    expected = table.set_index("study")["disease_duration"].loc[list(net.studies)].to_numpy()
    np.testing.assert_array_equal(cov.values["disease_duration"].to_numpy(), expected)
    assert cov.values.loc["CHARISMA", "disease_duration"] == 0.915
    assert cov.source == {"disease_duration": "studies table"}
    assert cov.kinds == ("numeric",)


def test_studies_table_statins_binary_numeric_is_a_subgroup_covariate():
    data, table = load_dataset("statins", "arms"), load_dataset("statins", "studies")
    # every study compares statin with control, in both subgroups: no warning
    net = nb.Network.from_data(arms=data, likelihood="binomial", covariates="secondary",
                               studies=table)  # fmt: skip
    cov = net.covariates
    assert cov.kinds == ("numeric",) and cov.subgroups("secondary") == (0.0, 1.0)
    assert cov.values["secondary"].to_dict() == dict(
        zip(table["study"], table["secondary"].astype(float), strict=True)
    )
    assert len(cov.values) == net.n_studies == 19


def test_studies_table_wins_over_a_data_column_and_extra_rows_are_ignored():
    table = pd.DataFrame({"study": ["k3", "a2", "m", "z1", "other"], "age": [4, 3, 2, 1, 9]})
    net = nb.Network.from_contrasts(
        contrasts(age=[10, 20, 20, 30, 40]), covariates="age", studies=table
    )
    assert net.covariates.values["age"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert net.covariates.source == {"age": "studies table"}


def test_studies_table_may_repeat_a_study_with_the_same_values():
    table = pd.DataFrame({"study": ["z1", "m", "m", "a2", "k3"], "age": [1, 2, 2, 3, 4]})
    net = nb.Network.from_contrasts(contrasts(), covariates=["age"], studies=table)
    assert net.covariates.values["age"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_several_covariates_keep_the_users_order():
    table = pd.DataFrame({"study": ["z1", "m", "a2", "k3"], "x": [1.0, 2.0, 3.0, 4.0]})
    df = contrasts(y=[0.5, 0.1, 0.1, 0.2, 0.3])
    net = nb.Network.from_contrasts(df, covariates=["y", "x"], studies=table)
    cov = net.covariates
    assert cov.names == ("y", "x") and list(cov.values.columns) == ["y", "x"]
    assert cov.source == {"y": "data", "x": "studies table"}


# ------------------------------------------------------------------------------- kinds
def test_bool_is_categorical_with_false_as_reference():
    with pytest.warns(E.CovariateWarning, match="covariate-subgroup-empty"):
        net = nb.Network.from_contrasts(
            contrasts(blind=[True, False, False, True, False]), covariates="blind"
        )
    cov = net.covariates
    assert cov.kinds == ("categorical",) and cov.levels["blind"] == ("False", "True")
    assert cov.values["blind"].tolist() == ["True", "False", "True", "False"]


def test_pandas_categorical_keeps_its_order_and_observed_levels_only():
    cats = pd.Categorical(["high", "low", "low", "mid", "high"],
                          categories=["low", "mid", "high", "unused"])  # fmt: skip
    with pytest.warns(E.CovariateWarning, match="covariate-level-one-study"):
        net = nb.Network.from_contrasts(contrasts(risk=cats), covariates="risk")
    cov = net.covariates
    assert cov.levels["risk"] == ("low", "mid", "high")
    assert cov.values["risk"].tolist() == ["high", "low", "mid", "high"]


def test_integer_column_is_numeric_and_text_numbers_mix_is_refused():
    df = contrasts(age=pd.array([40, 50, 50, 60, 45], dtype="Int64"))
    assert nb.Network.from_contrasts(df, covariates="age").covariates.kinds == ("numeric",)
    mixed = contrasts(age=pd.Series([40, "50", "50", 60, 45], dtype=object))
    with pytest.raises(E.InvalidValueError, match="'age'.*mixes values of types") as info:
        nb.Network.from_contrasts(mixed, covariates="age")
    assert info.value.rule == "non-numeric"


# -------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("column", "fragment"),
    [
        ([40.0, 50.0, 50.0, np.inf, 45.0], "missing or not finite in studies 'a2'"),
        (["x", "y", "y", " ", "x"], r"missing \(NaN/None/empty\) in studies 'a2'"),
        (pd.Series(["x", None, None, "y", "x"], dtype=object), "studies 'm'"),
    ],
)
def test_missing_values_name_the_studies(column, fragment):
    with pytest.raises(E.InvalidValueError, match=fragment) as info:
        nb.Network.from_contrasts(contrasts(c=column), covariates="c")
    assert info.value.rule == "covariate-missing"


def test_study_absent_from_studies_table():
    table = pd.DataFrame({"study": ["z1", "m"], "age": [1, 2]})
    with pytest.raises(E.InvalidValueError, match="'a2', 'k3'.*not in the studies table") as info:
        nb.Network.from_contrasts(contrasts(), covariates="age", studies=table)
    assert info.value.rule == "covariate-missing"


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"study": ["z1", "m"]}, "DataFrame.*got dict"),
        (pd.DataFrame({"study": ["z1", "m", "m"], "age": [1, 2, 3]}), "'m: 2.0 / 3.0'"),
        (pd.DataFrame({"study": ["z1", 2], "age": [1, 2]}), r"rows 1 \(1 in total\)"),
    ],
)
def test_studies_table_rule(table, fragment):
    with pytest.raises(E.InvalidValueError, match=fragment) as info:
        nb.Network.from_contrasts(contrasts(), covariates="age", studies=table)
    assert info.value.rule == "studies-table"


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"covariates": 3}, "covariates= must be a column name"),
        ({"covariates": ["age", "age"]}, "'age' .*repeated"),
        ({"covariates": []}, "non-empty list"),
        ({"studies": pd.DataFrame({"study": ["z1"]})}, "without covariates="),
        ({"covariates": "TE"}, "'TE'.*another role"),
        ({"covariates": "study"}, "'study'.*another role"),
    ],
)
def test_bad_covariate_options(options, fragment):
    with pytest.raises(E.ModelSpecError, match=fragment) as info:
        nb.Network.from_contrasts(contrasts(age=1.0), **options)
    assert info.value.rule == "bad-option"


def test_errors_reach_fit_network_before_any_model(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("PyMC was reached with bad input")

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", forbidden)
    monkeypatch.setattr("nma_bayes.models.pymc_graph.build_model", forbidden)
    with pytest.raises(E.InvalidValueError) as info:
        nb.fit_network(contrasts(age=[1.0, 2.0, 3.0, 4.0, 5.0]), covariates="age")
    assert info.value.rule == "covariate-not-constant"
    assert "'m: 2.0 / 3.0'" in str(info.value)


# ------------------------------------------------------------------ excluded studies
def test_studies_excluded_by_component_are_ignored():
    extra = pd.DataFrame([("s9", "E", "D", 0.1, 0.2, np.nan, np.nan)],
                         columns=[*contrasts().columns, "age"])  # fmt: skip
    df = pd.concat([contrasts(age=[40.0, 50.0, 50.0, 60.0, 45.0]), extra], ignore_index=True)
    net = nb.Network.from_contrasts(df, component="A", covariates="age")
    assert net.excluded_studies == ("s9",)
    assert list(net.covariates.values.index) == ["z1", "m", "a2", "k3"]
    table = pd.DataFrame({"study": ["k3", "a2", "m", "z1"], "w": [5, 6, 7, 8]})  # no 's9'
    net = nb.Network.from_contrasts(df, component="A", covariates="w", studies=table)
    assert net.covariates.values["w"].tolist() == [8.0, 7.0, 6.0, 5.0]


# ------------------------------------------------------------------------ baseline risk
def test_baseline_risk_on_outcome_data():
    data, _ = certolizumab()
    net = nb.Network.from_data(arms=data, likelihood="binomial", covariates="baseline_risk")
    cov = net.covariates
    assert cov.baseline_risk and cov.names == () and cov.kinds == ()
    assert cov.values.shape == (12, 0) and list(cov.values.index) == list(net.studies)


def test_baseline_risk_refuses_contrast_studies_and_other_covariates():
    data, table = certolizumab()
    extra = pd.DataFrame([("c9", "Placebo", "Adalimumab", 0.3, 0.2)],
                         columns=["study", "treat1", "treat2", "TE", "seTE"])  # fmt: skip
    with pytest.raises(E.ModelSpecError, match=r"studies 'c9' \(1 in total\)") as info:
        nb.Network.from_data(
            arms=data, contrasts=extra, likelihood="binomial", covariates="baseline_risk"
        )
    assert info.value.rule == "baseline-risk-data"
    with pytest.raises(E.ModelSpecError, match="cannot be combined with other") as info:
        nb.Network.from_data(arms=data, likelihood="binomial", studies=table,
                             covariates=["baseline_risk", "disease_duration"])  # fmt: skip
    assert info.value.rule == "bad-option"


# ------------------------------------------------------------------------- transforms
def test_ume_and_nodesplit_refuse_networks_with_covariates():
    net = nb.Network.from_contrasts(contrasts(age=[40, 50, 50, 60, 45]), covariates="age")
    with pytest.raises(E.ModelSpecError, match="UME.*not supported yet with meta-regression"):
        ume_network(net)
    with pytest.raises(E.ModelSpecError, match="Node-splitting.*meta-regression") as info:
        nodesplit_network(net, "A", "B")
    assert info.value.rule == "bad-option"
    plain = nb.Network.from_contrasts(contrasts())
    assert ume_network(plain).covariates is None  # without covariates they still work
