"""A compiled model that survives the process: nutpie's wrappers, made cacheable on disk.

nutpie compiles a PyMC model into two C callbacks (the log density with its gradient, and the
"expand" function that writes the traced variables), ``numba.cfunc`` wrappers around the numba
kernels PyTensor generates. PyTensor caches its kernels on disk, but nutpie's wrappers close over
the kernel dispatchers and the data arrays, which numba cannot cache ("dynamic globals"), so every
process pays ~7 s of type inference and LLVM for them (issue 13's profile).

This module builds equivalent wrappers that numba *can* cache:

* everything that varies between processes or fits is read at call time from nutpie's
  ``user_data`` record: the kernels' native addresses, the numbers of parameters, and each data
  array's pointer, size and shape (the record keeps nutpie's ``shared`` layout, so
  :meth:`CompiledPyMCModel.with_data` keeps working);
* a kernel is called through its address with numba's own calling convention (a small
  intrinsic, after nutpie pull request #334), which turns an exception in the kernel into an
  error code;
* the wrapper source depends only on the layout (dtype and rank of each data array, the kernels'
  return types): it is generated, written once to a content-addressed file in the cache folder
  and compiled with ``cache=True``, so a later process loads it in milliseconds.

Every compile is checked: the new wrapper's log density and gradient at the initial point must
equal PyTensor's own; on any failure (or ``NMA_BAYES_CACHE=0``) the model is compiled by nutpie's
own ``compile_pymc_model`` instead, with a :class:`CompiledCacheWarning` when something was wrong.
The cache folder is keyed on the versions of everything that shapes the compiled code, so a stale
entry is never loaded; files are written to a temporary name and linked into place, so two
processes filling an empty cache at once are safe. A damaged entry (a file that is not the
generated source, e.g. truncated or not UTF-8, a folder in its place, numba cache files that do
not load) is removed and rebuilt once, with one warning. Under :func:`require_disk_cache` (used
by :func:`nma_bayes.warmup`) a model that cannot be cached raises :class:`CompiledCacheError`.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import importlib.util
import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from .wrapper_source import wrapper_source

__all__ = [
    "CacheClearError",
    "CompiledCacheError",
    "CompiledCacheWarning",
    "cache_dir",
    "clear_cache",
    "compile_model",
    "FORMAT_VERSION",
    "require_disk_cache",
]

#: Version of the generated wrapper format (part of the cache key).
FORMAT_VERSION = 1
#: Environment variable overriding the cache folder.
CACHE_DIR_ENV = "NMA_BAYES_CACHE_DIR"
#: Environment variable turning the disk cache off (``0``, ``false``, ``no``, ``off``).
CACHE_ENV = "NMA_BAYES_CACHE"
_PREFIX = "nma_bayes_wrap_"
#: The package's folder: warnings point at the first frame outside it (the user's call).
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


#: Set by :func:`require_disk_cache`: a model that cannot be cached raises instead.
_REQUIRED = contextvars.ContextVar("nma_bayes_require_disk_cache", default=False)


class CompiledCacheWarning(UserWarning):
    """The disk cache of compiled models could not be used as is (rebuilt or bypassed)."""


class CompiledCacheError(RuntimeError):
    """A model could not be cached on disk where that was required (:func:`require_disk_cache`)."""


class CacheClearError(OSError):
    """The disk cache could not be cleared: ``failed`` paths were not removed, ``removed`` were."""

    def __init__(self, message: str, removed: list, failed: list):
        super().__init__(message)
        self.removed, self.failed = list(removed), list(failed)


def _enabled() -> bool:
    return os.environ.get(CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def cache_root() -> Path:
    r"""Return the folder of nma_bayes's caches, following the platform convention.

    ``$NMA_BAYES_CACHE_DIR`` if set; else ``%LOCALAPPDATA%\\nma_bayes\\Cache`` on Windows,
    ``~/Library/Caches/nma_bayes`` on macOS and ``$XDG_CACHE_HOME/nma_bayes`` (default
    ``~/.cache/nma_bayes``) elsewhere.
    """
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "nma_bayes" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "nma_bayes"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "nma_bayes"


def version_key() -> str:
    """Hash of everything that shapes the compiled wrappers (a stale entry is never used)."""
    import llvmlite
    import numba
    import pytensor

    from .light_import import import_nutpie

    nutpie = import_nutpie()

    from .. import __version__

    parts = [f"nma_bayes={__version__}", f"pytensor={pytensor.__version__}",
             f"numba={numba.__version__}", f"llvmlite={llvmlite.__version__}",
             f"nutpie={nutpie.__version__}", f"numpy={np.__version__}",
             f"python={sys.version_info[:3]}", f"format={FORMAT_VERSION}"]  # fmt: skip
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """Return the folder of the compiled wrappers of this combination of versions."""
    return cache_root() / f"compiled-{version_key()}"


def clear_cache() -> list[Path]:
    """Empty the disk cache of compiled models (every version); return the entries removed.

    Every entry of the cache folder named ``compiled-*`` is removed: the versioned folders, and
    a stray file or link of that name (the name is nma_bayes's, and such a file would block the
    folder of its version). Nothing else is touched, nor the cache folder itself, nor the
    in-process cache (:func:`nma_bayes.engines.nuts.clear_compiled_cache`).

    Returns
    -------
    list of Path
        The entries removed (empty when the cache folder does not exist).

    Raises
    ------
    CacheClearError
        The cache folder exists but is not a folder (it is left alone), cannot be listed, or an
        entry could not be removed; its ``removed`` lists what was removed nonetheless.
    """
    root = cache_root()
    if not os.path.lexists(root):
        return []
    if not root.is_dir():
        raise CacheClearError(
            f"the cache folder {root} is not a folder, so no compiled model is cached there (it "
            f"was left alone); remove it, or set {CACHE_DIR_ENV} to a folder.", [], [root]
        )  # fmt: skip
    try:  # not Path.glob, which reads an unlistable folder as empty
        entries = sorted(p for p in root.iterdir() if p.name.startswith("compiled-"))
    except OSError as exc:
        raise CacheClearError(
            f"cannot list the cache folder {root}: {exc.strerror or exc}; check its permissions.",
            [], [root],
        ) from exc  # fmt: skip
    removed, failed = [], []
    for entry in entries:
        try:
            _remove_path(entry)
        except OSError as exc:
            failed.append((entry, exc.strerror or str(exc)))
        else:
            removed.append(entry)
    if failed:
        what = "; ".join(f"{p} ({why})" for p, why in failed)
        raise CacheClearError(
            f"could not remove {len(failed)} cache entr{'y' if len(failed) == 1 else 'ies'}: "
            f"{what}; check the permissions of {root}.", removed, [p for p, _ in failed]
        )  # fmt: skip
    return removed


def _remove_path(path: Path) -> None:
    """Remove a file, a link or a folder tree (nothing if absent; raises ``OSError`` else)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def require_disk_cache():
    """Within this context, a model that cannot be cached on disk raises instead of falling back.

    The cache folder is created (or checked) on entry; :func:`compile_model` then raises
    :class:`CompiledCacheError` (naming the folder, the reason and the fix) where it would
    otherwise warn and compile with nutpie directly. Damaged entries are still rebuilt.

    Raises
    ------
    CompiledCacheError
        The cache is turned off, or its folder cannot be created.
    """
    if not _enabled():
        raise _required_error(None)
    try:
        _cache_folder()
    except OSError as exc:
        raise _required_error(exc) from exc
    token = _REQUIRED.set(True)
    try:
        yield
    finally:
        _REQUIRED.reset(token)


