"""The validation catalogue: one test per rule, each through fit_network, before any PyMC call.

Every case asserts the exception type, its ``rule`` tag and a message fragment naming the column,
rows or studies. The model builder and the sampler are replaced by functions that fail the test,
so a case passes only if the library's own exception is raised before PyMC is reached.
"""

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base import errors as E
from nma_bayes.data.io import read_csv_table
from nma_bayes.data.survival import survival_intervals
from nma_bayes.data.validation import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def contrasts(rows=None, **cols):
    rows = rows or [
        ("s1", "B", "A", 0.1, 0.2, np.nan),
        ("s2", "C", "A", 0.2, 0.25, np.nan),
        ("s3", "C", "B", 0.1, 0.3, np.nan),
    ]
    df = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE", "se_base"])
    for k, v in cols.items():
        df[k] = v
    return df


def arms(rows=None):
    rows = rows or [
        ("a1", "A", 10.0, 3.0, 40),
        ("a1", "B", 9.0, 3.2, 41),
        ("a2", "B", 9.5, 2.9, 30),
        ("a2", "C", 8.0, 3.1, 33),
    ]
    return pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])


def events():
    """Arm-level binary outcomes: events out of n, base arm first in each study."""
    rows = [("e1", "A", 5, 50), ("e1", "B", 9, 50), ("e2", "A", 0, 40), ("e2", "C", 3, 41),
            ("e3", "B", 7, 60), ("e3", "C", 4, 60)]  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])


def ordered(rows=None):
    """Ordered categorical data: arms x reported cutpoints, at-least counts (base arm first)."""
    rows = rows or [("o1", "A", "P50", 20, 100), ("o1", "A", "P75", 8, 100),
                    ("o1", "B", "P50", 50, 100), ("o1", "B", "P75", 30, 100),
                    ("o2", "A", "P75", 5, 80), ("o2", "C", "P75", 25, 80)]  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treatment", "category", "events", "n"])


def grouped():
    """Grouped survival intervals of one two-arm study (gemtcPlus's columns)."""
    rows = [("g1", "A", 0, 1, 2, 1, 100), ("g1", "A", 1, 2, 3, 0, 97), ("g1", "A", 2, 3, 1, 1, 94),
            ("g1", "B", 0, 1, 1, 0, 90), ("g1", "B", 1, 3, 4, 2, 89)]  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treatment", "t.start", "t.end", "n.event",
                                       "n.censored", "n.risk"])  # fmt: skip


def three_arm(te_bc=0.1, se=(0.3, 0.3, 0.3), sb=0.15, form="base"):
    if form == "base":
        return contrasts([("m", "B", "A", 0.2, se[0], sb), ("m", "C", "A", 0.3, se[1], sb)])
    return contrasts(
        [("m", "B", "A", 0.2, se[0], np.nan), ("m", "C", "A", 0.3, se[1], np.nan),
         ("m", "C", "B", te_bc, se[2], np.nan)]
    )  # fmt: skip


def with_row(df, row):
    return pd.concat([df, pd.DataFrame([row], columns=df.columns)], ignore_index=True)


def set_value(df, row, col, value):
    df = df.copy()
    if isinstance(value, str) or value is None:
        df[col] = df[col].astype(object)
    elif isinstance(value, float):
        df[col] = df[col].astype(float)
    df.loc[row, col] = value
    return df


