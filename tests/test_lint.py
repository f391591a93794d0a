"""The package, tests, examples and benchmarks are ruff clean (pyproject rules, incl. B and D)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None, reason="ruff not installed (pip install '.[test]')"
)
def test_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "nma_bayes", "tests", "examples", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
