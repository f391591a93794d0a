"""Class-effects models and class-level summaries.

Reference: multinma social anxiety vignette (exchangeable class RE: tau 0.196 (0.142, 0.257);
common class RE: tau 0.252). Monte Carlo error: 4 x 1000 draws; the tau posterior SD is 0.03
and its bulk ESS > 1000, so the MCSE of its median and interval ends is <= 0.003, well inside
the 0.02 tolerance; the SMDs have sd <= 0.3 and ESS > 1000 (MCSE <= 0.01 < 0.05).
"""

import numpy as np
import pandas as pd
import pytest
from reference_helpers import reference_fit

import nma_bayes as nb
from nma_bayes.models.classes import ClassStructure
from nma_bayes.results import summaries

VIGNETTE_SD = {
    "Exercise and SH no support": ["Exercise promotion", "Self-help no support"],
    "SSRIs and NSSA": ["SSRI/SNRI", "NSSA"],
    "Psychodynamic & Other psychological therapies": [
        "Psychodynamic psychotherapy",
        "Other psychological therapies",
    ],
}


def social_network():
    return nb.Network.from_contrasts(
        nb.datasets.load_dataset("social_anxiety"), reference="Waitlist", classes="class"
    )


def test_class_structure_follows_the_rules():
    net = social_network()
    spec = nb.ModelSpec(
        class_model="exchangeable",
        class_sd=tuple((k, tuple(v)) for k, v in VIGNETTE_SD.items()),
    )
    cs = ClassStructure.from_network(net, spec)
    assert len(cs.classes) == 17 and "Waitlist" not in cs.free_classes  # reference alone
    assert len(cs.free_classes) == 16
    others = [t for t in net.treatments if t != "Waitlist"]
    at = {t: i for i, t in enumerate(others)}
    # singletons without a shared SD have a common effect (no deviation)
    for t in ("Pill placebo", "Psychological placebo"):
        assert cs.sd_pos[at[t]] == 0 and cs.z_pos[at[t]] == 0
    # a singleton class sharing an SD deviates from its class mean with the shared SD
    ex, sh = at["Exercise promotion"], at["Self-help book no support"]
    assert cs.z_pos[ex] > 0 and cs.sd_pos[ex] == cs.sd_pos[sh] > 0
    assert cs.sd_pos[at["Mirtazapine"]] == cs.sd_pos[at["Sertraline"]]
    common = ClassStructure.from_network(net, nb.ModelSpec(class_model="common"))
    assert not common.exchangeable and np.all(common.sd_pos == 0)


def test_class_model_graph_builds_without_sampling():
    net = social_network()
    spec = nb.ModelSpec(
        class_model="exchangeable",
        prior_class_sd=nb.priors.TruncatedNormal(0.33, 0.1),
        class_sd=tuple((k, tuple(v)) for k, v in VIGNETTE_SD.items()),
    )
    model = nb.build_model(net, spec)
    names = [v.name for v in model.free_RVs]
    assert names == ["class_mean", "class_sd", "d_class_z", "tau"]
    assert model.named_vars_to_dims["d"] == ("treatment",)
    assert len(model.coords["class_sd_group"]) == 11
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_class_options_validated_before_sampling(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("sampled")

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", forbidden)
    df = nb.datasets.load_dataset("social_anxiety")
    with pytest.raises(nb.ModelSpecError, match="no treatment classes"):
        nb.fit_network(df, reference="Waitlist", class_model="exchangeable")
    with pytest.raises(nb.ModelSpecError, match="class_sd group 'x'.*'Nope'"):
        nb.fit_network(
            df, reference="Waitlist", classes="class", class_model="exchangeable",
            class_sd={"x": ["Nope"]},
        )  # fmt: skip
    with pytest.raises(nb.ModelSpecError, match="exact engine"):
        nb.fit_network(df, reference="Waitlist", classes="class", class_model="common",
                       engine="exact")  # fmt: skip
    with pytest.raises(nb.ModelSpecError, match="class_model='shared'"):
        nb.fit_network(df, reference="Waitlist", classes="class", class_model="shared")


@pytest.mark.reference
def test_social_anxiety_exchangeable_class_model_matches_multinma():
    fit = reference_fit("social_ex")
    assert fit.problems == []
    tau = fit.heterogeneity().loc["tau"]
    assert tau["median"] == pytest.approx(0.195, abs=0.02)
    assert tau["mean"] == pytest.approx(0.196, abs=0.02)
    assert tau["ci_lower"] == pytest.approx(0.142, abs=0.02)
    assert tau["ci_upper"] == pytest.approx(0.257, abs=0.02)
    ref = nb.datasets.reference_results("social_anxiety")
    ref = ref[
        (ref.source == "multinma_vignette_EXclass_RE") & (ref.quantity == "relative_effect_SMD")
    ]
    ref = ref.set_index("treatment")
    assert len(ref) == 40
    ours = fit.relative_effects("Waitlist").set_index("treatment").loc[ref.index]
    np.testing.assert_allclose(ours["mean"], ref["mean"], atol=0.05)


@pytest.mark.reference
def test_social_anxiety_common_class_model_tau():
    fit = reference_fit("social_common")
    assert fit.problems == []
    tau = fit.heterogeneity().loc["tau"]
    assert tau["mean"] == pytest.approx(0.252, abs=0.02)
    assert tau["ci_lower"] == pytest.approx(0.198, abs=0.02)
    assert tau["ci_upper"] == pytest.approx(0.312, abs=0.02)
    # all treatments of a class share one effect
    d = fit.relative_effects("Waitlist").set_index("treatment")["mean"]
    assert d["Sertraline"] == pytest.approx(d["Paroxetine"], abs=1e-12)


@pytest.mark.reference
def test_class_summaries_are_consistent_and_match_hand_computation():
    fit = reference_fit("social_ex")
    probs = fit.class_rank_probabilities(lower_is_better=True)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs.sum(axis=0), 1.0)
    rankings = fit.class_rankings(lower_is_better=True).set_index("class")
    assert rankings["p_best"].sum() == pytest.approx(1.0)
    assert list(rankings.columns) == ["p_best", "sucra", "mean_rank", "ci_lower", "ci_upper"]
    # hand computation from the draws of the class means (Waitlist's mean is 0)
    post = fit.idata.posterior
    classes = list(rankings.index)
    means = np.stack(
        [post["class_mean"].sel({"class": c}).values.ravel() if c != "Waitlist"
         else np.zeros(post.sizes["chain"] * post.sizes["draw"]) for c in classes], axis=1
    )  # fmt: skip
    ranks = means.argsort(axis=1).argsort(axis=1) + 1  # no ties among class means
    n = len(classes)
    np.testing.assert_allclose(rankings["mean_rank"], ranks.mean(axis=0))
    np.testing.assert_allclose(rankings["sucra"], ((n - ranks) / (n - 1)).mean(axis=0))
    np.testing.assert_allclose(probs.loc[classes, 1], (ranks == 1).mean(axis=0))
    # P(class contains the best treatment), by hand from the treatment draws
    d = fit.d_full()
    flat = d.transpose("chain", "draw", "treatment").values.reshape(-1, d.sizes["treatment"])
    best = np.array(fit.treatments)[flat.argmin(axis=1)]
    best_class = pd.Series([fit.network.classes[t] for t in best])
    expected = best_class.value_counts(normalize=True).reindex(classes, fill_value=0.0)
    np.testing.assert_allclose(rankings["p_best"], expected.to_numpy())
    # class effects: class means vs Waitlist
    eff = fit.class_effects().set_index("class")
    i = classes.index("SSRI/SNRI")
    assert eff.loc["SSRI/SNRI", "mean"] == pytest.approx(means[:, i].mean())
    assert len(fit.class_effects(all_pairs=True)) == n * (n - 1) // 2


