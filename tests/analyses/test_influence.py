"""leave_one_out: every refit equals a brute-force fit without the study; PSIS within MC error."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import nma_bayes as nb
from nma_bayes.analyses import influence as I
from nma_bayes.analyses.influence import (
    LeaveOneOut,
    disconnected_by,
    leave_one_out,
    pareto_k_max,
    without_study,
)
from nma_bayes.base.errors import ModelSpecError

NETWORK_ARRAYS = ("base", "arm", "y", "var", "cov", "mask", "n_arms", "u", "cov_u", "base_n",
                  "arm_n", "events", "trials", "offset", "outcome")  # fmt: skip


@pytest.fixture(scope="module")
def therapy():
    return nb.datasets.load_dataset("therapy_formats")


@pytest.fixture(scope="module")
def exact_loo(therapy):
    return leave_one_out(therapy, reference="cau", lower_is_better=True, random_seed=11)


def brute_force(data, study, **kwargs):
    """The fit of the data frame without the study's rows, as a user would do it by hand."""
    kwargs = {"reference": "cau", "engine": "exact", "random_seed": 11} | kwargs
    return nb.fit_network(data[data["study"] != study], **kwargs)


def contrast_df(rows):
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])


# ------------------------------------------------------------------ exact engine vs brute force
def test_exact_refits_equal_brute_force_fits(therapy, exact_loo):
    summary = exact_loo.summary()
    multi = therapy.loc[therapy["n_arms"] > 2, "study"].iloc[0]  # the three-arm study
    top = summary.sort_values("max_shift_sd")["study"].iloc[-1]
    studies = [therapy["study"].iloc[0], multi, top, therapy["study"].iloc[-1]]
    effects, tau, ranks = exact_loo.effects(), exact_loo.heterogeneity(), exact_loo.rankings()
    full = exact_loo.full_fit.relative_effects().set_index("treatment")
    for study in studies:
        fit = brute_force(therapy, study)
        ref = fit.relative_effects().set_index("treatment")
        got = effects[effects["study"] == study].set_index("treatment")
        assert list(got.index) == list(ref.index) and (got["comparator"] == "cau").all()
        for col in ("mean", "sd", "median", "ci_lower", "ci_upper"):
            np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-14)
        shift = (ref["mean"] - full["mean"]) / full["sd"]
        np.testing.assert_allclose(got["shift_sd"], shift, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(got["change"], ref["mean"] - full["mean"], atol=1e-14)
        het = fit.heterogeneity().loc["tau"]
        row = tau[tau["study"] == study].iloc[0]
        np.testing.assert_allclose(
            [row["tau"], row["tau_lower"], row["tau_upper"]],
            [het["median"], het["ci_lower"], het["ci_upper"]], rtol=1e-12,
        )  # fmt: skip
        sucra = fit.sucra(lower_is_better=True).set_index("treatment")["sucra"]
        got_r = ranks[ranks["study"] == study].set_index("treatment")
        np.testing.assert_array_equal(got_r["sucra"], sucra[got_r.index])  # same seed, same draws
        assert (got_r["best"] == sucra.idxmax()).all()
        assert got_r.loc[sucra.idxmax(), "rank"] == 1
    assert (summary.loc[summary["study"].isin(studies), "method"] == "refit").all()


def test_exact_tables_layout(therapy, exact_loo):
    n_studies, n_treat = therapy["study"].nunique(), 7
    summary = exact_loo.summary()
    assert list(summary["study"]) == list(exact_loo.full_fit.network.studies)
    assert (summary["method"] == "refit").all() and summary["pareto_k"].isna().all()
    assert len(exact_loo.effects()) == n_studies * (n_treat - 1)
    assert len(exact_loo.rankings()) == n_studies * n_treat
    assert len(exact_loo.heterogeneity()) == n_studies
    assert tuple(exact_loo.effects().columns) == I.EFFECT_COLUMNS
    assert tuple(exact_loo.rankings().columns) == I.RANK_COLUMNS
    assert tuple(exact_loo.heterogeneity().columns) == I.TAU_COLUMNS
    # the largest |shift| per study is the maximum over its treatments
    eff = exact_loo.effects()
    largest = eff.assign(a=eff["shift_sd"].abs()).groupby("study")["a"].max()
    got = summary.set_index("study")["max_shift_sd"]
    np.testing.assert_allclose(got, largest[summary["study"]])
    assert summary.attrs["best_full"] == "ind" and exact_loo.reference == "cau"
    assert exact_loo.random_seed == 11 and exact_loo.seconds > 0
    assert (summary["seconds"] > 0).all() and summary["seconds"].sum() < exact_loo.seconds
    assert "182 refit" in repr(exact_loo)


def test_without_study_equals_the_network_built_without_its_rows(therapy):
    net = nb.Network.from_contrasts(therapy, reference="cau")
    multi = therapy.loc[therapy["n_arms"] > 2, "study"].iloc[0]
    for study in (multi, therapy["study"].iloc[5]):
        got = without_study(net, net.studies.index(study))
        ref = nb.Network.from_contrasts(therapy[therapy["study"] != study], reference="cau")
        for name in NETWORK_ARRAYS:  # padding trimmed when the only three-arm study leaves
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
        assert got.studies == ref.studies and got.form == ref.form
        pd.testing.assert_frame_equal(got.contrasts, ref.contrasts)
        assert study not in set(got.data["study"]) and len(got.data) == len(ref.data)


# ------------------------------------------------------------------ flags on a constructed case
@pytest.fixture(scope="module")
def outlier_loo():
    rows = [(f"ab{i}", "B", "A", -0.5, 0.2) for i in range(4)]
    rows += [(f"ac{i}", "C", "A", -0.3, 0.2) for i in range(8)]
    rows += [("outlier", "C", "A", -4.0, 0.2), ("leaf", "D", "C", 0.1, 0.3)]
    return leave_one_out(contrast_df(rows), reference="A", effects="fixed",
                         lower_is_better=True, random_seed=5)  # fmt: skip


def test_outlier_changing_the_top_treatment_is_flagged(outlier_loo):
    s = outlier_loo.summary().set_index("study")
    assert s.attrs["best_full"] == "C"  # pulled to the top by the outlier
    assert s.loc["outlier", "best"] == "B" and bool(s.loc["outlier", "top_changes"])
    assert bool(s.loc["outlier", "flag"]) and s.loc["outlier", "max_shift_treatment"] == "C"
    # fixed effect: C = mean of nine equal-precision studies, -0.711 -> -0.3 without the outlier
    eff = outlier_loo.effects().set_index(["study", "treatment"])
    np.testing.assert_allclose(eff.loc[("outlier", "C"), "mean"], -0.3, atol=1e-3)
    np.testing.assert_allclose(eff.loc[("outlier", "C"), "mean_full"], -6.4 / 9, atol=1e-3)
    np.testing.assert_allclose(eff.loc[("outlier", "C"), "shift_sd"], (-0.3 + 6.4 / 9) / (0.2 / 3),
                               rtol=1e-2)  # full SD 0.2 / 3: a shift of 6.2 SDs  # fmt: skip
    others = s.drop(index=["outlier", "leaf"])
    assert not others["top_changes"].any() and not others["flag"].any()
    assert list(outlier_loo.flagged()["study"]) == ["outlier"]


def test_threshold_flags_shifts_and_top_changes_flag_alone(outlier_loo):
    s = outlier_loo.summary(threshold_sd=100.0).set_index("study")
    assert s.loc["outlier", "max_shift_sd"] < 100 and bool(s.loc["outlier", "flag"])  # top only
    tiny = outlier_loo.summary(threshold_sd=1e-6)
    refitted = tiny["method"] == "refit"
    assert tiny.loc[refitted, "flag"].all()  # every removal moves some effect a little
    assert tiny.attrs["threshold_sd"] == 1e-6 and outlier_loo.threshold_sd == 1.0


def test_treatments_tied_in_every_draw_are_one_top(outlier_loo):
    assert outlier_loo.ties == {t: t for t in "ABCD"}  # no two treatments share their draws
    tied = replace(outlier_loo, ties={"A": "A", "B": "B", "C": "B", "D": "D"})
    s = tied.summary().set_index("study")
    assert not s.loc["outlier", "top_changes"] and bool(s.loc["outlier", "flag"])  # 6 SD shift
    assert list(tied.flagged(threshold_sd=100.0)["study"]) == []
    draws = np.tile(np.arange(8.0), (3, 1)).T
    draws[:, 2] += 1.0
    fake = SimpleNamespace(
        treatments=("A", "B", "C"),
        d_full=lambda: xr.DataArray(draws.reshape(2, 4, 3), dims=("chain", "draw", "treatment")),
    )
    assert I._ties(fake) == {"A": "A", "B": "A", "C": "C"}


def test_disconnecting_study_is_reported_not_refitted(outlier_loo):
    s = outlier_loo.summary().set_index("study")
    assert s.loc["leaf", "method"] == "not refittable"
    assert "'D'" in s.loc["leaf", "reason"] and "'A'" in s.loc["leaf", "reason"]
    assert pd.isna(s.loc["leaf", "flag"]) and pd.isna(s.loc["leaf", "top_changes"])
    assert np.isnan(s.loc["leaf", "max_shift_sd"])
    assert "leaf" not in set(outlier_loo.effects()["study"])
    assert "leaf" not in set(outlier_loo.rankings()["study"])
    assert (s.drop(index="leaf")["reason"] == "").all()


def test_disconnection_rules():
    rows = [("ab", "B", "A", 0.1, 0.2), ("bridge", "C", "B", 0.2, 0.2), ("cd", "D", "C", 0.1, 0.2),
            ("cd2", "D", "C", 0.3, 0.2), ("ab2", "B", "A", 0.0, 0.2)]  # fmt: skip
    net = nb.Network.from_contrasts(contrast_df(rows), reference="A")
    reasons = {s: disconnected_by(net, i) for i, s in enumerate(net.studies)}
    assert reasons["bridge"] == "without it 'C', 'D' would have no path to 'A'"
    assert reasons["ab"] == reasons["cd"] == ""
    solo = nb.Network.from_contrasts(contrast_df(rows), reference="D")
    rows_z = rows + [("z", "Z", "A", 0.1, 0.2)]
    net_z = nb.Network.from_contrasts(contrast_df(rows_z), reference="Z")
    reason = disconnected_by(net_z, net_z.studies.index("z"))
    assert reason == "the reference 'Z' is in no other study"
    assert disconnected_by(solo, solo.studies.index("cd")) == ""


def test_every_study_disconnecting_gives_empty_tables():
    df = contrast_df([("s1", "B", "A", 0.1, 0.2), ("s2", "C", "B", 0.2, 0.2)])
    result = leave_one_out(df, reference="A", lower_is_better=False, random_seed=1)
    s = result.summary()
    assert (s["method"] == "not refittable").all() and s["flag"].isna().all()
    assert result.effects().empty and result.rankings().empty and result.flagged().empty


def test_fixed_effects_have_no_heterogeneity(outlier_loo):
    with pytest.raises(ModelSpecError, match="fixed-effect"):
        outlier_loo.heterogeneity()
    assert "tau_change" not in outlier_loo.summary().columns


def test_engine_defaults(therapy):
    assert I._resolve_engine(None, nb.Network.from_contrasts(therapy), {}) == "exact"
    assert I._resolve_engine(None, nb.Network.from_contrasts(therapy),
                             {"class_model": "common"}) == "pymc"  # fmt: skip
    assert isinstance(pareto_k_max(4000), float) and pareto_k_max(4000) == 0.7
    assert pareto_k_max(1000) == pytest.approx(1 - 1 / 3)


# ------------------------------------------------------------------ errors, before any fit
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"client": object()}, "distributed.Client"),
        ({"threshold_sd": 0}, "threshold_sd"),
        ({"threshold_sd": "1"}, "threshold_sd"),
        ({"threshold_sd": float("inf")}, "threshold_sd"),
        ({"consistency": "ume"}, "UME"),
        ({"engine": "stan"}, "engine"),
        ({"interaction": "shared"}, "meta-regression"),
        ({"psis": 1}, "psis"),
        ({"ci_prob": 95}, "ci_prob"),
    ],
)
def test_bad_options_refused_before_fitting(therapy, monkeypatch, kwargs, match):
    def no_fit(*args, **kw):
        raise AssertionError("fitted before refusing")

    monkeypatch.setattr(I, "fit_network", no_fit)
    kwargs = {"lower_is_better": True, "reference": "cau"} | kwargs
    with pytest.raises(ModelSpecError, match=match) as info:
        leave_one_out(therapy, **kwargs)
    assert info.value.rule == "bad-option"


