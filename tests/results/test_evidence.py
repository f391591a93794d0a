"""Frequentist evidence structure against netmeta 3.3-1: Q decomposition, network measures,
contribution matrices (``decomp.design``, ``netmeasures``, ``netcontrib``).

The references are the bundled ``netmeta_inconsistency_*.csv`` files of the five data sets that
have them (15 significant digits). Each network is built from the data netmeta was given (see the
data sets' READMEs): arm means for stowe2010 and parkinsons, netmeta's all-pairs contrast files
for senn2013 and therapy_formats, and smoking's log odds ratios computed from the counts as
netmeta's ``pairwise`` does (built in ``evidence_networks.py``). Every number must agree to 1e-6
relative; entries that netmeta prints as floating-point noise around 0 (|x| < 1e-12) are compared
absolutely.
"""

import numpy as np
import pandas as pd
import pytest
from evidence_networks import NAMES, assert_close, network, reference

import nma_bayes as nb
from nma_bayes.base.errors import MissingColumnError, ModelSpecError

MODELS = {"common": "fixed", "random": "random"}


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    name = request.param
    return name, network(name)


# ---------------------------------------------------------------------- Q decomposition


def test_decompose_q_matches_decomp_design(case):
    name, net = case
    ref = reference(name, "decomp")
    res = nb.decompose_q(net)
    part = {p: g.set_index("design") for p, g in ref.groupby("part")}
    q = res.q.set_index("part")
    r = part["Q.decomp"]
    assert list(q.index) == list(r.index) == ["Total", "Within designs", "Between designs"]
    for ours, theirs in (("Q", "Q"), ("df", "df"), ("p_value", "pval")):
        assert_close(q[ours], r[theirs], f"{name} Q.decomp {ours}")
    within = res.within_designs.set_index("design")
    r = part["Q.het.design"]
    assert list(within.index) == list(r.index)  # labels and netmeta's design order
    for ours, theirs in (("Q", "Q"), ("df", "df"), ("p_value", "pval")):
        assert_close(within[ours], r[theirs], f"{name} Q.het.design {ours}")
    detached = res.detached.set_index("design")
    r = part["Q.inc.detach"]
    assert set(detached.index) == set(r.index)  # the same designs left out
    for ours, theirs in (("Q", "Q"), ("df", "df"), ("p_value", "pval")):
        assert_close(detached.loc[r.index, ours], r[theirs], f"{name} Q.inc.detach {ours}")


def test_decompose_q_random_effects_and_contributions(case):
    name, net = case
    ref = reference(name, "decomp")
    res = nb.decompose_q(net)
    rnd = ref[ref["part"] == "Q.inc.random"].iloc[0]
    assert_close(res.tau_within, rnd["tau_within"], f"{name} tau_within")
    assert res.tau == res.tau_within and not res.tau_preset
    row = res.random.iloc[0]
    ours = row[["Q", "df", "p_value", "tau", "tau2"]].to_numpy(float)
    assert_close(ours, rnd[["Q", "df", "pval", "tau_within", "tau2_within"]].to_numpy(float), name)
    preset = ref[ref["part"] == "Q.inc.random.preset"].iloc[0]
    assert_close([row["Q"], res.tau], [preset["Q"], preset["tau_preset"]], f"{name} preset")
    ours = res.contributions.set_index(["design", "comparison"])
    parts = (("Q.inc.design", "Q_common"), ("Q.inc.design.random.preset", "Q_random"))
    for part, column in parts:
        r = ref[ref["part"] == part].set_index(["design", "comparison"])
        assert list(ours.index) == list(r.index), name  # every design row, netmeta's order
        assert_close(ours[column], r["Q"], f"{name} {part}")
    # the rows' shares of the between-designs Q add up to it
    between = res.q.set_index("part").loc["Between designs", "Q"]
    np.testing.assert_allclose(ours["Q_common"].sum(), between, rtol=1e-10)
    np.testing.assert_allclose(ours["Q_random"].sum(), row["Q"], rtol=1e-10)


def test_decompose_q_preset_tau():
    net = network("stowe2010")
    default = nb.decompose_q(net)
    again = nb.decompose_q(net, tau=default.tau_within)
    assert again.tau_preset and again.tau == default.tau_within
    pd.testing.assert_frame_equal(again.random, default.random)
    common = nb.decompose_q(net, tau=0)
    np.testing.assert_allclose(common.random["Q"], default.q["Q"].iloc[2], rtol=1e-12)
    np.testing.assert_allclose(common.contributions["Q_random"], common.contributions["Q_common"])


# ---------------------------------------------------------------------- network measures


