"""MCID decision rules and common-bias sets of ``threshold_table`` against brute force.

Along data point ``m`` the posterior means move exactly linearly, ``E(d)(x) = E(d) + x H[:, m]``,
so the decision at any adjustment ``x`` is evaluated here directly (with an independent,
loop-based implementation of each rule) on a fine grid: it must equal the base case's strictly
inside ``(lower, upper)``, and differ, as reported, just beyond each finite end. Inputs are the
bundled thrombolytics posterior (nmathresh's) and small random fixed-effect problems.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from nma_bayes.base.errors import ModelSpecError
from nma_bayes.results.threshold import contrast_pairs, threshold_table

ROOT = resources.files("nma_bayes") / "datasets" / "data" / "thrombolytics_threshold"
NAMES = ["SK", "t-PA", "Acc t-PA", "SK + t-PA", "r-PA", "TNK"]


def read(name: str, **kwargs) -> pd.DataFrame:
    with resources.as_file(ROOT / name) as path:
        return pd.read_csv(path, **kwargs)


@pytest.fixture(scope="module")
def thrombo():
    """nmathresh's thrombolytics posterior and its 15 study-level data points (log OR)."""
    mean = read("thrombo_post_summary.csv", index_col=0)["Mean"].iloc[:5].to_numpy()
    post = read("thrombo_post_cov.csv", index_col=0).to_numpy()
    ref = read("thrombo_study_level_thresholds.csv")
    lik = np.diag(ref["var"].to_numpy())
    design = np.zeros((len(ref), 5))
    for i, (t1, t2) in enumerate(zip(ref["treat1_code"], ref["treat2_code"], strict=True)):
        design[i, t1 - 2] = 1.0
        if t2 != 1:
            design[i, t2 - 2] = -1.0
    return mean, post, lik, design


def random_problem(seed: int):
    """A connected fixed-effect network of K = 5 treatments: posterior moments and design."""
    rng = np.random.default_rng(seed)
    k = 5
    pairs = [(0, t) for t in range(1, k)]  # a spanning star, then four random comparisons
    pairs += [tuple(rng.choice(k, 2, replace=False)) for _ in range(4)]
    design = np.zeros((len(pairs), k))
    for r, (a, b) in enumerate(pairs):
        design[r, b], design[r, a] = 1.0, -1.0
    design = design[:, 1:]
    lik = np.diag(rng.uniform(0.05, 0.5, len(pairs)))
    post = np.linalg.inv(design.T @ np.linalg.inv(lik) @ design + np.eye(k - 1) / 100)
    mean = rng.normal(0.0, 0.6, k - 1)
    return mean, post, lik, design


def brute_set(means: np.ndarray, mcid: float, lower: bool) -> tuple[int, ...]:
    """Phillippo et al. (2019)'s optimal set, codes 1..K, by a plain loop."""
    effects = [0.0, *means]
    benefit = [-e if lower else e for e in effects]
    best = max(benefit)
    return tuple(k + 1 for k, b in enumerate(benefit) if b >= mcid and best - b <= mcid)


def set_label(codes: tuple[int, ...], names) -> str:
    return ", ".join(str(names[k - 1]) for k in codes) or "none"


def probes_inside(lo: float, hi: float) -> np.ndarray:
    """A fine grid strictly inside (lo, hi), points just inside each finite end, and far out."""
    scale = max([abs(v) for v in (lo, hi) if np.isfinite(v)] + [1.0])
    a = lo if np.isfinite(lo) else -10 * scale
    b = hi if np.isfinite(hi) else 10 * scale
    far = scale * np.logspace(1, 8, 29)  # an infinite end: no change however far
    parts = [np.linspace(a, b, 2001)[1:-1], [0.0]]
    parts += [[x * (1 - 1e-6)] for x in (lo, hi) if np.isfinite(x)]
    parts += [-far] if np.isinf(lo) else []
    parts += [far] if np.isinf(hi) else []
    return np.hstack(parts)


def check_set_rule(res, mean, mcid, lower, names):
    """Every table row: the set is the base case's inside, and the reported one just beyond."""
    table, h_mat = res.to_frame(), res.H
    base = brute_set(mean, mcid, lower)
    assert res.kstar == tuple(names[k - 1] for k in base)
    finite = 0
    for m, row in table.iterrows():
        lo, hi = row["threshold_lower"], row["threshold_upper"]
        for x in probes_inside(lo, hi):
            assert brute_set(mean + x * h_mat[:, m], mcid, lower) == base, (m, x)
        for end in ("lower", "upper"):
            t = row[f"threshold_{end}"]
            if not np.isfinite(t):
                assert row[f"new_optimal_{end}"] is None
                continue
            new = brute_set(mean + t * (1 + 1e-6) * h_mat[:, m], mcid, lower)
            assert new != base and set_label(new, names) == row[f"new_optimal_{end}"], (m, end)
            finite += 1
    return finite


