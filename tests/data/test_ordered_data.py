"""Ordered categorical data: the two layouts, the cutpoints' order, repeated arms, options."""

import numpy as np
import pandas as pd
import pytest
from reference_helpers import PSORIASIS, psoriasis_arms

import nma_bayes as nb
from nma_bayes.base import errors as E

ARGS = PSORIASIS


def _cumulative():
    return psoriasis_arms()


def _exclusive():
    """The categories file as exclusive counts named by their lower cutpoint (bottom implied)."""
    cats = nb.datasets.load_dataset("psoriasis", "arms_long_categories")
    rows = cats[cats["lower_cutpoint"].notna()]
    return rows.rename(columns={"count": "r"}).assign(cutpoint=rows["lower_cutpoint"])


def test_psoriasis_network_counts_and_layout():
    net = nb.Network.from_data(arms=_cumulative(), **ARGS)
    assert net.categories == ("PASI50", "PASI75", "PASI90")
    assert (net.n_studies, net.n_treatments, int(net.n_arms.sum())) == (16, 8, 36)
    assert net.measure == "probit" and net.likelihood == "ordered" and net.link == "probit"
    assert net.events.shape == (16, 3, 3)
    i = net.studies.index("Elewski 2004")  # reports 50/75/90: 18, 6, 1 of 193 on SC
    np.testing.assert_array_equal(net.events[i, 0], [18, 6, 1])
    assert net.trials[i, 0] == 193
    j = net.studies.index("Ellis 1991")  # SC and two Ciclosporin arms, PASI 75 only
    assert [net.treatments[a] for a in net.arm[j]] == ["Ciclosporin", "Ciclosporin"]
    assert np.isnan(net.events[j, :, 0]).all() and np.isnan(net.events[j, :, 2]).all()
    np.testing.assert_array_equal(net.events[j, :, 1], [0, 9, 13])


def test_exclusive_layout_gives_the_same_network():
    cum = nb.Network.from_data(arms=_cumulative(), **ARGS)
    exc = nb.Network.from_data(arms=_exclusive(), cumulative=False, **ARGS)
    np.testing.assert_array_equal(
        np.nan_to_num(cum.events, nan=-1), np.nan_to_num(exc.events, nan=-1)
    )
    np.testing.assert_array_equal(cum.trials, exc.trials)
    assert cum.studies == exc.studies and cum.categories == exc.categories


def test_categories_given_and_row_order_within_an_arm():
    """With categories=, an arm's rows may come in any order; the counts are sorted by it."""
    df = _cumulative()
    reversed_rows = pd.concat([g.iloc[::-1] for _, g in df.groupby(["study", "arm"], sort=False)])
    net = nb.Network.from_data(
        arms=reversed_rows, categories=["PASI50", "PASI75", "PASI90"], **ARGS
    )
    ref = nb.Network.from_data(arms=df, **ARGS)
    np.testing.assert_array_equal(
        np.nan_to_num(ref.events, nan=-1), np.nan_to_num(net.events, nan=-1)
    )
    with pytest.raises(E.ModelSpecError, match="two orders") as info:  # without categories=
        nb.Network.from_data(
            arms=pd.concat(
                [
                    df[df.study != "Elewski 2004"],
                    reversed_rows[reversed_rows.study == "Elewski 2004"],
                ]
            ),
            **ARGS,
        )
    assert info.value.rule == "category-order"


def test_without_arm_the_treatment_names_the_arm():
    """Ellis 1991 has two Ciclosporin arms: without arm= they are one arm reporting twice."""
    with pytest.raises(E.InvalidValueError, match="report one cutpoint.*twice") as info:
        nb.Network.from_data(arms=_cumulative(), **{**ARGS, "arm": None})
    assert info.value.rule == "category-duplicated"
    keep = ~_cumulative()["study"].isin(["Ellis 1991", "Gottlieb 2004"])
    net = nb.Network.from_data(arms=_cumulative()[keep], **{**ARGS, "arm": None})
    assert net.n_studies == 14


def test_ordered_options_are_refused_elsewhere():
    arms = nb.datasets.load_dataset("smoking", "arms")
    for option in ({"category": "c"}, {"cumulative": False}, {"categories": ["a"]}):
        with pytest.raises(E.ModelSpecError, match="do not apply") as info:
            nb.Network.from_data(arms=arms, likelihood="binomial", **option)
        assert info.value.rule == "option-not-applicable"


def test_missing_category_column_names_it():
    with pytest.raises(E.MissingColumnError, match="'level'.*category=") as info:
        nb.Network.from_data(arms=_cumulative(), **{**ARGS, "category": "level"})
    assert info.value.rule == "likelihood-columns"


def test_undetermined_order_asks_for_categories():
    df = pd.DataFrame(
        {
            "study": ["a", "a", "b", "b"],
            "treatment": ["A", "B", "A", "C"],
            "cutpoint": ["x", "x", "y", "y"],
            "r": [1, 2, 3, 4],
            "n": [10] * 4,
        }
    )
    with pytest.raises(E.ModelSpecError, match="cannot be told.*categories=") as info:
        nb.Network.from_data(arms=df, likelihood="ordered", category="cutpoint", events="r", n="n")
    assert info.value.rule == "category-order"
    net = nb.Network.from_data(
        arms=df, likelihood="ordered", category="cutpoint", events="r", n="n", categories=["y", "x"]
    )
    assert net.categories == ("y", "x")


def test_exclusive_counts_above_n_are_refused():
    df = _exclusive()
    df.loc[df.index[0], "r"] = 190  # Elewski SC: 190 + 5 + 1 of 193
    with pytest.raises(E.InvalidValueError, match="add up to more than n") as info:
        nb.Network.from_data(arms=df, cumulative=False, **ARGS)
    assert info.value.rule == "category-counts"
