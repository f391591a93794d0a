"""Per-data-point residual deviance, leverage and deviance residuals (TSD2's leverage plot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import nma_bayes as nb
from nma_bayes.results.leverage import POINT_COLUMNS, Leverage, leverage_table


@pytest.fixture(scope="module")
def contrast_fit():
    return nb.fit_network(nb.datasets.load_dataset("parkinsons"), engine="exact", random_seed=1)


@pytest.fixture(scope="module")
def smoking_fit():
    # draws=1000, tune=500: small, and without the NMAConvergenceWarning of draws=500 for tau
    df = nb.datasets.load_dataset("smoking", "arms")
    return nb.fit_network(df, likelihood="binomial", reference="No intervention", random_seed=1,
                          draws=1000, tune=500)  # fmt: skip


def _assert_totals(lev: Leverage, fit) -> None:
    """The per-point values sum to the model's resdev, pD and DIC (the same deviances)."""
    total = fit.model_fit().iloc[0]
    points = lev.to_frame()
    for column, name in (("resdev", "resdev"), ("leverage", "pD"), ("dic", "DIC")):
        assert points[column].sum() == pytest.approx(total[name], rel=1e-12, abs=1e-12)
        assert getattr(lev, name) == pytest.approx(total[name], rel=1e-12, abs=1e-12)


def test_contrast_points_sum_to_the_model_fit(contrast_fit):
    lev = nb.leverage(contrast_fit)
    assert isinstance(lev, Leverage)
    points = lev.to_frame()
    assert tuple(points.columns) == POINT_COLUMNS
    assert list(points["study"]) == list(contrast_fit.network.studies)  # one point per study
    assert points["treatment"].isna().all() and (points["data"] == "contrasts").all()
    _assert_totals(lev, contrast_fit)
    per_study = contrast_fit.model_fit(per_study=True)
    np.testing.assert_allclose(points["resdev"], per_study["resdev"], rtol=1e-12)
    np.testing.assert_allclose(points["leverage"], per_study["leverage"], rtol=1e-12)
    np.testing.assert_allclose(points["dic"], points["resdev"] + points["leverage"], rtol=1e-14)
    np.testing.assert_allclose(points["residual"] ** 2, points["resdev"], rtol=1e-12)


def test_multi_arm_contrast_studies_have_no_sign(contrast_fit):
    points = nb.leverage(contrast_fit).to_frame()
    multi = contrast_fit.model_fit(per_study=True)["n_contrasts"].to_numpy() > 1
    assert multi.any() and not multi.all()
    assert (points["sign_defined"].to_numpy() == ~multi).all()
    assert (points.loc[multi, "residual"] > 0).all()  # drawn at +sqrt(resdev)