@pytest.mark.parametrize("model", list(MODELS))
def test_evidence_summary_matches_netmeasures(case, model):
    name, net = case
    res = nb.evidence_summary(net, effects=MODELS[model])
    ref = reference(name, "netmeasures")
    ref = ref[ref["model"] == model].set_index("comparison")
    table = res.to_frame().set_index("comparison")
    assert list(table.index) == list(ref.index)  # every pair, netmeta's labels and order
    pairs = ref.index.str.split(":", n=1)
    assert list(table["treatment"]) == [p[0] for p in pairs]
    assert list(table["comparator"]) == [p[1] for p in pairs]
    for ours, theirs in (
        ("proportion_direct", "proportion"),
        ("mean_path_length", "meanpath"),
        ("minimal_parallelism", "minpar"),
        ("minimal_parallelism_study", "minpar_study"),
    ):
        assert_close(table[ours], ref[theirs], f"{name} {model} {ours}")
    flow = res.design_flow().set_index(["comparison", "design"])
    h = reference(name, "netmeasures_Htilde")
    h = h[h["model"] == model].set_index(["comparison", "design"])
    assert set(flow.index) == set(h.index)
    assert_close(flow.loc[h.index, "flow"], h["H_tilde"], f"{name} {model} H_tilde")
    assert (res.effects, res.tau == 0) == (MODELS[model], model == "common" or name == "parkinsons")


# ---------------------------------------------------------------------- contribution matrices