def _required_error(exc: BaseException | None) -> CompiledCacheError:
    """Say why no model can be cached (``exc``; ``None``: the cache is off) and what to do."""
    if exc is None:
        return CompiledCacheError(
            f"the disk cache of compiled models is turned off ({CACHE_ENV}="
            f"{os.environ.get(CACHE_ENV)}), so nothing can be cached; unset {CACHE_ENV}."
        )
    fix = (f"make {cache_root()} a writable folder, or set {CACHE_DIR_ENV} to one (fits work "
           "without the cache, but every new process compiles its models again)")  # fmt: skip
    if not isinstance(exc, OSError):
        fix = "this is unexpected: please report it (fits still work, compiled by nutpie)"
    return CompiledCacheError(
        f"could not cache compiled models in {cache_dir()} ({type(exc).__name__}: {exc}); {fix}."
    )


# ------------------------------------------------------------------------------- compiling
def compile_model(model):
    """Compile a PyMC model for nutpie, with wrappers cached on disk.

    Returns nutpie's ``CompiledPyMCModel``; falls back to ``nutpie.compile_pymc_model`` when the
    cache is turned off or anything about the cached route fails (with a warning then), except
    under :func:`require_disk_cache`, where it raises :class:`CompiledCacheError` instead.
    """
    from .light_import import import_nutpie

    nutpie = import_nutpie()
    if not _enabled():
        if _REQUIRED.get():
            raise _required_error(None)
        return nutpie.compile_pymc_model(model)
    try:
        return _compile_cached(model)
    except Exception as exc:  # noqa: BLE001 - any failure: the uncached route still works
        if _REQUIRED.get():
            raise _required_error(exc) from exc
        warnings.warn(
            CompiledCacheWarning(
                f"The disk cache of compiled models could not be used ({type(exc).__name__}: "
                f"{exc}); compiling with nutpie directly (slower in every new process). Set "
                f"{CACHE_ENV}=0 to skip the attempt."
            ),
            skip_file_prefixes=(_PACKAGE_DIR,),
        )
        return nutpie.compile_pymc_model(model)


