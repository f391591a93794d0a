"""Batch fitting on Dask (issue 16): ``fit_many`` and the analyses' ``client=``.

One real ``LocalCluster`` (2 worker processes, 1 thread each) for the module: results on it must
equal serial results bit for bit (seeds derive from the batch seed and the item key), a bad item
gives its error record while the others complete, a worker killed mid-batch loses no item, and
the analyses give the same tables with and without a client.
"""

import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nma_bayes as nb
from nma_bayes.analyses.batch import BatchError, item_seed
from nma_bayes.analyses.calibration import SBCSettings, run_sbc, simulate_from_prior
from nma_bayes.base.errors import ModelSpecError, NMAConvergenceWarning

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
SMALL = SBCSettings(n_treatments=4, studies=(4, 8))
#: Short PyMC fits: the sampler path, a couple of seconds each.
PYMC = {"engine": "pymc", "draws": 200, "tune": 200, "chains": 2}


def _networks(n: int, seed: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    return {f"net{i}": simulate_from_prior(SMALL, rng)[0] for i in range(n)}


@pytest.fixture(scope="module")
def client():
    # the workers must import this checkout of nma_bayes, not the installed copy: they inherit
    # the environment of the process that starts them
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), old) if p)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=50,  # CRITICAL only: the killed worker's test logs errors by design
    )  # fmt: skip
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
    if old is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = old


