"""``fit_many``: options validated once before any fit, the diagnostics summary, the direction.

A bad option shared by the batch (``summarize=``, ``engine=``, a misspelt keyword, a bad
``lower_is_better=``) raises one typed error before any item reaches ``fit_network`` (proved by
replacing it with a recorder), while a problem of one item's data stays that item's
:class:`BatchError`. ``summarize="diagnostics"`` gives a tidy table for the exact and the PyMC
engine, and ``lower_is_better=`` is recorded on every fit.
"""

import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.analyses import batch
from nma_bayes.analyses.batch import BatchError, item_seed
from nma_bayes.base.errors import ModelSpecError

#: Short PyMC fits: the sampler path, not the quality of its draws.
PYMC = {"engine": "pymc", "draws": 200, "tune": 200, "chains": 2}


def _networks() -> dict:
    df = nb.datasets.load_dataset("parkinsons")
    return {"a": df, "b": df.iloc[::-1].reset_index(drop=True)}


@pytest.fixture
def fits_attempted(monkeypatch):
    """Record every ``fit_network`` call of the batch (and fail it: none should happen)."""
    calls = []

    def recorder(data, **kwargs):
        calls.append(kwargs)
        raise AssertionError("an item was fitted")

    monkeypatch.setattr(batch, "fit_network", recorder)
    return calls


# ------------------------------------------------------------------ summarize="diagnostics"
def _check_diagnostics(table, nets, seed, **fit_kwargs):
    assert table.attrs["errors"] == [] and table.attrs["random_seed"] == seed
    assert list(table.columns) == ["key", "seed", "parameter", "r_hat", "ess_bulk", "ess_tail",
                                   "mcse_mean", "divergences"]  # fmt: skip
    assert list(table["key"].unique()) == list(nets)
    for key, data in nets.items():
        rows = table[table["key"] == key].reset_index(drop=True)
        alone = nb.fit_network(data, random_seed=item_seed(seed, key), **fit_kwargs)
        expected = alone.diagnostics()
        assert (rows["seed"] == alone.seed).all()
        assert (rows["divergences"] == expected.attrs.pop("divergences")).all()
        pd.testing.assert_frame_equal(rows.drop(columns=["key", "seed", "divergences"]), expected)


def test_diagnostics_summary_of_exact_fits():
    nets = _networks()
    table = nb.fit_many(nets, summarize="diagnostics", engine="exact", random_seed=3,
                        progress=False)  # fmt: skip
    _check_diagnostics(table, nets, 3, engine="exact")
    assert set(table["parameter"]) >= {"tau", "d[Placebo]"}
    assert (table["divergences"] == 0).all()


@pytest.mark.filterwarnings(
    # 200 draws of 2 chains may flag R-hat/ESS (relayed with the item's key): the table's shape
    # and its equality with a fit of the item alone are checked here, not the draws' quality
    "ignore::nma_bayes.base.errors.NMAConvergenceWarning"
)
def test_diagnostics_summary_of_pymc_fits():
    nets = {"a": _networks()["a"]}
    tables = nb.fit_many(nets, summarize=["diagnostics", "tau"], random_seed=5, progress=False,
                         **PYMC)  # fmt: skip
    _check_diagnostics(tables["diagnostics"], nets, 5, **PYMC)
    assert tables["diagnostics"]["divergences"].dtype.kind == "i"


# ------------------------------------------------------------------- summarize= refused
@pytest.mark.parametrize("summarize", [5, True, [["tau"]], ("tau", 3), {"tau": 1}, b"tau"])
def test_summarize_must_be_a_name_or_a_list_of_names(summarize, fits_attempted):
    with pytest.raises(ModelSpecError, match="summarize=") as info:
        nb.fit_many(_networks(), summarize=summarize, engine="exact", progress=False)
    assert info.value.rule == "bad-option"
    assert fits_attempted == []


def test_with_a_client_bad_options_are_refused_before_any_task(monkeypatch):
    distributed = pytest.importorskip("distributed")

    def forbidden(*args, **kwargs):
        raise AssertionError("a task was submitted")

    monkeypatch.setattr(batch, "_run_on_cluster", forbidden)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:  # fmt: skip
        for kwargs in ({"summarize": 5}, {"summarize": True}, {"summarize": [["tau"]]},
                       {"engine": "bogus"}, {"refrence": "Placebo"}):  # fmt: skip
            with pytest.raises(ModelSpecError) as info:
                nb.fit_many(_networks(), client=client, progress=False, **kwargs)
            assert info.value.rule in ("bad-option", "unknown-option"), kwargs


# ------------------------------------------------------------- batch-wide option errors
@pytest.mark.parametrize(
    "kwargs, rule, match",
    [
        ({"engine": "bogus"}, "bad-option", "engine='bogus'"),
        ({"refrence": "Placebo"}, "unknown-option", r"refrence= \(did you mean reference=\?\)"),
        ({"sumarize": "tau"}, "unknown-option", r"did you mean summarize="),
        ({"lower_is_better": "yes"}, "bad-option", "lower_is_better"),
        ({"summarize": "sucra", "lower_is_better": 1}, "bad-option", "lower_is_better"),
        ({"draws": 0}, "bad-option", "draws"),
        ({"effects": "mixed"}, "bad-option", "effects="),
        ({"consistency": "split"}, "bad-option", "consistency="),
        ({"prior_tau": "halfnormal(1)"}, "bad-prior", "prior_tau"),
        ({"smd_method": "cohen"}, "bad-option", "smd_method="),
        ({"likelihood": "gaussian"}, "unknown-likelihood", "likelihood="),
    ],
)
def test_a_bad_shared_option_is_one_error_before_any_fit(kwargs, rule, match, fits_attempted):
    with pytest.raises(ModelSpecError, match=match) as info:
        nb.fit_many(_networks(), progress=False, **kwargs)
    assert info.value.rule == rule
    assert fits_attempted == []


def test_problems_of_one_item_stay_that_items_error_record():
    nets = _networks()
    nets["no_placebo"] = nets["a"][~nets["a"]["treat1"].eq("Placebo")
                                   & ~nets["a"]["treat2"].eq("Placebo")]  # fmt: skip
    nets["no_se"] = nets["a"].drop(columns="seTE")
    fits = nb.fit_many(nets, engine="exact", reference="Placebo", random_seed=1, progress=False)
    assert all(isinstance(fits[k], nb.NetworkFit) for k in ("a", "b"))
    assert isinstance(fits["no_placebo"], BatchError)
    assert fits["no_placebo"].error_type == "UnknownTreatmentError"
    assert isinstance(fits["no_se"], BatchError) and "seTE" in fits["no_se"].message


# ----------------------------------------------------------------------- the direction
@pytest.mark.parametrize("summarize", [None, "sucra"])
def test_lower_is_better_is_recorded_on_every_fit(monkeypatch, summarize):
    nets = _networks()
    built = nb.Network.from_contrasts(nets["a"], lower_is_better=False)
    nets["network"] = built
    recorded = {}
    fit_network = batch.fit_network

    def spy(data, **kwargs):
        fit = fit_network(data, **kwargs)
        recorded[fit.seed] = fit.network.lower_is_better
        return fit

    monkeypatch.setattr(batch, "fit_network", spy)
    out = nb.fit_many(nets, summarize=summarize, lower_is_better=True, engine="exact",
                      random_seed=2, progress=False)  # fmt: skip
    assert recorded == {item_seed(2, key): True for key in nets}
    assert built.lower_is_better is False  # the caller's network is left as it was
    if summarize is None:
        assert all(fit.network.lower_is_better is True for fit in out.values())
