"""Net heat plot and comparison-adjusted funnel plot against netmeta 3.3-1 and meta 8.2-1.

References: the bundled ``netmeta_inconsistency_netheat.csv`` (five networks, ``netheat(net)``
and ``netheat(net, random = TRUE)``), ``netmeta_inconsistency_funnel.csv`` and
``_funneltest.csv`` (the four networks with >= 10 studies, ``funnel(net, order = ORDER)`` and
``metabias``). Networks as netmeta analysed them (``evidence_networks.py``); every number to
1e-6 relative (1e-12 absolute where netmeta's value is floating-point noise around 0).
"""

import numpy as np
import pandas as pd
import pytest
from evidence_networks import NAMES, assert_close, network, reference

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.results.funnel import bias_tests
from nma_bayes.results.netheat import _r_hclust_order

MODELS = {"common": "fixed", "random": "random"}
ORDER = {
    "stowe2010": ["COMTI", "Dopamine Agonist", "MAOBI", "Placebo"],
    "senn2013": ["acar", "benf", "metf", "migl", "piog", "rosi", "sita", "sulf", "vild", "plac"],
    "smoking": ["Group counselling", "Individual counselling", "Self-help", "No intervention"],
    "therapy_formats": ["wlc", "cau", "ind", "grp", "tel", "ush", "gsh"],
}
CELL = ["row_design", "row_comparison", "col_design", "col_comparison"]


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    return request.param, network(request.param)


# ---------------------------------------------------------------------- net heat


@pytest.mark.parametrize("model", list(MODELS))
def test_netheat_matches_netmeta(case, model):
    name, net = case
    ref = reference(name, "netheat")
    ref = ref[ref["model"] == model].reset_index(drop=True)
    res = nb.netheat(net, effects=MODELS[model])
    ours = res.to_frame()
    # the same cells (netmeta's kept designs), in the same clustering order (R's hclust)
    assert list(map(tuple, ours[CELL].to_numpy())) == list(map(tuple, ref[CELL].to_numpy()))
    np.testing.assert_array_equal(ours["row_pos"], ref["row_pos"])
    np.testing.assert_array_equal(ours["col_pos"], ref["col_pos"])
    for column in ("heat", "Q_row_before", "Q_row_after", "H"):
        assert_close(ours[column], ref[column], f"{name} {model} {column}")
    if model == "random":
        assert_close(res.tau, ref["tau_preset"].iloc[0], f"{name} tau")
        assert not res.tau_preset
    else:
        assert res.tau == 0 and ref["tau_preset"].isna().all()
    # the diagonal is minus each row's share of the between-designs Q (decompose_q's)
    diag = ours[ours["row_pos"] == ours["col_pos"]]
    np.testing.assert_allclose(diag["heat"], -diag["Q_row_before"], rtol=1e-12)
    q = nb.decompose_q(net, tau=res.tau).contributions.set_index(["design", "comparison"])
    shares = q.loc[list(zip(diag["row_design"], diag["row_comparison"], strict=True)), "Q_random"]
    np.testing.assert_allclose(diag["Q_row_before"], shares, rtol=1e-10)


def test_netheat_matrices_and_labels():
    res = nb.netheat(network("smoking"))
    heat, hat = res.matrix(), res.hat
    n = int(res.to_frame()["row_pos"].max())
    assert heat.shape == hat.shape == (n, n) and list(heat.index) == list(hat.columns)
    first = res.to_frame().query("row_pos == 1 and col_pos == 2").iloc[0]
    assert heat.iloc[0, 1] == first["heat"] and hat.iloc[0, 1] == first["H"]
    # rows of the three-arm design name it (netmeta's "comparison_design")
    three = "No intervention:Group counselling:Individual counselling"
    assert f"No intervention:Group counselling_{three}" in res.labels()
    assert "Individual counselling:Self-help" in res.labels()  # a two-arm design
    assert res.dropped_designs == () and res.dropped_arms.empty
    assert "NetHeat(10 design rows" in repr(res) and "<strong>NetHeat</strong>" in res._repr_html_()


