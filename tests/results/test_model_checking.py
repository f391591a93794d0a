"""Model fit (resdev, pD, DIC), LOO, UME, node-splitting and prediction intervals.

References: TSD2 contrast-level DIC for parkinsons (tolerance 1.0), the multinma social anxiety
vignette (tolerance 2.0), and the node-splits printed in Harrer et al. (tolerance 0.05). Monte
Carlo error of a posterior mean deviance from 4000 (independent or MCMC) draws is < 0.3.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_helpers import reference, reference_fit

import nma_bayes as nb
from nma_bayes.data.transforms import nodesplit_network, splittable_comparisons, ume_network

pytestmark = pytest.mark.reference


@pytest.mark.parametrize("engine", ["pymc", "exact"])
@pytest.mark.parametrize(("key", "model"), [("parkinsons_re", "RE"), ("parkinsons_fe", "FE")])
def test_parkinsons_dic_matches_tsd2(key, model, engine):
    fit = reference_fit(key, engine)
    got = fit.model_fit().iloc[0]
    for ours, theirs in (
        ("resdev", "resdev_contrast"),
        ("pD", "pD_contrast"),
        ("DIC", "DIC_contrast"),
    ):
        ref = reference("parkinsons", "TSD2", model, theirs)["value"].iloc[0]
        assert got[ours] == pytest.approx(ref, abs=1.0), (ours, got[ours], ref)
    assert got["n_data"] == 8
    per_study = fit.model_fit(per_study=True)
    assert per_study["resdev"].sum() == pytest.approx(got["resdev"])
    assert per_study["leverage"].sum() == pytest.approx(got["pD"])


def test_social_anxiety_dic_and_ume_match_multinma():
    kw = {"reference": "Waitlist", "prior_d": nb.Normal(0, 100), "prior_tau": nb.HalfNormal(5)}
    sa = nb.datasets.load_dataset("social_anxiety")
    re = nb.fit_network(sa, engine="exact", random_seed=1, **kw).model_fit().iloc[0]
    assert re["resdev"] == pytest.approx(162.6, abs=2.0)
    assert re["pD"] == pytest.approx(94.8, abs=2.0)
    assert re["DIC"] == pytest.approx(257.4, abs=2.0)
    ume = nb.fit_network(sa, engine="exact", consistency="ume", random_seed=1, **kw)
    got = ume.model_fit().iloc[0]
    assert got["DIC"] == pytest.approx(269.0, abs=2.0)
    assert got["resdev"] == pytest.approx(160.7, abs=2.0)
    # the PyMC engine gives the same DIC for the consistency model (MC error < 0.5)
    pymc = reference_fit("social_re").model_fit().iloc[0]  # tau ~ U(0, 5): same data, ~same fit
    assert pymc["DIC"] == pytest.approx(re["DIC"], abs=1.5)


BOOK = {  # Harrer et al., printed node-splits (median; effect of treatment vs ind)
    "tel": {"direct": 0.13, "indirect": -0.037, "network": 0.034, "p_value": 0.628},
    "wlc": {"direct": 1.0, "indirect": 0.97, "network": 0.98, "p_value": 0.875},
    "grp": {"direct": 0.14, "indirect": 0.26, "network": 0.24, "p_value": 0.614},
}


def test_therapy_formats_nodesplits_match_the_book():
    table = nb.nodesplit(
        nb.datasets.load_dataset("therapy_formats"),
        [("ind", "tel"), ("ind", "wlc"), ("ind", "grp")],
        reference="cau", prior_d=nb.Normal(0, 43.575), prior_tau=nb.Uniform(0, 2.905),
        random_seed=1,
    )  # fmt: skip
    table = table.set_index("treatment")
    for t, ref in BOOK.items():
        for col in ("direct", "indirect", "network"):
            assert table.loc[t, col] == pytest.approx(ref[col], abs=0.05), (t, col)
        assert table.loc[t, "p_value"] == pytest.approx(ref["p_value"], abs=0.1)
    assert set(table.columns) >= {"comparator", "direct_lower", "difference", "p_value"}


@pytest.mark.filterwarnings(
    # ArviZ warns when a study's Pareto k > 0.7; with 7 studies some are that influential, and
    # flagging them is exactly what the per-study k is for
    "ignore:Estimated shape parameter of Pareto distribution:UserWarning"
)
def test_loo_has_one_pareto_k_per_study():
    fit = reference_fit("parkinsons_re", "exact")
    lo = fit.loo()
    assert len(np.asarray(lo.pareto_k)) == fit.network.n_studies
    assert np.isfinite(float(lo.elpd))


def test_prediction_interval_wider_than_credible_interval_for_random_effects():
    re = reference_fit("parkinsons_re", "exact").prediction_interval()
    assert (re["pi_lower"] < re["ci_lower"]).all() and (re["pi_upper"] > re["ci_upper"]).all()
    fe = reference_fit("parkinsons_fe", "exact").prediction_interval()
    np.testing.assert_allclose(fe["pi_lower"], fe["ci_lower"], atol=0.05)


def test_splittable_comparisons_need_a_loop():
    star = pd.DataFrame(
        {"study": ["s1", "s2", "s3"], "treat1": ["B", "C", "D"], "treat2": ["A", "A", "A"],
         "TE": [0.1, 0.2, 0.3], "seTE": [0.2, 0.2, 0.2]}
    )  # fmt: skip
    assert splittable_comparisons(nb.Network.from_contrasts(star)) == []
    loop = pd.concat(
        [star, pd.DataFrame({"study": ["s4"], "treat1": ["C"], "treat2": ["B"], "TE": [0.1],
                             "seTE": [0.2]})], ignore_index=True,
    )  # fmt: skip
    pairs = splittable_comparisons(nb.Network.from_contrasts(loop))
    assert pairs == [("A", "B"), ("A", "C"), ("B", "C")]


def test_nodesplit_and_ume_networks_keep_the_likelihood_exact():
    """Re-basing a 3-arm study keeps its log-density: the transformed networks are exact."""
    net = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"), reference="Placebo")
    split, pseudo = nodesplit_network(net, "Placebo", "Bromocriptine")
    assert pseudo in split.treatments
    gutt = split.studies.index("Guttman 1997")
    assert split.treatments[split.base[gutt]] == "Placebo"
    ume = ume_network(net)
    assert "Pramipexole vs Placebo" in ume.treatments
    # GLS of the UME network reproduces each study's own contrasts where a comparison is unique
    mean, _ = nb.gls_estimate(ume)
    assert mean["Ropinirole vs Placebo"] == pytest.approx(-0.31, abs=1e-9)


def test_nodesplit_and_dev_dev_plots_show_the_tables():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = ("direct", "indirect", "network")
    values = {
        f"{s}{x}": [0.1 * k, 0.2 * k]
        for k, s in enumerate(sources, 1)
        for x in ("", "_lower", "_upper")
    }
    table = pd.DataFrame(
        {"treatment": ["B", "C"], "comparator": ["A", "A"], "p_value": [0.5, 0.04], **values}
    )
    fig = nb.plot_nodesplit(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "B vs A (p = 0.50)",
        "C vs A (p = 0.04)",
    ]
    assert len(ax.containers) == 6  # 3 estimates x 2 comparisons
    plt.close(fig)
    fe = reference_fit("parkinsons_fe", "exact")
    re = reference_fit("parkinsons_re", "exact")
    dd = nb.dev_dev(fe, re)
    assert list(dd["study"]) == list(fe.network.studies)
    fig = nb.plot_dev_dev(dd, labels=("FE", "RE"))
    offsets = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], dd["resdev_1"])
    plt.close(fig)


def test_nodesplit_with_classes_gives_the_direct_effect_a_class_of_its_own():
    """With treatment classes the split network keeps them, and the direct effect ``b (direct
    vs a)`` is a class of its own: under a common-effect class model it would otherwise share
    ``b``'s class parameter, and direct and indirect would be one parameter (difference 0)."""
    df = nb.datasets.load_dataset("psps_t2_illustrative")
    net = nb.Network.from_contrasts(
        df, classes="class", reference="Conventional medical management"
    )
    a, b = "Conventional medical management", "Epidural injection"
    split, pseudo = nodesplit_network(net, a, b)
    assert split.classes[pseudo] == pseudo
    assert {t: split.classes[t] for t in net.treatments} == net.classes
    with warnings.catch_warnings():
        # a short PyMC run of a 13-study class model: convergence is not what this checks
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        table = nb.nodesplit(net, comparisons=[(a, b)], engine="pymc", class_model="common",
                             random_seed=1, draws=300, tune=300)  # fmt: skip
    row = table.iloc[0]
    assert np.isfinite(row[["direct", "indirect", "difference"]].astype(float)).all()
    assert row["difference_upper"] - row["difference_lower"] > 0.1  # two parameters, not one