def _compile_cached(model):
    """Compile by the cached route of :func:`compile_model` (raises on any problem)."""
    from .light_import import import_nutpie

    NC = import_nutpie().compile_pymc
    from pymc.initial_point import make_initial_point_fn

    # as nutpie.compile_pymc_model: jittered support points, the same PyTensor functions
    start = make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point",
        jitter_rvs=set(model.free_RVs), return_transformed=True,
    )  # fmt: skip
    n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info, reparam = NC._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=NC._wrap_with_lock(start),
    )  # fmt: skip
    keys, data = _shared_arrays(logp_pt, expand_pt)
    logp_keys = [keys[v] for v in logp_pt.get_shared()]
    expand_keys = [keys[v] for v in expand_pt.get_shared()]
    logp_k = _kernel(logp_pt.vm.jit_fn, data, logp_keys)  # (compile result, types, address)
    expand_k = _kernel(expand_pt.vm.jit_fn, data, expand_keys)
    record = _record_dtype(data)
    source = wrapper_source(record, data, (logp_keys, logp_k[1]), (expand_keys, expand_k[1]))
    module = _load_wrappers(source)
    user_data = np.zeros((), dtype=record)
    user_data["fn"]["logp"], user_data["fn"]["expand"] = logp_k[2], expand_k[2]
    user_data["fn"]["n_dim"], user_data["fn"]["n_expanded"] = n_dim, n_expanded
    user_data = NC.update_user_data(user_data, data)
    dims, coords = NC._prepare_dims_and_coords(model, shape_info, reparam)
    compiled = NC.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=module.logp_cfunc, compiled_expand_func=module.expand_cfunc,
        initial_point_func=init_fn, shared_data=data, shared_var_keys=keys, user_data=user_data,
        n_expanded=n_expanded, shape_info=shape_info, logp_func=logp_pt, expand_func=expand_pt,
        reparameterized_names=reparam,
    )  # fmt: skip
    # the wrappers call the kernels by address: the kernels' code stays loaded as long as their
    # dispatchers hold them, and the model holds the dispatchers (logp_func, expand_func)
    arrays = [data[k] for k in logp_keys]
    _self_test(compiled, lambda x: logp_pt.vm.jit_fn(x, *arrays), init_fn)
    return compiled


