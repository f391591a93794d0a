"""fit_network and NetworkFit behaviour: seeds, reuse, errors, warnings, equivalent inputs."""

import warnings

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError, NMAConvergenceWarning, UnknownTreatmentError
from nma_bayes.engines import nuts as sampling

# Enough for clean diagnostics on parkinsons (tau ESS ~1000); a warm fit takes well under 1 s.
SMALL = {"draws": 1000}


def _arm_level_network():
    """A 3-arm study (A, B, C) and two 2-arm studies, from arm means and SEs."""
    arms = {
        "s1": {"A": (1.0, 0.20), "B": (0.6, 0.25), "C": (0.3, 0.22)},
        "s2": {"A": (0.9, 0.15), "B": (0.5, 0.18)},
        "s3": {"B": (0.7, 0.20), "C": (0.5, 0.21)},
        "s4": {"A": (1.2, 0.30), "C": (0.6, 0.28)},
    }
    return arms


def _contrasts(arms, *, multi_arm_form):
    rows = []
    for study, a in arms.items():
        names = list(a)
        if len(names) == 2 or multi_arm_form == "base":
            base = names[0]
            for t in names[1:]:
                rows.append(
                    {
                        "study": study,
                        "treat1": t,
                        "treat2": base,
                        "TE": a[t][0] - a[base][0],
                        "seTE": np.hypot(a[t][1], a[base][1]),
                        "se_base": a[base][1] if len(names) > 2 else np.nan,
                    }
                )
        else:
            for i, t2 in enumerate(names):
                for t1 in names[i + 1 :]:
                    rows.append(
                        {
                            "study": study,
                            "treat1": t1,
                            "treat2": t2,
                            "TE": a[t1][0] - a[t2][0],
                            "seTE": np.hypot(a[t1][1], a[t2][1]),
                            "se_base": np.nan,
                        }
                    )
    return pd.DataFrame(rows)


def test_three_arm_base_and_pairwise_forms_give_the_same_posterior():
    arms = _arm_level_network()
    base_df = _contrasts(arms, multi_arm_form="base")
    pair_df = _contrasts(arms, multi_arm_form="pairwise")
    assert len(pair_df) == len(base_df) + 1
    kw = {"reference": "A", "random_seed": 11, "prior_tau": nb.HalfNormal(0.5), "draws": 2000}
    fit_base = nb.fit_network(base_df, **kw)
    fit_pair = nb.fit_network(pair_df, **kw)
    # exact: same likelihood, so the same log-density at any point
    m1 = nb.build_model(fit_base.network, fit_base.spec)
    m2 = nb.build_model(fit_pair.network, fit_pair.spec)
    point = {"d": np.array([-0.3, -0.6]), "tau_log__": np.log(0.2)}
    assert m1.compile_logp()(point) == pytest.approx(m2.compile_logp()(point), rel=1e-12)
    # sampled: posterior means agree within 4 Monte Carlo standard errors
    a = fit_base.relative_effects(all_pairs=True)
    b = fit_pair.relative_effects(all_pairs=True)
    pd.testing.assert_frame_equal(a[["treatment", "comparator"]], b[["treatment", "comparator"]])
    mcse = fit_base.diagnostics().set_index("parameter")["mcse_mean"]
    assert np.all(np.abs(a["mean"] - b["mean"]) < 4 * np.sqrt(2) * mcse.max())


def test_same_seed_same_draws_other_seed_other_draws():
    df = nb.datasets.load_dataset("parkinsons")
    f1 = nb.fit_network(df, random_seed=5, **SMALL)
    f2 = nb.fit_network(df, random_seed=5, **SMALL)
    f3 = nb.fit_network(df, random_seed=6, **SMALL)
    np.testing.assert_array_equal(f1.idata.posterior["d"].values, f2.idata.posterior["d"].values)
    np.testing.assert_array_equal(
        f1.idata.posterior["tau"].values, f2.idata.posterior["tau"].values
    )
    assert not np.array_equal(f1.idata.posterior["d"].values, f3.idata.posterior["d"].values)
    assert f1.seed == 5


