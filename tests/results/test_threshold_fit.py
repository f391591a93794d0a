"""Threshold analysis of a fit (``nb.threshold_analysis``) against brute force.

With fixed effects and a normal prior the exact engine's posterior mean of ``d`` is linear in the
data, so the thresholds are exact: a data point moved by 0.999 of its threshold leaves the
optimal treatment unchanged, and moved by 1.001 of it makes the reported new treatment optimal
(each checked by an exact refit of the moved data). The exact engine's mixture moments are
checked against its own draws, and a NUTS fit's thresholds against the exact fit's.
"""

from dataclasses import replace

import numpy as np
import pytest

import nma_bayes as nb
from nma_bayes.results.threshold_fit import contrast_level_data, posterior_moments

KW = dict(reference="Placebo", effects="fixed", prior_d=nb.Normal(0, 10), random_seed=1)


@pytest.fixture(scope="module")
def parkinsons():
    net = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                                    lower_is_better=True)  # fmt: skip
    return net, nb.fit_network(net, engine="exact", **KW)


def _optimal(net) -> str:
    """Optimal treatment of the exact fixed-effect refit (smallest posterior mean effect)."""
    fit = nb.fit_network(net, engine="exact", **KW)
    mean, _ = posterior_moments(fit)
    return [net.reference, *net.non_reference][int(np.argmin(np.r_[0.0, mean]))]


def _moved(net, study: str, contrast: str, shift: float):
    """The network with one study contrast's estimate moved by ``shift``."""
    i = net.studies.index(study)
    arm = contrast.split(" vs ")[0]
    j = [net.treatments[a] for a in net.arm[i]].index(arm)
    y = net.y.copy()
    y[i, j] += shift
    return replace(net, y=y)


def test_thresholds_equal_brute_force_refits(parkinsons):
    net, fit = parkinsons
    table = nb.threshold_analysis(fit).to_frame()
    kstar = _optimal(net)
    assert len(table) == 8  # 7 studies, one with three arms
    checked = 0
    for row in table.itertuples():
        for end in ("lower", "upper"):
            t = getattr(row, f"threshold_{end}")
            if not np.isfinite(t):
                continue
            assert _optimal(_moved(net, row.study, row.contrast, 0.999 * t)) == kstar
            new = _optimal(_moved(net, row.study, row.contrast, 1.001 * t))
            assert new == getattr(row, f"new_optimal_{end}") != kstar, (row.study, end)
            checked += 1
    assert checked >= 8


def test_exact_mixture_moments_match_the_draws():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         engine="exact", random_seed=1, draws=20000)  # fmt: skip
    mean, cov = posterior_moments(fit)
    draws = fit.idata["posterior"]["d"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    n = len(draws)  # independent draws: MC error of a mean sd / sqrt(n)
    sd = np.sqrt(np.diag(cov))
    assert np.abs(draws.mean(axis=0) - mean).max() < 4 * sd.max() / np.sqrt(n)
    # a covariance entry's MC sd is at most sqrt(2) sd_i sd_j / sqrt(n) for normal-ish draws
    assert np.abs(np.cov(draws, rowvar=False) - cov).max() < 6 * sd.max() ** 2 / np.sqrt(n)


def test_nuts_thresholds_use_the_draws_moments(parkinsons):
    """A NUTS fit's thresholds are threshold_table at the draws' mean and covariance of d.

    The moments agree with the exact engine's within Monte Carlo error: means within 4 MCSE
    (sd / sqrt(bulk ESS)), covariances within 5 x sqrt(2 / n) of sd_i sd_j with n a quarter of
    the draws (second moments of NUTS draws mix slower than means: over seeds 2-8 the largest
    covariance error was 2 of these units, the largest mean error 1.4 MCSE). Thresholds themselves
    amplify that error where a data point acts through indirect paths (its influence is a small
    difference of covariance entries: 4-16% over seeds 1-6 for Brunt 2002), so they are compared
    through the moments, and the table is checked to be the summary-level function's."""
    net, exact = parkinsons
    nuts = nb.fit_network(net, draws=4000, **KW)
    m0, c0 = posterior_moments(exact)
    m1, c1 = posterior_moments(nuts)
    ess = nuts.diagnostics().set_index("parameter")["ess_bulk"].min()
    sd = np.sqrt(np.diag(c0))
    assert np.all(np.abs(m1 - m0) <= 4 * sd / np.sqrt(ess))
    n = nuts.idata["posterior"].sizes["chain"] * nuts.idata["posterior"].sizes["draw"] / 4
    assert np.all(np.abs(c1 - c0) <= 5 * np.sqrt(2 / n) * np.outer(sd, sd))
    ta, tb = nb.threshold_analysis(exact), nb.threshold_analysis(nuts)
    assert tb.kstar == ta.kstar
    # fixed effects: H = Cov(d) X' V^-1 with the same X and V, so H_nuts = C1 C0^-1 H_exact
    np.testing.assert_allclose(tb.H, c1 @ np.linalg.solve(c0, ta.H), atol=1e-10)


def test_refusals(parkinsons):
    net, _ = parkinsons
    plain = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                           engine="exact", random_seed=1)  # fmt: skip
    with pytest.raises(nb.ModelSpecError, match="lower_is_better") as info:
        nb.threshold_analysis(plain)
    assert info.value.rule == "bad-option"
    assert nb.threshold_analysis(plain, lower_is_better=True).kstar in net.treatments


