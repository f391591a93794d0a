"""Fits with the collapsed sampler (``tau`` by NUTS, ``d`` exactly given ``tau``; issue 13).

The sampler's correctness at fit level: its draws against the exact posterior, in Monte Carlo
standard errors, for the collapsed and the full model on the same data; its options; and the
layout and reproducibility of its draws. Its calibration is in ``tests/analyses/test_sbc.py``.
"""

import numpy as np
import pytest
from scipy.stats import norm

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError

TSD2 = {"prior_d": nb.Normal(0, 100), "prior_tau": nb.Uniform(0, 5)}


def _fit(collapse, seed=3, **kw):
    return nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", random_seed=seed,
        collapse=collapse, **{**TSD2, **kw},
    )  # fmt: skip


@pytest.mark.parametrize("collapse", [True, False])
def test_collapsed_and_full_models_agree_with_the_exact_posterior(collapse):
    """|z| <= z*, the 3-sigma level Bonferroni-adjusted over the table's statistics (as in
    ``tests/engines/test_exact.py``): a correct sampler fails with probability <= 0.27%."""
    fit = _fit(collapse, draws=2000)
    assert ("collapsed" in fit.idata["posterior"].attrs) == collapse
    table = fit.compare_exact()
    z_star = norm.ppf(1 - 0.0027 / (2 * len(table)))
    worst = table.loc[table["z"].abs().idxmax()]
    assert abs(worst["z"]) <= z_star, worst.to_dict()


def test_collapsed_draws_have_the_layout_of_the_full_model_and_are_reproducible():
    first, again = _fit(True), _fit(True)
    post = first.idata["posterior"]
    assert list(post["d"].coords["treatment"].values) == [
        t for t in first.treatments if t != "Placebo"
    ]
    assert post["d"].shape == (4, 1000, 4) and post["tau"].shape == (4, 1000)
    np.testing.assert_array_equal(post["d"].values, again.idata["posterior"]["d"].values)
    other = _fit(True, seed=4).idata["posterior"]["d"].values
    assert not np.array_equal(post["d"].values, other)
    # d varies with tau draw by draw (drawn given each tau, not once per fit)
    assert np.unique(post["d"].values[..., 0]).size == post["d"].values[..., 0].size


def test_collapse_is_chosen_by_network_size_and_refused_where_it_cannot_apply():
    assert "collapsed" in _fit(None).idata["posterior"].attrs  # 7 studies: collapsed
    social = nb.datasets.load_dataset("social_anxiety")
    with pytest.raises(ModelSpecError, match="collapse=True") as err:
        nb.fit_network(social, effects="fixed", collapse=True)
    assert err.value.rule == "bad-option"
    with pytest.raises(ModelSpecError, match="collapse"):
        nb.fit_network(social, collapse="yes")
    with pytest.raises(ModelSpecError, match="collapse=True"):
        nb.fit_network(social, classes="class", class_model="common", collapse=True)