def test_arm_points_sum_to_the_model_fit(smoking_fit):
    lev = nb.leverage(smoking_fit)
    points = lev.to_frame()
    assert lev.n_data == len(points) == int(smoking_fit.model_fit()["n_data"].iloc[0]) == 50
    assert (points["data"] == "arms").all() and points["sign_defined"].all()
    _assert_totals(lev, smoking_fit)
    by_study = points.groupby("study", sort=False)[["resdev", "leverage"]].sum()
    per_study = smoking_fit.model_fit(per_study=True).set_index("study")
    np.testing.assert_allclose(by_study["resdev"], per_study.loc[by_study.index, "resdev"],
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(by_study["leverage"], per_study.loc[by_study.index, "leverage"],
                               rtol=1e-12)  # fmt: skip
    # every arm once, its treatment named, in the data's study order
    data = nb.datasets.load_dataset("smoking", "arms")
    assert sorted(zip(points["study"], points["treatment"], strict=True)) == sorted(
        zip(data["study"], data["treatment"], strict=True)
    )


def _binomial_deviance(r: float, n: float, rhat: np.ndarray) -> np.ndarray:
    """TSD2: 2 [r log(r / rhat) + (n - r) log((n - r) / (n - rhat))], with 0 log 0 = 0."""
    first = r * np.log(r / rhat) if r > 0 else 0.0
    second = (n - r) * np.log((n - r) / (n - rhat)) if n > r else 0.0
    return 2.0 * (first + second)


def _arm_data(study: str, treatment: str) -> tuple[float, float]:
    df = nb.datasets.load_dataset("smoking", "arms")
    row = df[(df["study"] == study) & (df["treatment"] == treatment)].iloc[0]
    return float(row["events"]), float(row["n"])


def test_binomial_arm_deviance_by_hand(smoking_fit):
    """Both arms of a two-arm study, from the posterior draws of mu, d, tau and the deviate."""
    points = nb.leverage(smoking_fit).to_frame()
    counts = points["study"].value_counts()
    study = next(s for s in points["study"] if counts[s] == 2)  # a two-arm study
    base_t, other_t = points.loc[points["study"] == study, "treatment"]
    post = smoking_fit.idata["posterior"]
    flat = lambda a: a.transpose("chain", "draw").values.reshape(-1)  # noqa: E731
    mu = flat(post["mu"].sel(outcome_study=study))
    tau = flat(post["tau"])
    z = flat(post["e_arm"].sel(outcome_arm=f"{study}: {other_t}"))

    def d(t: str) -> np.ndarray:
        return 0.0 if t == "No intervention" else flat(post["d"].sel(treatment=t))

    # logit link: base arm theta = mu; other arm theta = mu + d_t - d_b + tau z (two arms: L = 1)
    thetas = {base_t: mu, other_t: mu + d(other_t) - d(base_t) + tau * z}
    for treatment, theta in thetas.items():
        r, n = _arm_data(study, treatment)
        rhat = n * expit(theta)
        resdev = _binomial_deviance(r, n, rhat).mean()
        leverage = resdev - _binomial_deviance(r, n, rhat.mean())
        row = points[(points["study"] == study) & (points["treatment"] == treatment)].iloc[0]
        assert row["resdev"] == pytest.approx(resdev, rel=1e-10)
        assert row["leverage"] == pytest.approx(leverage, rel=1e-9, abs=1e-12)
        assert row["residual"] == pytest.approx(np.sign(r - rhat.mean()) * np.sqrt(resdev))


def test_max_draws_matches_model_fit_draws(smoking_fit):
    lev = leverage_table(smoking_fit, max_draws=200)
    # model_fit has no max_draws: compare with the per-study table on the same 200 draws
    from nma_bayes.results.goodness_of_fit import model_fit_table

    total = model_fit_table(smoking_fit, max_draws=200).iloc[0]
    assert lev.resdev == pytest.approx(total["resdev"], rel=1e-12)
    assert lev.pD == pytest.approx(total["pD"], rel=1e-12)
    assert lev.resdev != pytest.approx(nb.leverage(smoking_fit).resdev, rel=1e-9)


def test_outside_and_reprs(smoking_fit):
    lev = nb.leverage(smoking_fit)
    points = lev.to_frame()
    outside = lev.outside()
    expected = points["residual"] ** 2 + points["leverage"] > 3
    assert sorted(outside.index) == sorted(points.index[expected])
    assert len(lev.outside(0.5)) >= len(outside) >= len(lev.outside(4))
    assert f"{lev.n_data} data points" in repr(lev) and "DIC" in repr(lev)
    html = lev._repr_html_()
    assert "<table" in html and "Leverage" in html
    frame = lev.to_frame()
    frame.loc[0, "resdev"] = -1.0  # a copy: the result is not changed
    assert lev.to_frame().loc[0, "resdev"] >= 0


def test_html_escapes_study_names():
    points = pd.DataFrame({"study": ["<b>x</b>"], "treatment": [None], "data": ["contrasts"],
                           "resdev": [1.0], "leverage": [0.5], "dic": [1.5], "residual": [1.0],
                           "sign_defined": [True]})  # fmt: skip
    html = Leverage(points=points, resdev=1.0, pD=0.5, DIC=1.5, n_data=1)._repr_html_()
    assert "<b>x</b>" not in html and "&lt;b&gt;" in html


def test_bad_arguments(smoking_fit):
    with pytest.raises(nb.ModelSpecError, match="NetworkFit"):
        nb.leverage(pd.DataFrame())
    with pytest.raises(nb.NMAInputError, match="max_draws"):
        nb.leverage(smoking_fit, max_draws=0)
    with pytest.raises(nb.NMAInputError, match="max_draws"):
        nb.leverage(smoking_fit, max_draws=10.0)
    lev = nb.leverage(smoking_fit)
    for bad in (0, -1.0, float("nan"), "3", True):
        with pytest.raises(nb.ModelSpecError, match="positive number"):
            lev.outside(bad)


def test_mixed_network_points_in_network_order():
    """Arm-level and contrast studies in one network: each kind of point, summing to the totals."""
    rng = np.random.default_rng(3)
    designs = {"s0": ("A", "B"), "s1": ("A", "C"), "s2": ("B", "C"), "s3": ("A", "B", "C")}
    rows = [(s, t, int(rng.binomial(300, 0.3)), 300) for s, arms in designs.items() for t in arms]
    arms = pd.DataFrame(rows, columns=["study", "treatment", "events", "n"])
    contrasts = pd.DataFrame({"study": ["c0", "c1"], "treat1": ["B", "C"], "treat2": ["A", "A"],
                              "TE": [0.2, -0.1], "seTE": [0.3, 0.25]})  # fmt: skip
    network = nb.Network.from_data(arms=arms, contrasts=contrasts, likelihood="binomial",
                                   reference="A")  # fmt: skip
    fit = nb.fit_network(network, effects="fixed", random_seed=5, draws=1000, tune=500)
    lev = nb.leverage(fit)
    points = lev.to_frame()
    _assert_totals(lev, fit)
    assert list(dict.fromkeys(points["study"])) == list(network.studies)
    assert (points["data"] == "arms").sum() == len(arms)
    contrast_rows = points[points["data"] == "contrasts"]
    assert sorted(contrast_rows["study"]) == ["c0", "c1"]
    assert contrast_rows["treatment"].isna().all() and contrast_rows["sign_defined"].all()
