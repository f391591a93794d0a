"""What reproducible kernels cost: warm fits with numba fast-math off (as shipped) and on.

nma_bayes compiles PyTensor's numba kernels without fast-math so that a kernel compiled in one
process and the same kernel loaded from PyTensor's disk cache give the same bits (issue 22;
``nma_bayes.engines.determinism``). This script measures what that costs a *warm* fit (compiled
model in memory: sampling and summaries only). For each model it compiles both variants first,
then alternates them ``--repeats`` times, with the seeds 1, 2, ... (the same for both), and
reports the median time of a fit and the time per leapfrog step (the fits' total time over
their kept draws' steps: the two variants follow different trajectories, which may differ in
length, so the per-step ratio is the kernel's cost and the per-fit ratio what a user sees).

    python benchmarks/bench_fastmath.py                 # 5 models, 5 repeats each
    python benchmarks/bench_fastmath.py --repeats 3 --models statins_re smoking_re
"""

import argparse
import contextlib
import statistics
import time
import warnings

import nma_bayes as nb
from nma_bayes.base.errors import NMAConvergenceWarning
from nma_bayes.engines import determinism, nuts

TSD2 = dict(prior_d=nb.Normal(0, 100), prior_tau=nb.Uniform(0, 5))


def _contrast(name, **kw):
    data = nb.datasets.load_dataset(name)
    return lambda seed: nb.fit_network(data, random_seed=seed, **TSD2, **kw)


def _arms(name, **kw):
    data = nb.datasets.load_dataset(name, "arms")
    return lambda seed: nb.fit_network(data, random_seed=seed, draws=2000, tune=2000, **TSD2, **kw)


MODELS = {
    "parkinsons_collapsed": _contrast("parkinsons", reference="Placebo", draws=2000),
    "social_anxiety_full": _contrast("social_anxiety", reference="Waitlist", collapse=False),
    "statins_re": _arms("statins", likelihood="binomial", reference="control"),
    "smoking_re": _arms("smoking", likelihood="binomial", reference="No intervention"),
    "dietary_fat_re": _arms("dietary_fat", likelihood="poisson"),
}


@contextlib.contextmanager
def _fastmath_on():
    """As ``reproducible_numerics`` but with PyTensor's default fast-math (for comparison)."""
    import pytensor
    from threadpoolctl import threadpool_limits

    with (
        pytensor.config.change_flags(numba__fastmath=True),
        threadpool_limits(limits=1, user_api="blas"),
    ):
        yield


def _time(fit, fastmath: bool, seed: int = 1) -> tuple[float, int]:
    """Seconds of one fit and the leapfrog steps of its kept draws."""
    original = nuts.reproducible_numerics
    nuts.reproducible_numerics = _fastmath_on if fastmath else determinism.reproducible_numerics
    try:
        start = time.perf_counter()
        result = fit(seed)
        seconds = time.perf_counter() - start
    finally:
        nuts.reproducible_numerics = original
    return seconds, int(result.idata["sample_stats"]["n_steps"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", NMAConvergenceWarning)
    rows = ["| model | fit, off (s) | fit, on (s) | off / on | per step, off / on |",
            "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name in args.models:
        fit = MODELS[name]
        compiled = {}
        for fastmath in (True, False):  # each variant compiles its own kernels (keyed on it)
            nuts.clear_compiled_cache()
            _time(fit, fastmath)
            compiled[fastmath] = dict(nuts._COMPILED)
        runs = {True: [], False: []}
        for seed in range(1, args.repeats + 1):
            for fastmath in (False, True):
                nuts._COMPILED.clear()
                nuts._COMPILED.update(compiled[fastmath])
                runs[fastmath].append(_time(fit, fastmath, seed))
        off, on = (statistics.median(t for t, _ in runs[v]) for v in (False, True))
        step = [sum(t for t, _ in runs[v]) / sum(n for _, n in runs[v]) for v in (False, True)]
        rows.append(f"| {name} | {off:.2f} | {on:.2f} | {off / on:.3f} | {step[0] / step[1]:.3f} |")
    print("\n".join(rows))  # noqa: T201


if __name__ == "__main__":
    main()
