"""Threshold analysis (Phillippo et al. 2018) against nmathresh 0.1.6's thrombolytics reference.

The reference files are the bundled copies in
``nma_bayes/datasets/data/thrombolytics_threshold/`` (see its README for the exact nmathresh
calls). Social anxiety has no reference outputs in that folder: its checks are the vignette's
published facts (k* = 41, 28 study-level rows with a threshold under 2 SMD, KL divergence 1.5497,
the drugs' common-bias interval) and self-consistency of the thresholds with ``H``.
"""

from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import block_diag

from nma_bayes.base.errors import ModelSpecError
from nma_bayes.results.threshold import Thresholds, recon_vcov, threshold_table

ROOT = resources.files("nma_bayes") / "datasets" / "data" / "thrombolytics_threshold"
RTOL = 1e-6
# Thrombolytics contrast-level design (nmathresh vignette): 2v1, 3v1, 4v1, 5v1, 4v3, 5v3, 6v3.
X_CONTRAST = np.array(
    [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0],
     [0, -1, 1, 0, 0], [0, -1, 0, 1, 0], [0, -1, 0, 0, 1]], dtype=float,
)  # fmt: skip


def read(name: str, **kwargs) -> pd.DataFrame:
    with resources.as_file(ROOT / name) as path:
        return pd.read_csv(path, **kwargs)