def _quiet_pymc():
    """Short PyMC runs may flag R-hat/ESS: the draws are compared, not their quality."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", category=NMAConvergenceWarning)
    return ctx


def _draws(fit) -> dict:
    post = fit.idata["posterior"]
    return {name: np.asarray(post[name]) for name in ("d", "tau") if name in post}


def _assert_same_fits(a: dict, b: dict):
    assert list(a) == list(b)
    for key in a:
        assert a[key].seed == b[key].seed
        da, db = _draws(a[key]), _draws(b[key])
        assert da.keys() == db.keys() and da
        for name in da:
            assert np.array_equal(da[name], db[name]), (key, name)


# ------------------------------------------------------------------ identical to serial
def test_fits_on_the_cluster_equal_serial_fits_bit_for_bit(client):
    nets = _networks(4)
    serial = nb.fit_many(nets, engine="exact", random_seed=7, progress=False)
    dask = nb.fit_many(nets, engine="exact", random_seed=7, progress=False, client=client)
    _assert_same_fits(serial, dask)
    assert [fit.seed for fit in dask.values()] == [item_seed(7, k) for k in nets]
    assert len({fit.seed for fit in dask.values()}) == 4
    # one item refitted alone with its seed reproduces its batch result
    alone = nb.fit_network(nets["net2"], engine="exact", random_seed=dask["net2"].seed)
    assert np.array_equal(_draws(alone)["d"], _draws(dask["net2"])["d"])


def test_pymc_fits_on_the_cluster_equal_serial_fits(client):
    nets = list(_networks(2, seed=9).values())  # a sequence: keys 0 and 1
    ctx = _quiet_pymc()
    try:
        serial = nb.fit_many(nets, random_seed=3, progress=False, **PYMC)
        dask = nb.fit_many(nets, random_seed=3, progress=False, client=client, **PYMC)
    finally:
        ctx.__exit__(None, None, None)
    assert list(dask) == [0, 1]
    _assert_same_fits(serial, dask)


def test_arm_level_and_joint_fits_on_the_cluster_equal_serial_fits(client):
    """Binomial arm-level data and the joint model of d and tau, compiled in the workers (their
    own processes) and here: the same draws (issue 22: fast-math kernels differed)."""
    arms = {"statins": nb.datasets.load_dataset("statins", "arms")}
    ctx = _quiet_pymc()
    try:
        serial = nb.fit_many(arms, random_seed=4, progress=False, likelihood="binomial",
                             reference="control", **PYMC)  # fmt: skip
        dask = nb.fit_many(arms, random_seed=4, progress=False, likelihood="binomial",
                           reference="control", client=client, **PYMC)  # fmt: skip
        nets = _networks(2, seed=13)
        joint = nb.fit_many(nets, random_seed=8, progress=False, collapse=False, **PYMC)
        joint_dask = nb.fit_many(nets, random_seed=8, progress=False, collapse=False,
                                 client=client, **PYMC)  # fmt: skip
    finally:
        ctx.__exit__(None, None, None)
    _assert_same_fits(serial, dask)
    _assert_same_fits(joint, joint_dask)
    assert "mu" in serial["statins"].idata["posterior"]  # the arm-level model was sampled


def test_summaries_equal_serial_and_carry_the_errors(client):
    nets = _networks(3)
    nets["bad"] = nets["net0"].drop(columns="seTE")  # fails validation
    kw = {"engine": "exact", "random_seed": 11, "progress": False, "lower_is_better": True}
    names = ["relative_effects", "sucra", "heterogeneity"]
    serial = nb.fit_many(nets, summarize=names, **kw)
    dask = nb.fit_many(nets, summarize=names, client=client, **kw)
    assert set(dask) == {"relative_effects", "sucra", "tau"}
    for name, table in dask.items():
        pd.testing.assert_frame_equal(serial[name], table)
        assert list(table.columns[:2]) == ["key", "seed"]
        assert list(table["key"].unique()) == ["net0", "net1", "net2"]
        [error] = table.attrs["errors"]
        assert error.key == "bad" and error.error_type == "MissingColumnError"
        assert "seTE" in error.message and error.seed == item_seed(11, "bad")
    one = nb.fit_many(nets, summarize="tau", client=client, **kw)
    pd.testing.assert_frame_equal(one, dask["tau"])
    assert set(one["parameter"]) >= {"tau"}


def test_a_bad_item_gives_its_error_record_and_the_others_complete(client):
    nets = _networks(2)
    nets["bad"] = nets["net1"].drop(columns="seTE")
    fits = nb.fit_many(nets, engine="exact", random_seed=1, progress=False, client=client)
    assert list(fits) == ["net0", "net1", "bad"]
    assert isinstance(fits["bad"], BatchError) and fits["bad"].error_type == "MissingColumnError"
    assert "MissingColumnError" in fits["bad"].traceback
    assert all(isinstance(fits[k], nb.NetworkFit) for k in ("net0", "net1"))


# ------------------------------------------------------------------- the analyses
def test_sbc_with_a_client_equals_sbc_without(client):
    serial = run_sbc(4, engine="exact", settings=SMALL, seed=3)
    dask = run_sbc(4, engine="exact", settings=SMALL, seed=3, client=client)
    assert len(serial) == 4 * 4 and set(serial["replicate"]) == {0, 1, 2, 3}
    pd.testing.assert_frame_equal(serial, dask)


def test_leave_one_out_with_a_client_equals_leave_one_out_without(client):
    df = nb.datasets.load_dataset("parkinsons")
    kw = {"lower_is_better": True, "engine": "exact", "random_seed": 2}
    serial = nb.leave_one_out(df, **kw)
    dask = nb.leave_one_out(df, client=client, **kw)
    assert (dask.studies["method"] == "refit").sum() > 3
    for table in ("effects", "heterogeneity", "rankings"):
        pd.testing.assert_frame_equal(getattr(serial, table)(), getattr(dask, table)())
    pd.testing.assert_frame_equal(serial.studies.drop(columns="seconds"),
                                  dask.studies.drop(columns="seconds"))  # fmt: skip


def test_sensitivity_and_nodesplit_with_a_client_equal_without(client):
    df = nb.datasets.load_dataset("therapy_formats")
    priors = {"HN(0.5)": nb.HalfNormal(0.5), "U(0, 5)": nb.Uniform(0, 5)}
    kw = {"reference": "cau", "lower_is_better": True, "random_seed": 4}
    serial = nb.prior_sensitivity(df, priors, **kw)
    dask = nb.prior_sensitivity(df, priors, client=client, **kw)
    pd.testing.assert_frame_equal(serial, dask)
    assert dask.attrs == serial.attrs and list(dask["prior"].unique()) == list(priors)
    pairs = nb.splittable_comparisons(nb.Network.from_contrasts(df, reference="cau"))[:3]
    split = nb.nodesplit(df, pairs, reference="cau", random_seed=4)
    split_dask = nb.nodesplit(df, pairs, reference="cau", random_seed=4, client=client)
    assert len(split) == 3
    pd.testing.assert_frame_equal(split, split_dask)


# ------------------------------------------------------------------- a worker killed
def test_a_worker_killed_mid_batch_loses_no_item(client):
    nets = _networks(8, seed=21)
    # long enough to be killed inside a fit: the full (not collapsed) model, ~0.5 s a fit warm
    long = PYMC | {"draws": 1000, "tune": 1000, "collapse": False}
    out = {}
    ctx = _quiet_pymc()
    try:
        thread = threading.Thread(target=lambda: out.update(fits=nb.fit_many(
            nets, random_seed=5, progress=False, client=client, **long)))  # fmt: skip
        pids = client.run(os.getpid)
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [addr for addr, tasks in client.processing().items() if tasks]
            if busy:  # as soon as a worker holds a task of the batch
                break
            time.sleep(0.05)
        assert busy and thread.is_alive()  # killed while the batch runs
        os.kill(pids[busy[0]], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        serial = nb.fit_many(nets, random_seed=5, progress=False, **long)
    finally:
        ctx.__exit__(None, None, None)
    assert busy[0] not in client.run(os.getpid)  # that worker is gone (its nanny starts another)
    _assert_same_fits(serial, out["fits"])
    assert len(out["fits"]) == 8


# ------------------------------------------------------------------------- errors
def test_client_must_be_a_distributed_client():
    nets = _networks(1)
    with pytest.raises(ModelSpecError, match="distributed.Client") as info:
        nb.fit_many(nets, client=object(), engine="exact")
    assert info.value.rule == "bad-option"
    with pytest.raises(ModelSpecError, match="distributed.Client"):
        run_sbc(1, settings=SMALL, client="tcp://scheduler:8786")


def test_without_dask_a_client_asks_for_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ModelSpecError, match=r'pip install "nma_bayes\[dask\]"'):
        nb.fit_many(_networks(1), client=object(), engine="exact")
    with pytest.raises(ModelSpecError, match=r"nma_bayes\[dask\]"):
        nb.leave_one_out(nb.datasets.load_dataset("parkinsons"), lower_is_better=True,
                         client=object())  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"summarize": "sucra"}, "lower_is_better"),
        ({"summarize": "league"}, "summarize"),
        ({"summarize": []}, "summarize"),
        ({"random_seed": "1"}, "random_seed"),
        ({"progress": 1}, "progress"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        nb.fit_many(_networks(1), engine="exact", **kwargs)


def test_networks_must_be_a_mapping_or_a_sequence():
    with pytest.raises(ModelSpecError, match="mapping"):
        nb.fit_many(_networks(1)["net0"], engine="exact")


def test_item_seeds_are_stable_and_distinct():
    seeds = [item_seed(1, k) for k in ("a", "b", 0, ("a", 1))]
    assert seeds == [item_seed(1, k) for k in ("a", "b", 0, ("a", 1))]
    assert len(set(seeds)) == 4 and all(0 <= s < 2**31 for s in seeds)
    assert item_seed(2, "a") != item_seed(1, "a")