@pytest.mark.parametrize("mcid", [0.02, 0.05, 0.1, 0.15])
def test_mcid_decision_thrombolytics_brute_force(thrombo, mcid):
    mean, post, lik, design = thrombo
    sets = {"all": list(range(1, 16)), "study 1": [1, 2], "t-PA trials": [3, 5, 9]}
    res = threshold_table(mean, post, lik, design=design, treatments=NAMES, mcid=mcid,
                          sets=sets)  # fmt: skip
    assert len(res.to_frame()) == 18 and res.H.shape == (5, 18)
    assert check_set_rule(res, mean, mcid, True, NAMES) >= 10


def test_mcid_decision_sets_on_thrombolytics(thrombo):
    mean, post, lik, design = thrombo
    # log ORs -0.004, -0.145, -0.039, -0.102, -0.139 (lower is better)
    kstars = [threshold_table(mean, post, lik, design=design, treatments=NAMES, mcid=e).kstar
              for e in (0.02, 0.05, 0.15)]  # fmt: skip
    assert kstars == [("Acc t-PA", "TNK"), ("Acc t-PA", "r-PA", "TNK"), ()]
    res = threshold_table(mean, post, lik, design=design, treatments=NAMES, mcid=0.15)
    html = res._repr_html_()
    assert "optimal set k*" in html and "none" in html
    rule = "all treatments better than SK by at least 0.15 and within 0.15 of the best"
    assert res.rule() == rule


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lower", [True, False])
def test_mcid_decision_random_problems_brute_force(seed, lower):
    mean, post, lik, design = random_problem(seed)
    names = list("ABCDE")
    for mcid in (0.15, 0.5):
        res = threshold_table(mean, post, lik, design=design, lower_is_better=lower,
                              treatments=names, mcid=mcid, sets={"s": [1, 6, 7]})  # fmt: skip
        check_set_rule(res, mean, mcid, lower, names)


def check_change_rule(res, mean, mcid, lower):
    """Inside: no alternative beats k* by mcid; just beyond: the reported one does, and is best."""
    table, h_mat = res.to_frame(), res.H
    kstar = res.kstar - 1

    def margins(x):  # benefit of every treatment over k* at adjustment x
        effects = np.concatenate([[0.0], mean + x * h_mat[:, m]])
        benefit = -effects if lower else effects
        return benefit - benefit[kstar]

    finite = 0
    for m, row in table.iterrows():
        for x in probes_inside(row["threshold_lower"], row["threshold_upper"]):
            assert margins(x).max() < mcid, (m, x)
        for end in ("lower", "upper"):
            t = row[f"threshold_{end}"]
            if np.isfinite(t):
                gain = margins(t * (1 + 1e-6))
                new = row[f"new_optimal_{end}"] - 1
                assert gain[new] > mcid and gain[new] == gain.max(), (m, end)
                finite += 1
    return finite


@pytest.mark.parametrize("seed", range(4))
def test_mcid_change_formula_and_brute_force(thrombo, seed):
    mean, post, lik, design = thrombo if seed == 0 else random_problem(seed)
    lower = seed % 2 == 0
    mcid = 0.03 if seed == 0 else 0.3
    res = threshold_table(mean, post, lik, design=design, lower_is_better=lower, mcid=mcid,
                          mcid_type="change", sets={"first two": [1, 2]})  # fmt: skip
    n_basic = mean.size
    d_mat = np.zeros((len(contrast_pairs(n_basic + 1)), n_basic))
    for r, (a, b) in enumerate(contrast_pairs(n_basic + 1)):
        d_mat[r, b - 2] = 1.0
        if a > 1:
            d_mat[r, a - 2] = -1.0
    contr = d_mat @ mean
    h_points = post @ design.T @ np.linalg.inv(lik)
    h_all = np.hstack([h_points, h_points[:, :2].sum(axis=1, keepdims=True)])
    np.testing.assert_allclose(res.H, h_all, rtol=1e-10, atol=1e-14)
    with np.errstate(divide="ignore"):  # a contrast a data point does not move: no solution
        expected = (-contr - np.sign(contr) * mcid)[:, None] / (d_mat @ h_all)
    np.testing.assert_allclose(res.U, expected, rtol=1e-10, atol=1e-12)
    assert check_change_rule(res, mean, mcid, lower) >= 4
    assert "change" in repr(res)


def test_mcid_zero_is_maximal_efficacy(thrombo):
    mean, post, lik, design = thrombo
    base = threshold_table(mean, post, lik, design=design)
    for kind in ("decision", "change"):
        other = threshold_table(mean, post, lik, design=design, mcid=0, mcid_type=kind)
        pd.testing.assert_frame_equal(other.to_frame(), base.to_frame())
        np.testing.assert_array_equal(other.U, base.U)
        assert other.kstar == base.kstar == 3