def assert_rel(actual, expected, rtol=RTOL):
    """Equal to ``rtol`` (relative), and infinite with the same sign where the reference is."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    np.testing.assert_array_equal(np.isinf(actual), np.isinf(expected))
    np.testing.assert_array_equal(actual[np.isinf(actual)], expected[np.isinf(expected)])
    fin = np.isfinite(expected)
    np.testing.assert_allclose(actual[fin], expected[fin], rtol=rtol, atol=0)


def codes(series) -> list:
    """Reference treatment codes (NaN where infinite) as ints / None."""
    return [None if pd.isna(v) else int(v) for v in series]


@pytest.fixture(scope="module")
def thrombo():
    summary = read("thrombo_post_summary.csv", index_col=0)
    assert summary.index[:5].tolist() == [f"dd[1,{k}]" for k in range(2, 7)]
    post = read("thrombo_post_cov.csv", index_col=0).to_numpy()
    return summary["Mean"].iloc[:5].to_numpy(), post


@pytest.fixture(scope="module")
def study_level(thrombo):
    mean, post = thrombo
    ref = read("thrombo_study_level_thresholds.csv")
    n = len(ref)
    lik = np.diag(ref["var"].to_numpy())
    same_study = ref["study_id"].to_numpy()[:, None] == ref["study_id"].to_numpy()[None, :]
    off = same_study & ~np.eye(n, dtype=bool)
    # Multi-arm (study 1): the covariance of its two LORs against arm 1 is 1/r1 + 1/(n1 - r1).
    lik[off] = np.broadcast_to(ref["cov_within_study"].to_numpy()[:, None], (n, n))[off]
    design = np.zeros((n, 5))
    for i, (t1, t2) in enumerate(zip(ref["treat1_code"], ref["treat2_code"], strict=True)):
        design[i, t1 - 2] = 1.0
        if t2 != 1:
            design[i, t2 - 2] = -1.0
    res = threshold_table(
        mean, post, lik, design=design, lower_is_better=True, y=ref["y_logOR"].to_numpy(),
        studies=ref["study"].tolist(),
    )  # fmt: skip
    return res, ref


def test_study_level_thresholds_equal_nmathresh(study_level):
    res, ref = study_level
    frame = res.to_frame()
    assert isinstance(res, Thresholds)
    assert res.kstar == 3
    assert len(frame) == 15
    assert_rel(frame["threshold_lower"], ref["threshold_lower"])
    assert_rel(frame["threshold_upper"], ref["threshold_upper"])
    assert_rel(frame["invariant_lower"], ref["invariant_lower"])
    assert_rel(frame["invariant_upper"], ref["invariant_upper"])
    assert frame["new_optimal_lower"].tolist() == codes(ref["new_optimal_at_lower"])
    assert frame["new_optimal_upper"].tolist() == codes(ref["new_optimal_at_upper"])
    assert frame["contrast"].tolist() == [
        f"{a} vs {b}" for a, b in zip(ref["treat1_code"], ref["treat2_code"], strict=True)
    ]
    assert frame["study"].tolist() == ref["study"].tolist()


def test_study_level_matrices_equal_nmathresh(study_level):
    res, _ = study_level
    h_ref = read("thrombo_study_level_H.csv", index_col=0)
    u_ref = read("thrombo_study_level_Ukstar.csv", index_col=0)
    assert_rel(res.H, h_ref.to_numpy())
    ukstar = res.ukstar_frame()
    assert ukstar[["a", "b"]].to_numpy().tolist() == u_ref[["a", "b"]].to_numpy().tolist()
    assert_rel(res.Ukstar, u_ref.iloc[:, 2:].to_numpy())
    assert_rel(ukstar.iloc[:, 2:].to_numpy(), u_ref.iloc[:, 2:].to_numpy())
    # 2-D thresholds of study 1 (vignette): the line of treatment 5 meets the axes at 0.144, 5.277.
    np.testing.assert_allclose(u_ref.loc["d[3,5]", ["dp1", "dp2"]], [0.1440, 5.2772], atol=5e-5)
    assert res.U.shape == (15, 15)


def test_long_reference_agrees(study_level):
    res, _ = study_level
    long = read("reference_results.csv")
    rows = long[long["model"] == "thrombo_study_level_FE"]
    assert rows.loc[rows["quantity"] == "optimal_treatment", "value"].item() == res.kstar
    lower = rows[rows["quantity"] == "threshold_lower"].sort_values("data_point")
    assert_rel(res.to_frame()["threshold_lower"], lower["value"])


@pytest.fixture(scope="module")
def contrast_level(thrombo):
    mean, post = thrombo
    ref = read("thrombo_contrast_level_thresholds.csv")
    lik, kl = recon_vcov(post, design=X_CONTRAST, prior_prec=0.0001)
    res = threshold_table(mean, post, lik, design=X_CONTRAST, y=ref["posterior_mean"].to_numpy())
    return lik, kl, res, ref


def test_recon_vcov_equals_nmathresh(contrast_level):
    lik, kl, _, ref = contrast_level
    assert_rel(np.diag(lik), ref["recon_lik_var"])
    np.testing.assert_array_equal(lik, np.diag(np.diag(lik)))
    long = read("reference_results.csv")
    kl_ref = long.loc[long["quantity"] == "recon_KL_divergence", "value"].item()
    assert kl == pytest.approx(kl_ref, rel=RTOL)
    assert kl == pytest.approx(6.75957e-05, rel=RTOL)


def test_contrast_level_thresholds_equal_nmathresh(contrast_level):
    _, _, res, ref = contrast_level
    frame = res.to_frame()
    assert res.kstar == 3
    for col in ("threshold_lower", "threshold_upper", "invariant_lower", "invariant_upper"):
        assert_rel(frame[col], ref[col])
    assert frame["new_optimal_lower"].tolist() == codes(ref["new_optimal_at_lower"])
    assert frame["new_optimal_upper"].tolist() == codes(ref["new_optimal_at_upper"])


@pytest.fixture(scope="module")
def socanx():
    summary = read("socanx_post_summary.csv", index_col=0)
    cov = read("socanx_post_cov.csv", index_col=0)
    wide = read("socanx_studies_wide.csv")
    mean = summary.loc[[f"d[{k}]" for k in range(2, 42)], "Mean"].to_numpy()
    blocks, y, labels, studies = [], [], [], []
    for _, row in wide.iterrows():
        m = int(row["n.arms"]) - 1
        block = np.full((m, m), row["V"] if m > 1 else 0.0)  # V: covariance in a multi-arm study
        for k in range(2, m + 2):
            block[k - 2, k - 2] = row[f"Var.{k}"]
            y.append(row[f"y.{k}"])
            labels.append(f"{int(row[f't.{k}'])} vs {int(row['t.1'])}")
            studies.append(int(row["studyID"]))
        blocks.append(block)
    return mean, cov, block_diag(*blocks), np.array(y), labels, studies, wide


def test_social_anxiety_random_effects_runs(socanx):
    mean, cov, lik, y, labels, studies, _ = socanx
    assert cov.index[40] == "delta[1,2]" and cov.shape == (186, 186)
    res = threshold_table(
        mean, cov.to_numpy(), lik, nmatype="random", y=y, studies=studies, contrasts=labels
    )
    frame = res.to_frame()
    assert res.kstar == 41
    assert res.nmatype == "random" and res.H.shape == (40, 146) and len(frame) == 146
    # New optimal treatment given exactly where the threshold is finite.
    for end in ("lower", "upper"):
        finite = np.isfinite(frame[f"threshold_{end}"])
        assert (frame[f"new_optimal_{end}"].notna() == finite).all()
    assert (frame["threshold_lower"] < 0).all() and (frame["threshold_upper"] > 0).all()
    # The vignette's forest plot shows the 28 data points with a threshold under 2 SMD.
    small = (frame["threshold_lower"] > -2) | (frame["threshold_upper"] < 2)
    assert small.sum() == 28
    # Study 96, 41 vs 2: no adjustment downwards changes the decision.
    row = frame.iloc[131]
    assert row["contrast"] == "41 vs 2" and row["threshold_lower"] == -np.inf
    assert row["new_optimal_upper"] == 36
    check_against_influence(mean, res, frame)


def check_against_influence(mean, res: Thresholds, frame: pd.DataFrame) -> None:
    """Just inside a finite threshold k* stays optimal; just beyond it the new treatment is."""
    h_mat = res.H
    for m, row in frame.iterrows():
        for end in ("lower", "upper"):
            u = row[f"threshold_{end}"]
            if not np.isfinite(u):
                continue
            inside = np.concatenate([[0.0], mean + 0.999 * u * h_mat[:, m]])
            beyond = np.concatenate([[0.0], mean + 1.001 * u * h_mat[:, m]])
            assert int(np.argmin(inside)) + 1 == res.kstar
            assert int(np.argmin(beyond)) + 1 == row[f"new_optimal_{end}"]


def test_thrombolytics_thresholds_change_the_decision(thrombo, study_level):
    res, _ = study_level
    check_against_influence(thrombo[0], res, res.to_frame())


def test_social_anxiety_contrast_level(socanx):
    mean, cov, _, _, _, _, wide = socanx
    pairs = set()
    for _, row in wide.iterrows():
        arms = [int(row[f"t.{k}"]) for k in range(1, 6) if not pd.isna(row[f"t.{k}"])]
        pairs.update((min(p), max(p)) for p in itertools.combinations(arms, 2) if p[0] != p[1])
    pairs = sorted(pairs)
    design = np.zeros((len(pairs), 40))
    for i, (a, b) in enumerate(pairs):
        if a > 1:
            design[i, a - 2] = -1.0
        design[i, b - 2] = 1.0
    prior_prec = np.full(40, 3.9 / 0.35)
    prior_prec[1] = 0.0001
    post = cov.to_numpy()[:40, :40]
    lik, kl = recon_vcov(post, design=design, prior_vcov=np.diag(1 / prior_prec))
    assert len(pairs) == 84
    assert kl == pytest.approx(1.5497, abs=5e-5)  # vignette: KL divergence 1.5497
    assert np.flatnonzero(np.isinf(np.diag(lik))).tolist() == [2]
    res = threshold_table(mean, post, lik, design=design)
    frame = res.to_frame()
    assert res.kstar == 41
    assert frame.loc[2, "threshold_lower"] == -np.inf and frame.loc[2, "threshold_upper"] == np.inf
    # Common bias in the drug data points (vignette caption): interval (-2.15, 0.67), 39 / 36.
    drugs = set(range(9, 24)) | set(range(37, 42))
    cols = [i for i, (a, b) in enumerate(pairs) if a in (1, 2, 3) and b in drugs]
    with np.errstate(divide="ignore"):
        common = 1 / np.sum(1 / res.Ukstar[:, cols], axis=1)
    others = [b if a == 41 else a for a, b in res.ukstar_contrasts]
    lo = common[common < 0].max()
    hi = common[common > 0].min()
    assert (round(lo, 2), round(hi, 2)) == (-2.15, 0.67)
    assert others[int(np.flatnonzero(common == lo)[0])] == 39
    assert others[int(np.flatnonzero(common == hi)[0])] == 36


def test_result_object(study_level):
    res, _ = study_level
    frame = res.to_frame()
    frame.loc[0, "threshold_lower"] = 0.0
    assert res.to_frame().loc[0, "threshold_lower"] != 0.0  # copies on access
    html = res._repr_html_()
    assert "Thresholds" in html and "optimal treatment k*" in html
    assert "k* 3" in repr(res)


def test_treatment_names_and_direction(thrombo):
    mean, post = thrombo
    names = ["SK", "t-PA", "Acc t-PA", "SK + t-PA", "r-PA", "TNK"]
    res = threshold_table(mean, post, np.diag(np.full(7, 0.01)), design=X_CONTRAST,
                          treatments=names)  # fmt: skip
    assert res.kstar == "Acc t-PA"
    assert res.to_frame()["contrast"].iloc[4] == "SK + t-PA vs Acc t-PA"
    flipped = threshold_table(mean, post, np.diag(np.full(7, 0.01)), design=X_CONTRAST,
                              lower_is_better=False)  # fmt: skip
    assert flipped.kstar == 1 + int(np.argmax(np.concatenate([[0.0], mean])))


@pytest.mark.parametrize(
    "change",
    [
        {"nmatype": "mixed"},
        {"lower_is_better": "yes"},
        {"design": None},
        {"design": np.ones((7, 4))},
        {"post_cov": np.triu(np.ones((5, 5))) + np.eye(5)},
        {"lik_cov": np.ones((7, 6))},
        {"mean_d": np.zeros(4)},
        {"y": np.zeros(3)},
        {"treatments": ["a"] * 6},
        {"nmatype": "random"},
        {
            "lik_cov": np.diag([np.inf] + [0.01] * 6)
            + np.diag([1e-3] * 6, 1)
            + np.diag([1e-3] * 6, -1)
        },
    ],
)
def test_bad_inputs_raise_typed_errors(thrombo, change):
    mean, post = thrombo
    args = {"mean_d": mean, "post_cov": post, "lik_cov": np.diag(np.full(7, 0.01)),
            "design": X_CONTRAST}  # fmt: skip
    args.update(change)
    with pytest.raises(ModelSpecError) as err:
        threshold_table(args.pop("mean_d"), args.pop("post_cov"), args.pop("lik_cov"), **args)
    assert err.value.rule == "bad-option"


def test_recon_vcov_bad_inputs(thrombo):
    _, post = thrombo
    for kwargs in (
        {"design": np.vstack([X_CONTRAST, X_CONTRAST[:1]])},  # repeated contrast
        {"design": np.full((2, 5), 0.5)},  # not a contrast
        {"design": X_CONTRAST[:, :4]},
        {"design": X_CONTRAST, "prior_prec": 0.0},
    ):
        with pytest.raises(ModelSpecError) as err:
            recon_vcov(post, **kwargs)
        assert err.value.rule == "bad-option"
