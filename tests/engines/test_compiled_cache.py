"""The disk cache of compiled models (``engines/compiled_cache.py``), in fresh processes.

Each probe is a new Python process with its own cache folder (``NMA_BAYES_CACHE_DIR``), so what
one process wrote is what the next one finds, as for a user starting a new kernel. The probe
fits parkinsons (fixed effects, seeded) and prints a hash of its draws and whether the wrappers
came from numba's disk cache.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nma_bayes as nb
from nma_bayes.engines import compiled_cache as CC

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import hashlib, json, os, warnings
import numpy as np
import nma_bayes as nb
from nma_bayes.engines import nuts
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), reference="Placebo",
                         effects=os.environ.get("PROBE_EFFECTS", "fixed"), random_seed=11,
                         draws=300, tune=300, chains=2)
(compiled,) = nuts._COMPILED.values()
d = np.ascontiguousarray(fit.idata["posterior"]["d"].values)
print(json.dumps({
    "draws": hashlib.sha256(d.tobytes()).hexdigest(),
    "cached": bool(getattr(compiled.compiled_logp_func, "cache_hits", 0)),
    "warnings": [f"{type(w.message).__name__}: {w.message}" for w in caught
                 if "Cache" in type(w.message).__name__],
}))
"""


def probe(cache: Path, **env) -> subprocess.Popen:
    """Start a fresh process running :data:`PROBE` on the cache folder ``cache``."""
    full = {**os.environ, "NMA_BAYES_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-c", PROBE], cwd=ROOT, env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_cold_warm_concurrent_corrupt_and_uncached_processes_give_identical_draws(tmp_path):
    """Issue 13, acceptance 4 and the cache tests, in one sequence of fresh processes:

    1. two processes start at once on an empty cache (concurrent writers): both succeed;
    2. a third finds the wrappers in numba's disk cache (``cache_hits``);
    3. a numba cache entry is damaged: the next process rebuilds it with a warning;
    4. a process with the cache turned off compiles with nutpie's own wrappers.
    Every one of them gives the same draws, bit for bit.
    """
    cache = tmp_path / "cache"
    first = [probe(cache), probe(cache)]
    cold = [result(p) for p in first]
    assert cold[0]["draws"] == cold[1]["draws"]
    assert not cold[0]["warnings"] and not cold[1]["warnings"]
    folder = next(cache.glob("compiled-*"))
    assert len(list(folder.glob("nma_bayes_wrap_*.py"))) == 1  # one layout, written once
    assert not list(folder.glob("*.tmp"))
    warm = result(probe(cache))
    assert warm["cached"] and warm["draws"] == cold[0]["draws"] and not warm["warnings"]
    for entry in (folder / "__pycache__").glob("*.nbc"):
        entry.write_text("garbage")
    rebuilt = result(probe(cache))
    assert rebuilt["draws"] == cold[0]["draws"]
    assert any("rebuilding it" in w for w in rebuilt["warnings"]), rebuilt
    assert result(probe(cache))["cached"]  # and the rebuilt entry loads again
    plain = result(probe(tmp_path / "unused", NMA_BAYES_CACHE="0"))
    assert plain["draws"] == cold[0]["draws"] and not (tmp_path / "unused").exists()


def test_the_collapsed_model_gives_identical_draws_from_a_cold_and_a_warm_cache(tmp_path):
    """The collapsed random-effects model (its Op's kernel cached by PyTensor and numba, the
    wrappers by nma_bayes): a cold and a warm process draw the same ``d`` and ``tau``."""
    cache = tmp_path / "cache"
    cold = result(probe(cache, PROBE_EFFECTS="random"))
    warm = result(probe(cache, PROBE_EFFECTS="random"))
    assert warm["cached"] and not cold["warnings"] and not warm["warnings"]
    assert warm["draws"] == cold["draws"]
    fixed = result(probe(cache))
    assert fixed["draws"] != cold["draws"]  # a different model: the hash has teeth


