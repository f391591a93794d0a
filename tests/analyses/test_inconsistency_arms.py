"""Node-splitting and UME on arm-level likelihoods (binomial logit/cloglog, Poisson, normal arms,
mixed arm + contrast networks) against long JAGS runs, TSD4 and exact computations.

References: the bundled JAGS fits of smoking (``jags_tsd4_ume.csv``, ``jags_nodesplit.csv``: 4
chains, every quantity with ESS >= 4000 and PSRF <= 1.01) and TSD4's published fixed-effect UME of
thrombolytics. Tolerances come from Monte Carlo error: a posterior mean against JAGS, z* times the
combined MCSE of both (ours from ArviZ, JAGS's ``sd / sqrt(ESS)`` from its file); a posterior
median, the same with the MCSE of a median (``sqrt(pi/2) sd / sqrt(ESS)`` of a normal posterior);
against a published value, its rounding plus z* of our MCSE. z* is 3 sigma made family-wise over
the m statistics of one test (Bonferroni, as in ``tests/results/test_arm_likelihoods.py``).
"""

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from reference_helpers import usable
from scipy.special import ndtri

import nma_bayes as nb
from nma_bayes.data.transforms import nodesplit_network, ume_network

pytestmark = pytest.mark.reference

#: TSD4's priors, as in the JAGS runs: d, d_dir, mu ~ N(0, 100^2), tau ~ U(0, 5).
PRIORS = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))
#: multinma's treatment order for smoking (reference first, then alphabetical): the JAGS
#: "multinma" convention puts the inconsistency factor on the later treatment in this order.
MULTINMA_ORDER = ["No intervention", "Group counselling", "Individual counselling", "Self-help"]
MEDIAN_MCSE = np.sqrt(np.pi / 2)  # MCSE of a median / MCSE of a mean, normal posterior


def z_star(m: int) -> float:
    """3 sigma (two-sided 0.27%) made family-wise over ``m`` statistics (Bonferroni)."""
    return float(-ndtri(0.0027 / 2 / m))


def smoking():
    return nb.datasets.load_dataset("smoking", "arms")[["study", "treatment", "events", "n"]]


def jags(kind: str) -> pd.DataFrame:
    return nb.datasets.load_dataset("smoking", kind)


@usable
def smoking_ume():
    return nb.fit_network(smoking(), likelihood="binomial", consistency="ume",
                          reference="No intervention", random_seed=23, **PRIORS)  # fmt: skip


def test_smoking_ume_matches_jags():
    fit = smoking_ume()
    ref = jags("jags_tsd4_ume")
    ref = ref[(ref["model"] == "UME") & (ref["effects"] == "RE")].set_index("quantity", append=True)
    d = fit.idata["posterior"]["d"]
    mcse = az.mcse(d.to_dataset(name="d"), method="mean")["d"]
    rows = ref.xs("d", level="quantity")
    z = z_star(len(rows) + 1)
    for row in rows.itertuples():
        label = f"{row.trt_b} vs {row.trt_a}"  # the UME parameter of trt_b vs trt_a
        ours = float(d.sel(treatment=label).mean())
        tol = z * np.hypot(float(mcse.sel(treatment=label)), row.sd / np.sqrt(row.ess))
        assert ours == pytest.approx(row.mean, abs=tol), label
    tau = ref.xs("tau", level="quantity").iloc[0]
    draws = fit.idata["posterior"]["tau"]
    tau_mcse = float(az.mcse(draws.to_dataset(name="t"), method="mean")["t"])
    tol = z * np.hypot(tau_mcse, tau["sd"] / np.sqrt(tau["ess"]))
    assert float(draws.mean()) == pytest.approx(tau["mean"], abs=tol)
    # model fit: the posterior mean deviance of 50 arms (sd ~ sqrt(2 pD) ~ 9.5) has an MCSE
    # under 0.4 from >= 1000 effective draws; pD's plug-in adds about as much: 4 x 0.4 each
    got = fit.model_fit().iloc[0]
    scalar = ref.reset_index().set_index("quantity")["mean"]
    assert got["n_data"] == scalar["n_data"] == 50
    assert got["resdev"] == pytest.approx(scalar["resdev"], abs=1.6)
    assert got["pD"] == pytest.approx(scalar["pD_fitted"], abs=2.3)  # TSD2's fitted plug-in


