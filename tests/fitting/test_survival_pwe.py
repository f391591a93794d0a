"""The piecewise-exponential survival NMA vs gemtcPlus's published PWE fits (issue 27, part 1).

gemtcPlus's articles (``nma_bayes.datasets``, ``grouped_survival``; see its README) ran 2 chains
x 5,000 kept draws and print n_eff as low as 220 for the PWE FE log HRs, so their MCSE is not
small: a compared mean must agree within its rounding (0.0005) plus ``Z_FAMILY`` (3.3, a
Bonferroni bound over the 15 log HRs of a model at 1.5%) combined MCSEs, ours (``sd /
sqrt(ESS)``, our smallest bulk ESS) and theirs at ``REF_ESS = 220``; SDs within 0.71 of that
bound (the MCSE of an SD), medians of the HR tables on the log scale within 1.25 of it. The
priors are gemtcPlus's: ``mu, d ~ N(0, 100^2)`` and, for RE, ``log tau^2 ~ N(1, 1/1.5)``.
DIC: gemtcPlus reports ``-2 log L`` over the 675 intervals; ours is over the aggregated
binomials of each arm and segment, so ``interval_deviance_constant`` is added (exact).
"""

import functools

import numpy as np
import pandas as pd
import pytest
from reference_helpers import usable

import nma_bayes as nb
from nma_bayes.base import errors as E
from nma_bayes.fitting.survival import interval_deviance_constant, pwe_arms

pytestmark = pytest.mark.reference

Z_FAMILY = 3.3
REF_ESS = 220
SEGMENTS = ("[0,3)", "[3,10)", "[10,Inf)")
MODEL = {"fixed": "PWE_FE", "random": "PWE_RE"}


def _data():
    return nb.datasets.load_dataset("grouped_survival", "grouped_tte")


@functools.cache
@usable
def _pwe(effects: str) -> nb.NetworkFit:
    tau = {"prior_tau": nb.LogNormalTau2(1.0, 1.5**-0.5)} if effects == "random" else {}
    return nb.fit_survival(
        _data(),
        cutpoints=[3, 10],
        reference="B",
        effects=effects,
        prior_d=nb.Normal(0, 100),
        random_seed=27,
        draws=2000,
        **tau,
    )


def _reference(model: str, quantity: str) -> pd.DataFrame:
    table = nb.datasets.reference_results("grouped_survival")
    rows = table[(table.source == "gemtcPlus_vignette") & (table.model == model)]
    return rows[rows.quantity == quantity]


def _min_ess(fit) -> float:
    diag = fit.diagnostics().set_index("parameter")
    return float(diag.loc[diag.index.str.startswith(("d[", "beta", "tau")), "ess_bulk"].min())


@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_segment_log_hazard_ratios_match_gemtcplus(effects):
    fit = _pwe(effects)
    ess = _min_ess(fit)
    table = nb.hazard_ratios(fit, [0, 3, 10], scale="logHR")
    assert list(table["segment"].unique()) == list(SEGMENTS)
    for segment in SEGMENTS:
        ref = _reference(MODEL[effects], f"logHR_segment_{segment}").set_index("treatment")
        ours = table[table.segment == segment].set_index("treatment").loc[ref.index]
        bound = Z_FAMILY * ours["sd"] * np.sqrt(1 / ess + 1 / REF_ESS)
        assert (np.abs(ours["mean"] - ref["mean"]) <= 0.0005 + bound).all(), (segment, ours)
        assert (np.abs(ours["sd"] - ref["sd"]) <= 0.0005 + 0.71 * bound).all(), (segment, ours)
    if effects == "random":
        tau = _reference("PWE_RE", "tau").iloc[0]
        het = fit.heterogeneity().loc["tau"]
        bound = Z_FAMILY * het["sd"] * np.sqrt(1 / ess + 1 / REF_ESS)
        assert abs(het["mean"] - tau["mean"]) <= bound
        assert abs(het["median"] - tau["median"]) <= 1.25 * bound


def test_hazard_ratio_tables_match_gemtcplus():
    """The articles' "A vs X" tables: the HR of A relative to each X, medians on the log scale."""
    fit = _pwe("fixed")
    ess = _min_ess(fit)
    table = _reference("PWE_FE", "HR_segment_[3,10)")
    for _, row in table.iterrows():
        ours = nb.hazard_ratios(fit, [5.0], comparator=row["comparator"]).set_index("treatment")
        hr = ours.loc[row["treatment"]]
        sd_log = (np.log(hr["ci_upper"]) - np.log(hr["ci_lower"])) / (2 * 1.96)
        bound = 0.0005 / row["median"] + 1.25 * Z_FAMILY * sd_log * np.sqrt(1 / ess + 1 / REF_ESS)
        assert abs(np.log(hr["median"]) - np.log(row["median"])) <= bound, row


@pytest.mark.parametrize("effects", ["fixed", "random"])
def test_deviance_and_dic_within_two_of_gemtcplus(effects):
    fit = _pwe(effects)
    constant = interval_deviance_constant(_data(), [3, 10])
    totals = fit.model_fit().iloc[0]
    dic = _reference(MODEL[effects], "DIC")["value"].iloc[0]
    deviance = _reference(MODEL[effects], "deviance")["mean"].iloc[0]
    assert abs(totals["DIC"] + constant - dic) <= 2.0
    assert abs(totals["resdev"] + constant - deviance) <= 2.0
    assert totals["n_data"] == 42  # 14 arms x 3 segments