@pytest.mark.filterwarnings(
    # An unseeded fit is random by design, so a rare divergence (about 1 run in 40 here) may be
    # reported; this test checks reproducibility from the recorded seed only.
    "ignore::nma_bayes.base.errors.NMAConvergenceWarning"
)
def test_same_seed_same_draws_whatever_compiled_before():
    """Compiled models come from a fixed template, so the session's history does not matter."""
    df = nb.datasets.load_dataset("parkinsons")
    sampling.clear_compiled_cache()
    first = nb.fit_network(df, reference="Placebo", random_seed=3, **SMALL)
    sampling.clear_compiled_cache()
    other = nb.Network.from_contrasts(
        nb.datasets.load_dataset("therapy_formats"), reference="cau"
    )  # same structure bucket, compiled first this time
    nb.fit_network(other, random_seed=1, **SMALL)
    second = nb.fit_network(df, reference="Placebo", random_seed=3, **SMALL)
    np.testing.assert_array_equal(
        first.idata.posterior["d"].values, second.idata.posterior["d"].values
    )


def test_unseeded_fit_records_a_seed_that_reproduces_it():
    df = nb.datasets.load_dataset("parkinsons")
    f1 = nb.fit_network(df, **SMALL)
    f2 = nb.fit_network(df, random_seed=f1.seed, **SMALL)
    np.testing.assert_array_equal(f1.idata.posterior["d"].values, f2.idata.posterior["d"].values)


@pytest.mark.filterwarnings(
    # This test is about compiled-model reuse. The 6-study subset under a half-N(0, 0.5^2) prior
    # gives one divergent transition in 4000 at this seed (about 1 run in 40 does, at tau ~ 0.8);
    # that is reported as a convergence warning, which is not what this test checks.
    "ignore::nma_bayes.base.errors.NMAConvergenceWarning"
)
def test_second_fit_of_same_structure_does_not_recompile(monkeypatch):
    df = nb.datasets.load_dataset("parkinsons")
    nb.fit_network(df, random_seed=1, prior_tau=nb.HalfNormal(2.0), **SMALL)
    import nutpie

    def no_compile(*args, **kwargs):
        raise AssertionError("recompiled")

    monkeypatch.setattr(nutpie, "compile_pymc_model", no_compile)
    # new prior numbers, new data (a subset of studies): same structure, no compile
    sub = df[df.study != "Lieberman 1998"]
    fit = nb.fit_network(
        sub, reference="Placebo", random_seed=2, prior_tau=nb.HalfNormal(0.5), **SMALL
    )
    assert fit.network.n_studies == 6
    assert fit.spec.prior_tau == nb.HalfNormal(0.5)


def test_named_coordinates_and_reference_handling():
    fit = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), reference="Placebo", random_seed=3, **SMALL
    )
    coords = list(fit.idata.posterior["d"].coords["treatment"].values)
    assert coords == [t for t in fit.treatments if t != "Placebo"]
    vs_prami = fit.relative_effects("Pramipexole")
    assert set(vs_prami["comparator"]) == {"Pramipexole"}
    assert "Placebo" in set(vs_prami["treatment"])
    with pytest.raises(UnknownTreatmentError, match="Placebos"):
        fit.relative_effects("Placebos")


def test_lower_is_better_is_required_and_boolean():
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), random_seed=3, **SMALL)
    with pytest.raises(TypeError):
        fit.sucra()  # no default direction
    with pytest.raises(ModelSpecError, match="lower_is_better"):
        fit.rank_probabilities(lower_is_better="yes")


