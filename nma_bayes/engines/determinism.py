"""Numerics that do not depend on the history of the process: the same seed, the same draws.

A seeded fit must give bit-identical draws for the same data, options, seed and package versions
on one machine, in any process, after any other fit, from a cold or a warm cache, serially or on
a Dask worker. Two process-level settings could break that; both are pinned while a model is
compiled and sampled (:func:`reproducible_numerics`):

* **PyTensor's numba fast-math.** PyTensor compiles each Op to a numba kernel, caches it on
  disk, and links the cached kernels into the kernel of the whole graph. With fast-math
  (reassociation, contraction into fused multiply-adds, reciprocals), LLVM may rearrange the
  arithmetic differently when a sub-kernel was compiled in this process (its IR is inlined and
  optimised together with its caller) and when it was loaded from the disk cache (object code,
  called as is). The log density then differs in its last bit between processes with different
  cache histories, and one ulp inside a NUTS trajectory changes the path (measured: the
  thrombolytics fixed-effect fit after another fit in a process with an empty PyTensor cache
  gave other draws than in a later process). Without fast-math every operation is IEEE-exact as
  written, whichever way the code was linked. PyTensor keys its cache on the flag, so kernels
  compiled here never mix with a user's fast-math kernels.
* **BLAS threads.** An OpenBLAS call may split a product over threads and sum the parts in
  another order; Dask's nanny starts workers with one BLAS thread. The sampler runs with one
  BLAS thread everywhere (its chains already run in parallel).

Bit-identity holds on one machine. Across machines, numba compiles for the host CPU: another
instruction set (AVX-512 against AVX2, ARM against x86) may round differently, so draws agree
there only to Monte Carlo error.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["one_blas_thread", "reproducible_numerics"]


@functools.cache
def _blas_controller():
    """Return threadpoolctl's view of the BLAS libraries, scanned once per process (~3 ms).

    NumPy's and SciPy's BLAS (the only ones the engines call) are loaded before the scan.
    """
    import scipy.linalg  # noqa: F401 - loads SciPy's own BLAS before the scan
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """Context manager holding BLAS to one thread (engine products are small; module doc)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@contextmanager
def reproducible_numerics() -> Iterator[None]:
    """Compile and sample with IEEE-exact numba kernels and one BLAS thread (module doc)."""
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False), one_blas_thread():
        yield