def test_netheat_preset_tau_and_dropped_designs():
    net = network("senn2013")
    default = nb.netheat(net, effects="random")
    preset = nb.netheat(net, effects="random", tau=default.tau)
    assert preset.tau_preset
    pd.testing.assert_frame_equal(preset.to_frame(), default.to_frame())
    # at tau = 0 the random-effects net heat is the common-effect one
    pd.testing.assert_frame_equal(nb.netheat(net, effects="random", tau=0).to_frame(),
                                  nb.netheat(net).to_frame())  # fmt: skip
    # senn2013: 16 design rows, 12 kept; the designs netmeta leaves out are named
    kept = set(nb.netheat(net).to_frame()["row_design"])
    designs = set(reference("senn2013", "decomp").query("part == 'Q.inc.design'")["design"])
    assert set(nb.netheat(net).dropped_designs) == designs - kept and len(designs - kept) > 0


def test_r_hclust_order():
    # R: hclust(dist(c(1, 2, 4, 8)))$order is 4 3 1 2 (a singleton merged into a cluster is
    # listed first); complete linkage merges {1,2} (1), then 4 (3), then 8 (7)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_array_equal(_r_hclust_order(np.abs(x[:, None] - x)), [3, 2, 0, 1])
    # two clusters: the earlier-formed one first; ties broken by the first index
    x = np.array([0.0, 10.0, 0.5, 10.5, 30.0])
    np.testing.assert_array_equal(_r_hclust_order(np.abs(x[:, None] - x)), [4, 0, 2, 1, 3])


def contrasts(rows):
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])


def test_netheat_unavailable_networks_are_refused():
    two_designs = contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "A", 0.2, 0.2),
                             ("s3", "C", "A", 0.3, 0.3)])  # fmt: skip
    with pytest.raises(ModelSpecError, match="only 2 designs") as err:
        nb.netheat(two_designs)
    assert err.value.rule == "bad-option"
    tree = contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "A", 0.2, 0.2),
                      ("s3", "D", "A", 0.3, 0.3)])  # fmt: skip
    with pytest.raises(ModelSpecError, match="no loop"):
        nb.netheat(tree)
    one_loop = contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "A", 0.2, 0.2),
                          ("s3", "C", "B", 0.3, 0.3)])  # fmt: skip
    with pytest.raises(ModelSpecError, match="without loops"):
        nb.netheat(one_loop)


# ---------------------------------------------------------------------- duplicate arms


def test_duplicate_arms_are_refused_or_dropped():
    data = nb.datasets.load_dataset("social_anxiety")
    for f in (nb.netheat, nb.decompose_q):
        with pytest.raises(ModelSpecError, match="two arms of the same treatment") as err:
            f(data, reference="Waitlist")
        assert err.value.rule == "bad-option"
    with pytest.raises(ModelSpecError, match="duplicate_arms='first'") as err:
        nb.netheat(data, reference="Waitlist")
    assert "TITOV2010b" in str(err.value)
    res = nb.netheat(data, reference="Waitlist", duplicate_arms="first")
    assert len(res.dropped_arms) == 23 and set(res.dropped_arms) == {"study", "treatment"}
    assert ("LADER2004", "Escitalopram") in set(map(tuple, res.dropped_arms.to_numpy()))
    assert int(res.to_frame()["row_pos"].max()) == 73
    with pytest.raises(ModelSpecError, match="duplicate_arms must be one of"):
        nb.netheat(data, duplicate_arms="merge")


