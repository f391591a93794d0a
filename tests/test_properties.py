"""Property tests (hypothesis) on the data layer and the fixed-effect estimate.

The fixed-effect fit used here is the exact GLS estimate (:func:`nma_bayes.gls_estimate`), which
is the posterior mean of the fixed-effect model under a flat prior; it is deterministic and fast,
so hypothesis can try many networks. Invariances: permuting rows, renaming treatments, flipping
the direction of a contrast (swap treat1/treat2 and negate TE), changing the reference, and (for
arm-level data) changing which arm is listed first leave every pairwise relative effect unchanged
up to relabelling and sign.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import nma_bayes as nb

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def contrast_networks(draw):
    """A connected contrast network; multi-arm studies in pairwise form (any orientation)."""
    n_t = draw(st.integers(3, 6))
    names = [f"T{i}" for i in range(n_t)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    effects = rng.normal(0, 1, n_t)
    studies = [[names[i], names[i + 1]] for i in range(n_t - 1)]  # spanning chain
    for _ in range(draw(st.integers(0, 5))):
        k = draw(st.integers(2, 3))
        studies.append(list(rng.choice(names, size=k, replace=False)))
    rows = []
    for s, arms in enumerate(studies):
        arm_var = rng.uniform(0.01, 0.1, len(arms))
        for a in range(len(arms)):
            for b in range(a + 1, len(arms)):
                te = effects[names.index(arms[b])] - effects[names.index(arms[a])]
                rows.append(
                    (
                        f"s{s}",
                        arms[b],
                        arms[a],
                        te + rng.normal(0, 0.05) * (len(arms) == 2),
                        float(np.sqrt(arm_var[a] + arm_var[b])),
                    )
                )
    return pd.DataFrame(rows, columns=["study", "treat1", "treat2", "TE", "seTE"])


def all_pairs(df, **kwargs):
    """Every pairwise GLS effect as {(treatment, comparator): value}, both directions."""
    net = nb.Network.from_contrasts(df, **kwargs)
    mean, _ = nb.gls_estimate(net)
    full = {net.reference: 0.0, **mean.to_dict()}
    return {(a, b): full[a] - full[b] for a in full for b in full if a != b}


def assert_same(x, y, mapping=None):
    mapping = mapping or {}
    for (a, b), v in x.items():
        np.testing.assert_allclose(y[(mapping.get(a, a), mapping.get(b, b))], v, atol=1e-9)


@SETTINGS
@given(contrast_networks(), st.randoms(use_true_random=False))
def test_row_permutation_invariance(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    assert_same(all_pairs(df), all_pairs(df.iloc[order]))


@SETTINGS
@given(contrast_networks(), st.randoms(use_true_random=False))
def test_treatment_renaming_invariance(df, rnd):
    old = sorted(set(df.treat1) | set(df.treat2))
    new = [f"X{i}" for i in range(len(old))]
    rnd.shuffle(new)  # changes the sorted treatment order too
    mapping = dict(zip(old, new, strict=True))
    renamed = df.assign(treat1=df.treat1.map(mapping), treat2=df.treat2.map(mapping))
    assert_same(all_pairs(df), all_pairs(renamed), mapping)


@SETTINGS
@given(contrast_networks(), st.data())
def test_contrast_direction_invariance(df, data):
    flip = np.array(data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df))))
    flipped = df.copy()
    flipped.loc[flip, ["treat1", "treat2"]] = df.loc[flip, ["treat2", "treat1"]].to_numpy()
    flipped.loc[flip, "TE"] = -df.loc[flip, "TE"]
    assert_same(all_pairs(df), all_pairs(flipped))


@SETTINGS
@given(contrast_networks(), st.data())
def test_reference_invariance(df, data):
    treatments = sorted(set(df.treat1) | set(df.treat2))
    ref = data.draw(st.sampled_from(treatments))
    assert_same(all_pairs(df), all_pairs(df, reference=ref))


@st.composite
def arm_networks(draw):
    """Arm-level continuous data on a connected network (2-4 arms per study)."""
    n_t = draw(st.integers(3, 5))
    names = [f"T{i}" for i in range(n_t)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    studies = [[names[i], names[i + 1]] for i in range(n_t - 1)]
    for _ in range(draw(st.integers(0, 4))):
        studies.append(
            list(rng.choice(names, size=draw(st.integers(2, min(4, n_t))), replace=False))
        )
    rows = [
        (f"s{s}", t, rng.normal(10, 2), rng.uniform(1, 4), int(rng.integers(10, 200)))
        for s, arms in enumerate(studies) for t in arms
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])


def arm_pairs(df, **kwargs):
    net = nb.Network.from_arms(df, **kwargs)
    mean, _ = nb.gls_estimate(net)
    full = {net.reference: 0.0, **mean.to_dict()}
    return {(a, b): full[a] - full[b] for a in full for b in full if a != b}


@SETTINGS
@given(arm_networks(), st.randoms(use_true_random=False), st.sampled_from(["MD", "SMD"]))
def test_base_arm_choice_invariance(df, rnd, measure):
    """Listing another arm first changes each study's base arm, not the estimates.

    Exact for MD, and for the SMD with netmeta's definition (one SD pooled over all arms, so
    SMDs are differences of standardised means and the covariance transforms linearly).
    """
    kwargs = {"measure": measure}
    if measure == "SMD":
        kwargs["smd_method"] = "netmeta"
    parts = []
    for _, g in df.groupby("study", sort=False):
        idx = list(range(len(g)))
        rnd.shuffle(idx)
        parts.append(g.iloc[idx])
    shuffled = pd.concat(parts)
    assert_same(arm_pairs(df, **kwargs), arm_pairs(shuffled, **kwargs))


def test_sampled_fixed_effect_fit_is_invariant_to_reference_and_direction():
    """The same invariances hold for a sampled FE fit, within Monte Carlo error (4 MCSE)."""
    df = nb.datasets.load_dataset("parkinsons")
    flipped = df.copy()
    two_arm = flipped["n_arms"] == 2
    flipped.loc[two_arm, ["treat1", "treat2"]] = df.loc[two_arm, ["treat2", "treat1"]].to_numpy()
    flipped.loc[two_arm, "TE"] = -df.loc[two_arm, "TE"]
    kw = {"effects": "fixed", "prior_d": nb.Normal(0, 100), "random_seed": 3}
    a = nb.fit_network(df, reference="Placebo", **kw)
    b = nb.fit_network(flipped, reference="Cabergoline", **kw)
    ea = a.relative_effects(all_pairs=True).set_index(["treatment", "comparator"])["mean"]
    eb = b.relative_effects(all_pairs=True).set_index(["treatment", "comparator"])["mean"]
    mcse = max(a.diagnostics()["mcse_mean"].max(), b.diagnostics()["mcse_mean"].max())
    assert np.all(np.abs(ea - eb.loc[ea.index]) < 4 * np.sqrt(2) * 2 * mcse)