def _refit_means(net) -> np.ndarray:
    """Posterior means of d (network order) of the exact fixed-effect refit."""
    return posterior_moments(nb.fit_network(net, engine="exact", **KW))[0]


def _shift_studies(net, studies, shift: float):
    """The network with every contrast of the given studies moved by ``shift``."""
    y = net.y.copy()
    for study in studies:
        i = net.studies.index(study)
        y[i, np.asarray(net.mask[i], dtype=bool)] += shift
    return replace(net, y=y)


def test_common_bias_sets_equal_brute_force_refits(parkinsons):
    net, fit = parkinsons
    sets = {"Brunt": ["Brunt 2002, Group A", "Brunt 2002, Group B"],
            "Guttman + Lieberman 1997": ["Guttman 1997", "Lieberman 1997"]}  # fmt: skip
    table = nb.threshold_analysis(fit, sets=sets).to_frame()
    assert len(table) == 10 and table["data_point"].iloc[8:].isna().all()
    assert table["contrast"].iloc[9] == "common bias (3 data points)"
    kstar, checked = _optimal(net), 0
    for row in table.iloc[8:].itertuples():
        for end in ("lower", "upper"):
            t = getattr(row, f"threshold_{end}")
            if not np.isfinite(t):
                continue
            assert _optimal(_shift_studies(net, sets[row.study], (1 - 1e-4) * t)) == kstar
            new = _optimal(_shift_studies(net, sets[row.study], (1 + 1e-4) * t))
            assert new == getattr(row, f"new_optimal_{end}") != kstar, (row.study, end)
            checked += 1
    assert checked >= 3


def test_mcid_decision_equals_brute_force_refits(parkinsons):
    """The optimal set of refits just inside / beyond every threshold (Phillippo et al. 2019)."""
    net, fit = parkinsons
    mcid, names = 0.5, [net.reference, *net.non_reference]

    def optimal_set(mean):  # lower is better: beats placebo by mcid, within mcid of the best
        effects = np.r_[0.0, mean]
        keep = (effects <= -mcid) & (effects - effects.min() <= mcid)
        return ", ".join(n for n, k in zip(names, keep, strict=True) if k) or "none"

    gershanik = ["Gershanik 1994a", "Gershanik 1994b"]
    res = nb.threshold_analysis(fit, mcid=mcid, sets={"Gershanik": gershanik})
    base = optimal_set(_refit_means(net))
    assert ", ".join(res.kstar) == base
    checked = 0
    for row in res.to_frame().itertuples():
        studies = gershanik if row.data_point is None else None
        for end in ("lower", "upper"):
            t = getattr(row, f"threshold_{end}")
            if not np.isfinite(t) or abs(t) > 50:
                continue
            for factor, same in ((1 - 1e-4, True), (1 + 1e-4, False)):
                moved = (_shift_studies(net, studies, factor * t) if studies
                         else _moved(net, row.study, row.contrast, factor * t))  # fmt: skip
                new = optimal_set(_refit_means(moved))
                assert (new == base) if same else (new == getattr(row, f"new_optimal_{end}"))
            checked += 1
    assert checked >= 8


