"""Build the documentation site with ``mkdocs build --strict`` (broken links, bad API refs fail)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAS_MKDOCS = all(
    importlib.util.find_spec(name) is not None for name in ("mkdocs", "material", "mkdocstrings")
)


@pytest.mark.skipif(not HAS_MKDOCS, reason="mkdocs, mkdocs-material or mkdocstrings not installed")
def test_docs_build_strict(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()


def test_docs_pages_in_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in ("index.md", "getting_started.md", "data.md", "model.md", "examples.md", "api.md"):
        assert (ROOT / "docs" / page).is_file()
        assert page in nav