fit = nb.fit_network
CASES = {
    "not-a-dataframe": (lambda: fit(contrasts().to_dict()), E.InvalidValueError, "DataFrame"),
    "empty-data": (lambda: fit(contrasts().iloc[:0]), E.InvalidValueError, "no rows"),
    "ragged-row": (lambda: read_csv_table(StringIO("study,TE\ns1,1\ns2,1,2\ns3\n")), E.InvalidValueError, "lines 3, 4 "),
    "missing-column": (lambda: fit(contrasts().drop(columns="seTE")), E.MissingColumnError, "'seTE'"),
    "bad-label": (lambda: fit(set_value(contrasts(), 1, "study", None)), E.InvalidValueError, "'study'"),
    "non-numeric": (lambda: fit(set_value(contrasts(), 0, "TE", "0.1a")), E.InvalidValueError, "'TE'.*non-numeric"),
    "non-finite": (lambda: fit(set_value(contrasts(), 2, "TE", np.inf)), E.InvalidValueError, "'TE'.*rows 2"),
    "se-not-positive": (lambda: fit(set_value(contrasts(), 0, "seTE", 0.0)), E.InvalidValueError, "'seTE' must be > 0"),
    "sd-not-positive": (lambda: fit(set_value(arms(), 3, "sd", -1.0), measure="SMD"), E.InvalidValueError, "'sd' must be > 0.*rows 3"),
    "n-invalid": (lambda: fit(set_value(arms(), 1, "n", 40.5), measure="SMD"), E.InvalidValueError, "'n'.*whole numbers >= 2"),
    "single-arm-study": (lambda: fit(with_row(arms(), ("a3", "C", 7.0, 3.0, 20)), measure="MD"), E.InvalidValueError, "'a3'.*single arm"),
    "duplicate-rows": (lambda: fit(with_row(contrasts(), ("s3", "C", "B", 0.1, 0.3, np.nan))), E.InvalidValueError, "duplicates.*'s3'"),
    "study-in-two-forms": (
        lambda: fit(nb.Network.from_data(contrasts=contrasts(), arms=arms().replace({"a1": "s1"}), measure="MD")),
        E.InvalidValueError, "'s1'.*both as contrasts and as arms",
    ),
    "disconnected": (lambda: fit(with_row(contrasts(), ("s9", "E", "D", 0.1, 0.2, np.nan))), E.DisconnectedNetworkError, "component 1.*'A'.*component 2.*'D'"),
    "unknown-component": (lambda: fit(with_row(contrasts(), ("s9", "E", "D", 0.1, 0.2, np.nan)), component="Z"), E.UnknownTreatmentError, "component='Z'"),
    "unknown-reference": (lambda: fit(contrasts(), reference="a"), E.UnknownTreatmentError, "reference='a'.*Did you mean 'A'"),
    "treatments-mismatch": (lambda: fit(contrasts(), treatments=["A", "B"]), E.UnknownTreatmentError, "'C'.*not listed"),
    "multiarm-no-covariance": (lambda: fit(three_arm(sb=np.nan)), E.MultiArmError, "Study 'm'.*'se_base'"),
    "se-base-inconsistent": (
        lambda: fit(contrasts([("m", "B", "A", 0.2, 0.3, 0.15), ("m", "C", "A", 0.3, 0.3, 0.16)])),
        E.MultiArmError, "Study 'm'.*same value",
    ),
    "se-base-too-large": (lambda: fit(three_arm(sb=0.3)), E.MultiArmError, "Study 'm'.*strictly smaller"),
    "closure": (lambda: fit(three_arm(te_bc=0.5, form="pairwise")), E.MultiArmError, "Study 'm'.*do not close"),
    "negative-base-variance": (lambda: fit(three_arm(se=(0.1, 0.1, 0.5), form="pairwise")), E.MultiArmError, "Study 'm'.*negative derived"),
    "pairwise-inconsistent": (
        lambda: fit(contrasts([("q", b, a, 0.0, s, np.nan) for (b, a), s in zip(
            [("B", "A"), ("C", "A"), ("D", "A"), ("C", "B"), ("D", "B"), ("D", "C")],
            [0.3, 0.3, 0.3, 0.3, 0.3, 0.9], strict=True)])),
        E.MultiArmError, "Study 'q'.*not consistent",
    ),
    "pairwise-ambiguous": (
        lambda: fit(contrasts([("d", "B", "A", 0.1, 0.3, np.nan), ("d", "B", "A", 0.2, 0.3, np.nan), ("d", "B", "B", 0.1, 0.35, np.nan)])),
        E.MultiArmError, "Study 'd'.*ambiguous",
    ),
    "multiarm-form": (
        lambda: fit(contrasts([("n", "B", "A", 0.1, 0.3, 0.1), ("n", "C", "A", 0.2, 0.3, 0.1), ("n", "D", "C", 0.1, 0.3, 0.1)])),
        E.MultiArmError, "Study 'n'.*neither",
    ),
    "unknown-measure": (lambda: fit(arms(), measure="OR"), E.ModelSpecError, "measure 'OR'.*MD, SMD"),
    "measure-columns": (lambda: fit(arms().drop(columns=["sd"]), measure="MD"), E.MissingColumnError, "se=.*'sd'"),
    "classes-incomplete": (lambda: fit(contrasts(), classes={"A": "x", "B": "y"}), E.InvalidValueError, "no class for 'C'"),
    "class-not-constant": (
        lambda: fit(arms().assign(cls=["c1", "c2", "c3", "c4"]), measure="MD", classes="cls"),
        E.InvalidValueError, "'B': c2 / c3",
    ),
    "bad-option": (lambda: fit(contrasts(), closure_tol=-1), E.ModelSpecError, "closure_tol"),
    "unknown-likelihood": (lambda: fit(events(), likelihood="binomial", link="cauchit"), E.ModelSpecError, "link='cauchit'.*binomial"),
    "likelihood-columns": (lambda: fit(events(), likelihood="poisson"), E.MissingColumnError, "'exposure'.*exposure="),
    "events-invalid": (lambda: fit(set_value(events(), 1, "events", 60.0), likelihood="binomial"), E.InvalidValueError, "'events'.*at most n.*rows 1"),
    "exposure-invalid": (lambda: fit(set_value(events(), 2, "n", 0.0), likelihood="binomial"), E.InvalidValueError, "'n'.*rows 2"),
    "out-of-range": (lambda: fit(set_value(contrasts(), 1, "seTE", 1e-60)), E.InvalidValueError, r"'seTE'.*between 1e-50 and 1e\+50.*row 1: 1e-60"),
    "se-spread": (lambda: fit(set_value(contrasts(), 0, "seTE", 1e-8)), E.InvalidValueError, r"span a factor of 3e\+07.*'s1'.*seTE=1e-08"),
    "te-vs-se": (lambda: fit(set_value(contrasts(), 2, "TE", 1e10)), E.InvalidValueError, r"'TE'.*'s3' \(C vs B\): TE=1e\+10"),
    "implausible-for-measure": (lambda: fit(set_value(contrasts(), 0, "TE", 500.0), measure="SMD"), E.InvalidValueError, r"measure='SMD'.*'s1' \(B vs A\): TE=500"),
    "bad-prior": (lambda: fit(contrasts(), prior_d=nb.Normal(0, "10")), E.ModelSpecError, r"'sd' must be a finite number.*'10' \(str\)"),
    "single-treatment": (
        lambda: fit(contrasts([("s1", "A", "A", 0.1, 0.2, np.nan), ("s2", "A", "A", 0.2, 0.3, np.nan)])),
        E.InvalidValueError, "single treatment, 'A'.*'treat1', 'treat2'",
    ),
    "duplicate-column": (lambda: fit(pd.concat([contrasts(), contrasts()[["TE"]]], axis=1)), E.InvalidValueError, "several columns named 'TE'"),
    "column-in-two-roles": (lambda: fit(contrasts(), TE="seTE"), E.ModelSpecError, "'seTE' for TE= and seTE="),
    "se-base-two-arm": (lambda: fit(set_value(contrasts(), 1, "se_base", 0.1)), E.InvalidValueError, r"'se_base'.*study 's2' \(row 1"),
    "data-format": (lambda: fit(arms().assign(treat1="x", treat2="y", TE=0.1, seTE=0.2), measure="MD"), E.ModelSpecError, "ambiguous"),
    "unknown-option": (lambda: fit(contrasts(), refrence="A"), E.ModelSpecError, r"fit_network\(\).*refrence= \(did you mean reference=\?\)"),
    "option-not-applicable": (lambda: fit(contrasts(), treatment="arm"), E.ModelSpecError, "'treatment='.*contrast data"),
    "covariate-column": (lambda: fit(contrasts(), covariates="age"), E.MissingColumnError, "Covariate 'age' is not a column"),
    "covariate-missing": (lambda: fit(contrasts(age=[50.0, np.nan, 60.0]), covariates="age"), E.InvalidValueError, "'age'.*missing or not finite in studies 's2'"),
    "covariate-not-constant": (
        lambda: fit(contrasts([("m", "B", "A", 0.2, 0.3, 0.15), ("m", "C", "A", 0.3, 0.3, 0.15), ("s2", "C", "B", 0.1, 0.3, np.nan)], age=[50.0, 55.0, 60.0]), covariates="age"),
        E.InvalidValueError, "'age'.*constant within each study.*'m: 50.0 / 55.0'",
    ),
    "covariate-constant": (lambda: fit(contrasts(age=50.0), covariates="age"), E.InvalidValueError, "'age'.*same value, 50.0, in every study.*not identifiable"),
    "studies-table": (
        lambda: fit(contrasts(), covariates="age", studies=pd.DataFrame({"trial": ["s1", "s2", "s3"], "age": [50.0, 55.0, 60.0]})),
        E.InvalidValueError, "no study column 'study'.*'trial'",
    ),
    "baseline-risk-data": (lambda: fit(contrasts(), covariates="baseline_risk"), E.ModelSpecError, "baseline_risk.*studies 's1', 's2', 's3'.*arm-level"),
    "covariate-term-collision": (
        lambda: fit(contrasts(g=["a", "b", "a"], **{"g[b]": [0.0, 1.0, 2.0]}), covariates=["g", "g[b]"]),
        E.InvalidValueError, r"term 'g\[b\]' from 'g' \(categorical\) and 'g\[b\]' \(numeric\).*Rename.*'g_b'",
    ),
    "study-judgements": (
        lambda: nb.cinema(fit(contrasts(), engine="exact"), rob={"s1": 1, "s2": "H"}, indirectness={"s1": 1, "s2": 1, "s3": 1}, mcid=0.3),
        E.InvalidValueError, r"rob=: no judgement for 1 studies: 's3'.*exactly one of 1/2/3",
    ),
    "exposure-too-large": (
        lambda: fit(set_value(events().rename(columns={"n": "exposure"}), 1, "exposure", 2e15), likelihood="poisson"),
        E.InvalidValueError, r"'exposure' \(exposure or follow-up time per arm\) must be at most 1e\+15.*row 1: 2e\+15",
    ),
    "category-unknown": (lambda: fit(ordered(), likelihood="ordered", categories=["P50", "P90"]), E.ModelSpecError, r"rows 1, 3, 4, 5 .*of column 'category'.*'P75'.*no arm reports 'P90'"),
    "category-duplicated": (lambda: fit(set_value(ordered(), 1, "category", "P50"), likelihood="ordered"), E.InvalidValueError, "Rows 0, 1 .*report one cutpoint.*arm="),
    "category-order": (
        lambda: fit(pd.concat([ordered(), ordered([("o3", "B", "P75", 9, 50), ("o3", "B", "P50", 20, 50), ("o3", "C", "P75", 8, 50), ("o3", "C", "P50", 21, 50)])], ignore_index=True), likelihood="ordered"),
        E.ModelSpecError, r"'P50', 'P75' .*of column 'category' are listed in two orders \(studies 'o1', 'o3'",
    ),
    "category-counts": (lambda: fit(set_value(ordered(), 3, "events", 60), likelihood="ordered"), E.InvalidValueError, "Rows 2, 3 .*the at-least counts increase.*cumulative=False"),
    "category-arm-inconsistent": (lambda: fit(set_value(ordered(), 3, "n", 90), likelihood="ordered"), E.InvalidValueError, "Rows 2, 3 .*belong to one arm.*'n'"),
    "survival-times": (lambda: survival_intervals(set_value(grouped(), 1, "t.end", 1.0)), E.InvalidValueError, r"Rows 1 .*does not end after it starts"),
    "survival-intervals": (lambda: survival_intervals(set_value(grouped(), 2, "t.start", 2.5)), E.InvalidValueError, r"Rows 2 .*gap or overlap"),
    "survival-at-risk": (lambda: survival_intervals(set_value(grouped(), 1, "n.risk", 95)), E.InvalidValueError, r"Rows 1, 2 .*n.risk differs from the previous"),
}  # fmt: skip