def test_smoking_nodesplit_matches_jags_multinma_convention():
    """NUTS node-splits against JAGS (the default for arm-level data, ``engine="auto"``, runs
    the Laplace engine: its splits of smoking are checked in ``tests/engines/test_laplace.py``)."""
    # only convergence notes are allowed (there may be none), the table is checked
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        table = nb.nodesplit(smoking(), likelihood="binomial", treatments=MULTINMA_ORDER,
                             reference="No intervention", engine="pymc", random_seed=23,
                             **PRIORS)  # fmt: skip
    assert table.attrs["engine"] == "pymc"
    assert all(isinstance(w.message, nb.NMAConvergenceWarning) for w in record)
    assert (table["r_hat"] <= 1.05).all() and (table["ess_bulk"] >= 100).all(), table
    ref = jags("jags_nodesplit")
    ref = ref[(ref["convention"] == "multinma") & (ref["effects"] == "RE")]
    assert len(table) == ref[["trt_a", "trt_b"]].drop_duplicates().shape[0] == 6
    z = z_star(3 * len(table))
    for row in table.itertuples():
        pair = {row.treatment, row.comparator}
        mine = ref[ref["trt_a"].isin(pair) & ref["trt_b"].isin(pair)].set_index("quantity")
        # JAGS gives trt_b vs trt_a in TSD4 order; ours is treatment vs comparator
        sign = 1.0 if mine["trt_b"].iloc[0] == row.treatment else -1.0
        # the inconsistency factor sits on the arm of the later treatment in multinma's order,
        # which is our `treatment` (the pseudo-treatment's arm): the same model
        assert mine["omega_arm"].iloc[0] == row.treatment
        for ours, theirs in (("direct", "d_dir"), ("indirect", "d_ind"), ("difference", "omega")):
            sd = (getattr(row, f"{ours}_upper") - getattr(row, f"{ours}_lower")) / (2 * 1.96)
            jags_sd, jags_ess = mine.loc[theirs, "sd"], mine.loc[theirs, "ess"]
            tol = (
                z * MEDIAN_MCSE * np.hypot(sd / np.sqrt(row.ess_bulk), jags_sd / np.sqrt(jags_ess))
            )
            want = sign * mine.loc[theirs, "median"]
            assert getattr(row, ours) == pytest.approx(want, abs=tol), (pair, ours)
        # Bayesian p-value: binomial MC error of two tail shares, 4 x sqrt(p(1-p)/ESS) each
        p = mine["p_bayes"].iloc[0]
        assert row.p_value == pytest.approx(p, abs=8 * np.sqrt(0.25 / row.ess_bulk))


def test_thrombolytics_fixed_effect_ume_matches_tsd4():
    data = nb.datasets.load_dataset("thrombolytics", "arms")
    fit = usable(nb.fit_network)(data, likelihood="binomial", effects="fixed", consistency="ume",
                                 random_seed=23, prior_d=nb.Normal(0, 100))  # fmt: skip
    ref = nb.datasets.reference_results("thrombolytics")
    ref = ref[(ref["source"] == "TSD4") & (ref["model"] == "FE_UME")]
    rows = ref[ref["quantity"] == "relative_effect_logOR"]
    d = fit.idata["posterior"]["d"]
    mcse = az.mcse(d.to_dataset(name="d"), method="mean")["d"]
    z = z_star(len(rows))
    for row in rows.itertuples():
        label = f"{row.treatment} vs {row.comparator}"
        sign = 1.0
        if label not in d["treatment"]:  # a comparison given the other way round
            label, sign = f"{row.comparator} vs {row.treatment}", -1.0
        # published to three decimals by WinBUGS: 0.005 covers rounding and its own MC error
        tol = 0.005 + z * float(mcse.sel(treatment=label))
        assert sign * float(d.sel(treatment=label).mean()) == pytest.approx(row.mean, abs=tol)
    got = fit.model_fit().iloc[0]
    for q in ("resdev", "pD", "DIC"):  # published to one decimal; MC error of a mean deviance
        want = float(ref.loc[ref["quantity"] == q, "value"].iloc[0])
        assert got[q] == pytest.approx(want, abs=2.0), q