def test_direction_required(therapy, monkeypatch):
    monkeypatch.setattr(I, "fit_network", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ModelSpecError, match="lower_is_better"):
        leave_one_out(therapy, lower_is_better=None, reference="cau")
    with pytest.raises(TypeError):
        leave_one_out(therapy, reference="cau")  # a required keyword


def test_exact_engine_refused_for_binomial_data():
    arms = pd.DataFrame({"study": ["s1", "s1"], "treatment": ["A", "B"], "events": [3, 5],
                         "n": [20, 20]})  # fmt: skip
    with pytest.raises(ModelSpecError, match="exact engine") as info:
        leave_one_out(arms, likelihood="binomial", engine="exact", lower_is_better=False)
    assert info.value.rule == "bad-option"


# ------------------------------------------------------------------ PyMC: PSIS and refits
def test_psis_matches_exact_refits_within_monte_carlo_error(therapy, exact_loo):
    result = leave_one_out(therapy, reference="cau", lower_is_better=True, engine="pymc",
                           random_seed=11)  # fmt: skip
    summary = result.summary()
    k = result.full_fit.loo().pareto_k.sel(study=list(summary["study"])).values
    np.testing.assert_allclose(summary["pareto_k"], k)
    assert (summary["method"] == np.where(k <= pareto_k_max(4000), "psis", "refit")).all()
    assert (summary["method"] == "psis").mean() > 0.9
    got = result.effects().set_index(["study", "treatment"])
    ref = exact_loo.effects().set_index(["study", "treatment"]).loc[got.index]
    # changes of the means, in full-fit SDs: the exact shifts reach ~0.37 SD
    diff = (got["change"] - ref["change"]) / ref["sd_full"]
    assert diff.abs().max() < 0.1 and np.corrcoef(got["shift_sd"], ref["shift_sd"])[0, 1] > 0.98
    top = ref["shift_sd"].abs().nlargest(5).index
    np.testing.assert_allclose(got.loc[top, "shift_sd"], ref.loc[top, "shift_sd"], atol=0.05)
    tau = result.heterogeneity().set_index("study")["change"]
    tau_ref = exact_loo.heterogeneity().set_index("study")["change"][tau.index]
    assert (tau - tau_ref).abs().max() < 0.005 and tau_ref.abs().max() > 0.015
    ranks = result.rankings().set_index(["study", "treatment"])["change"]
    ranks_ref = exact_loo.rankings().set_index(["study", "treatment"])["change"][ranks.index]
    assert (ranks - ranks_ref).abs().max() < 0.03