def _shared_arrays(logp_pt, expand_pt):
    """Collect the PyTensor functions' data arrays under deterministic keys ``s0, s1, ...``.

    nutpie names them by random UUIDs; the generated source refers to the keys, so they must be
    the same in every process for the source (and its cache entry) to be the same.
    """
    keys, data = {}, {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var in keys:
            continue
        key = f"s{len(keys)}"
        keys[var] = key
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False  # the kernels were compiled for read-only arrays
        data[key] = value
    return keys, data


def _kernel(jit_fn, data, keys):
    """Compile (or load from PyTensor's cache) a kernel; return it, its type and address.

    PyTensor's kernels take ``*args`` (the point, then the data arrays, read-only), so numba
    keys their compiled versions on one star-argument tuple.
    """
    import numba
    from numba.core import types

    point = types.Array(types.float64, 1, "C")
    star = types.StarArgTuple.from_types((point, *[numba.typeof(data[k]) for k in keys]))
    jit_fn.compile((star,))
    cres = jit_fn.overloads[(star,)]
    address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    return cres, (star, cres.signature.return_type), int(address)


def _record_dtype(data: dict) -> np.dtype:
    """``user_data``: the kernels' addresses and sizes, then nutpie's ``shared`` layout."""
    shared = [
        ("data", [(k, np.uintp) for k in data]),
        ("size", [(k, np.uintp) for k in data]),
        ("shape", [(k, np.uint, (v.ndim,)) for k, v in data.items()]),
    ]
    fn = [("logp", np.uintp), ("expand", np.uintp), ("n_dim", np.uintp), ("n_expanded", np.uintp)]
    return np.dtype([("fn", fn), ("shared", shared)])


def _load_wrappers(source: str):
    """Import the wrappers of ``source`` from the cache (written there first if new).

    A damaged entry (a generated file that is not ``source``: truncated, altered, not UTF-8, a
    folder; or numba cache files that do not load) is removed with its numba cache files and
    rebuilt once, with a warning.
    """
    folder = _cache_folder()
    name = _PREFIX + hashlib.sha256(source.encode()).hexdigest()[:24]
    path = folder / f"{name}.py"
    for attempt in (1, 2):
        damage = _damage(path, source)
        if damage is None:
            if not os.path.lexists(path):  # (checked above: an existing file holds ``source``)
                _write_once(path, source)  # an unwritable folder raises here: nothing to rebuild
            try:
                return _import(name, path)
            except Exception as exc:  # noqa: BLE001 - e.g. numba cache files that do not load
                if attempt == 2:
                    raise
                damage = f"could not be loaded ({type(exc).__name__}: {exc})"
        elif attempt == 2:  # pragma: no cover - removed, then damaged again by someone else
            raise OSError(f"{path} {damage}, even after it was rebuilt")
        sys.modules.pop(name, None)
        _remove_entry(folder, name)
        warnings.warn(
            CompiledCacheWarning(
                f"A cached compiled model in {folder} was damaged: {path.name} {damage}; "
                "rebuilding it."
            ),
            skip_file_prefixes=(_PACKAGE_DIR,),
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _cache_folder() -> Path:
    """Create the cache folder of this version if needed (replacing a stray file of its name)."""
    folder = cache_dir()
    if os.path.lexists(folder) and not folder.is_dir():  # ``compiled-*`` is ours by name
        folder.unlink()
        warnings.warn(
            CompiledCacheWarning(f"{folder} was not a folder; replaced it by the cache folder."),
            skip_file_prefixes=(_PACKAGE_DIR,),
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _damage(path: Path, source: str) -> str | None:
    """Say what is wrong with the file ``path`` if it exists and does not hold ``source``."""
    if not os.path.lexists(path):
        return None
    if path.is_dir():
        return "is a folder"
    try:
        text = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if text == source.encode("utf-8"):
        return None
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    return "does not hold the generated source (truncated or altered)"


def _write_once(path: Path, source: str) -> None:
    """Write ``source`` to ``path`` unless a file with that content exists (race-safe).

    The text goes to a temporary file first and is hard-linked into place: a reader never sees
    a half-written file, and of two processes writing at once the first link wins (the content
    is the same, since the name is its hash). Anything else at ``path`` (a damaged file, a
    folder) is removed first.
    """
    if os.path.lexists(path):
        if _damage(path, source) is None:
            return
        _remove_path(path)  # a name collision or a damaged file: replace it atomically
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(source, encoding="utf-8")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system: an atomic rename instead
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _import(name: str, path: Path):
    """Import the generated module (compiling or loading its cached ``cfunc`` wrappers).

    The module is registered in ``sys.modules`` before it runs: numba records where a cached
    function comes from, and an unregistered module would be ``<dynamic>`` (not reloadable).
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _remove_entry(folder: Path, name: str) -> None:
    """Delete a generated module and its numba cache files (files or folders in their place)."""
    _remove_path(folder / f"{name}.py")
    for cached in (folder / "__pycache__").glob(f"{name}.*"):
        _remove_path(cached)


def _self_test(compiled, kernel, init_fn) -> None:
    """Check the wrapper against a direct call of the kernel at the initial point (milliseconds).

    The kernel is called from Python with the same read-only arrays, so the same compiled
    version runs (a writable array would make numba compile another one, for seconds).
    """
    import ctypes

    x = np.ascontiguousarray(init_fn(0), dtype=np.float64)
    grad, logp = np.zeros_like(x), np.zeros(())
    ptr = ctypes.POINTER(ctypes.c_double)
    code = compiled.compiled_logp_func.ctypes(
        x.size, x.ctypes.data_as(ptr), grad.ctypes.data_as(ptr), logp.ctypes.data_as(ptr),
        ctypes.c_void_p(compiled.user_data.ctypes.data),
    )  # fmt: skip
    want_logp, want_grad = kernel(x)
    if code != 0 or not (
        np.allclose(logp, want_logp, rtol=1e-10, atol=1e-10)
        and np.allclose(grad, want_grad, rtol=1e-10, atol=1e-10)
    ):
        raise RuntimeError(
            f"the cached wrapper disagrees with PyTensor at the initial point (code {code})"
        )