def test_contrast_level_aggregated_likelihood_is_exact(parkinsons):
    """Pooled direct estimates with reduced weights give the fit's exact posterior (FE)."""
    net, fit = parkinsons
    data = contrast_level_data(net)
    assert data.labels == [
        "Bromocriptine vs Placebo",
        "Pramipexole vs Placebo",
        "Ropinirole vs Placebo",
        "Cabergoline vs Bromocriptine",
        "Pramipexole vs Bromocriptine",
        "Ropinirole vs Bromocriptine",
    ]
    assert data.studies[1] == "Lieberman 1997; Guttman 1997"
    precision = data.design.T @ (data.design / data.variances[:, None]) + np.eye(4) / 10**2
    cov = np.linalg.inv(precision)
    mean = cov @ data.design.T @ (data.y / data.variances)  # prior mean 0
    exact_mean, exact_cov = posterior_moments(fit)
    np.testing.assert_allclose(mean, exact_mean, atol=1e-8, rtol=0)
    np.testing.assert_allclose(cov, exact_cov, atol=1e-8, rtol=0)


def _shift_edge(net, label: str, shift: float):
    """Every study contrast of a direct comparison "b vs a" moved by ``shift`` (two-arm studies)."""
    b, a = label.split(" vs ")
    y = net.y.copy()
    for i in range(net.n_studies):
        trts = {net.treatments[net.base[i]], *(net.treatments[t] for t in net.arm[i][net.mask[i]])}
        if trts != {a, b}:
            continue
        arm = net.treatments[net.arm[i, 0]]
        y[i, 0] += shift if arm == b else -shift  # the contrast is arm vs base
    return replace(net, y=y)


def test_contrast_level_thresholds_equal_brute_force_refits(parkinsons):
    net, fit = parkinsons
    common = ["Bromocriptine vs Cabergoline", "Ropinirole vs Bromocriptine"]  # either orientation
    res = nb.threshold_analysis(fit, level="contrast", sets={"vs Bromocriptine": common})
    table = res.to_frame()
    assert len(table) == 7 and table["study"].iloc[-1] == "vs Bromocriptine"
    kstar, checked = _optimal(net), 0
    two_arm = ["Ropinirole vs Placebo", "Cabergoline vs Bromocriptine",
               "Ropinirole vs Bromocriptine"]  # fmt: skip
    for row in table.itertuples():
        if row.contrast not in two_arm and row.data_point is not None:
            continue
        for end in ("lower", "upper"):
            t = getattr(row, f"threshold_{end}")
            if not np.isfinite(t):
                continue

            def moved(shift, row=row):
                if row.data_point is not None:
                    return _shift_edge(net, row.contrast, shift)
                return _shift_edge(_shift_edge(net, two_arm[1], shift), two_arm[2], shift)

            assert _optimal(moved((1 - 1e-4) * t)) == kstar
            new = _optimal(moved((1 + 1e-4) * t))
            assert new == getattr(row, f"new_optimal_{end}") != kstar, (row.contrast, end)
            checked += 1
    assert checked >= 7


def test_contrast_level_random_effects_uses_the_posterior_median_tau(parkinsons):
    net, _ = parkinsons
    fit = nb.fit_network(net, engine="exact", reference="Placebo", random_seed=1)
    res = nb.threshold_analysis(fit, level="contrast")
    tau = float(fit.heterogeneity().loc["tau", "median"])
    data = contrast_level_data(net, tau=tau)
    np.testing.assert_allclose(res.to_frame()["se"] ** 2, data.variances, rtol=1e-12)
    assert (data.variances > contrast_level_data(net).variances).all()
    np.testing.assert_allclose(res.to_frame()["y"], data.y, rtol=1e-12)


def test_level_and_set_refusals(parkinsons):
    _, fit = parkinsons
    for kwargs, match in (
        ({"level": "arm"}, "level"),
        ({"sets": {"x": ["Foo", "Guttman 1997"]}}, "unknown studies 'Foo'"),
        ({"sets": {"x": "Guttman 1997"}}, "list of study names"),
        ({"sets": ["Guttman 1997"]}, "dict"),
        ({"level": "contrast", "sets": {"x": ["Guttman 1997"]}}, "unknown comparisons"),
        ({"mcid": -1.0}, "mcid"),
        ({"mcid_type": "set"}, "mcid_type"),
    ):
        with pytest.raises(nb.ModelSpecError, match=match) as info:
            nb.threshold_analysis(fit, **kwargs)
        assert info.value.rule == "bad-option"