@pytest.mark.reference
def test_class_contrast_weightings_and_within_class_rankings():
    fit = reference_fit("social_ex")
    cls = fit.idata.posterior["class_mean"]
    a = cls.sel({"class": "SSRI/SNRI"}).values.ravel()
    b = cls.sel({"class": ["Pill placebo", "Psychological placebo"]}).mean("class").values.ravel()
    row = fit.class_contrast("SSRI/SNRI", ["Pill placebo", "Psychological placebo"]).iloc[0]
    assert row["mean"] == pytest.approx((a - b).mean())
    w = {"SSRI/SNRI": 1, "Pill placebo": 3, "Psychological placebo": 1}
    row = fit.class_contrast("SSRI/SNRI", ["Pill placebo", "Psychological placebo"], weighting=w)
    b_w = (3 * cls.sel({"class": "Pill placebo"}) + cls.sel({"class": "Psychological placebo"})) / 4
    assert row.iloc[0]["mean"] == pytest.approx((a - b_w.values.ravel()).mean())
    d = fit.d_full()
    ssri = [t for t in fit.treatments if fit.network.classes[t] == "SSRI/SNRI"]
    row = fit.class_contrast("SSRI/SNRI", "Pill placebo", weighting="treatments").iloc[0]
    manual = d.sel(treatment=ssri).mean("treatment") - d.sel(treatment="Pill placebo")
    assert row["mean"] == pytest.approx(float(manual.mean()))
    within = fit.within_class_rankings(lower_is_better=True)
    per_class = within.groupby("class")["p_best"].sum()
    np.testing.assert_allclose(per_class, 1.0)
    tidy = fit.rank_probabilities_by_class(lower_is_better=True)
    assert list(tidy.columns) == ["treatment", "class", "rank", "probability", "cumulative"]
    assert tidy.groupby("treatment")["probability"].sum().round(12).eq(1).all()


def test_class_summaries_without_class_model_use_equal_weight_means():
    fit = nb.fit_network(
        nb.datasets.load_dataset("social_anxiety"), reference="Waitlist", classes="class",
        engine="exact", random_seed=2,
    )  # fmt: skip
    d = fit.d_full()
    ssri = [t for t in fit.treatments if fit.network.classes[t] == "SSRI/SNRI"]
    eff = fit.class_effects().set_index("class")
    expected = float(d.sel(treatment=ssri).mean("treatment").mean())
    assert eff.loc["SSRI/SNRI", "mean"] == pytest.approx(expected)
    assert eff.loc["SSRI/SNRI", "comparator"] == "Waitlist"


def test_ties_are_broken_at_random_so_tied_treatments_share_ranks():
    import xarray as xr

    vals = np.tile([0.0, -1.0, -1.0], (4000, 1))  # B and C tied, both better than A
    d = xr.DataArray(vals[None], dims=("chain", "draw", "treatment"),
                     coords={"treatment": ["A", "B", "C"]})  # fmt: skip
    probs = summaries.rank_probabilities_table(d, lower_is_better=True)
    assert probs.loc["B", 1] == pytest.approx(0.5, abs=0.03)
    assert probs.loc["A", 3] == 1.0
