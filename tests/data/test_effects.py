"""Arm-level continuous data -> contrasts vs the base arm with structured covariance."""

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.data.effect_sizes import (
    ArmContrasts,
    hedges_correction,
    pairwise_smd,
    study_contrasts,
)

DATASETS = ["parkinsons", "stowe2010"]
TOL = 1e-6

# Literal copies (R 4.2.2, metafor 3.8.1, netmeta 3.3.1; ../shared/data/*/smd_from_arms) of the
# two 3-arm studies, so that the SMD definitions are checked even without the shared data.
# arms: (treatment, n, mean, sd), base arm first
GUTTMAN_ARMS = [("Placebo", 76, -0.3, 4.4), ("Pramipexole", 71, -2.6, 4.3),
                ("Bromocriptine", 81, -1.2, 4.3)]  # fmt: skip
LARGO_ARMS = [("Placebo", 218, -0.4, 2.21), ("COMTI", 218, -1.2, 2.21),
              ("MAOBI", 222, -1.18, 2.23)]  # fmt: skip
# escalc: (treat1, yi, vi), treat2 = base arm
GUTTMAN_ESCALC = [("Pramipexole", -0.525752221232921, 0.0281825902081138),
                  ("Bromocriptine", -0.205956320948328, 0.0256386629407119)]  # fmt: skip
LARGO_ESCALC = [("COMTI", -0.361364969113878, 0.00932406495516362),
                ("MAOBI", -0.350731335552035, 0.00923144736523693)]  # fmt: skip
# netmeta pairwise: (treat1, treat2, TE, seTE), TE = treat1 minus treat2
GUTTMAN_NETMETA = [
    ("Placebo", "Bromocriptine", 0.207680019297321, 0.159994247566857),
    ("Placebo", "Pramipexole", 0.530737827093153, 0.166913531114897),
    ("Pramipexole", "Bromocriptine", -0.323057807795832, 0.163276022804855),
]
LARGO_NETMETA = [
    ("Placebo", "COMTI", 0.360885715376777, 0.0962978574621749),
    ("Placebo", "MAOBI", 0.351863572492358, 0.0958422635121785),
    ("COMTI", "MAOBI", -0.00902214288441944, 0.0953505234448034),
]


def _literal_arms(rows):
    return pd.DataFrame(rows, columns=["treatment", "n", "mean", "sd"])


def _shared(name, *parts):
    """Read a reference file from the bundled copies (identical to ../shared/data)."""
    kind = parts[-1].removesuffix(".csv")
    if parts[0] == "smd_from_arms":
        kind = "smd_" + kind.removesuffix("_smd")
    return nb.datasets.load_dataset(name, kind)


def _studies(arms):
    """Arms of each study, base arm (arm 1) first."""
    for study, df in arms.groupby("study", sort=False):
        yield study, df.sort_values("arm").reset_index(drop=True)


def _check_escalc(arms, escalc):
    """Every escalc row reproduced by study_contrasts(SMD, escalc); returns rows checked."""
    res = study_contrasts(arms["mean"], arms["sd"], arms["n"], measure="SMD")
    treat = list(arms["treatment"])
    for treat1, yi, vi in escalc:
        j = treat.index(treat1) - 1
        assert j >= 0
        assert res.y[j] == pytest.approx(yi, abs=TOL)
        assert res.variances()[j] == pytest.approx(vi, abs=TOL)
        assert res.covariance()[j, j] == pytest.approx(vi, abs=TOL)
    return len(escalc)


def _check_netmeta(arms, netmeta):
    """Every netmeta pair reproduced by pairwise_smd and by the study_contrasts covariance."""
    treat = list(arms["treatment"])
    n, sd = arms["n"].to_numpy(float), arms["sd"].to_numpy(float)
    multi = len(arms) > 2
    kw = {}
    if multi:
        kw = {
            "sd_pooled": np.sqrt(np.sum((n - 1) * sd**2) / np.sum(n - 1)),
            "n_total": n.sum(),
        }
    res = study_contrasts(arms["mean"], arms["sd"], arms["n"], measure="SMD", smd_method="netmeta")
    full = np.concatenate([[0.0], res.y])  # arm effects relative to the base arm
    cov = np.zeros((len(arms), len(arms)))
    cov[1:, 1:] = res.covariance()
    for treat1, treat2, te, sete in netmeta:
        a, b = treat.index(treat1), treat.index(treat2)
        g, v = pairwise_smd(
            *(arms.loc[a, c] for c in ("mean", "sd", "n")),
            *(arms.loc[b, c] for c in ("mean", "sd", "n")),
            smd_method="netmeta",
            **kw,
        )
        assert g == pytest.approx(te, abs=TOL)
        assert np.sqrt(v) == pytest.approx(sete, abs=TOL)
        # the same pair from the study's structured covariance (any pair, not only vs the base)
        assert full[a] - full[b] == pytest.approx(te, abs=TOL)
        var_ab = cov[a, a] + cov[b, b] - 2 * cov[a, b]
        assert np.sqrt(var_ab) == pytest.approx(sete, abs=TOL)
    return len(netmeta)


