"""Tests for nma_bayes.data.network (fast: no sampling)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from nma_bayes.base.errors import (
    DisconnectedNetworkError,
    InvalidValueError,
    MissingColumnError,
    ModelSpecError,
    MultiArmError,
    NMAInputError,
    TreatmentNameWarning,
    UnknownTreatmentError,
)
from nma_bayes.data.network import Network
from nma_bayes.datasets import load_dataset


def frame(rows, se_base=True):
    cols = ["study", "treat1", "treat2", "TE", "seTE", "se_base"]
    df = pd.DataFrame(rows, columns=cols[: len(rows[0])])
    if not se_base and "se_base" in df:
        df = df.drop(columns="se_base")
    return df


def two_arm():
    return frame(
        [
            ("s1", "B", "A", -0.5, 0.2),
            ("s2", "C", "A", -0.3, 0.25),
            ("s3", "C", "B", 0.1, 0.3),
            ("s4", "D", "C", 0.2, 0.4),
        ]
    )


def arm_level_study(name="m", means=(0.1, -0.4, 0.3, -0.2), ses=(0.2, 0.25, 0.3, 0.22)):
    """Arm-level numbers (arm 0 = base 'A') written in base form and in pairwise form."""
    treats = ["A", "B", "C", "D"][: len(means)]
    base_rows = [
        (name, t, "A", means[j] - means[0], float(np.hypot(ses[j], ses[0])), ses[0])
        for j, t in enumerate(treats)
        if j > 0
    ]
    pair_rows = [
        (name, treats[k], treats[j], means[k] - means[j], float(np.hypot(ses[k], ses[j])), np.nan)
        for j in range(len(treats))
        for k in range(j + 1, len(treats))
    ]
    return frame(base_rows), frame(pair_rows)


# ----------------------------------------------------------------------------- basics
def test_two_arm_arrays_and_attributes():
    df = two_arm()
    df["se_base"] = [0.1, np.nan, np.nan, np.nan]  # meaningless for a two-arm study: refused
    with pytest.raises(InvalidValueError, match="'s1'") as info:
        Network.from_contrasts(df)
    assert info.value.rule == "se-base-two-arm"
    df["se_base"] = np.nan
    net = Network.from_contrasts(df)
    assert net.treatments == ("A", "B", "C", "D")
    assert net.studies == ("s1", "s2", "s3", "s4")
    assert net.arm.shape == (4, 1)
    np.testing.assert_array_equal(net.base, [0, 0, 1, 2])
    np.testing.assert_array_equal(net.arm[:, 0], [1, 2, 2, 3])
    np.testing.assert_allclose(net.y[:, 0], df["TE"])
    np.testing.assert_allclose(net.var[:, 0], df["seTE"] ** 2)
    np.testing.assert_array_equal(net.cov, 0.0)
    assert net.mask.all()
    assert net.form == ("two-arm",) * 4
    np.testing.assert_array_equal(net.n_arms, 2)
    assert net.n_studies == 4 and net.n_treatments == 4 and net.n_contrasts == 4
    assert net.treatment_index("C") == 2
    assert list(net.contrasts.columns) == [
        "study", "treatment", "base", "TE", "seTE", "se_base", "n_arms", "form",
    ]  # fmt: skip
    assert net.contrasts["se_base"].isna().all()
    assert "4 studies" in repr(net) and "reference='C'" in repr(net)  # C is in 3 studies
    assert net.columns["TE"] == "TE" and net.columns["se_base"] == "se_base"


def test_se_base_column_optional_and_renamed_columns():
    df = two_arm().rename(columns={"study": "trial", "TE": "md", "seTE": "se_md"})
    net = Network.from_contrasts(df, study="trial", TE="md", seTE="se_md")
    assert net.columns["study"] == "trial"
    assert net.n_studies == 4


def test_frozen_readonly_and_data_copied():
    df = two_arm()
    net = Network.from_contrasts(df)
    for name in ("base", "arm", "y", "var", "cov", "mask", "n_arms"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(net, name)[0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.reference = "B"
    df.loc[0, "TE"] = 99.0
    assert net.data.loc[0, "TE"] == -0.5


def test_noncontiguous_study_rows_keep_order():
    df = frame(
        [
            ("x", "B", "A", 1.0, 0.5, 0.2),
            ("y", "C", "A", 2.0, 0.5, np.nan),
            ("x", "C", "A", 3.0, 0.6, 0.2),
        ]
    )
    net = Network.from_contrasts(df)
    assert net.studies == ("x", "y")
    assert net.form == ("base", "two-arm")
    np.testing.assert_array_equal(net.arm[0], [1, 2])
    np.testing.assert_allclose(net.y[0], [1.0, 3.0])
    np.testing.assert_allclose(net.var[0], [0.25 - 0.04, 0.36 - 0.04])
    assert net.cov[0] == pytest.approx(0.04)
    assert net.mask.tolist() == [[True, True], [True, False]]
    assert net.var[1, 1] == 1.0 and net.y[1, 1] == 0.0
    np.testing.assert_allclose(
        net.study_covariance(0), [[0.25, 0.04], [0.04, 0.36]], rtol=0, atol=1e-15
    )


def test_treat1_equals_treat2_two_arm_allowed():
    df = pd.concat([two_arm(), frame([("s5", "B", "B", 0.05, 0.3)])], ignore_index=True)
    net = Network.from_contrasts(df)
    assert net.base[-1] == net.arm[-1, 0] == net.treatment_index("B")


# ----------------------------------------------------------------------------- ordering, reference
def test_treatments_sorted_by_default_and_user_order_respected():
    df = frame([("s1", "zeta", "Alpha", 0.1, 0.2), ("s2", "beta", "Alpha", 0.1, 0.2)])
    assert Network.from_contrasts(df).treatments == ("Alpha", "beta", "zeta")
    net = Network.from_contrasts(df, treatments=["zeta", "Alpha", "beta"])
    assert net.treatments == ("zeta", "Alpha", "beta")
    np.testing.assert_array_equal(net.base, [1, 1])
    np.testing.assert_array_equal(net.arm[:, 0], [0, 2])


def test_treatments_argument_must_match_data():
    with pytest.raises(UnknownTreatmentError, match="'E'.*listed but not in the data"):
        Network.from_contrasts(two_arm(), treatments=["A", "B", "C", "D", "E"])
    with pytest.raises(UnknownTreatmentError, match="'D'.*in the data but not listed"):
        Network.from_contrasts(two_arm(), treatments=["A", "B", "C"])
    with pytest.raises(UnknownTreatmentError, match="more than once"):
        Network.from_contrasts(two_arm(), treatments=["A", "B", "C", "D", "A"])


def test_reference_auto_most_studies_ties_by_order():
    # B is in 3 studies, A and C in 2 each
    df = frame(
        [("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.1, 0.2), ("s3", "B", "A", 0.2, 0.2),
         ("s4", "C", "D", 0.3, 0.2)]
    )  # fmt: skip
    net = Network.from_contrasts(df)
    assert net.reference == "B"
    assert "most studies" in net.reference_rule and "3 of 4" in net.reference_rule
    # a tie between A and B (2 studies each) goes to the first in `treatments`
    tie = frame(
        [("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.1, 0.2), ("s3", "A", "D", 0.1, 0.2)]
    )
    assert Network.from_contrasts(tie).reference == "A"
    net = Network.from_contrasts(tie, treatments=["D", "C", "B", "A"])
    assert net.reference == "B" and "tied with 'A'" in net.reference_rule
    net = Network.from_contrasts(tie, reference="C")
    assert net.reference == "C" and "given by the user" in net.reference_rule


def test_non_reference_treatments_in_network_order():
    df = frame([("s1", "zeta", "Alpha", 0.1, 0.2), ("s2", "beta", "Alpha", 0.1, 0.2)])
    net = Network.from_contrasts(df, treatments=["zeta", "Alpha", "beta"], reference="beta")
    assert net.non_reference == ("zeta", "Alpha")
    assert Network.from_contrasts(df).non_reference == ("beta", "zeta")  # reference Alpha
    net = Network.from_contrasts(two_arm(), reference="C")
    assert net.non_reference == tuple(t for t in net.treatments if t != net.reference)


def test_unknown_reference():
    with pytest.raises(UnknownTreatmentError, match=r"reference='Z'.*Available treatments: 'A'"):
        Network.from_contrasts(two_arm(), reference="Z")
    with pytest.raises(UnknownTreatmentError, match="reference='a'.*Did you mean 'A'"):
        Network.from_contrasts(two_arm(), reference="a")


# ----------------------------------------------------------------------------- validation rules
def test_missing_column():
    df = two_arm().drop(columns="seTE")
    with pytest.raises(MissingColumnError, match=r"'seTE'.*Columns present.*seTE="):
        Network.from_contrasts(df)
    assert issubclass(MissingColumnError, NMAInputError)


def test_non_numeric_strings_not_coerced():
    df = two_arm()
    df["TE"] = df["TE"].astype(object)
    df.loc[2, "TE"] = "0.5"
    with pytest.raises(InvalidValueError, match=r"Column 'TE' must be numeric.*2 \(1 in total\)"):
        Network.from_contrasts(df)
    df = two_arm()
    df["seTE"] = df["seTE"].astype(str)
    with pytest.raises(InvalidValueError, match="Column 'seTE' must be numeric"):
        Network.from_contrasts(df)


def test_object_column_of_numbers_is_accepted():
    df = two_arm()
    df["TE"] = df["TE"].astype(object)
    np.testing.assert_allclose(Network.from_contrasts(df).y[:, 0], two_arm()["TE"])


def test_boolean_column_rejected():
    df = two_arm()
    df["se_base"] = False
    with pytest.raises(InvalidValueError, match="Column 'se_base' must be numeric"):
        Network.from_contrasts(df)


@pytest.mark.parametrize(("col", "value"), [("TE", np.nan), ("TE", np.inf), ("seTE", np.nan)])
def test_non_finite(col, value):
    df = two_arm()
    df.loc[1, col] = value
    with pytest.raises(InvalidValueError, match=rf"Column '{col}' holds .*1 \(1 in total\)"):
        Network.from_contrasts(df)


def test_se_base_infinite():
    df = two_arm()
    df["se_base"] = [np.inf, np.nan, np.nan, np.nan]
    with pytest.raises(InvalidValueError, match="Column 'se_base' holds infinite"):
        Network.from_contrasts(df)


def test_nonpositive_se():
    df = two_arm()
    df.loc[3, "seTE"] = 0.0
    with pytest.raises(InvalidValueError, match=r"Column 'seTE' must be > 0.*3 \(1 in total\)"):
        Network.from_contrasts(df)
    df = two_arm()
    df["se_base"] = [np.nan, -0.1, np.nan, np.nan]
    with pytest.raises(InvalidValueError, match="Column 'se_base' must be > 0"):
        Network.from_contrasts(df)


def test_missing_and_empty_labels():
    df = two_arm()
    df.loc[0, "study"] = None
    with pytest.raises(InvalidValueError, match=r"Column 'study' is missing.*0 \(1 in total\)"):
        Network.from_contrasts(df)
    df = two_arm()
    df.loc[2, "treat2"] = "  "
    with pytest.raises(InvalidValueError, match="Column 'treat2' holds empty"):
        Network.from_contrasts(df)


def test_non_string_labels_rejected():
    df = two_arm()
    df["treat1"] = [2, 3, 3, 4]
    with pytest.raises(
        InvalidValueError, match=r"Column 'treat1' must hold strings.*astype\(str\)"
    ):
        Network.from_contrasts(df)
    df = two_arm()
    df["study"] = [1, 2, 3, 4]
    with pytest.raises(InvalidValueError, match="Column 'study' must hold strings"):
        Network.from_contrasts(df)


def test_exact_duplicate_rows():
    df = pd.concat([two_arm(), two_arm().iloc[[1]]], ignore_index=True)
    with pytest.raises(InvalidValueError, match=r"exact duplicates.*studies 's2'"):
        Network.from_contrasts(df)


def test_disconnected_network():
    df = frame([("s1", "B", "A", 0.1, 0.2), ("s2", "D", "C", 0.1, 0.2), ("s3", "E", "C", 0.1, 0.2)])
    with pytest.raises(
        DisconnectedNetworkError,
        match=r"component 1: treatments 'A', 'B'.*component 2: treatments 'C', 'D', 'E'.*subset",
    ):
        Network.from_contrasts(df)


def test_case_and_whitespace_name_warning_no_merge():
    df = frame([("s1", "Drug", "A", 0.1, 0.2), ("s2", "drug ", "A", 0.2, 0.2)])
    with pytest.warns(TreatmentNameWarning, match="'Drug' / 'drug '") as record:
        net = Network.from_contrasts(df)
    assert record[0].filename == __file__  # stacklevel points at the caller
    assert net.treatments == ("A", "Drug", "drug ")
    assert issubclass(TreatmentNameWarning, UserWarning)


def test_closure_tol_validated():
    with pytest.raises(ModelSpecError, match="closure_tol"):
        Network.from_contrasts(two_arm(), closure_tol=-1)


def test_not_a_dataframe():
    with pytest.raises(InvalidValueError, match="DataFrame"):
        Network.from_contrasts(two_arm().to_dict())


# ----------------------------------------------------------------------------- multi-arm
def test_base_form_requires_se_base():
    base, _ = arm_level_study("trial3", means=(0.1, -0.4, 0.3), ses=(0.2, 0.25, 0.3))
    base["se_base"] = np.nan
    with pytest.raises(MultiArmError, match=r"Study 'trial3'.*'se_base'.*pairwise form"):
        Network.from_contrasts(base)
    with pytest.raises(MultiArmError, match="Study 'trial3'"):
        Network.from_contrasts(base.drop(columns="se_base"))


def test_base_form_se_base_must_be_identical_and_smaller():
    base, _ = arm_level_study("t", means=(0.1, -0.4, 0.3), ses=(0.2, 0.25, 0.3))
    base.loc[1, "se_base"] = 0.21
    with pytest.raises(MultiArmError, match=r"Study 't'.*same value in every row"):
        Network.from_contrasts(base)
    base["se_base"] = 0.35
    with pytest.raises(MultiArmError, match=r"Study 't'.*strictly smaller"):
        Network.from_contrasts(base)


def test_base_form_repeated_treatments_are_arms():
    df = frame(
        [
            ("G", "CBT", "WL", -1.2, 0.33, 0.24),
            ("G", "CBT", "WL", -0.65, 0.31, 0.24),
            ("B", "Pl", "Pl", -0.1, 0.13, 0.1),
            ("B", "Ser", "Pl", -0.3, 0.13, 0.1),
            ("X", "Pl", "WL", -0.4, 0.3, np.nan),
        ]
    )
    net = Network.from_contrasts(df)
    assert net.form == ("base", "base", "two-arm")
    np.testing.assert_array_equal(net.n_arms, [3, 3, 2])
    i = net.treatment_index
    np.testing.assert_array_equal(net.arm[0], [i("CBT"), i("CBT")])
    np.testing.assert_array_equal(net.arm[1], [i("Pl"), i("Ser")])
    assert net.base[1] == i("Pl")


@pytest.mark.parametrize("n_arms", [3, 4])
def test_both_forms_identical_from_arm_level(n_arms):
    means = (0.1, -0.4, 0.3, -0.2)[:n_arms]
    ses = (0.2, 0.25, 0.3, 0.22)[:n_arms]
    base, pairs = arm_level_study("m", means, ses)
    a = Network.from_contrasts(base)
    b = Network.from_contrasts(pairs)
    assert (a.form, b.form) == (("base",), ("pairwise",))
    np.testing.assert_array_equal(a.base, b.base)
    np.testing.assert_array_equal(a.arm, b.arm)
    for name in ("y", "var", "cov"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.var[0], np.square(ses[1:]), atol=1e-12)
    assert b.contrasts["se_base"].iloc[0] == pytest.approx(ses[0], abs=1e-12)


def test_pairwise_either_orientation_and_row_order():
    _, pairs = arm_level_study("m", (0.1, -0.4, 0.3), (0.2, 0.25, 0.3))
    flipped = pairs.iloc[[2, 0, 1]].reset_index(drop=True)
    flipped.loc[0, ["treat1", "treat2"]] = flipped.loc[0, ["treat2", "treat1"]].to_numpy()
    flipped.loc[0, "TE"] = -flipped.loc[0, "TE"]
    a, b = Network.from_contrasts(pairs), Network.from_contrasts(flipped)
    assert a.treatments[a.base[0]] == "A"  # 'A' is treat2 in most rows
    np.testing.assert_array_equal(a.arm, b.arm)
    np.testing.assert_allclose(a.y, b.y, atol=1e-15)
    np.testing.assert_allclose(a.var, b.var, atol=1e-15)


def test_pairwise_negative_base_variance():
    df = frame(
        [("p", "B", "A", 0.5, 0.2), ("p", "C", "A", 0.2, 0.2), ("p", "C", "B", -0.3, 0.5)]
    )  # (0.04 + 0.04 - 0.25) / 2 < 0
    with pytest.raises(
        MultiArmError, match=r"Study 'p'.*negative derived base-arm variance.*-0.085"
    ):
        Network.from_contrasts(df)


def test_pairwise_inconsistent_variances_four_arms():
    _, pairs = arm_level_study("q")
    pairs.loc[5, "seTE"] *= 1.2
    with pytest.raises(MultiArmError, match=r"Study 'q'.*not consistent.*residual"):
        Network.from_contrasts(pairs)


def test_pairwise_given_se_base_checked():
    _, pairs = arm_level_study("r", (0.1, -0.4, 0.3), (0.2, 0.25, 0.3))
    pairs["se_base"] = 0.2
    assert Network.from_contrasts(pairs).cov[0] == pytest.approx(0.04)
    pairs["se_base"] = 0.19
    with pytest.raises(MultiArmError, match=r"Study 'r'.*'se_base' gives 0.19.*imply"):
        Network.from_contrasts(pairs)


def test_pairwise_closure():
    _, pairs = arm_level_study("c", (0.1, -0.4, 0.3), (0.2, 0.25, 0.3))
    pairs.loc[2, "TE"] += 0.05
    with pytest.raises(MultiArmError, match=r"Study 'c'.*do not close.*discrepancy 0.05"):
        Network.from_contrasts(pairs)
    assert Network.from_contrasts(pairs, closure_tol=0.06).form == ("pairwise",)


def test_pairwise_repeated_treatment_ambiguous():
    df = frame([("d", "B", "A", 0.1, 0.3), ("d", "B", "A", 0.2, 0.3), ("d", "B", "B", 0.1, 0.35)])
    with pytest.raises(MultiArmError, match=r"Study 'd'.*ambiguous.*base form"):
        Network.from_contrasts(df)


def test_neither_form():
    df = frame([("n", "B", "A", 0.1, 0.3), ("n", "C", "A", 0.2, 0.3), ("n", "D", "C", 0.1, 0.3)])
    with pytest.raises(MultiArmError, match=r"Study 'n'.*neither.*missing pairs.*base form"):
        Network.from_contrasts(df)


# ---------------------------------------------------------- published data (bundled copies)
def test_social_anxiety():
    df = load_dataset("social_anxiety", "contrasts")
    net = Network.from_contrasts(df)
    assert net.n_studies == 101
    assert net.n_treatments == 41
    assert net.arm.shape == (101, 4)
    assert int((net.n_arms >= 3).sum()) == 35
    assert net.n_contrasts == 147 == len(net.contrasts)
    assert net.treatments == tuple(sorted(net.treatments))
    np.testing.assert_array_equal(net.n_arms, df.groupby("study", sort=False)["n_arms"].first())
    g = net.studies.index("GRUBER2001")
    cbt = net.treatment_index("CBT group Heimberg")
    np.testing.assert_array_equal(net.arm[g, :2], [cbt, cbt])
    b = net.studies.index("BLOMHOFF2001")
    assert net.base[b] == net.arm[b, 0] == net.treatment_index("Pill placebo")
    assert net.cov[b] == pytest.approx(0.104257205985965**2)
    # within-study covariance reproduces seTE**2 on the diagonal
    k = net.mask[b].sum()
    np.testing.assert_allclose(
        np.diag(net.study_covariance(b)), df.loc[df.study == "BLOMHOFF2001", "seTE"] ** 2
    )
    assert k == 3
    wl = Network.from_contrasts(df, reference="Waitlist")
    assert wl.reference == "Waitlist"


def test_therapy_formats_both_forms():
    base_df = load_dataset("therapy_formats", "contrasts")
    pair_df = load_dataset("therapy_formats", "contrasts_netmeta_allpairs")
    a = Network.from_contrasts(base_df)
    b = Network.from_contrasts(pair_df)
    assert a.studies == b.studies and a.treatments == b.treatments
    i = a.studies.index("Breiman, 2001")
    assert (a.form[i], b.form[i]) == ("base", "pairwise")
    np.testing.assert_array_equal(a.base, b.base)
    np.testing.assert_array_equal(a.arm, b.arm)
    np.testing.assert_array_equal(a.y[i], b.y[i])
    np.testing.assert_allclose(a.y[i], [-0.664, -0.75])
    assert a.cov[i] == pytest.approx(0.512**2)
    assert b.cov[i] == pytest.approx(0.1306, abs=1e-4)
    assert b.cov[i] == pytest.approx((0.513**2 + 0.514**2 - 0.516**2) / 2, rel=1e-12)
    assert a.treatments[a.base[i]] == "wlc"
    with pytest.raises(MultiArmError, match=r"Study 'Breiman, 2001'.*discrepancy 0.001"):
        Network.from_contrasts(pair_df, closure_tol=1e-4)


def test_parkinsons_and_senn():
    park = Network.from_contrasts(load_dataset("parkinsons", "contrasts"))
    g = park.studies.index("Guttman 1997")
    assert park.cov[g] == pytest.approx(0.505**2)
    np.testing.assert_allclose(park.var[g], np.square([0.718, 0.695]) - 0.505**2)
    assert park.n_studies == 7 and park.n_treatments == 5
    senn_b = Network.from_contrasts(load_dataset("senn2013", "contrasts"))
    senn_p = Network.from_contrasts(load_dataset("senn2013", "contrasts_netmeta_allpairs"))
    wb, wp = senn_b.studies.index("Willms1999"), senn_p.studies.index("Willms1999")
    assert senn_b.treatments == senn_p.treatments
    assert senn_b.base[wb] == senn_p.base[wp] == senn_b.treatment_index("plac")
    # same contrasts; arms ordered by row (base form) vs by treatment order (pairwise form)
    assert [senn_b.treatments[j] for j in senn_b.arm[wb]] == ["metf", "acar"]
    assert [senn_p.treatments[j] for j in senn_p.arm[wp]] == ["acar", "metf"]
    np.testing.assert_allclose(senn_b.y[wb], senn_p.y[wp][::-1])
    assert np.sqrt(senn_p.cov[wp]) == pytest.approx(0.34, rel=1e-3)
