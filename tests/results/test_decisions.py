"""Decision summaries (P(top k), P(class holds a top-k treatment), P(benefit > MCID)) vs draws.

Every probability is checked against a direct computation from ``fit.idata["posterior"]["d"]``
(ranks by ``scipy.stats.rankdata``, not the package's ranking), and every MCSE against the
binomial formula (exact engine: independent draws) or ``arviz_stats.mcse`` of the indicator
draws (NUTS).
"""

import warnings

import arviz_stats as az
import numpy as np
import pytest
import xarray as xr
from scipy.stats import rankdata

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError, UnknownTreatmentError

REFERENCE = "Conventional medical management"


@pytest.fixture(scope="module")
def fit():
    """Exact fit of the simulated PSPS-T2 network (10 treatments, 5 classes; SMD of pain)."""
    data = nb.datasets.load_dataset("psps_t2_illustrative")
    return nb.fit_network(data, reference=REFERENCE, classes="class", measure="SMD",
                          engine="exact", random_seed=11)  # fmt: skip


@pytest.fixture(scope="module")
def mcmc_fit():
    """A small seeded NUTS fit (2 chains x 300 draws): autocorrelated draws."""
    data = nb.datasets.load_dataset("therapy_formats")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)  # short chains
        return nb.fit_network(data, reference="cau", draws=300, tune=300, chains=2,
                              random_seed=4, progressbar=False)  # fmt: skip