@pytest.mark.parametrize(
    ("arms", "escalc"),
    [(GUTTMAN_ARMS, GUTTMAN_ESCALC), (LARGO_ARMS, LARGO_ESCALC)],
    ids=["Guttman1997", "LARGO"],
)
def test_escalc_literal(arms, escalc):
    assert _check_escalc(_literal_arms(arms), escalc) == 2


@pytest.mark.parametrize(
    ("arms", "netmeta"),
    [(GUTTMAN_ARMS, GUTTMAN_NETMETA), (LARGO_ARMS, LARGO_NETMETA)],
    ids=["Guttman1997", "LARGO"],
)
def test_netmeta_literal(arms, netmeta):
    assert _check_netmeta(_literal_arms(arms), netmeta) == 3


@pytest.mark.parametrize("name", DATASETS)
def test_escalc_reference_all_studies(name):
    arms = _shared(name, "arms.csv")
    ref = _shared(name, "smd_from_arms", "escalc_smd.csv")
    checked = 0
    for study, df in _studies(arms):
        rows = ref[ref["study"] == study]
        assert set(rows["treat2"]) == {df.loc[0, "treatment"]}
        assert len(rows) == len(df) - 1
        checked += _check_escalc(df, list(rows[["treat1", "yi", "vi"]].itertuples(index=False)))
    assert checked == len(ref)


@pytest.mark.parametrize("name", DATASETS)
def test_netmeta_reference_all_studies(name):
    arms = _shared(name, "arms.csv")
    ref = _shared(name, "smd_from_arms", "netmeta_pairwise_smd.csv")
    checked = 0
    for study, df in _studies(arms):
        rows = ref[ref["study"] == study][["treat1", "treat2", "TE", "seTE"]]
        assert len(rows) == len(df) * (len(df) - 1) // 2
        checked += _check_netmeta(df, list(rows.itertuples(index=False)))
    assert checked == len(ref)


def test_hedges_correction_exact_vs_approximation():
    m = np.array([10.0, 38.0, 400.0])
    j = hedges_correction(m)
    assert np.all(j < 1)
    # exact factor differs from 1 - 3/(4m-1) by O(m^-2); escalc uses the exact one
    assert np.allclose(j, 1 - 3 / (4 * m - 1), rtol=1e-3)
    assert not np.allclose(j, 1 - 3 / (4 * m - 1), rtol=1e-7, atol=0)


def test_md_parkinsons_exact():
    arms = _shared("parkinsons", "arms.csv")
    contrasts = _shared("parkinsons", "contrasts.csv")
    for study, df in _studies(arms):
        se = df["se"].to_numpy(float)
        res = study_contrasts(df["mean"], df["sd"], df["n"], measure="MD", se=df["se"])
        np.testing.assert_array_equal(res.y, df["mean"].to_numpy()[1:] - df.loc[0, "mean"])
        np.testing.assert_array_equal(res.var, se[1:] ** 2)
        assert res.cov == se[0] ** 2
        assert res.cov_u == 0 and np.all(res.u == 0)
        np.testing.assert_allclose(res.variances(), se[1:] ** 2 + se[0] ** 2, rtol=1e-14)
        dense = res.covariance()
        np.testing.assert_allclose(dense[~np.eye(res.k, dtype=bool)], se[0] ** 2, rtol=1e-14)
        # against the published contrasts (TE, seTE rounded to 3 decimals)
        for j, treat in enumerate(df["treatment"][1:]):
            row = contrasts[(contrasts["study"] == study) & (contrasts["treat1"] == treat)]
            assert len(row) == 1 and row["treat2"].item() == df.loc[0, "treatment"]
            assert res.y[j] == pytest.approx(row["TE"].item(), abs=1e-9)
            assert np.sqrt(res.variances()[j]) == pytest.approx(row["seTE"].item(), abs=6e-4)


def test_md_from_sd():
    res = study_contrasts([1.0, 2.0, 4.0], [2.0, 3.0, 1.0], [4, 9, 25], measure="MD")
    np.testing.assert_allclose(res.y, [1.0, 3.0])
    np.testing.assert_allclose(res.var, [1.0, 0.04])
    assert res.cov == pytest.approx(1.0)
    np.testing.assert_allclose(res.covariance(), [[2.0, 1.0], [1.0, 1.04]])


def _sim_g(rng, mu, sigma, n, reps, smd_method):
    """Vectorised draws of the SMDs (exact sampling distribution of normal-data summaries)."""
    n = np.asarray(n, float)
    means = rng.normal(mu, sigma / np.sqrt(n), size=(reps, n.size))
    sds = sigma * np.sqrt(rng.chisquare(n - 1, size=(reps, n.size)) / (n - 1))
    if smd_method == "escalc":
        g, _ = pairwise_smd(
            means[:, 1:], sds[:, 1:], n[1:], means[:, :1], sds[:, :1], n[0], smd_method="escalc"
        )
        return g
    s = np.sqrt(((n - 1) * sds**2).sum(axis=1, keepdims=True) / (n - 1).sum())
    return (means[:, 1:] - means[:, :1]) / s