def test_weighted_quantiles_equal_weights_and_point_mass():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2001, 2))
    w = np.full(2001, 1 / 2001)
    np.testing.assert_allclose(I._weighted_quantiles(x, w, [0.5])[0], np.median(x, axis=0))
    w = np.zeros(2001)
    w[7] = 1.0
    np.testing.assert_allclose(I._weighted_quantiles(x, w, [0.1, 0.9]), [x[7], x[7]])


def test_high_pareto_k_binomial_studies_are_refitted_like_brute_force():
    """Arm-level outcome studies carry their own baseline: k > 0.7, so NUTS's PSIS refits them
    (``engine="pymc"``; the default, ``"auto"``, runs the Laplace engine and refits every study)."""
    arms = pd.DataFrame(
        [("s1", "A", 10, 100), ("s1", "B", 20, 100), ("s2", "A", 15, 100), ("s2", "C", 22, 100),
         ("s3", "B", 30, 120), ("s3", "C", 28, 110)],
        columns=["study", "treatment", "events", "n"],
    )  # fmt: skip
    kwargs = {"likelihood": "binomial", "reference": "A", "effects": "fixed", "random_seed": 3,
              "draws": 1000, "tune": 1000, "chains": 2, "engine": "pymc"}  # fmt: skip
    result = leave_one_out(arms, lower_is_better=False, **kwargs)
    summary = result.summary()
    assert result.engine == "pymc"
    assert (summary["pareto_k"] > pareto_k_max(2000)).all()
    assert (summary["method"] == "refit").all()
    fit = nb.fit_network(arms[arms["study"] != "s2"], **kwargs)
    got = result.effects().query("study == 's2'").set_index("treatment")
    ref = fit.relative_effects().set_index("treatment")
    np.testing.assert_array_equal(got["mean"], ref["mean"])  # same seed: the same draws
    assert isinstance(result, LeaveOneOut)


