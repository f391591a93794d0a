"""Same seed, same draws: in any process, after any other fit, from a cold or a warm cache.

Each probe is a fresh Python process (``reproducible_fits.py``) with its own PyTensor compile
folder (``base_compiledir``), its own numba cache folder and its own nma_bayes cache folder, so
the first probe starts with every cache empty, exactly as a new installation does. Four seeded
NUTS fits are compared by a digest of every posterior draw, bit for bit:

* the statins random-effects fit (arm-level binomial, the reference test's settings), whose
  draws differed between a process with an empty PyTensor cache and a warm one (issue 22);
* the thrombolytics fixed-effect fit (binomial), compiled with an empty PyTensor cache right
  after a binomial random-effects fit of the battery: under PyTensor's default fast-math its
  draws differ from a warm process's (the negative control of ``engines/determinism.py``);
* the joint model of ``d`` and ``tau`` (``collapse=False``) on contrast data;
* the collapsed model (``tau`` by NUTS, ``d`` drawn given ``tau``);
* a survival model (the second-order fractional polynomial, ``engines.survival``).

Between them, the battery fits other layouts, the same layouts with other priors and data,
classes, a meta-regression, a binomial random-effects model and the exact engine. Probe 1 (empty
caches) fits statins first, then the battery, then the other targets (compiled cold, or reused
from the battery, after other fits); probe 2 (warm caches) fits every target, the battery, and
every target again (compiled models reused in the process); probe 3 (warm) fits the targets
alone. Every digest of a target must be the same.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("reproducible_fits.py")
TARGETS = ("statins_re", "thrombolytics_fe", "full", "collapsed", "survival")


def run_fits(caches: Path, *steps: str) -> dict:
    """Run ``reproducible_fits.py`` on ``steps`` in a fresh process with the cache folders."""
    flags = f"base_compiledir={caches / 'pytensor'}"
    old = os.environ.get("PYTENSOR_FLAGS")
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"{old},{flags}" if old else flags,
        "NUMBA_CACHE_DIR": str(caches / "numba"),
        "NMA_BAYES_CACHE_DIR": str(caches / "nma_bayes"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    proc = subprocess.run([sys.executable, str(SCRIPT), *steps], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_seeded_fits_are_identical_from_cold_and_warm_caches_and_after_other_fits(tmp_path):
    cold = run_fits(tmp_path, "statins_re", "battery", *TARGETS[1:])
    assert list((tmp_path / "pytensor").rglob("*.nbi")), "PyTensor did not use its cache folder"
    warm = run_fits(tmp_path, *TARGETS, "battery", *TARGETS)
    alone = run_fits(tmp_path, *TARGETS)
    for target in TARGETS:
        (first,) = cold[target]
        assert warm[target] == [first, first], target  # warm, and again after the battery
        assert alone[target] == [first], target
