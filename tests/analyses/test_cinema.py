"""CINeMA on a Bayesian fit: contributions, domains, rating, inputs (exact engine throughout).

The rules themselves are tested at each boundary in tests/results/test_cinema_rules.py; here the
assessment of a fit is checked against those rules applied by hand to the fit's own intervals,
the node-split table and the contribution matrix of the evidence-flow work.
"""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base.errors import InvalidValueError, ModelSpecError
from nma_bayes.results import cinema_rules as R


def two_study_network(share_first: float) -> pd.DataFrame:
    """Two studies of B vs A whose fixed-effect weights are share_first : 1 - share_first."""
    se2 = 0.2
    se1 = se2 * np.sqrt((1 - share_first) / share_first)  # w = 1/se^2
    return pd.DataFrame({"study": ["s1", "s2"], "treat1": ["B", "B"], "treat2": ["A", "A"],
                         "TE": [0.5, 0.6], "seTE": [se1, se2]})  # fmt: skip


@pytest.mark.parametrize(("share_high", "level"), [(0.49, "no concerns"), (0.51, "major concerns")])
def test_majority_rule_at_49_and_51_percent_high_risk_of_bias(share_high, level):
    fit = nb.fit_network(two_study_network(share_high), reference="A", effects="fixed",
                         engine="exact", random_seed=1)  # fmt: skip
    conf = nb.cinema(fit, rob={"s1": "high", "s2": "low"}, indirectness={"s1": 1, "s2": 1},
                     mcid=0.3)  # fmt: skip
    row = conf.to_frame().iloc[0]
    assert row["rob_high"] == pytest.approx(share_high, abs=1e-12)
    assert row["within_study_bias"] == level
    assert row["indirectness"] == "no concerns"
    assert row["evidence"] == "direct" and row["incoherence"] == "no concerns"


@pytest.fixture(scope="module")
def parkinsons():
    data = nb.datasets.load_dataset("parkinsons")
    fit = nb.fit_network(data, reference="Placebo", engine="exact", random_seed=5)
    studies = fit.network.studies
    rob = {s: (i % 3) + 1 for i, s in enumerate(studies)}
    indirectness = {s: 1 + (i % 2) for i, s in enumerate(studies)}
    conf = nb.cinema(fit, rob=rob, indirectness=indirectness, mcid=0.5, rule="average")
    return fit, rob, indirectness, conf


def test_contributions_are_those_of_the_evidence_flow_work(parkinsons):
    fit, rob, indirectness, conf = parkinsons
    mine = conf.contributions()
    theirs = nb.contribution_matrix(fit, by="study").to_frame()
    np.testing.assert_array_equal(mine["contribution"], theirs["contribution"])
    assert (mine["rob"] == mine["study"].map(rob)).all()
    table = conf.to_frame()
    for row in table.itertuples():  # the shares and the average rule, recomputed by hand
        key = mine[["treatment", "comparator"]].apply(frozenset, axis=1)
        part = mine[key == frozenset((row.treatment, row.comparator))]
        w, lev = part["contribution"].to_numpy(), part["rob"].to_numpy()
        assert row.rob_high == pytest.approx(w[lev == 3].sum() / w.sum(), abs=1e-12)
        mean = (w @ lev) / w.sum()
        assert R.LEVELS.index(row.within_study_bias) + 1 == int(np.floor(mean + 0.5))


def test_intervals_domains_and_rating_follow_the_rules(parkinsons):
    fit, _, _, conf = parkinsons
    table = conf.to_frame()
    pi = fit.prediction_interval(all_pairs=True)
    np.testing.assert_allclose(table[["ci_lower", "ci_upper", "pi_lower", "pi_upper"]],
                               pi[["ci_lower", "ci_upper", "pi_lower", "pi_upper"]])  # fmt: skip
    zone = (-0.5, 0.5)
    assert conf.zone == zone
    for row in table.itertuples():
        assert row.imprecision == R.LEVELS[R.imprecision_level(row.ci_lower, row.ci_upper,
                                                               zone) - 1]  # fmt: skip
        het = R.heterogeneity_level((row.ci_lower, row.ci_upper), (row.pi_lower, row.pi_upper),
                                    zone)  # fmt: skip
        assert row.heterogeneity == R.LEVELS[het - 1]
        assert row.reporting_bias == "not assessed"
        codes = [R.LEVELS.index(getattr(row, d)) + 1 for d in
                 ("within_study_bias", "indirectness", "imprecision", "heterogeneity",
                  "incoherence")]  # fmt: skip
        assert row.rating == R.rating(codes)