def test_proportional_hazards_has_one_effect_for_all_times():
    fit = nb.fit_survival(
        _data(),
        cutpoints=[3, 10],
        reference="B",
        effects="fixed",
        proportional_hazards=True,
        random_seed=27,
        draws=500,
    )
    table = nb.hazard_ratios(fit, [1, 20])
    first, last = (table[table.time == t].set_index("treatment") for t in (1.0, 20.0))
    pd.testing.assert_frame_equal(first.drop(columns="time"), last.drop(columns="time"))
    assert table["segment"].iloc[0] == "all times (proportional hazards)"


def test_aggregation_is_exact_and_refuses_uneven_widths():
    """Intervals of one arm and segment aggregate to sums of events and numbers at risk."""
    arms, studies = pwe_arms(_data(), [3, 10])
    assert len(arms) == 42 and list(studies["segment"].unique()) == list(SEGMENTS)
    data = _data()
    first = arms.iloc[0]
    rows = data[(data.study == "STUDY2") & (data.treatment == "C") & (data["t.start"] < 3)]
    assert first["study"] == "STUDY2 [0,3)" and first["treatment"] == "C"
    assert (first["events"], first["n"], first["time"]) == (
        rows["n.event"].sum(),
        rows["n.risk"].sum(),
        1.0,
    )
    uneven = data.copy()
    arm = uneven[(uneven.study == "STUDY2") & (uneven.treatment == "C")].index
    uneven = uneven.drop(arm[1]).reset_index(drop=True)  # [0,1) then [2,3): a gap, refused first
    with pytest.raises(E.InvalidValueError):
        pwe_arms(uneven, [3, 10])
    merged = data.copy()
    merged.loc[arm[0], "t.end"] = 2.0
    merged.loc[arm[0], ["n.event", "n.censored"]] += data.loc[
        arm[1], ["n.event", "n.censored"]
    ].to_numpy()
    merged = merged.drop(arm[1]).reset_index(drop=True)
    with pytest.raises(E.ModelSpecError, match="different widths") as info:
        pwe_arms(merged, [3, 10])
    assert info.value.rule == "bad-option"


def test_survival_median_and_rmst_are_exact_for_piecewise_constant_hazards():
    """Against direct integration: S(t) = exp(-int h), S(median) = 1/2, RMST = int S."""
    from scipy.integrate import quad

    from nma_bayes.results.survival import _median, _rmst, cumulative_hazard

    starts = np.array([0.0, 3.0, 10.0])
    log_h = np.log(np.array([[0.02, 0.08, 0.05], [0.3, 0.01, 0.2], [0.001, 0.002, 0.003]]))

    def hazard(t, h):
        return h[np.searchsorted(starts, t, side="right") - 1]

    times = np.array([0.5, 3.0, 7.5, 25.0])
    for row in np.exp(log_h):
        want = [quad(hazard, 0, t, args=(row,), points=[3, 10], limit=200)[0] for t in times]
        got = cumulative_hazard(np.log(row), starts, times)
        np.testing.assert_allclose(got, want, rtol=1e-10)
    med = _median(log_h, starts)
    np.testing.assert_allclose(
        np.exp(-cumulative_hazard(log_h[:2], starts, med[:2])).diagonal(), 0.5
    )
    assert np.isfinite(med[:2]).all() and med[2] > 100  # the third reaches 1/2 only late
    for row in log_h:
        want = quad(lambda t, r=row: np.exp(-cumulative_hazard(r, starts, np.array([t]))[0]),
                    0, 20.0, points=[3, 10], limit=200)[0]  # fmt: skip
        assert _rmst(row, starts, 20.0) == pytest.approx(want, rel=1e-9)


def test_survival_summary_and_plots_of_a_fit():
    fit = _pwe("fixed")
    out = nb.survival_summary(fit, np.arange(0, 37, 3.0), baseline_study="STUDY2", horizon=36)
    curves = out["survival"]
    assert (curves["ci_upper"] <= 1).all() and (curves[curves.time == 0]["mean"] == 1).all()
    # survival decreases in time for every treatment; RMST at most the horizon
    assert (curves.groupby("treatment")["median"].diff().dropna() <= 0).all()
    assert (out["rmst"]["ci_upper"] <= 36).all() and (out["median"]["share_reached"] == 1).all()
    with pytest.raises(E.ModelSpecError, match="baseline_study='STUDY9'"):
        nb.survival_summary(fit, [6], baseline_study="STUDY9")
    external = nb.ExternalBaseline(mu=nb.Normal(-3.0, 0.1))
    for call in (lambda: nb.survival_summary(fit, [6], baseline=external),
                 lambda: nb.hazard_ratios(fit, [6], baseline=external)):  # fmt: skip
        with pytest.raises(E.ModelSpecError, match="one baseline hazard per segment"):
            call()
    fig = nb.plot_survival(curves)
    assert len(fig.axes[0].lines) == fit.network.n_treatments
    hr = nb.hazard_ratios(fit, np.arange(0, 24, 0.5))
    fig = nb.plot_hazard_ratios(hr)
    assert fig.axes[0].get_yscale() == "log" and "vs B" in fig.axes[0].get_ylabel()