#: Rules that warn instead of raising: each has its own test below, named ``test_rule_<id>...``.
WARNING_RULES = {
    "design-separation",
    "similar-names",
    "covariate-level-one-study",
    "covariate-subgroup-empty",
    "interaction-not-identified",
}


@pytest.fixture(autouse=True)
def no_pymc(monkeypatch):
    """Make any attempt to build or sample a model fail the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("PyMC was reached with bad input")

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", forbidden)
    monkeypatch.setattr("nma_bayes.models.pymc_graph.build_model", forbidden)


@pytest.mark.parametrize("rule", list(CASES))
def test_rule(rule):
    call, exc_type, fragment = CASES[rule]
    with pytest.raises(exc_type, match=fragment) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert info.value.rule == rule


def test_rule_similar_names_warns_and_does_not_merge():
    df = contrasts([("s1", "Drug", "A", 0.1, 0.2, np.nan), ("s2", "drug ", "A", 0.2, 0.2, np.nan)])
    with pytest.warns(E.TreatmentNameWarning, match=r"'Drug' / 'drug '.*rule similar-names"):
        net = nb.Network.from_contrasts(df)
    assert net.treatments == ("A", "Drug", "drug ")


def test_rule_covariate_level_one_study_warns():
    # level 'z' is held by s6 alone; every comparison has studies in two subgroups
    rows = [("s1", "B", "A", 0.1, 0.2, np.nan), ("s2", "B", "A", 0.2, 0.2, np.nan),
            ("s3", "C", "A", 0.1, 0.3, np.nan), ("s4", "C", "A", 0.3, 0.3, np.nan),
            ("s5", "B", "A", 0.2, 0.3, np.nan)]  # fmt: skip
    df = contrasts(rows, region=["x", "y", "x", "y", "z"])
    with pytest.warns(E.CovariateWarning, match=r"'region'.*'z' \(study 's5'\)") as record:
        net = nb.Network.from_contrasts(df, covariates="region")
    assert [w.message.rule for w in record] == ["covariate-level-one-study"]
    assert net.covariates.levels["region"] == ("x", "y", "z")


def test_rule_covariate_subgroup_empty_warns_once_listing_the_comparisons():
    rows = [("s1", "B", "A", 0.1, 0.2, np.nan), ("s2", "B", "A", 0.2, 0.2, np.nan),
            ("s3", "C", "A", 0.1, 0.3, np.nan), ("s4", "C", "A", 0.3, 0.3, np.nan)]  # fmt: skip
    df = contrasts(rows, secondary=[0, 1, 0, 0])
    with pytest.warns(E.CovariateWarning, match=r"C vs A \(2 studies, all with secondary=0.0; none with 1.0\)") as record:  # fmt: skip
        nb.Network.from_contrasts(df, covariates="secondary")
    assert [w.message.rule for w in record] == ["covariate-subgroup-empty"]
    assert "B vs A" not in str(record[0].message)


def test_rule_interaction_not_identified_warns_before_fitting():
    # C is compared with A only at x = 1: its own interaction is informed by its prior alone
    rows = [("s1", "B", "A", 0.1, 0.2, np.nan), ("s2", "B", "A", 0.2, 0.2, np.nan),
            ("s3", "C", "A", 0.1, 0.3, np.nan), ("s4", "C", "A", 0.3, 0.3, np.nan)]  # fmt: skip
    df = contrasts(rows, x=[0.0, 2.0, 1.0, 1.0])
    with pytest.warns(E.CovariateWarning, match=r"not informed by the data: C \(x\)") as record:
        fit(df, covariates="x", interaction="independent", engine="exact")
    assert [w.message.rule for w in record] == ["interaction-not-identified"]
    assert "B (x)" not in str(record[0].message)
    fit(df, covariates="x", interaction="shared", engine="exact")  # B's studies identify it


def test_n_below_two_is_invalid_too():
    with pytest.raises(E.InvalidValueError, match="'n'") as info:
        fit(set_value(arms(), 0, "n", 1), measure="SMD")
    assert info.value.rule == "n-invalid"


def test_every_rule_has_a_test_and_at_least_twenty_rules():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) >= 20
    assert set(ids) == set(CASES) | WARNING_RULES
    assert not set(CASES) & WARNING_RULES
    tests = [name for name in globals() if name.startswith("test_rule_")]
    untested = [w for w in WARNING_RULES if not any(
        t.startswith(f"test_rule_{w.replace('-', '_')}") for t in tests)]  # fmt: skip
    assert not untested, f"warning rules without their own test: {untested}"


def test_every_rule_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    missing = [r.id for r in RULES if f"`{r.id}`" not in text]
    assert not missing, f"rules missing from docs/data.md: {missing}"


def test_disconnected_network_fits_a_chosen_component_explicitly():
    df = with_row(contrasts(), ("s9", "E", "D", 0.1, 0.2, np.nan))
    net = nb.Network.from_contrasts(df, component="A")
    assert net.treatments == ("A", "B", "C")
    assert net.excluded_studies == ("s9",)


def test_rule_design_separation_warns_before_fitting():
    # design A:C has one study, with 0 events in its C arm: C vs A there has no finite MLE
    arms = pd.DataFrame({
        "study": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s5"],
        "treatment": ["A", "B", "A", "B", "B", "C", "B", "C", "A", "C"],
        "events": [10, 15, 12, 18, 9, 11, 14, 16, 7, 0], "n": [100] * 10,
    })  # fmt: skip
    with (
        pytest.warns(E.IdentificationWarning, match=r"'C vs A in A:C'.*design-separation") as rec,
        pytest.raises(AssertionError, match="PyMC was reached"),
    ):
        # NUTS, whose first fit the fixture stops (the default would run the Laplace engine)
        nb.design_by_treatment(arms, likelihood="binomial", reference="A", engine="pymc")
    assert [w.message.rule for w in rec] == ["design-separation"]