@pytest.mark.parametrize("smd_method", ["escalc", "netmeta"])
def test_smd_covariance_monte_carlo(smd_method):
    rng = np.random.default_rng(20240611)
    reps, sigma = 20_000, 2.0
    n = np.array([240, 200, 180, 220])
    delta = np.array([0.0, 1.0, 2.0, -1.5])  # true SMDs vs the base arm
    mu = 10.0 + sigma * delta
    g = _sim_g(rng, mu, sigma, n, reps, smd_method)
    emp = np.cov(g, rowvar=False)
    # formula at the true values (escalc's g at the truth is J * delta, 0.2-0.3% below delta)
    res = study_contrasts(mu, np.full(4, sigma), n, measure="SMD", smd_method=smd_method)
    theo = res.covariance()
    # MC standard error of a sample covariance (normal theory):
    # SE(c_jl) = sqrt((S_jl^2 + S_jj S_ll) / R), R = 20,000 -> about 1% of S_jj on the diagonal.
    # Tolerance 4 SE (+ 1% of S_jl for the O(1/n) terms dropped by the large-sample formula).
    se = np.sqrt((theo**2 + np.outer(np.diag(theo), np.diag(theo))) / reps)
    tol = 4 * se + 0.01 * np.abs(theo)
    assert np.all(np.abs(emp - theo) < tol), (emp - theo) / se
    # the test can fail: without the shared-SD (rank-one) term the off-diagonals are rejected
    wrong = theo - res.cov_u * np.outer(res.u, res.u)
    off = ~np.eye(3, dtype=bool)
    assert np.any(np.abs(emp - wrong)[off] > tol[off])


@pytest.mark.parametrize("smd_method", ["escalc", "netmeta"])
@pytest.mark.parametrize("name", DATASETS)
def test_structured_form_all_studies(name, smd_method):
    arms = _shared(name, "arms.csv")
    for _, df in _studies(arms):
        res = study_contrasts(df["mean"], df["sd"], df["n"], measure="SMD", smd_method=smd_method)
        _check_structure(res)


def _check_structure(res: ArmContrasts):
    k = res.k
    assert res.y.shape == res.var.shape == res.u.shape == (k,)
    assert np.all(res.var > 0) and res.cov > 0 and res.cov_u >= 0
    dense = res.covariance()
    manual = np.zeros((k, k))
    for j in range(k):
        for m in range(k):
            manual[j, m] = (j == m) * res.var[j] + res.cov + res.cov_u * res.u[j] * res.u[m]
    np.testing.assert_allclose(dense, manual, rtol=1e-14)
    np.testing.assert_array_equal(dense, dense.T)
    np.testing.assert_allclose(np.diag(dense), res.variances(), rtol=1e-14)
    assert np.linalg.eigvalsh(dense).min() > 0
    np.linalg.cholesky(dense)


@pytest.mark.parametrize("smd_method", ["escalc", "netmeta"])
def test_structured_form_four_arms(smd_method):
    res = study_contrasts(
        [0.0, 3.0, -6.0, 9.0], [2.0, 2.5, 3.0, 2.2], [12, 8, 30, 15], measure="SMD",
        smd_method=smd_method,
    )  # fmt: skip
    _check_structure(res)
    # total variance equals the pairwise (escalc / netmeta) variance of each contrast
    if smd_method == "escalc":
        _, v = pairwise_smd([3.0, -6.0, 9.0], [2.5, 3.0, 2.2], [8, 30, 15], 0.0, 2.0, 12)
        np.testing.assert_allclose(res.variances(), v, rtol=1e-13)
        # var_j = 1/n_j + g_j^2 n_j / (2 N_j^2)
        nj, big_n = np.array([8, 30, 15]), np.array([20, 42, 27])
        np.testing.assert_allclose(res.var, 1 / nj + res.y**2 * nj / (2 * big_n**2), rtol=1e-13)
    else:
        np.testing.assert_allclose(res.var, [1 / 8, 1 / 30, 1 / 15], rtol=1e-14)


def test_shape_errors():
    with pytest.raises(ValueError, match="at least 2 arms"):
        study_contrasts([1.0], [1.0], [10], measure="SMD")
    with pytest.raises(ValueError, match="differ in length"):
        study_contrasts([1.0, 2.0], [1.0, 1.0, 1.0], [10, 10], measure="SMD")
    with pytest.raises(ValueError, match="differ in length"):
        study_contrasts([1.0, 2.0], None, [10, 10], measure="MD", se=[0.1])
    with pytest.raises(ValueError, match="1-D"):
        study_contrasts([[1.0, 2.0]], [[1.0, 1.0]], [[10, 10]], measure="MD")
    with pytest.raises(ValueError, match="measure"):
        study_contrasts([1.0, 2.0], [1.0, 1.0], [10, 10], measure="RR")
    with pytest.raises(ValueError, match="smd_method"):
        study_contrasts([1.0, 2.0], [1.0, 1.0], [10, 10], measure="SMD", smd_method="cohen")
    with pytest.raises(ValueError, match="netmeta"):
        pairwise_smd(1.0, 1.0, 10, 0.0, 1.0, 10, smd_method="escalc", n_total=30)
