"""A damaged or unusable disk cache of compiled models (``engines/compiled_cache.py``).

* a damaged entry (a generated file that is not UTF-8, truncated or altered, a folder in its
  place, numba cache files that do not load) is rebuilt once, with one warning, and loads
  cleanly afterwards: in process with a tiny numba module, and in fresh processes with a model;
* ``clear_cache`` / ``nma-bayes cache clear`` report only what they removed, and fail when
  something could not be removed;
* ``warmup`` / ``nma-bayes warmup`` fail, naming the folder, the reason and the fix, when
  nothing can be cached (instead of compiling with nutpie and claiming success).
"""

import sys
import warnings

import pytest
from test_compiled_cache import probe, result  # fresh processes on a cache folder

import nma_bayes as nb
from nma_bayes.cli import main
from nma_bayes.engines import compiled_cache as CC
from nma_bayes.engines import nuts

#: A generated module in miniature: a numba function cached on disk, called at import.
TINY = """from numba import njit


@njit(cache=True)
def plus_one(x):
    return x + 1


VALUE = plus_one({token})
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache folder; wrapper modules imported by the test are forgotten after it."""
    monkeypatch.setenv("NMA_BAYES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NMA_BAYES_CACHE", raising=False)
    monkeypatch.setattr(CC, "version_key", lambda: "test")  # no need to import nutpie here
    before = set(sys.modules)
    yield tmp_path / "cache"
    for name in set(sys.modules) - before:
        if name.startswith(CC._PREFIX):
            del sys.modules[name]


def _tiny(cache, token: int):
    """Return the source of a tiny module, its file in the cache, and a loader (a new process:
    the module is imported afresh, its numba function loaded from the cache files)."""
    source = TINY.format(token=token)

    def load():
        module = CC._load_wrappers(source)
        sys.modules.pop(module.__name__, None)
        return module

    module = load()  # written and compiled into the cache
    assert module.VALUE == token + 1 and not module.plus_one.stats.cache_hits
    return source, cache / "compiled-test" / f"{module.__name__}.py", load


def _damage_source(path):
    path.write_bytes(b"\xff\xfe\x00 not text")


def _damage_folder(path):
    path.unlink()
    (path / "inside").mkdir(parents=True)


def _damage_truncated(path):
    path.write_text(path.read_text()[:40])


def _damage_altered(path):
    path.write_text(path.read_text().replace("x + 1", "x + 2"))  # still valid Python


def _damage_numba_index(path):
    for index in (path.parent / "__pycache__").glob("*.nbi"):
        index.write_bytes(b"garbage")


def _damage_numba_data(path):
    for data in (path.parent / "__pycache__").glob("*.nbc"):
        data.unlink()
        data.mkdir()


@pytest.mark.parametrize(
    "damage",
    [_damage_source, _damage_folder, _damage_truncated, _damage_altered, _damage_numba_index,
     _damage_numba_data],
)  # fmt: skip
def test_a_damaged_entry_is_rebuilt_once_with_one_warning_then_loads_cleanly(cache, damage):
    token = 40 + len(damage.__name__)
    source, path, load = _tiny(cache, token)
    assert load().plus_one.stats.cache_hits  # the intact entry loads from the cache
    damage(path)
    with pytest.warns(CC.CompiledCacheWarning, match="damaged.*rebuilding it") as caught:
        assert load().VALUE == token + 1
    assert len(caught) == 1
    assert path.is_file() and path.read_text(encoding="utf-8") == source
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the rebuilt entry is sound
        again = load()
    assert again.VALUE == token + 1 and again.plus_one.stats.cache_hits


def test_a_stray_file_in_place_of_the_version_folder_is_replaced(cache):
    cache.mkdir()
    (cache / "compiled-test").write_text("not a folder")
    with pytest.warns(CC.CompiledCacheWarning, match="was not a folder"):
        _tiny(cache, 7)
    assert (cache / "compiled-test").is_dir()


def test_a_damaged_wrapper_file_is_rebuilt_once_and_every_later_process_uses_the_cache(tmp_path):
    """The defect: a wrapper file that is not UTF-8 (or a folder) escaped the guarded load, so
    every process fell back to nutpie's compile. Now one process rebuilds it with one warning,
    and the next one loads it from numba's disk cache, without a warning, drawing the same."""
    cache = tmp_path / "cache"
    cold = result(probe(cache))
    assert not cold["warnings"]
    (path,) = next(cache.glob("compiled-*")).glob("nma_bayes_wrap_*.py")
    for damage in (_damage_source, _damage_folder):
        damage(path)
        rebuilt = result(probe(cache))
        assert len(rebuilt["warnings"]) == 1 and "rebuilding it" in rebuilt["warnings"][0]
        assert rebuilt["draws"] == cold["draws"] and path.is_file()
        later = result(probe(cache))  # a cached wrapper: not nutpie's fallback
        assert later["cached"] and not later["warnings"], later
        assert later["draws"] == cold["draws"]