def test_laplace_leave_one_out_of_thrombolytics_agrees_with_nuts():
    """Every study of thrombolytics (50, fixed effect) left out with the Laplace engine against
    NUTS (refits and PSIS reweighting): each treatment's mean and SD without each study agree
    within the Monte Carlo error of both, family-wise 3 sigma over the 392 rows. Each Laplace fit
    answers with an importance-sampling ESS of at least 1,000 for its 4,000 draws (else it
    refuses), so n_eff >= 800; each NUTS fit or reweighting is taken at ESS >= 400 (the
    convergence bar; thrombolytics' fits reach ~5,000)."""
    from scipy.special import ndtri

    arms = nb.datasets.load_dataset("thrombolytics", "arms")
    kw = dict(likelihood="binomial", reference="SK", effects="fixed", lower_is_better=True,
              random_seed=5, prior_d=nb.Normal(0, 100))  # fmt: skip
    lap = leave_one_out(arms, engine="laplace", **kw)
    nuts = leave_one_out(arms, engine="pymc", progressbar=False, **kw)
    assert lap.engine == "laplace" and nuts.engine == "pymc"
    a = lap.effects().set_index(["study", "treatment"])
    b = nuts.effects().set_index(["study", "treatment"]).loc[a.index]
    assert len(a) == 49 * 8
    z = -ndtri(0.0027 / 2 / (2 * len(a)))
    err = np.sqrt(1 / 800 + 1 / 400)
    np.testing.assert_array_less(np.abs(a["mean"] - b["mean"]), z * err * b["sd"])
    np.testing.assert_array_less(np.abs(a["sd"] - b["sd"]), z * np.sqrt(0.5) * err * b["sd"])