def test_keeping_the_first_arm_equals_leaving_the_others_out():
    # s3 has two arms of C (base A): 'first' keeps C (TE 0.3) and drops C (TE 0.35); s5 compares
    # B with itself and is dropped whole. The result is the analysis without those rows.
    rows = [("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.5, 0.25), ("s3", "C", "A", 0.3, 0.3),
            ("s3", "C", "A", 0.35, 0.3), ("s4", "D", "A", 0.4, 0.3), ("s6", "D", "C", -0.2, 0.2),
            ("s7", "D", "B", 0.9, 0.3), ("s5", "B", "B", 0.05, 0.2)]  # fmt: skip
    data = contrasts(rows).assign(se_base=[np.nan, np.nan, 0.2, 0.2, np.nan, np.nan, np.nan,
                                           np.nan])  # fmt: skip
    data.loc[data["study"] == "s3", "seTE"] = np.sqrt(0.3**2)
    kept = data.drop(index=[3, 7]).assign(se_base=np.nan)
    kept.loc[kept["study"] == "s3", "seTE"] = 0.3
    first = nb.netheat(data, reference="A", duplicate_arms="first")
    assert list(map(tuple, first.dropped_arms.to_numpy())) == [("s3", "C"), ("s5", "B")]
    pd.testing.assert_frame_equal(first.to_frame(), nb.netheat(kept, reference="A").to_frame())
    f = nb.funnel(data, order=["A", "B", "C", "D"], reference="A", duplicate_arms="first")
    pd.testing.assert_frame_equal(f.to_frame(), nb.funnel(kept, order=["A", "B", "C", "D"],
                                                          reference="A").to_frame())  # fmt: skip


# ---------------------------------------------------------------------- funnel


FUNNEL_NAMES = list(ORDER)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("name", FUNNEL_NAMES)
def test_funnel_matches_netmeta(name, model):
    ref = reference(name, "funnel")
    ref = ref[ref["pooled"] == model].reset_index(drop=True)
    res = nb.funnel(network(name), order=ORDER[name], pooled=MODELS[model])
    ours = res.to_frame()
    assert ref["order"].iloc[0] == " > ".join(res.order)
    for column, theirs in (("study", "studlab"), ("treat1", "treat1"), ("treat2", "treat2"),
                           ("comparison", "comparison")):  # fmt: skip
        assert list(ours[column]) == list(ref[theirs]), f"{name} {column}"  # netmeta's row order
    for column in ("TE", "TE_direct", "TE_adj", "seTE"):
        assert_close(ours[column], ref[column], f"{name} {model} {column}")
    if model == "random":
        dl = nb.evidence_summary(network(name)).tau  # the network's DerSimonian-Laird tau
        assert res.tau == pytest.approx(dl, rel=1e-12) and res.tau > 0


#: meta's Begg test where rounding noise breaks exact ties (see test_begg_ties_...)
NOISE_TIES = {("senn2013", "common"), ("therapy_formats", "common")}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("name", FUNNEL_NAMES)
def test_funnel_tests_match_metabias(name, model):
    ref = reference(name, "funneltest")
    ref = ref[ref["pooled"] == model].set_index("method_bias")
    tests = nb.funnel(network(name), order=ORDER[name], pooled=MODELS[model]).tests()
    tests = tests.set_index("method")
    assert list(tests.index) == ["Egger", "Begg", "Thompson"]
    methods = ["Egger", "Thompson"] if (name, model) in NOISE_TIES else list(tests.index)
    ours = tests.loc[methods, ["k", "statistic", "df", "p_value", "estimate", "se"]]
    theirs = ref.loc[methods, ["k", "statistic", "df", "pval", "estimate_1", "estimate_2"]]
    assert_close(ours.to_numpy(float), theirs.to_numpy(float), f"{name} {model}")
    assert list(tests["estimate_name"]) == list(ref.loc[tests.index, "estimate_1_name"])
    assert list(tests["se_name"]) == list(ref.loc[tests.index, "estimate_2_name"])


@pytest.mark.parametrize("name", sorted(n for n, _ in NOISE_TIES))
def test_begg_ties_broken_by_rounding_noise_in_meta(name):
    # With pooled = "common" the adjusted effects of a one-study comparison are exactly 0 and so
    # is their common-effect mean: their standardised effects tie. meta's values differ from 0 by
    # rounding noise (the mean is ~ -4e-17), which orders them by precision: every pair of them
    # discordant. Ours count them as ties; breaking the ties the way the noise did reproduces meta.
    ref = reference(name, "funneltest").query("pooled == 'common' and method_bias == 'Begg'")
    table = nb.funnel(network(name), order=ORDER[name]).to_frame()
    zero = table["TE_adj"].abs().to_numpy() < 1e-12
    ours = bias_tests(table["TE_adj"], table["seTE"]).set_index("method").loc["Begg"]
    n_zero = int(zero.sum())
    assert abs(ours["estimate"] - ref["estimate_1"].iloc[0]) == n_zero * (n_zero - 1) / 2
    y = table["TE_adj"].to_numpy().copy()
    y[zero] = 1e-6  # y_i - mean: the same tiny positive number, as 0 minus meta's noisy mean
    noisy = bias_tests(y, table["seTE"]).set_index("method").loc["Begg"]
    theirs = ref[["statistic", "pval", "estimate_1", "estimate_2"]].to_numpy(float)[0]
    assert_close(noisy[["statistic", "p_value", "estimate", "se"]].to_numpy(float), theirs, name)


def test_reversed_order_mirrors_the_funnel():
    net = network("smoking")
    forward = nb.funnel(net, order=ORDER["smoking"])
    backward = nb.funnel(net, order=ORDER["smoking"][::-1])
    key = ["study", "TE_adj", "seTE"]
    a = forward.to_frame()[key].sort_values(["study", "seTE"]).reset_index(drop=True)
    b = backward.to_frame()[key].sort_values(["study", "seTE"]).reset_index(drop=True)
    np.testing.assert_allclose(a["TE_adj"], -b["TE_adj"], atol=1e-12)
    ta, tb = forward.tests().set_index("method"), backward.tests().set_index("method")
    np.testing.assert_allclose(ta["p_value"], tb["p_value"], rtol=1e-9)
    np.testing.assert_allclose(ta["statistic"], -tb["statistic"], rtol=1e-9)
    assert "Funnel(28 study comparisons" in repr(forward)
    assert "Group counselling &gt; Individual" in forward._repr_html_()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"order": ["A", "B", "C"]}, "missing 'D'"),
        ({"order": ["A", "B", "C", "D", "D"]}, "repeated 'D'"),
        ({"order": ["A", "B", "C", "E"]}, "unknown 'E'"),
        ({"order": "ABCD"}, "order must be a sequence"),
        ({"order": ["A", "B", "C", "D"], "pooled": "common"}, "pooled must be one of"),
        ({"order": ["A", "B", "C", "D"], "duplicate_arms": None}, "duplicate_arms must be"),
    ],
)
def test_funnel_bad_options(kwargs, match):
    data = contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "A", 0.2, 0.25),
                      ("s3", "D", "C", 0.3, 0.3), ("s4", "D", "B", 0.2, 0.4)])  # fmt: skip
    with pytest.raises(ModelSpecError, match=match) as err:
        nb.funnel(data, **kwargs)
    assert err.value.rule == "bad-option"


def test_funnel_needs_three_comparisons_of_different_precision():
    with pytest.raises(ModelSpecError, match="at least three"):
        nb.funnel(contrasts([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.2, 0.2)]),
                  order=["A", "B", "C"])  # fmt: skip
    same = contrasts([(f"s{i}", "B", "A", 0.1 * i, 0.2) for i in range(4)])
    with pytest.raises(ModelSpecError, match="of one precision"):
        nb.funnel(same, order=["A", "B"])
    diabetes = nb.datasets.load_dataset("diabetes", "arms")
    with pytest.raises(ModelSpecError, match="cloglog link"):
        nb.funnel(diabetes, order=sorted(diabetes["treatment"].unique()), likelihood="binomial",
                  link="cloglog")  # fmt: skip
