"""Exact GLS (common-effect) estimates against netmeta's published/computed values.

These are deterministic: the reference values are given to 4 decimals, so the tolerance is the
rounding of the reference (5e-5) plus a little for netmeta's rounded inputs.
"""

import numpy as np
import pytest

import nma_bayes as nb

CASES = [
    # data set, file, reference source, reference treatment, quantity
    ("senn2013", "contrasts", "computed_netmeta_algorithm", "plac", "relative_effect_MD"),
    (
        "senn2013",
        "contrasts_netmeta_allpairs",
        "computed_netmeta_algorithm",
        "plac",
        "relative_effect_MD",
    ),
    # all-pairs form: the base-arm variance is derived from the three pairwise SEs of Breiman 2001
    (
        "therapy_formats",
        "contrasts_netmeta_allpairs",
        "book_saved_netmeta_object",
        "cau",
        "relative_effect_SMD",
    ),
    ("parkinsons", "contrasts", "computed_netmeta_algorithm", "Placebo", "relative_effect"),
]


@pytest.mark.parametrize(("name", "kind", "source", "ref", "quantity"), CASES)
def test_gls_matches_netmeta_common_effect(name, kind, source, ref, quantity):
    net = nb.Network.from_contrasts(nb.datasets.load_dataset(name, kind), reference=ref)
    mean, cov = nb.gls_estimate(net)
    table = nb.datasets.reference_results(name)
    table = table[(table.source == source) & (table.model == "FE") & (table.quantity == quantity)]
    table = table.set_index("treatment")
    assert set(table.index) == set(mean.index)
    tol = 3e-4 if name == "parkinsons" else 1e-4  # parkinsons inputs are rounded to 2-3 dp
    np.testing.assert_allclose(mean[table.index], table["mean"], atol=tol)
    np.testing.assert_allclose(
        np.sqrt(np.diag(cov.loc[table.index, table.index])), table["sd"], atol=tol
    )


def test_gls_with_prior_shrinks_towards_prior_mean():
    net = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"), reference="Placebo")
    flat, _ = nb.gls_estimate(net)
    tight, _ = nb.gls_estimate(net, prior_sd=0.1)
    assert np.all(np.abs(tight) < np.abs(flat))
    vague, _ = nb.gls_estimate(net, prior_sd=1e4)
    np.testing.assert_allclose(vague, flat, atol=1e-6)
