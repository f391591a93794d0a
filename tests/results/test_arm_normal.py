"""The normal likelihood on arm means (``likelihood="normal"``): the arm-based alternative to the
contrast route of ``measure="MD"``.

With vague independent baselines (N(0, 100^2)) integrating the baselines out of the arm-based
model gives the contrast model, so the NUTS draws of the arm model must agree with the exact
posterior of the contrast model within Monte Carlo error (z-scores, 3 sigma made family-wise over
the four effects: z* = 3.5), and its residual deviance, pD and DIC per arm must match TSD2's
arm-based values for parkinsons (Example 5; within 2, the issue's tolerance).
"""

import arviz as az
import numpy as np
import pytest

import nma_bayes as nb

PRIORS = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))


@pytest.mark.reference
@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_arm_means_agree_with_the_exact_contrast_model_and_tsd2(effects):
    arms = nb.datasets.load_dataset("parkinsons", "arms")
    fit = nb.fit_network(
        arms, likelihood="normal", se="se", reference="Placebo", effects=effects,
        draws=2000, tune=2000, random_seed=3, **PRIORS,
    )  # fmt: skip
    assert (fit.network.likelihood, fit.network.measure) == ("normal", "MD")
    contrast = nb.fit_network(
        arms, measure="MD", se="se", reference="Placebo", effects=effects, engine="exact", **PRIORS
    )
    exact = contrast.exact.linear_summary(np.eye(4), 0.95)["mean"]
    d = fit.idata["posterior"]["d"]
    mcse = az.mcse(d.to_dataset(name="x"), method="mean")["x"].to_numpy()
    z = (d.mean(("chain", "draw")).to_numpy() - exact) / mcse
    assert np.all(np.abs(z) < 3.5), z
    ref = nb.datasets.reference_results("parkinsons")
    ref = ref[(ref["source"] == "TSD2") & (ref["model"] == ("FE" if effects == "fixed" else "RE"))]
    want = {q: float(ref.loc[ref["quantity"] == f"{q}_arm", "value"].iloc[0])
            for q in ("resdev", "pD", "DIC")}  # fmt: skip
    got = fit.model_fit().iloc[0]
    for q, value in want.items():
        assert got[q] == pytest.approx(value, abs=2.0), q


def test_normal_arm_data_validation():
    arms = nb.datasets.load_dataset("parkinsons", "arms")
    net = nb.Network.from_data(arms=arms[["study", "treatment", "mean", "sd", "n"]],
                               likelihood="normal", reference="Placebo")  # fmt: skip
    first = arms.iloc[0]
    assert net.trials[0, 0] == pytest.approx(first["sd"] / np.sqrt(first["n"]))  # se = sd/sqrt(n)
    with pytest.raises(nb.MissingColumnError, match="'sd'"):
        nb.Network.from_data(arms=arms[["study", "treatment", "mean"]], likelihood="normal")
    bad = arms.assign(se=arms["se"].where(arms.index != 2, -1.0))
    with pytest.raises(nb.InvalidValueError, match="'se'"):
        nb.Network.from_data(arms=bad, likelihood="normal", se="se")