def _ume_effect(fit, a: str, b: str) -> tuple[float, float]:
    """Median of the UME effect of ``b`` vs ``a`` and its MCSE (either orientation)."""
    d = fit.idata["posterior"]["d"]
    label, sign = f"{b} vs {a}", 1.0
    if label not in d["treatment"]:
        label, sign = f"{a} vs {b}", -1.0
    x = d.sel(treatment=label)
    mcse = float(az.mcse(x.to_dataset(name="x"), method="median")["x"])
    return sign * float(x.median()), mcse


@pytest.mark.parametrize(
    ("name", "options"),
    [("thrombolytics", dict(likelihood="binomial")),
     ("diabetes", dict(likelihood="binomial", link="cloglog", reference="Diuretic"))],
)  # fmt: skip
def test_fixed_effect_direct_estimate_equals_the_ume_effect(name, options):
    """With fixed effects, a comparison whose direct studies are all two-arm has the same direct
    posterior in its node-split and in the UME model (only those studies inform it; each keeps
    its own baseline): two different transforms of one likelihood must agree within MC error."""
    data = nb.datasets.load_dataset(name, "arms")
    net = nb.Network.from_data(arms=data, **options)
    two_arm = {net.studies[i] for i in range(net.n_studies) if net.n_arms[i] == 2}
    pairs = nb.splittable_comparisons(net)
    ume = ume_network(net)
    chosen = None
    for a, b in pairs:  # the first splittable pair whose direct studies are all two-arm
        split, _ = nodesplit_network(net, a, b)
        direct = [s for s, arms in zip(net.studies, _treatment_sets(net), strict=True)
                  if {a, b} <= arms]  # fmt: skip
        if set(direct) <= two_arm:
            chosen = (a, b)
            break
    assert chosen is not None and f"{chosen[1]} (direct vs {chosen[0]})" in split.treatments
    fit_kw = dict(effects="fixed", random_seed=23, prior_d=nb.Normal(0, 100))
    table = nb.nodesplit(net, [chosen], **fit_kw)
    ume_fit = usable(nb.fit_network)(ume, **fit_kw)
    row = table.iloc[0]
    ume_median, ume_mcse = _ume_effect(ume_fit, *chosen)
    sd = (row["direct_upper"] - row["direct_lower"]) / (2 * 1.96)
    n_eff = row["ess_bulk"]
    tol = z_star(1) * np.hypot(ume_mcse, MEDIAN_MCSE * sd / np.sqrt(n_eff))
    assert row["direct"] == pytest.approx(ume_median, abs=tol)


def _treatment_sets(net) -> list[set]:
    t = net.treatments
    return [{t[net.base[i]], *(t[a] for a in np.asarray(net.arm[i])[np.asarray(net.mask[i])])}
            for i in range(net.n_studies)]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "options"),
    [("dietary_fat", dict(likelihood="poisson", reference="control", **PRIORS)),
     ("certolizumab", dict(likelihood="binomial", reference="Placebo", effects="fixed",
                           prior_d=nb.Normal(0, 100))),
     ("statins", dict(likelihood="binomial", reference="control", effects="fixed",
                      prior_d=nb.Normal(0, 100)))],
)  # fmt: skip
def test_ume_of_a_network_without_loops_is_the_consistency_model(name, options):
    """Without a loop every comparison is against the reference in one orientation, so the UME
    model is the consistency model relabelled: each UME effect equals the consistency effect
    within Monte Carlo error (medians, z* over the effects), and there is nothing to split."""
    data = nb.datasets.load_dataset(name, "arms")
    kw = dict(random_seed=23, **options)
    ume = usable(nb.fit_network)(data, consistency="ume", **kw)
    cons = usable(nb.fit_network)(data, **kw)
    ref = options["reference"]
    others = [t for t in cons.network.treatments if t != ref]
    assert sorted(ume.idata["posterior"]["d"]["treatment"].values) == sorted(
        f"{t} vs {ref}" for t in others
    )
    z = z_star(len(others))
    for t in others:
        u, u_mcse = _ume_effect(ume, ref, t)
        c = cons.idata["posterior"]["d"].sel(treatment=t)
        c_mcse = float(az.mcse(c.to_dataset(name="x"), method="median")["x"])
        assert u == pytest.approx(float(c.median()), abs=z * np.hypot(u_mcse, c_mcse)), t
    with pytest.raises(nb.ModelSpecError, match="no closed") as info:  # nothing to split
        nb.nodesplit(data, likelihood=options["likelihood"])
    assert info.value.rule == "bad-option"


