"""Run every script in ``examples/`` as a subprocess and check that it exits cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_examples_found():
    names = {p.name for p in EXAMPLES.glob("*.py")}
    assert {
        "arm_data_smd.py",
        "class_models.py",
        "nodesplit.py",
        "prior_sensitivity.py",
        "exact_vs_mcmc.py",
        "decisions.py",
    } <= names


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_example_runs(path):
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip()