def test_the_cache_key_changes_with_every_version_that_shapes_the_code(monkeypatch):
    import numba
    import nutpie
    import pytensor

    base = CC.version_key()
    for module, attr in ((numba, "__version__"), (nutpie, "__version__"), (pytensor, "__version__"),
                         (nb, "__version__")):  # fmt: skip
        with monkeypatch.context() as m:
            m.setattr(module, attr, "0.0.0-test")
            assert CC.version_key() != base
    monkeypatch.setattr(CC, "FORMAT_VERSION", CC.FORMAT_VERSION + 1)
    assert CC.version_key() != base
    assert CC.version_key() == CC.version_key()  # deterministic


def test_cache_folder_follows_the_environment_and_clear_empties_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NMA_BAYES_CACHE_DIR", str(tmp_path / "c"))
    assert CC.cache_root() == tmp_path / "c"
    assert CC.cache_dir().parent == tmp_path / "c"
    stale = tmp_path / "c" / "compiled-0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "nma_bayes_wrap_x.py").write_text("x = 1\n")
    CC.cache_dir().mkdir(parents=True, exist_ok=True)
    removed = nb.clear_cache()
    assert stale in removed and CC.cache_dir() in removed
    assert not list((tmp_path / "c").iterdir())
    monkeypatch.delenv("NMA_BAYES_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert CC.cache_root() == tmp_path / "xdg" / "nma_bayes"


def test_cli_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    from nma_bayes.cli import main

    monkeypatch.setenv("NMA_BAYES_CACHE_DIR", str(tmp_path))
    assert main(["cache", "info"]) == 0
    assert capsys.readouterr().out.strip() == str(CC.cache_dir())
    CC.cache_dir().mkdir(parents=True)
    assert main(["cache", "clear"]) == 0
    assert "removed 1 cache folder" in capsys.readouterr().out
    assert not CC.cache_dir().exists()


def test_write_once_never_rewrites_an_identical_file_and_replaces_a_damaged_one(tmp_path):
    path = tmp_path / "m.py"
    CC._write_once(path, "x = 1\n")
    stamp = path.stat().st_mtime_ns
    CC._write_once(path, "x = 1\n")
    assert path.stat().st_mtime_ns == stamp
    path.write_text("x = (\n")  # truncated
    CC._write_once(path, "x = 1\n")
    assert path.read_text() == "x = 1\n" and not list(tmp_path.glob("*.tmp"))


def test_generated_types_round_trip():
    from numba.core import types

    from nma_bayes.engines.wrapper_source import type_source

    cases = [
        types.Array(types.float64, 2, "C", readonly=True),
        types.Array(types.int32, 1, "A"),
        types.Tuple((types.Array(types.float64, 0, "C"), types.Array(types.float64, 1, "A"))),
        types.UniTuple(types.float64, 3),
        types.float64,
    ]
    for t in cases:
        assert eval(type_source(t), {"types": types}) == t  # noqa: S307 - our own source
    with pytest.raises(TypeError):
        type_source(types.voidptr)


def test_warmup_fills_the_disk_cache(tmp_path, monkeypatch):
    from nma_bayes.engines import nuts

    monkeypatch.setenv("NMA_BAYES_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(nuts, "_COMPILED", {})  # as in a new process: no compiled model and
    for name in [m for m in sys.modules if m.startswith("nma_bayes_wrap_")]:  # no wrappers
        monkeypatch.delitem(sys.modules, name)
    assert nb.warmup(buckets=(3,), effects=("fixed",)) == [("fixed", 8)]  # rounded up to 8
    assert len(list(CC.cache_dir().glob("nma_bayes_wrap_*.py"))) == 1
    assert len(list((CC.cache_dir() / "__pycache__").glob("*.nbi"))) == 2  # logp and expand
    with pytest.raises(nb.ModelSpecError):
        nb.warmup(buckets=(0,))