def test_incoherence_reads_the_nodesplit_and_the_global_test(parkinsons):
    fit, rob, indirectness, conf = parkinsons
    split = nb.nodesplit(fit.network, engine="exact", random_seed=fit.seed)
    table = conf.to_frame()
    mixed = table[table["evidence"] == "mixed"]
    assert {frozenset(p) for p in zip(mixed["treatment"], mixed["comparator"], strict=True)} == \
        {frozenset(p) for p in zip(split["treatment"], split["comparator"], strict=True)}
    for row in split.itertuples():
        mine = mixed[(mixed["treatment"] == row.treatment)
                     & (mixed["comparator"] == row.comparator)].iloc[0]  # fmt: skip
        level = R.incoherence_mixed_level((row.direct_lower, row.direct_upper),
                                          (row.indirect_lower, row.indirect_upper), conf.zone)
        assert mine["incoherence"] == R.LEVELS[level - 1]
        assert mine["p_value"] == pytest.approx(row.p_value)
    indirect = table[table["evidence"] == "indirect"]
    assert len(indirect) > 0 and conf.global_test["df"] == 2
    expected = R.LEVELS[R.global_test_level(conf.global_test["p_value"]) - 1]
    assert (indirect["incoherence"] == expected).all()
    # the same tables given explicitly: the same assessment (the same seeds)
    again = nb.cinema(fit, rob=rob, indirectness=indirectness, mcid=0.5, rule="average",
                      nodesplit=split)  # fmt: skip
    pd.testing.assert_frame_equal(again.to_frame(), table)


def test_reporting_bias_and_overrides(parkinsons):
    fit, rob, indirectness, conf = parkinsons
    first = conf.to_frame().iloc[0]
    pair = (first["treatment"], first["comparator"])
    again = nb.cinema(fit, rob=rob, indirectness=indirectness, mcid=0.5, rule="average",
                      reporting_bias={pair[::-1]: "suspected"},
                      overrides={pair: {"rating": "high"}})  # fmt: skip
    table = again.to_frame()
    assert table.loc[0, "reporting_bias"] == "some concerns"
    assert (table.loc[1:, "reporting_bias"] == "no concerns").all()
    assert table.loc[0, "rating"] == "high" and table.loc[0, "overridden"] == "rating"
    assert table.loc[0, "downgrades"] == first["downgrades"] + 1
    domain = nb.cinema(fit, rob=rob, indirectness=indirectness, mcid=0.5, rule="average",
                       overrides={pair: {"within_study_bias": "no concerns",
                                         "indirectness": "no concerns",
                                         "imprecision": "no concerns",
                                         "heterogeneity": "no concerns",
                                         "incoherence": "no concerns"}})  # fmt: skip
    assert domain.to_frame().loc[0, "rating"] == "high"


def test_bad_inputs_raise_before_any_computation(parkinsons):
    fit, rob, indirectness, _ = parkinsons
    with pytest.raises(InvalidValueError, match="no judgement for 1 studies") as info:
        nb.cinema(fit, rob=dict(list(rob.items())[1:]), indirectness=indirectness, mcid=0.5)
    assert info.value.rule == "study-judgements"
    first = next(iter(indirectness))
    with pytest.raises(InvalidValueError, match=f"not in the network: 'x'.*{first}.*'medium'"):
        nb.cinema(fit, rob=rob, indirectness=indirectness | {first: "medium", "x": 1}, mcid=0.5)
    for kwargs, match in [({"mcid": 0}, "mcid"), ({"mcid": 0.5, "rule": "mean"}, "rule"),
                          ({"mcid": 0.5, "reporting_bias": "maybe"}, "reporting_bias"),
                          ({"mcid": 0.5, "overrides": {("A", "B"): {"rating": "high"}}},
                           "not a pair of treatments")]:  # fmt: skip
        with pytest.raises(ModelSpecError, match=match):
            nb.cinema(fit, rob=rob, indirectness=indirectness, **kwargs)


def test_duplicate_arms_are_refused_or_kept_first_for_the_contributions():
    rows = [("d1", "A", 10.0, 3.0, 40), ("d1", "B", 9.0, 3.1, 41), ("d1", "B", 9.3, 2.9, 39),
            ("d2", "A", 10.2, 3.0, 30), ("d2", "C", 8.8, 3.2, 31), ("d3", "B", 9.1, 3.0, 35),
            ("d3", "C", 8.7, 3.1, 36), ("d4", "A", 9.9, 3.0, 50),
            ("d4", "B", 9.2, 3.0, 50)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])
    fit = nb.fit_network(df, measure="MD", reference="A", engine="exact", random_seed=1)
    low = dict.fromkeys(fit.network.studies, 1)
    with pytest.raises(ModelSpecError, match="'d1'.*duplicate_arms='first'"):
        nb.cinema(fit, rob=low, indirectness=low, mcid=0.5)
    conf = nb.cinema(fit, rob=low | {"d1": 3}, indirectness=low, mcid=0.5,
                     duplicate_arms="first")  # fmt: skip
    # the contributions are those of the network without d1's second B arm, at the fit's tau
    tau = float(fit.heterogeneity().loc["tau", "median"])
    reduced = df.drop(index=2)
    expected = nb.contribution_matrix(reduced, measure="MD", reference="A", tau=tau,
                                      by="study").to_frame()  # fmt: skip
    np.testing.assert_allclose(conf.contributions()["contribution"], expected["contribution"],
                               rtol=1e-10)  # fmt: skip
    share = conf.to_frame().set_index(["treatment", "comparator"])["rob_high"]
    d1 = expected[expected["study"] == "d1"].set_index(["comparator", "treatment"])
    assert share[("B", "A")] == pytest.approx(d1.loc[("B", "A"), "contribution"], abs=1e-10)
