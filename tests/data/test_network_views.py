"""Tests for the read-only network views: summary, comparisons, components, treatment table."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from nma_bayes.base.errors import DisconnectedNetworkError
from nma_bayes.data.network import Network
from nma_bayes.datasets import load_dataset


@pytest.fixture(scope="module")
def parkinsons():
    return Network.from_contrasts(load_dataset("parkinsons"))


@pytest.fixture(scope="module")
def anxiety_data():
    return load_dataset("social_anxiety")


@pytest.fixture(scope="module")
def anxiety(anxiety_data):
    return Network.from_contrasts(anxiety_data, classes="class")


def arm_frame():
    """Three studies: two-arm A/B, three-arm A/C/B, and B/C/C (C in two arms)."""
    rows = [
        ("s1", "A", 1.0, 1.0, 10),
        ("s1", "B", 1.5, 1.0, 20),
        ("s2", "A", 1.0, 1.0, 15),
        ("s2", "C", 2.0, 1.0, 25),
        ("s2", "B", 1.2, 1.0, 30),
        ("s3", "B", 1.0, 1.0, 12),
        ("s3", "C", 1.0, 1.0, 13),
        ("s3", "C", 1.1, 1.0, 14),
    ]
    return pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])


@pytest.fixture(scope="module")
def arms():
    return Network.from_arms(arm_frame(), measure="MD")


def as_dict(summary: pd.DataFrame) -> dict:
    return dict(zip(summary["item"], summary["value"], strict=True))


# ------------------------------------------------------------------------------ summary
def test_summary_parkinsons(parkinsons):
    s = parkinsons.summary()
    assert list(s.columns) == ["item", "value"]
    assert as_dict(s) == {
        "studies": 7,
        "treatments": 5,
        "arms": 15,
        "contrasts": 8,
        "comparisons": 6,
        "multi_arm_studies": 1,
        "studies_with_2_arms": 6,
        "studies_with_3_arms": 1,
        "within_treatment_studies": 0,
        "patients": None,
        "classes": None,
        "measure": None,
        "reference": "Bromocriptine",
        "excluded_studies": 0,
    }
    assert list(s["item"])[:3] == ["studies", "treatments", "arms"]


def test_summary_arm_data_counts_patients(arms):
    d = as_dict(arms.summary())
    assert d["patients"] == 10 + 20 + 15 + 25 + 30 + 12 + 13 + 14
    assert d["arms"] == 8
    assert d["contrasts"] == 5
    assert d["comparisons"] == 3
    assert d["multi_arm_studies"] == 2
    assert d["studies_with_2_arms"] == 1 and d["studies_with_3_arms"] == 2
    assert d["within_treatment_studies"] == 1
    assert d["measure"] == "MD"


def test_summary_patients_unknown_when_any_arm_size_unknown():
    contrast = pd.DataFrame(
        [("c1", "B", "A", 0.1, 0.2)], columns=["study", "treat1", "treat2", "TE", "seTE"]
    )
    net = Network.from_data(contrasts=contrast, arms=arm_frame(), measure="MD")
    assert as_dict(net.summary())["patients"] is None
    comp = net.comparisons().set_index(["treatment1", "treatment2"])
    # A-B: the contrast study has no sizes, so the total is unknown; A-C comes from arms only
    assert np.isnan(comp.loc[("A", "B"), "n_patients"])
    assert comp.loc[("A", "B"), "n_studies"] == 3
    assert comp.loc[("A", "C"), "n_patients"] == 40.0


def test_summary_classes_anxiety(anxiety, anxiety_data):
    d = as_dict(anxiety.summary())
    classes = set(anxiety_data["treat1_class"]) | set(anxiety_data["treat2_class"])
    assert d["classes"] == len(classes) == 17
    assert d["studies"] == 101 and d["treatments"] == 41
    per_study = anxiety_data.groupby("study")["n_arms"].first()
    assert d["arms"] == per_study.sum()
    assert d["multi_arm_studies"] == (per_study > 2).sum()
    for k, count in per_study.value_counts().items():
        assert d[f"studies_with_{k}_arms"] == count


# -------------------------------------------------------------------------- comparisons
def test_comparisons_parkinsons_exact(parkinsons):
    # Guttman 1997 is the 3-arm Placebo / Pramipexole / Bromocriptine study: all 3 pairs
    expected = pd.DataFrame(
        [
            ("Bromocriptine", "Cabergoline", 2, ("Gershanik 1994b", "Gershanik 1994a")),
            ("Bromocriptine", "Placebo", 1, ("Guttman 1997",)),
            ("Bromocriptine", "Pramipexole", 1, ("Guttman 1997",)),
            ("Bromocriptine", "Ropinirole", 2, ("Brunt 2002, Group A", "Brunt 2002, Group B")),
            ("Placebo", "Pramipexole", 2, ("Lieberman 1997", "Guttman 1997")),
            ("Placebo", "Ropinirole", 1, ("Lieberman 1998",)),
        ],
        columns=["treatment1", "treatment2", "n_studies", "studies"],
    )
    got = parkinsons.comparisons()
    assert list(got.columns) == ["treatment1", "treatment2", "n_studies", "n_patients", "studies"]
    pd.testing.assert_frame_equal(
        got.drop(columns="n_patients"), expected, check_dtype=False, check_exact=True
    )
    assert got["n_studies"].dtype == np.int64
    assert got["n_patients"].isna().all()  # contrast data carry no sample sizes


def test_comparisons_arm_data_patients_and_within(arms):
    got = arms.comparisons()
    assert list(zip(got["treatment1"], got["treatment2"], strict=True)) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "C"),
    ]
    assert got["n_studies"].tolist() == [2, 1, 2]
    # A-B: s1 (10 + 20) + s2 (15 + 30); A-C: s2 (15 + 25);
    # B-C: s2 (30 + 25) + s3 (12 + both C arms 13 + 14)
    assert got["n_patients"].tolist() == [75.0, 40.0, 94.0]
    assert got["studies"].tolist() == [("s1", "s2"), ("s2",), ("s2", "s3")]

    with_within = arms.comparisons(within=True)
    assert len(with_within) == 4
    last = with_within.iloc[-1]
    assert (last["treatment1"], last["treatment2"], last["n_studies"]) == ("C", "C", 1)
    assert last["n_patients"] == 27.0 and last["studies"] == ("s3",)


def test_comparisons_order_follows_treatment_order():
    df = pd.DataFrame(
        [("s1", "Z", "A", 0.1, 0.2), ("s2", "M", "Z", 0.2, 0.3)],
        columns=["study", "treat1", "treat2", "TE", "seTE"],
    )
    net = Network.from_contrasts(df, treatments=["Z", "M", "A"])
    got = net.comparisons()
    assert list(zip(got["treatment1"], got["treatment2"], strict=True)) == [
        ("Z", "M"),
        ("Z", "A"),
    ]


def test_comparisons_anxiety_match_pandas(anxiety, anxiety_data):
    order = {t: i for i, t in enumerate(anxiety.treatments)}
    long = pd.concat(
        [
            anxiety_data[["study", "treat1"]].rename(columns={"treat1": "t"}),
            anxiety_data[["study", "treat2"]].rename(columns={"treat2": "t"}),
        ]
    )
    per_study = long.groupby("study")["t"].agg(lambda s: sorted(set(s), key=order.get))
    pairs = pd.DataFrame(
        [(a, b, study) for study, ts in per_study.items() for a, b in combinations(ts, 2)],
        columns=["treatment1", "treatment2", "study"],
    )
    expected = pairs.groupby(["treatment1", "treatment2"])["study"].nunique()

    got = anxiety.comparisons()
    assert not (got["treatment1"] == got["treatment2"]).any()
    assert len(got) == len(expected) == as_dict(anxiety.summary())["comparisons"]
    assert (
        got.set_index(["treatment1", "treatment2"])["n_studies"]
        .sort_index()
        .equals(expected.sort_index().rename("n_studies"))
    )
    keys = [(order[a], order[b]) for a, b in zip(got["treatment1"], got["treatment2"], strict=True)]
    assert keys == sorted(keys) and all(a < b for a, b in keys)
    assert (got["n_studies"] == got["studies"].map(len)).all()


def test_within_treatment_studies_anxiety(anxiety, anxiety_data):
    distinct = anxiety_data.melt(id_vars="study", value_vars=["treat1", "treat2"])
    distinct = distinct.groupby("study")["value"].nunique()
    n_arms = anxiety_data.groupby("study")["n_arms"].first()
    repeated = set(n_arms.index[n_arms > distinct.reindex(n_arms.index)])
    assert len(repeated) == as_dict(anxiety.summary())["within_treatment_studies"] == 20

    within = anxiety.comparisons(within=True)
    self_rows = within[within["treatment1"] == within["treatment2"]]
    assert set().union(*self_rows["studies"]) == repeated
    assert len(within) - len(self_rows) == len(anxiety.comparisons())


# --------------------------------------------------------------------------- components
def test_components_connected(parkinsons, anxiety):
    assert parkinsons.components() == [list(parkinsons.treatments)]
    assert anxiety.components() == [list(anxiety.treatments)]


def disconnected_frame():
    return pd.DataFrame(
        [("s1", "B", "A", 0.1, 0.2), ("s2", "D", "C", 0.1, 0.2), ("s3", "E", "D", 0.2, 0.3)],
        columns=["study", "treat1", "treat2", "TE", "seTE"],
    )


def test_disconnected_network_error_lists_components():
    with pytest.raises(DisconnectedNetworkError) as info:
        Network.from_contrasts(disconnected_frame())
    msg = str(info.value)
    assert "2 components" in msg
    assert "component 1: treatments 'A', 'B'" in msg
    assert "component 2: treatments 'C', 'D', 'E'" in msg


def test_components_after_choosing_component():
    net = Network.from_contrasts(disconnected_frame(), component="E")
    assert net.components() == [["C", "D", "E"]]
    assert net.excluded_studies == ("s1",)
    assert as_dict(net.summary())["excluded_studies"] == 1
    assert as_dict(net.summary())["studies"] == 2


def test_components_of_split_arrays():
    # bypass validation: relabel study s2 (B vs C) as C vs C, which splits {A, B} from {C, D}
    df = pd.DataFrame(
        [("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.1, 0.2), ("s3", "D", "C", 0.2, 0.3)],
        columns=["study", "treat1", "treat2", "TE", "seTE"],
    )
    net = Network.from_contrasts(df, treatments=["D", "C", "B", "A"])
    i = net.studies.index("s2")
    base = np.array(net.base)
    base[i] = net.arm[i, 0]
    split = dataclasses.replace(net, base=base)
    assert split.components() == [["D", "C"], ["B", "A"]]
    assert len(split.comparisons()) == 2


# ----------------------------------------------------------------------- treatment table
def test_treatment_table_arm_data(arms):
    t = arms.treatment_table()
    assert list(t.columns) == ["treatment", "n_studies", "n_arms", "n_patients", "class"]
    assert t["treatment"].tolist() == ["A", "B", "C"]
    assert t["n_studies"].tolist() == [2, 3, 2]
    assert t["n_arms"].tolist() == [2, 3, 3]
    assert t["n_patients"].tolist() == [25.0, 62.0, 52.0]
    assert t["class"].isna().all()
    assert t["n_arms"].sum() == as_dict(arms.summary())["arms"]
    assert t["n_patients"].sum() == as_dict(arms.summary())["patients"]


def test_treatment_table_anxiety(anxiety, anxiety_data):
    t = anxiety.treatment_table().set_index("treatment")
    assert list(t.index) == list(anxiety.treatments)
    long = anxiety_data.melt(id_vars="study", value_vars=["treat1", "treat2"])
    expected = long.groupby("value")["study"].nunique()
    assert t["n_studies"].sort_index().equals(expected.sort_index().rename("n_studies"))
    assert t["n_arms"].sum() == as_dict(anxiety.summary())["arms"]
    assert (t["n_arms"] >= t["n_studies"]).all()
    assert t["n_patients"].isna().all()
    assert t["class"].to_dict() == anxiety.classes