def test_fixed_effect_fit_has_no_heterogeneity():
    fit = nb.fit_network(
        nb.datasets.load_dataset("parkinsons"), effects="fixed", random_seed=3, **SMALL
    )
    assert "tau" not in fit.idata.posterior
    with pytest.raises(ModelSpecError, match="fixed-effect"):
        fit.heterogeneity()
    assert list(fit.summary().index) == [f"d[{t}]" for t in fit.treatments if t != fit.reference]


def test_convergence_problems_are_a_typed_warning():
    df = nb.datasets.load_dataset("parkinsons")
    with pytest.warns(NMAConvergenceWarning, match="bulk ESS < 400"):
        fit = nb.fit_network(df, random_seed=1, draws=20, tune=50, chains=2)
    assert any("ESS" in p for p in fit.problems)
    assert "convergence problems" in repr(fit)


def test_well_converged_fit_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), random_seed=2, draws=1000)
    assert fit.problems == []


def test_bad_input_fails_before_sampling(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("sampled")

    monkeypatch.setattr("nma_bayes.fitting.fit.sample_posterior", boom)
    monkeypatch.setattr("nma_bayes.models.pymc_graph.build_model", boom)
    df = nb.datasets.load_dataset("parkinsons")
    with pytest.raises(nb.MissingColumnError, match="seTE"):
        nb.fit_network(df.drop(columns="seTE"))
    with pytest.raises(UnknownTreatmentError, match="Aspirin"):
        nb.fit_network(df, reference="Aspirin")
    with pytest.raises(ModelSpecError, match="effects"):
        nb.fit_network(df, effects="mixed")
    with pytest.raises(ModelSpecError, match="random_seed"):
        nb.fit_network(df, random_seed=1.5)
    with pytest.raises(ModelSpecError, match="draws"):
        nb.fit_network(df, draws=0)


def test_network_object_accepted_and_reference_conflict_reported():
    df = nb.datasets.load_dataset("parkinsons")
    net = nb.Network.from_contrasts(df, reference="Placebo")
    with pytest.raises(ModelSpecError, match="reference"):
        nb.fit_network(net, reference="Pramipexole")
    with pytest.raises(ModelSpecError, match="already built"):
        nb.fit_network(net, study="trial")


def test_summary_and_html_show_priors_and_escape_names():
    df = nb.datasets.load_dataset("parkinsons").replace(
        {"Cabergoline": "<script>alert(1)</script>"}
    )
    fit = nb.fit_network(
        df,
        reference="Placebo",
        random_seed=4,
        prior_d=nb.Normal(0, 100),
        prior_tau=nb.Uniform(0, 5),
        **SMALL,
    )
    text = fit.describe()
    assert text["prior d"] == "normal(0, 100^2)" and text["prior tau"] == "uniform(0, 5)"
    html = fit._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "uniform(0, 5)" in html
    summary = fit.summary()
    assert list(summary.columns) == [
        "mean",
        "sd",
        "median",
        "ci_lower",
        "ci_upper",
        "r_hat",
        "ess_bulk",
        "ess_tail",
    ]
    assert summary.index[-1] == "tau"


@pytest.mark.filterwarnings(
    # Few draws keep PyMC's Python-level sampler quick; this test checks the path's output
    # structure and the FE posterior mean, not convergence, so the convergence warning is expected.
    "ignore::nma_bayes.base.errors.NMAConvergenceWarning"
)
def test_pymc_sampler_path_gives_the_same_posterior_structure():
    df = nb.datasets.load_dataset("parkinsons")
    fit = nb.fit_network(
        df, effects="fixed", sampler="pymc", random_seed=1, draws=500, tune=500, chains=2, cores=1
    )
    exact, _ = nb.gls_estimate(fit.network, prior_sd=10)
    got = fit.relative_effects().set_index("treatment").loc[exact.index, "mean"]
    # FE posterior is exactly normal; 1000 draws of sd <= 0.53 give MCSE <= 0.03
    np.testing.assert_allclose(got, exact, atol=0.12)
    assert list(fit.idata.posterior["d"].coords["treatment"].values) == list(exact.index)
