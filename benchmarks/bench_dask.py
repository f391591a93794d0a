"""Batch fitting on Dask: ``run_sbc`` serially vs on a ``LocalCluster`` (issue 16).

Runs ``run_sbc(N, engine=...)`` in this process, then with a ``LocalCluster`` of ``--workers``
worker processes (one thread each), checks the two tables are identical, and prints a markdown
table: wall times, speed-up, the mean compute time of one task on the workers (from the task
stream) vs the serial time per fit, and the scheduler/transfer overhead per task
``(T_dask - T_first - N t_task / n) * n / N``, where ``T_first`` is the warm-up (worker start and
the first compile). Those numbers feed the scaling model of docs/many_fits.md::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_dask.py --networks 200 --engine pymc
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--engine", default="pymc", choices=["pymc", "exact"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=None, help="PyMC draws (default: package)")
    args = parser.parse_args()
    # the worker processes import this checkout, not an installed copy
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get(
        "PYTHONPATH")]))  # fmt: skip
    import warnings

    from distributed import Client, LocalCluster, get_task_stream

    from nma_bayes.analyses.calibration import run_sbc
    from nma_bayes.base.errors import NMAConvergenceWarning

    warnings.filterwarnings("ignore", category=NMAConvergenceWarning)  # SBC counts ranks
    opts = {"draws": args.draws} if args.draws else None
    kw = {"engine": args.engine, "seed": 1, "fit_options": opts}
    run_sbc(1, **kw)  # compile once here, as each worker does on its first task
    start = time.perf_counter()
    serial = run_sbc(args.networks, **kw)
    t_serial = time.perf_counter() - start

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)  # fmt: skip
    client = Client(cluster)
    t_start = time.perf_counter() - start
    run_sbc(args.workers, client=client, **kw)  # warm every worker (imports, compile)
    t_warm = time.perf_counter() - start - t_start
    start = time.perf_counter()
    with get_task_stream(client) as stream:
        dask = run_sbc(args.networks, client=client, **kw)
    t_dask = time.perf_counter() - start
    client.close()
    cluster.close()
    pd.testing.assert_frame_equal(serial, dask)

    n, w = args.networks, args.workers
    compute = [
        sum(ss["stop"] - ss["start"] for ss in task["startstops"] if ss["action"] == "compute")
        for task in stream.data
    ]
    t_task = sum(compute) / len(compute)
    overhead = (t_dask - n * t_task / w) * w / n
    rows = [
        ("networks, engine", f"{n}, {args.engine}"),
        ("serial wall time (s)", f"{t_serial:.1f}"),
        (f"LocalCluster start, {w} workers (s)", f"{t_start:.1f}"),
        ("worker warm-up: import + first compile (s)", f"{t_warm:.1f}"),
        (f"Dask wall time, {w} workers, warm (s)", f"{t_dask:.1f}"),
        ("speed-up (warm)", f"{t_serial / t_dask:.2f}x"),
        ("speed-up (cold: start + warm-up included)",
         f"{t_serial / (t_dask + t_start + t_warm):.2f}x"),
        ("serial time per fit (ms)", f"{1000 * t_serial / n:.0f}"),
        ("task compute time on a worker (ms)", f"{1000 * t_task:.0f}"),
        ("overhead per task: scheduler, transfers (ms)", f"{1000 * overhead:.1f}"),
        ("tables identical", "yes"),
    ]  # fmt: skip
    print("| quantity | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
