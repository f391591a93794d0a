"""Fits from arm-level data (means, SDs, sizes): SMD vs netmeta, MD vs TSD2, exact GLS checks.

Monte Carlo error: SMD fits run 4 x 1000 draws (bulk ESS of every d >= 1500, asserted), so the
MCSE of a posterior mean is <= 0.026 sd <= 0.004 for these SMDs (sd <= 0.15); the MD fits (sd up
to 0.8) run 4 x 5000 draws (MCSE <= 0.01). Tolerances are those of the issue (0.01 for SMDs
vs netmeta, 0.05 vs TSD2) and exceed 3 MCSE.
"""

import numpy as np
import pytest
from reference_helpers import reference, reference_fit

import nma_bayes as nb

pytestmark = pytest.mark.reference


def _ess_ok(fit, min_ess=1500):
    diag = fit.diagnostics().set_index("parameter")
    assert diag["r_hat"].max() <= 1.01 and diag.attrs["divergences"] == 0
    assert diag.loc[diag.index.str.startswith("d["), "ess_bulk"].min() >= min_ess


@pytest.mark.parametrize(
    ("key", "name"), [("parkinsons_arms_smd_fe", "parkinsons"), ("stowe_arms_smd_fe", "stowe2010")]
)
def test_smd_from_arms_fixed_effect_equals_netmeta_common_effect(key, name):
    fit = reference_fit(key)
    _ess_ok(fit)
    assert fit.network.measure == "SMD" and fit.network.smd_method == "netmeta"
    ref = nb.datasets.load_dataset(name, "smd_netmeta_nma").set_index("treatment")
    ours = fit.relative_effects("Placebo").set_index("treatment")
    np.testing.assert_allclose(ours["mean"], ref.loc[ours.index, "common_TE"], atol=0.01)
    # exact: the FE posterior mean under N(0, 100^2) is the conjugate normal posterior, whose
    # GLS limit equals netmeta's common effect to 1e-12 (same SMDs, same exact covariance)
    gls, _ = nb.gls_estimate(fit.network)
    np.testing.assert_allclose(gls, ref.loc[gls.index, "common_TE"], atol=1e-10)


@pytest.mark.parametrize(
    ("key", "model"), [("parkinsons_arms_md_re", "RE"), ("parkinsons_arms_md_fe", "FE")]
)
def test_md_from_arms_matches_tsd2(key, model):
    fit = reference_fit(key)
    _ess_ok(fit)
    ref = reference("parkinsons", "TSD2", model, "relative_effect")
    ours = fit.relative_effects().set_index("treatment").loc[ref.index]
    np.testing.assert_allclose(ours["mean"], ref["mean"], atol=0.05)
    np.testing.assert_allclose(ours["median"], ref["median"], atol=0.05)
    np.testing.assert_allclose(ours["sd"], ref["sd"], atol=0.05)
    if model == "RE":
        tau = reference("parkinsons", "TSD2", "RE", "tau")
        assert fit.heterogeneity().loc["tau", "median"] == pytest.approx(
            tau["median"].iloc[0], abs=0.1
        )


def test_md_from_arms_has_the_contrast_data_likelihood():
    """Arm means/SEs and the published contrasts (rounded to 2-3 dp) give the same GLS."""
    arms = nb.Network.from_arms(
        nb.datasets.load_dataset("parkinsons", "arms"), measure="MD", se="se"
    )
    contrasts = nb.Network.from_contrasts(nb.datasets.load_dataset("parkinsons"))
    a, _ = nb.gls_estimate(arms)
    c, _ = nb.gls_estimate(contrasts)
    np.testing.assert_allclose(a[c.index], c, atol=3e-3)  # contrast inputs are rounded


def test_escalc_and_netmeta_smd_definitions_differ_slightly():
    arms = nb.datasets.load_dataset("stowe2010", "arms")
    e, _ = nb.gls_estimate(nb.Network.from_arms(arms, measure="SMD", reference="Placebo"))
    n, _ = nb.gls_estimate(
        nb.Network.from_arms(arms, measure="SMD", reference="Placebo", smd_method="netmeta")
    )
    diff = np.abs(e - n)
    assert 0 < diff.max() < 0.01


def test_stowe2010_md_from_arms_reproduces_netmeta_random_effects_at_its_tau():
    """Exact: GLS at netmeta's DL tau^2 = 0.1518 equals netmeta's RE estimates (4 decimals)."""
    net = nb.Network.from_arms(
        nb.datasets.load_dataset("stowe2010", "arms"), measure="MD", reference="Placebo"
    )
    mean, cov = nb.gls_estimate(net, tau=np.sqrt(0.1518))
    ref = reference("stowe2010", "computed_netmeta_algorithm", "RE", "relative_effect_MD")
    np.testing.assert_allclose(mean[ref.index], ref["mean"], atol=1e-4)
    np.testing.assert_allclose(
        np.sqrt(np.diag(cov.loc[ref.index, ref.index])), ref["sd"], atol=1e-4
    )


def test_stowe2010_md_fixed_effect_fit_from_arms_equals_exact_posterior():
    fit = nb.fit_network(
        nb.datasets.load_dataset("stowe2010", "arms"), measure="MD", reference="Placebo",
        effects="fixed", prior_d=nb.Normal(0, 100), random_seed=7,
    )  # fmt: skip
    _ess_ok(fit)
    exact, _ = nb.gls_estimate(fit.network, prior_sd=100)
    diag = fit.diagnostics().set_index("parameter")
    mcse = diag.loc[[f"d[{t}]" for t in exact.index], "mcse_mean"].to_numpy()
    got = fit.relative_effects().set_index("treatment").loc[exact.index, "mean"].to_numpy()
    assert np.all(np.abs(got - exact.to_numpy()) < 4 * mcse)
