"""nutpie imported without the ArviZ meta-package (``engines/light_import.py``), in a fresh process.

A fit loads neither ``arviz`` nor ``arviz_plots`` nor matplotlib (about 0.6 s of every fresh
process); afterwards ``import arviz`` still gives ArviZ itself, and nutpie's stand-in serves the
same functions as ``arviz_base``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import nma_bayes as nb
fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), random_seed=1, draws=200, tune=200)
loaded = {m: m in sys.modules for m in ("arviz", "arviz_plots", "matplotlib")}
import arviz, arviz_base
stand_in = sys.modules["nutpie.sample"].arviz
print(json.dumps({
    "loaded": loaded,
    "real_arviz": hasattr(arviz, "plot_dist") and arviz is not stand_in,
    "same_from_dict": stand_in.from_dict is arviz_base.from_dict,
    "fallback": stand_in.plot_dist is arviz.plot_dist,
}))
"""


def test_a_fit_loads_no_arviz_plots_and_arviz_stays_importable():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["loaded"] == {"arviz": False, "arviz_plots": False, "matplotlib": False}
    assert out["real_arviz"] and out["same_from_dict"] and out["fallback"]
