"""Execute every notebook in ``notebooks/`` and check that no cell raises.

The kernel is started with this interpreter (``sys.executable -m ipykernel_launcher``), not with
whatever ``python3`` kernelspec Jupyter would find first (a user-level kernelspec may point at
another Python), so the notebooks run against the same installation of nma_bayes as the tests.
Notebooks read ``NMA_NOTEBOOK_DRAWS`` (posterior draws per chain) to run quickly here.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

import nma_bayes as nb

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DRAWS = "200"
CELL_TIMEOUT_S = 300

#: Notebooks that use the class models (``fit_network(class_model=...)``), which may not exist yet.
NEEDS_CLASS_MODELS = {"psps_t2_case_study.ipynb"}
HAS_CLASS_MODELS = "class_model" in inspect.signature(nb.fit_network).parameters


class _ThisPythonKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is ``sys.executable -m ipykernel_launcher``.

    Handed to nbclient as its ``kernel_manager_class`` (not as an instance) so that nbclient owns
    it and shuts the kernel down and closes its sockets after the run.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (tests)",
            language="python",
        )


def _execute(notebook, cwd: Path) -> None:
    """Run every cell in a fresh kernel; raise ``CellExecutionError`` at the first failing one."""
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        kernel_manager_class=_ThisPythonKernelManager,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()


def _params():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        marks = []
        if path.name in NEEDS_CLASS_MODELS and not HAS_CLASS_MODELS:
            marks.append(
                pytest.mark.xfail(
                    reason="fit_network does not accept class_model yet", strict=False
                )
            )
        yield pytest.param(path, id=path.stem, marks=marks)


def test_notebooks_found():
    names = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    assert {"quickstart.ipynb", "psps_t2_case_study.ipynb"} <= names


def test_kernel_is_this_interpreter(monkeypatch):
    monkeypatch.setenv("NMA_NOTEBOOK_DRAWS", DRAWS)
    code = "import os, sys; print(sys.executable); print(os.environ['NMA_NOTEBOOK_DRAWS'])"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    _execute(notebook, Path.cwd())
    assert notebook.cells[0].outputs[0]["text"].split() == [sys.executable, DRAWS]


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("NMA_NOTEBOOK_DRAWS", DRAWS)  # the kernel inherits the environment
    notebook = nbformat.read(path, as_version=4)
    _execute(notebook, path.parent)
    errors = [
        (i, out.get("ename"), out.get("evalue"))
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    unexecuted = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.get("execution_count") is None
    ]
    assert not unexecuted