# ------------------------------------------------------------------------------- clearing
def test_clear_removes_stray_files_of_our_name_and_reports_only_what_it_removed(cache, capsys):
    cache.mkdir()
    (cache / "compiled-0123").mkdir()
    (cache / "compiled-0123" / "nma_bayes_wrap_x.py").write_text("x = 1\n")
    (cache / "compiled-xyz").write_text("a stray file of our name")
    (cache / "notes.txt").write_text("not ours")
    assert main(["cache", "clear"]) == 0
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]
    out = capsys.readouterr().out
    assert "removed 2 cache folder(s) or stray file(s)" in out and "compiled-xyz" in out
    assert nb.clear_cache() == []  # nothing left to remove


def test_clear_refuses_a_cache_folder_that_is_a_file_and_leaves_it_alone(cache, capsys):
    cache.write_text("a file where the cache folder should be")
    assert main(["cache", "clear"]) == 2
    captured = capsys.readouterr()
    assert "removed" not in captured.out
    assert captured.err.startswith("error: ") and str(cache) in captured.err
    with pytest.raises(OSError, match="is not a folder") as info:
        nb.clear_cache()
    assert isinstance(info.value, CC.CacheClearError)
    assert info.value.removed == [] and info.value.failed == [cache]
    assert cache.read_text() == "a file where the cache folder should be"


def test_clear_says_what_it_could_not_remove_and_exits_non_zero(cache, monkeypatch, capsys):
    cache.mkdir()
    for name in ("compiled-a", "compiled-b"):
        (cache / name).mkdir()
    rmtree = CC.shutil.rmtree

    def locked(path, ignore_errors=False, **options):  # compiled-b cannot be removed
        if path.name != "compiled-b":
            rmtree(path, ignore_errors=ignore_errors, **options)
        elif not ignore_errors:
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(CC.shutil, "rmtree", locked)
    assert main(["cache", "clear"]) == 2
    captured = capsys.readouterr()
    assert "removed 1 cache folder(s)" in captured.out and "compiled-a" in captured.out
    assert "compiled-b" not in captured.out
    assert "could not remove 1 cache entry" in captured.err and "Permission denied" in captured.err
    assert [p.name for p in cache.iterdir()] == ["compiled-b"]


# ------------------------------------------------------------------------------- warming up
def test_warmup_with_a_cache_folder_that_is_a_file_fails_and_names_the_fix(cache, capsys):
    cache.write_text("not a folder")
    assert main(["warmup", "--buckets", "8"]) == 2
    captured = capsys.readouterr()
    assert "compiled" not in captured.out
    err = captured.err
    assert err.startswith("error: could not fill the disk cache") and err.count("\n") == 1
    assert str(cache / "compiled-test") in err and "NMA_BAYES_CACHE_DIR" in err
    assert "writable folder" in err
    with pytest.raises(CC.CompiledCacheError, match="NotADirectoryError"):
        nb.warmup(buckets=(8,), effects=("fixed",))


def test_warmup_with_the_cache_turned_off_fails(cache, monkeypatch, capsys):
    monkeypatch.setenv("NMA_BAYES_CACHE", "0")
    assert main(["warmup", "--buckets", "8"]) == 2
    assert "turned off (NMA_BAYES_CACHE=0)" in capsys.readouterr().err


def test_warmup_into_a_read_only_folder_fails_instead_of_falling_back(cache, monkeypatch, capsys):
    """The folder exists, but the wrapper file cannot be written (read-only; simulated, since
    root may write anywhere): the compile stops there, with no fallback to nutpie and no
    warning, and the command exits 2 naming the folder."""
    monkeypatch.setattr(nuts, "_COMPILED", {})

    def read_only(path, source):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(CC, "_write_once", read_only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # a fallback would warn: recorded, not raised
        assert main(["warmup", "--buckets", "8"]) == 2
    assert not caught and nuts._COMPILED == {}
    captured = capsys.readouterr()
    assert "compiled" not in captured.out
    err = captured.err
    assert err.startswith("error: could not fill the disk cache") and "Permission denied" in err
    assert str(cache / "compiled-test") in err and "writable folder" in err