def test_normal_arm_nodesplit_equals_the_exact_contrast_nodesplit():
    """Integrating vague baselines out of the normal arm model gives the contrast model, so the
    node-splits of parkinsons' arm means (the default engine: the Laplace engine) equal the
    exact engine's splits of its mean differences within Monte Carlo error (medians; z* over
    every split and part)."""
    arms = nb.datasets.load_dataset("parkinsons", "arms")
    kw = dict(se="se", reference="Placebo", random_seed=23, **PRIORS)
    arm = nb.nodesplit(arms, likelihood="normal", **kw)
    exact = nb.nodesplit(arms, measure="MD", **kw)
    assert len(arm) == len(exact) > 0
    assert (arm.attrs["engine"], exact.attrs["engine"]) == ("laplace", "exact")
    z = z_star(2 * len(arm))
    for got, want in zip(arm.itertuples(), exact.itertuples(), strict=True):
        assert (got.treatment, got.comparator) == (want.treatment, want.comparator)
        for part in ("direct", "indirect"):
            sd = (getattr(want, f"{part}_upper") - getattr(want, f"{part}_lower")) / (2 * 1.96)
            # the exact engine has no MC error
            tol = z * MEDIAN_MCSE * sd / np.sqrt(got.ess_bulk)
            assert getattr(got, part) == pytest.approx(getattr(want, part), abs=tol + 0.02 * sd)


def test_mixed_network_nodesplit_relabels_arm_and_contrast_studies():
    """In a network of arm-level and contrast studies the split relabels both kinds, and its
    direct estimate agrees with the all-arm network's (the contrast studies' log ORs are the
    normal approximation of their counts: 0.1 allows for it)."""
    df = smoking()
    pair = ("No intervention", "Self-help")
    studies = df.groupby("study", sort=False)["treatment"].agg(set)
    chosen = [s for s, t in studies.items() if t == set(pair)][:2]
    rows = []
    for study in chosen:
        a, b = df[df["study"] == study].itertuples()
        lo = [np.log(x.events / (x.n - x.events)) for x in (a, b)]
        se = np.sqrt(sum(1 / x.events + 1 / (x.n - x.events) for x in (a, b)))
        rows.append((study, b.treatment, a.treatment, lo[1] - lo[0], se))
    contrasts = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])
    mixed = nb.Network.from_data(contrasts=contrasts, arms=df[~df["study"].isin(chosen)],
                                 likelihood="binomial", treatments=MULTINMA_ORDER,
                                 reference="No intervention")  # fmt: skip
    split, pseudo = nodesplit_network(mixed, *pair)
    labels = {split.studies[i]: split.treatments[split.arm[i, 0]] for i in range(split.n_studies)
              if split.n_arms[i] == 2}  # fmt: skip
    direct = [s for s, t in studies.items() if set(pair) <= t]
    assert all(labels[s] == pseudo for s in direct if s in labels)
    assert {split.form[split.studies.index(s)] for s in direct} >= {"two-arm", "outcomes"}
    kw = dict(likelihood="binomial", reference="No intervention", random_seed=23, **PRIORS)
    with warnings.catch_warnings(record=True) as record:  # convergence notes only, if any
        warnings.simplefilter("always")
        got = nb.nodesplit(mixed, [pair], **{k: v for k, v in kw.items() if k != "likelihood"})
        full = nb.nodesplit(df, [pair], treatments=MULTINMA_ORDER, **kw)
    assert all(isinstance(w.message, nb.NMAConvergenceWarning) for w in record)
    sd = (full["direct_upper"].iloc[0] - full["direct_lower"].iloc[0]) / (2 * 1.96)
    # the mixed network: NUTS (the Laplace engine covers arm-level studies only); all arms: Laplace
    assert (got.attrs["engine"], full.attrs["engine"]) == ("pymc", "laplace")
    ess = min(got["ess_bulk"].iloc[0], full["ess_bulk"].iloc[0])
    tol = 0.1 + z_star(1) * MEDIAN_MCSE * np.sqrt(2) * sd / np.sqrt(ess)
    assert got["direct"].iloc[0] == pytest.approx(full["direct"].iloc[0], abs=tol)