@pytest.fixture(scope="module")
def binomial_fit():
    """Arm-level binomial (logit) fit of the smoking network: effects are log odds ratios."""
    data = nb.datasets.load_dataset("smoking", "arms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nb.NMAConvergenceWarning)
        return nb.fit_network(data, likelihood="binomial", draws=200, tune=300, chains=2,
                              random_seed=2, progressbar=False)  # fmt: skip


def full_draws(f) -> np.ndarray:
    """Effects vs the model reference, (chain, draw, treatment) in treatment order, built here."""
    d = f.idata["posterior"]["d"].transpose("chain", "draw", "treatment")
    names = [str(t) for t in d["treatment"].values]
    out = np.zeros((d.sizes["chain"], d.sizes["draw"], len(f.treatments)))
    for i, t in enumerate(f.treatments):
        if t != f.reference:
            out[..., i] = d.values[..., names.index(t)]
    return out


def direct_ranks(f, lower_is_better: bool) -> np.ndarray:
    draws = full_draws(f)
    return rankdata(draws if lower_is_better else -draws, axis=-1)


def binomial_mcse(indicator: np.ndarray) -> np.ndarray:
    p = indicator.mean(axis=(0, 1))
    return np.sqrt(p * (1 - p) / (indicator.shape[0] * indicator.shape[1]))


def arviz_mcse(indicator: np.ndarray) -> np.ndarray:
    """``arviz_stats.mcse`` (mean) of each event's 0/1 draws, one event at a time."""
    flat = indicator.reshape(indicator.shape[0], indicator.shape[1], -1).astype(float)
    out = []
    for j in range(flat.shape[2]):
        ds = xr.Dataset({"x": (("chain", "draw"), flat[:, :, j])})
        out.append(float(az.mcse(ds, method="mean")["x"]))
    return np.array(out).reshape(indicator.shape[2:])


# ------------------------------------------------------------------------------ top k
@pytest.mark.parametrize("lower_is_better", [True, False])
def test_top_k_equals_the_share_of_draws_ranked_k_or_better(fit, lower_is_better):
    ranks = direct_ranks(fit, lower_is_better)
    for k in (1, 3, 9):
        table = fit.top_k(k=k, lower_is_better=lower_is_better)
        assert list(table.columns) == ["treatment", "k", "probability", "mcse"]
        assert list(table["treatment"]) == list(fit.treatments)
        assert (table["k"] == k).all()
        hit = ranks <= k
        np.testing.assert_allclose(table["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
        np.testing.assert_allclose(table["mcse"], binomial_mcse(hit), atol=1e-12)
    assert table["mcse"].gt(0).any()


def test_top_k_of_several_k_stacks_the_single_tables(fit):
    both = fit.top_k(k=[1, 3], lower_is_better=True)
    assert list(both["k"]) == [1] * 10 + [3] * 10
    for k in (1, 3):
        one = fit.top_k(k=k, lower_is_better=True)
        np.testing.assert_array_equal(both.loc[both["k"] == k, "probability"], one["probability"])


def test_direction_flips_the_ranking(fit):
    lower = fit.top_k(k=1, lower_is_better=True).set_index("treatment")["probability"]
    higher = fit.top_k(k=1, lower_is_better=False).set_index("treatment")["probability"]
    assert lower.idxmax() == "DRG stimulation"  # largest pain reduction
    assert higher.idxmax() != "DRG stimulation"
    # best with lower values better is last with higher values better (no ties)
    last = fit.top_k(k=9, lower_is_better=False).set_index("treatment")["probability"]
    np.testing.assert_allclose(lower, 1 - last, atol=1e-12)


def test_top_1_is_p_best_of_sucra(fit):
    top = fit.top_k(k=1, lower_is_better=True)
    sucra = fit.sucra(lower_is_better=True)
    np.testing.assert_array_equal(top["probability"].to_numpy(), sucra["p_best"].to_numpy())


# ------------------------------------------------------------------ cumulative ranks
def test_cumulative_rank_probabilities(fit):
    cum = fit.rank_probabilities(lower_is_better=True, cumulative=True)
    plain = fit.rank_probabilities(lower_is_better=True)
    n = len(fit.treatments)
    assert list(cum.columns) == list(range(1, n + 1)) and list(cum.index) == list(fit.treatments)
    assert (cum[n] == 1.0).all()  # exactly: the share of draws with rank <= T
    assert (np.diff(cum.to_numpy(), axis=1) >= 0).all()
    np.testing.assert_allclose(cum.to_numpy(), np.cumsum(plain.to_numpy(), axis=1), atol=1e-12)
    ranks = direct_ranks(fit, True)
    direct = np.stack([(ranks <= k).mean(axis=(0, 1)) for k in range(1, n + 1)], axis=1)
    np.testing.assert_allclose(cum.to_numpy(), direct, atol=1e-12)
    # every k of top_k is a column of the cumulative table
    tidy = fit.top_k(k=range(1, n + 1), lower_is_better=True)
    np.testing.assert_array_equal(tidy["probability"].to_numpy().reshape(n, n).T, cum.to_numpy())


def test_sucra_is_the_mean_of_the_cumulative_probabilities_over_the_first_ranks(fit):
    for direction in (True, False):
        cum = fit.rank_probabilities(lower_is_better=direction, cumulative=True)
        sucra = fit.sucra(lower_is_better=direction)["sucra"].to_numpy()
        n = cum.shape[1]
        np.testing.assert_allclose(cum.iloc[:, : n - 1].mean(axis=1), sucra, rtol=1e-12)


def test_cumulative_must_be_a_boolean(fit):
    with pytest.raises(ModelSpecError, match="cumulative"):
        fit.rank_probabilities(lower_is_better=True, cumulative="yes")


# ------------------------------------------------------------------- class top k
def test_class_top_k_is_the_share_of_draws_a_member_ranks_k_or_better(fit):
    ranks = direct_ranks(fit, True)
    classes = np.array([fit.network.classes[t] for t in fit.treatments])
    order = list(dict.fromkeys(fit.network.classes[t] for t in fit.treatments))
    table = fit.class_top_k(k=[1, 3], lower_is_better=True)
    assert list(table.columns) == ["class", "k", "probability", "mcse"]
    for k in (1, 3):
        rows = table[table["k"] == k]
        assert list(rows["class"]) == order
        hit = np.stack([(ranks[..., classes == c] <= k).any(axis=-1) for c in order], axis=-1)
        np.testing.assert_allclose(rows["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
        np.testing.assert_allclose(rows["mcse"], binomial_mcse(hit), atol=1e-12)
    best = fit.class_rankings(lower_is_better=True)["p_best"].to_numpy()
    np.testing.assert_allclose(table.loc[table["k"] == 1, "probability"], best, atol=1e-12)
    assert (table.loc[table["k"] == 3, "probability"].to_numpy() >= best).all()


def test_class_top_k_needs_classes():
    data = nb.datasets.load_dataset("therapy_formats")
    plain = nb.fit_network(data, reference="cau", engine="exact", random_seed=1)
    with pytest.raises(ModelSpecError, match="no treatment classes"):
        plain.class_top_k(k=1, lower_is_better=True)


# --------------------------------------------------------------- prob difference
@pytest.mark.parametrize("lower_is_better", [True, False])
@pytest.mark.parametrize("threshold", [0.0, 0.3])
def test_prob_difference_vs_the_reference(fit, lower_is_better, threshold):
    table = fit.prob_difference(threshold=threshold, lower_is_better=lower_is_better)
    assert list(table.columns) == ["treatment", "comparator", "threshold", "probability", "mcse"]
    others = [t for t in fit.treatments if t != REFERENCE]
    assert list(table["treatment"]) == others and (table["comparator"] == REFERENCE).all()
    assert (table["threshold"] == threshold).all()
    draws = full_draws(fit)
    diff = draws[..., 1:] - draws[..., :1]  # the reference is first in treatment order
    hit = diff < -threshold if lower_is_better else diff > threshold
    np.testing.assert_allclose(table["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
    np.testing.assert_allclose(table["mcse"], binomial_mcse(hit), atol=1e-12)
    assert table.attrs["scale"] == "SMD"


def test_threshold_zero_is_the_probability_of_being_better(fit):
    lower = fit.prob_difference(threshold=0, lower_is_better=True)["probability"]
    higher = fit.prob_difference(threshold=0, lower_is_better=False)["probability"]
    np.testing.assert_allclose(lower + higher, 1.0, atol=1e-12)  # continuous draws: no ties
    rel = fit.relative_effects()
    # better (lower) with probability > 1/2 exactly when the posterior median is below 0
    np.testing.assert_array_equal(lower.to_numpy() > 0.5, rel["median"].to_numpy() < 0)
    wider = fit.prob_difference(threshold=0.3, lower_is_better=True)["probability"]
    assert (wider.to_numpy() <= lower.to_numpy()).all() and (wider < lower).any()


def test_prob_difference_vs_another_comparator(fit):
    table = fit.prob_difference(threshold=0.2, lower_is_better=True, comparator="Sham")
    assert (table["comparator"] == "Sham").all() and "Sham" not in set(table["treatment"])
    draws = full_draws(fit)
    names = list(fit.treatments)
    idx = [names.index(t) for t in table["treatment"]]
    diff = draws[..., idx] - draws[..., [names.index("Sham")]]
    np.testing.assert_allclose(table["probability"], (diff < -0.2).mean(axis=(0, 1)), atol=1e-12)


def test_all_pairs_agree_with_the_comparator_form(fit):
    pairs = fit.prob_difference(threshold=0.3, lower_is_better=True, all_pairs=True)
    n = len(fit.treatments)
    assert len(pairs) == n * (n - 1)
    assert not (pairs["treatment"] == pairs["comparator"]).any()
    for c in fit.treatments:
        one = fit.prob_difference(threshold=0.3, lower_is_better=True, comparator=c)
        rows = pairs[pairs["comparator"] == c].reset_index(drop=True)
        assert list(rows["treatment"]) == list(one["treatment"])
        np.testing.assert_array_equal(rows["probability"], one["probability"])
        np.testing.assert_array_equal(rows["mcse"], one["mcse"])
    # better than c by > 0.3 and c better than t by > 0.3 cannot both hold
    fwd = pairs.set_index(["treatment", "comparator"])["probability"]
    back = fwd.copy()
    back.index = back.index.swaplevel()
    assert (fwd + back.reindex(fwd.index) <= 1 + 1e-12).all()


def test_ratio_scale_threshold_for_log_odds_ratios(binomial_fit):
    f = binomial_fit
    assert f.network.measure == "logOR"
    ratio = f.prob_difference(threshold=1.25, lower_is_better=False, scale="ratio")
    same = f.prob_difference(threshold=0.8, lower_is_better=False, scale="OR")  # |log| margin
    log = f.prob_difference(threshold=np.log(1.25), lower_is_better=False)
    np.testing.assert_array_equal(ratio["probability"], same["probability"])
    np.testing.assert_allclose(ratio["probability"], log["probability"], atol=1e-12)
    assert ratio.attrs["scale"] == "OR" and log.attrs["scale"] == "logOR"
    assert (ratio["threshold"] == 1.25).all()
    draws = full_draws(f)
    ref = list(f.treatments).index(f.reference)
    idx = [list(f.treatments).index(t) for t in ratio["treatment"]]
    hit = draws[..., idx] - draws[..., [ref]] > np.log(1.25)
    np.testing.assert_allclose(ratio["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
    np.testing.assert_allclose(ratio["mcse"], arviz_mcse(hit), rtol=1e-10, atol=1e-15)
    with pytest.raises(ModelSpecError, match="finite ratio > 0"):
        f.prob_difference(threshold=0, lower_is_better=False, scale="ratio")


# ----------------------------------------------------------------- MCMC MCSE
def test_mcmc_mcse_is_arviz_mcse_of_the_indicator_draws(mcmc_fit):
    f = mcmc_fit
    assert f.engine == "pymc" and f.idata["posterior"]["d"].sizes["chain"] == 2
    ranks = direct_ranks(f, True)
    top = f.top_k(k=2, lower_is_better=True)
    hit = ranks <= 2
    np.testing.assert_allclose(top["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
    np.testing.assert_allclose(top["mcse"], arviz_mcse(hit), rtol=1e-10, atol=1e-15)
    draws = full_draws(f)
    ref = list(f.treatments).index("cau")
    table = f.prob_difference(threshold=0.1, lower_is_better=True)
    idx = [list(f.treatments).index(t) for t in table["treatment"]]
    hit = draws[..., idx] - draws[..., [ref]] < -0.1
    np.testing.assert_allclose(table["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
    np.testing.assert_allclose(table["mcse"], arviz_mcse(hit), rtol=1e-10, atol=1e-15)
    # autocorrelation counts: the MCSEs are not the binomial ones
    assert not np.allclose(table["mcse"], binomial_mcse(hit), rtol=1e-3)


# ------------------------------------------------------------------ meta-regression
def test_decisions_at_covariate_values_use_the_shifted_effects():
    data = nb.datasets.load_dataset("therapy_formats")
    rng = np.random.default_rng(3)
    studies = list(dict.fromkeys(data["study"]))
    x = dict(zip(studies, rng.normal(50, 10, len(studies)).round(1), strict=True))
    f = nb.fit_network(data.assign(severity=data["study"].map(x)), reference="cau",
                       covariates="severity", engine="exact", random_seed=5)  # fmt: skip
    shift = 20.0 - f.posterior.regression.center["severity"]
    post = f.idata["posterior"]
    beta = post["beta"].sel(term=post["beta"]["term"].values[0])
    shifted = (post["d"] + beta * shift).transpose("chain", "draw", "treatment")
    names = [str(t) for t in shifted["treatment"].values]
    table = f.prob_difference(threshold=0.1, lower_is_better=True, at={"severity": 20.0})
    idx = [names.index(t) for t in table["treatment"]]
    hit = shifted.values[..., idx] < -0.1
    np.testing.assert_allclose(table["probability"], hit.mean(axis=(0, 1)), atol=1e-12)
    centre = f.prob_difference(threshold=0.1, lower_is_better=True)
    assert not np.allclose(table["probability"], centre["probability"])


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("k", [0, 11, 1.0, True, "3", [], [1, 1], [1, 12]])
def test_bad_k_is_refused(fit, k):
    with pytest.raises(ModelSpecError, match="^k ") as err:
        fit.top_k(k=k, lower_is_better=True)
    assert err.value.rule == "bad-option"


def test_bad_class_k_is_refused(fit):
    with pytest.raises(ModelSpecError, match="from 1 to 10"):
        fit.class_top_k(k=11, lower_is_better=True)


@pytest.mark.parametrize("threshold", [-0.1, np.nan, np.inf, "0.3", None, True])
def test_bad_threshold_is_refused(fit, threshold):
    with pytest.raises(ModelSpecError, match="threshold must be") as err:
        fit.prob_difference(threshold=threshold, lower_is_better=True)
    assert err.value.rule == "bad-option"


@pytest.mark.parametrize("scale", ["ratio", "OR", "bogus", 1.0])
def test_bad_scale_is_refused(fit, scale):
    with pytest.raises(ModelSpecError, match="scale") as err:
        fit.prob_difference(threshold=0.3, lower_is_better=True, scale=scale)
    assert err.value.rule == "bad-option"


def test_ratio_scale_is_refused_for_a_continuous_outcome(fit):
    with pytest.raises(ModelSpecError, match="continuous outcome has no ratio scale"):
        fit.prob_difference(threshold=0.8, lower_is_better=True, scale="ratio")


def test_unknown_comparator_and_conflicting_options_are_refused(fit):
    # an unknown treatment name raises the library's UnknownTreatmentError, as relative_effects
    with pytest.raises(UnknownTreatmentError, match="'Placebo' is not in the network"):
        fit.prob_difference(threshold=0.3, lower_is_better=True, comparator="Placebo")
    with pytest.raises(ModelSpecError, match="not both"):
        fit.prob_difference(threshold=0.3, lower_is_better=True, comparator="Sham",
                            all_pairs=True)  # fmt: skip
    with pytest.raises(ModelSpecError, match="all_pairs"):
        fit.prob_difference(threshold=0.3, lower_is_better=True, all_pairs="yes")


@pytest.mark.parametrize("method", ["top_k", "class_top_k", "prob_difference"])
def test_direction_is_required(fit, method):
    kwargs = {"k": 1} if method != "prob_difference" else {"threshold": 0.3}
    assert fit.network.lower_is_better is None
    with pytest.raises(ModelSpecError, match="benefit direction is unknown"):
        getattr(fit, method)(lower_is_better=None, **kwargs)
    with pytest.raises(ModelSpecError, match="lower_is_better must be True or False"):
        getattr(fit, method)(lower_is_better=1, **kwargs)
    with pytest.raises(TypeError):
        getattr(fit, method)(**kwargs)  # no default