@pytest.mark.parametrize("method", ["shortestpath", "randomwalk"])
@pytest.mark.parametrize("model", list(MODELS))
def test_contribution_matrix_matches_netcontrib(case, method, model):
    name, net = case
    res = nb.contribution_matrix(net, method=method, effects=MODELS[model])
    ref = reference(name, "netcontrib")
    ref = ref[(ref["method"] == method) & (ref["model"] == model)]
    ours = res.to_frame().set_index(["comparison", "direct_comparison"])
    ref = ref.set_index(["comparison", "direct_comparison"])
    assert set(ours.index) == set(ref.index)
    assert_close(ours.loc[ref.index, "contribution"], ref["contribution"], f"{name} {method}")
    sums = res.to_frame().groupby("comparison")["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    wide = res.matrix()
    assert wide.shape == (len(sums), ref.index.get_level_values(1).nunique())
    assert list(wide.index) == list(sums.index.unique()) or set(wide.index) == set(sums.index)


@pytest.mark.parametrize("model", list(MODELS))
def test_study_contributions_match_netcontrib(case, model):
    name, net = case
    res = nb.contribution_matrix(net, effects=MODELS[model], by="study")
    ref = reference(name, "netcontrib_study")
    ref = ref[(ref["method"] == "shortestpath") & (ref["model"] == model)]
    ours = res.to_frame().set_index(["comparison", "study"])
    ref = ref.set_index(["comparison", "study"])
    assert set(ours.index) == set(ref.index)
    assert_close(ours.loc[ref.index, "contribution"], ref["contribution"], f"{name} {model}")
    assert res.column == "study" and list(res.matrix().columns) == list(net.studies)


def test_random_walk_by_study_splits_the_comparisons():
    net = network("stowe2010")
    by_comp = nb.contribution_matrix(net, method="randomwalk", effects="fixed")
    by_study = nb.contribution_matrix(net, method="randomwalk", effects="fixed", by="study")
    sums = by_study.to_frame().groupby("comparison")["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    # LARGO is the only study of COMTI:MAOBI: it carries that column entirely
    largo = by_study.matrix()["LARGO"]
    assert (largo >= by_comp.matrix()["COMTI:MAOBI"] - 1e-12).all()


# ---------------------------------------------------------------------- invariances, inputs


def test_input_forms_give_the_same_structure():
    # stowe2010 from its base-form contrast file (se_base) and from the arm means: same numbers
    arms = network("stowe2010")
    contrasts = nb.Network.from_contrasts(
        nb.datasets.load_dataset("stowe2010", "contrasts"), reference="Placebo"
    )
    for f in (nb.decompose_q, nb.evidence_summary, nb.contribution_matrix):
        a, c = f(arms).to_frame(), f(contrasts).to_frame()
        pd.testing.assert_frame_equal(a, c, rtol=1e-9, atol=1e-12)
    # a DataFrame is built with the package's data layer, options passed on
    df = nb.datasets.load_dataset("senn2013", "contrasts_netmeta_allpairs")
    from_df = nb.evidence_summary(df, reference="plac").to_frame()
    pd.testing.assert_frame_equal(from_df, nb.evidence_summary(network("senn2013")).to_frame())


def test_smd_arm_data_with_a_rank_one_covariance_term():
    # SMD from arms: within-study covariance diag + cov 11' + cov_u uu'; everything still adds up
    arms = nb.datasets.load_dataset("stowe2010", "arms")
    net = nb.Network.from_arms(arms, measure="SMD", reference="Placebo")
    res = nb.contribution_matrix(net, effects="fixed", by="study")
    np.testing.assert_allclose(res.to_frame().groupby("comparison")["contribution"].sum(), 1.0)
    q = nb.decompose_q(net)
    np.testing.assert_allclose(q.contributions["Q_common"].sum(), q.q["Q"].iloc[2], rtol=1e-10)


def test_results_are_tidy_and_escape_names():
    df = pd.DataFrame(
        {
            "study": ["s1", "s2", "s3", "s3"],
            "treat1": ["<b>A</b>", "B", "B", "<b>A</b>"],
            "treat2": ["C", "C", "C", "C"],
            "TE": [0.1, 0.3, 0.2, 0.05],
            "seTE": [0.2, 0.25, 0.3, 0.3],
            "se_base": [np.nan, np.nan, 0.15, 0.15],
        }
    )
    hostile = {"reference": "<b>A</b>"}
    for f in (nb.decompose_q, nb.evidence_summary, nb.contribution_matrix):
        res = f(df, **hostile)
        html = res._repr_html_()
        assert "<b>A</b>" not in html and "&lt;b&gt;A&lt;/b&gt;" in html
        assert type(res).__name__ in repr(res)
        frame = res.to_frame()
        assert isinstance(frame, pd.DataFrame) and len(frame) > 0
        frame.iloc[0, 0] = "changed"  # a copy: the result is unchanged
        assert res.to_frame().iloc[0, 0] != "changed"
    q = nb.decompose_q(df)
    assert set(q.to_frame()["part"]) == {
        "decomposition", "within", "detached", "random", "contribution", "contribution_random"
    }  # fmt: skip
    assert list(q.summary()["part"])[-1] == "Between designs (random effects)"


# ---------------------------------------------------------------------- typed errors


@pytest.mark.parametrize(
    ("function", "kwargs", "match"),
    [
        (nb.evidence_summary, {"effects": "common"}, "effects must be one of"),
        (nb.contribution_matrix, {"effects": "both"}, "effects must be one of"),
        (nb.contribution_matrix, {"method": "stream"}, "method must be one of"),
        (nb.contribution_matrix, {"by": "design"}, "by must be one of"),
        (nb.evidence_summary, {"tau": -0.1}, "tau must be a finite number >= 0"),
        (nb.contribution_matrix, {"tau": "0.2"}, "tau must be a finite number >= 0"),
        (nb.decompose_q, {"tau": True}, "tau must be a finite number >= 0"),
        (nb.decompose_q, {"tau": float("nan")}, "tau must be a finite number >= 0"),
        (nb.evidence_summary, {"effects": "fixed", "tau": 0.2}, "applies to effects='random'"),
        (nb.contribution_matrix, {"effects": "fixed", "tau": 0.0}, "applies to effects='random'"),
    ],
)
def test_bad_options_are_refused(function, kwargs, match):
    with pytest.raises(ModelSpecError, match=match) as err:
        function(network("parkinsons"), **kwargs)
    assert err.value.rule == "bad-option"


def test_bad_data_is_refused():
    arms = nb.datasets.load_dataset("diabetes", "arms")
    with pytest.raises(ModelSpecError, match="cloglog link") as err:
        nb.decompose_q(arms, likelihood="binomial", link="cloglog", reference="Diuretic")
    assert err.value.rule == "bad-option"
    twice = pd.DataFrame(
        {
            "study": ["s1", "s1", "s2"],
            "treat1": ["A", "A", "B"],
            "treat2": ["C", "C", "C"],
            "TE": [0.1, 0.2, 0.3],
            "seTE": [0.2, 0.2, 0.25],
            "se_base": [0.1, 0.1, np.nan],
        }
    )
    with pytest.raises(ModelSpecError, match="two arms of the same treatment") as err:
        nb.contribution_matrix(twice)
    assert err.value.rule == "bad-option"
    # the data layer's errors come through unchanged, before any computation
    with pytest.raises(ModelSpecError, match="unknown") as err:
        nb.evidence_summary(twice, refrence="C")
    assert err.value.rule == "unknown-option"
    with pytest.raises(MissingColumnError):
        nb.decompose_q(twice.drop(columns="seTE"))
    with pytest.raises(ModelSpecError, match="already built"):
        nb.decompose_q(network("parkinsons"), measure="MD")