def test_common_bias_set_is_the_sum_of_its_influence_columns(thrombo):
    mean, post, lik, design = thrombo
    plain = threshold_table(mean, post, lik, design=design, y=np.zeros(15))
    res = threshold_table(mean, post, lik, design=design, y=np.zeros(15),
                          sets={"trials 4-6": [4, 5, 6], "one": [7]})  # fmt: skip
    frame = res.to_frame()
    pd.testing.assert_frame_equal(frame.iloc[:15].astype(plain.to_frame().dtypes),
                                  plain.to_frame())  # fmt: skip
    np.testing.assert_allclose(res.H[:, 15], plain.H[:, 3:6].sum(axis=1), rtol=1e-12)
    last = frame.iloc[15]
    assert last["data_point"] is None and last["study"] == "trials 4-6"
    assert last["contrast"] == "common bias (3 data points)" and np.isnan(last["y"])
    assert np.isnan(last["se"]) and np.isnan(last["invariant_lower"])
    # a set of one data point is that data point
    one = frame.iloc[16]
    assert (one["threshold_lower"], one["threshold_upper"]) == pytest.approx(
        (frame.loc[6, "threshold_lower"], frame.loc[6, "threshold_upper"]), rel=1e-12)  # fmt: skip
    assert one["new_optimal_lower"] == frame.loc[6, "new_optimal_lower"]
    assert res.ukstar_frame().columns.tolist()[-3:] == ["dp15", "trials 4-6", "one"]
    # the decision changes exactly at the set's thresholds
    for end in ("lower", "upper"):
        t = last[f"threshold_{end}"]
        inside = np.concatenate([[0.0], mean + 0.999 * t * res.H[:, 15]])
        beyond = np.concatenate([[0.0], mean + 1.001 * t * res.H[:, 15]])
        assert np.argmin(inside) + 1 == 3 and np.argmin(beyond) + 1 == last[f"new_optimal_{end}"]


def test_common_bias_reproduces_the_social_anxiety_vignette():
    """nmathresh vignette: a common bias in the drug data points, interval (-2.15, 0.67), 39/36."""
    summary = read("socanx_post_summary.csv", index_col=0)
    cov = read("socanx_post_cov.csv", index_col=0).to_numpy()[:40, :40]
    wide = read("socanx_studies_wide.csv")
    mean = summary.loc[[f"d[{k}]" for k in range(2, 42)], "Mean"].to_numpy()
    pairs = set()
    for _, row in wide.iterrows():
        arms = [int(row[f"t.{k}"]) for k in range(1, 6) if not pd.isna(row[f"t.{k}"])]
        pairs.update((min(a, b), max(a, b)) for a in arms for b in arms if a != b)
    pairs = sorted(pairs)
    design = np.zeros((len(pairs), 40))
    for i, (a, b) in enumerate(pairs):
        design[i, b - 2] = 1.0
        if a > 1:
            design[i, a - 2] = -1.0
    from nma_bayes.results.threshold import recon_vcov

    prior_prec = np.full(40, 3.9 / 0.35)
    prior_prec[1] = 0.0001
    lik, _ = recon_vcov(cov, design=design, prior_vcov=np.diag(1 / prior_prec))
    drugs = set(range(9, 24)) | set(range(37, 42))
    members = [i + 1 for i, (a, b) in enumerate(pairs) if a in (1, 2, 3) and b in drugs]
    res = threshold_table(mean, cov, lik, design=design, sets={"drugs": members})
    row = res.to_frame().iloc[-1]
    assert (round(row["threshold_lower"], 2), round(row["threshold_upper"], 2)) == (-2.15, 0.67)
    assert (row["new_optimal_lower"], row["new_optimal_upper"]) == (39, 36)


@pytest.mark.parametrize(
    "change",
    [
        {"mcid": -0.1},
        {"mcid": np.nan},
        {"mcid": np.inf},
        {"mcid": "0.5"},
        {"mcid": True},
        {"mcid_type": "both"},
        {"sets": [[1, 2]]},
        {"sets": {"a": []}},
        {"sets": {"a": [0]}},
        {"sets": {"a": [16]}},
        {"sets": {"a": [1, 1]}},
        {"sets": {"a": [1.0]}},
        {"sets": {"a": "12"}},
        {"sets": {"": [1]}},
        {"sets": {"dp3": [1]}},
        {"sets": {3: [1]}},
    ],
)
def test_bad_rule_and_set_options_raise(thrombo, change):
    mean, post, lik, design = thrombo
    with pytest.raises(ModelSpecError) as err:
        threshold_table(mean, post, lik, design=design, **change)
    assert err.value.rule == "bad-option"
