"""Every plot returns a figure that pyplot does not hold, so that Jupyter shows it exactly once.

Jupyter's inline backend draws every figure pyplot holds at the end of a cell, and the cell's
value again if it is a figure: a plot made with pyplot and returned would show twice. Each public
plot is called here and must leave ``pyplot.get_fignums()`` empty while its figure still saves;
a real kernel (nbclient) then runs cells that return a figure and counts the images shown.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib
import nbclient
import nbformat
import pandas as pd
import pytest
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from matplotlib.figure import Figure
from reference_helpers import PARKINSONS_YEAR as YEAR

import nma_bayes as nb
from nma_bayes import plots

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def regression_fit():
    df = nb.datasets.load_dataset("parkinsons").copy()
    df["year"] = df["study"].map(YEAR)
    return nb.fit_network(df, reference="Placebo", covariates="year", engine="exact",
                          random_seed=1)  # fmt: skip


def nodesplit_table() -> pd.DataFrame:
    row = {"treatment": "B", "comparator": "A", "p_value": 0.4}
    for i, source in enumerate(("direct", "indirect", "network")):
        row |= {source: 0.1 * i, f"{source}_lower": 0.1 * i - 0.5, f"{source}_upper": 0.1 * i + 0.5}
    return pd.DataFrame([row, {**row, "treatment": "C"}])


def confidence(fit):
    studies = fit.network.studies
    return nb.cinema(fit, rob=dict.fromkeys(studies, 2), indirectness=dict.fromkeys(studies, 1),
                     mcid=0.3)  # fmt: skip


def dev_dev_table() -> pd.DataFrame:
    return pd.DataFrame({"study": ["s1", "s2", "s3"], "resdev_1": [1.0, 2.0, 0.5],
                         "resdev_2": [1.2, 1.5, 0.7]})  # fmt: skip


def survival_table() -> pd.DataFrame:
    """Two treatments' survival curves, as ``survival_summary(...)["survival"]`` has them."""
    rows = [(t, x, s, s - 0.05, min(s + 0.05, 1.0)) for t, rate in (("A", 0.05), ("B", 0.08))
            for x in (0.0, 6.0, 12.0) for s in [float(2.718281828 ** (-rate * x))]]  # fmt: skip
    return pd.DataFrame(rows, columns=["treatment", "time", "median", "ci_lower", "ci_upper"])


def hazard_table() -> pd.DataFrame:
    """Hazard ratios vs B at three times, as ``nb.hazard_ratios`` has them."""
    steps = ((0.0, 0.8), (3.0, 0.9), (10.0, 1.0))
    rows = [(x, "A", "B", hr, hr * 0.7, hr / 0.7) for x, hr in steps]
    return pd.DataFrame(rows, columns=["time", "treatment", "comparator", "median", "ci_lower",
                                       "ci_upper"])  # fmt: skip


#: One call of every public plot (``nma_bayes.plots.__all__``), given the fixtures.
CALLS = {
    "plot_prob_difference": lambda f: plots.plot_prob_difference(
        f["fit"], threshold=0.3, lower_is_better=True
    ),
    "plot_influence": lambda f: plots.plot_influence(
        nb.leave_one_out(
            nb.datasets.load_dataset("parkinsons"), lower_is_better=True, random_seed=1
        )
    ),
    "plot_network": lambda f: plots.plot_network(f["class_fit"]),
    "plot_forest": lambda f: plots.plot_forest(f["fit"]),
    "plot_league": lambda f: plots.plot_league(f["fit"]),
    "plot_ranks": lambda f: plots.plot_ranks(f["fit"], lower_is_better=True),
    "plot_sucra": lambda f: plots.plot_sucra(f["fit"], lower_is_better=True),
    "plot_class_ranks": lambda f: plots.plot_class_ranks(f["class_fit"], lower_is_better=True),
    "plot_nodesplit": lambda f: plots.plot_nodesplit(nodesplit_table()),
    "plot_dev_dev": lambda f: plots.plot_dev_dev(dev_dev_table()),
    "plot_leverage": lambda f: plots.plot_leverage(f["fit"]),
    "plot_contribution": lambda f: plots.plot_contribution(
        nb.contribution_matrix(nb.datasets.load_dataset("parkinsons"))
    ),
    "plot_netheat": lambda f: plots.plot_netheat(f["fit"]),
    "plot_funnel": lambda f: plots.plot_funnel(
        f["fit"], order=["cau", "wlc", "ind", "grp", "tel", "ush", "gsh"]
    ),
    "plot_thresholds": lambda f: plots.plot_thresholds(f["fit"], lower_is_better=True),
    "plot_confidence": lambda f: plots.plot_confidence(confidence(f["fit"]), kind="forest"),
    "plot_trace": lambda f: plots.plot_trace(f["fit"]),
    "plot_rank_diagnostics": lambda f: plots.plot_rank_diagnostics(f["fit"]),
    "plot_regression": lambda f: plots.plot_regression(f["regression_fit"], "year"),
    "plot_survival": lambda f: plots.plot_survival(survival_table()),
    "plot_hazard_ratios": lambda f: plots.plot_hazard_ratios(hazard_table()),
}


def test_every_public_plot_is_checked():
    assert set(CALLS) == set(plots.__all__)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_plot_leaves_no_pyplot_figure_and_still_saves(name, request):
    import matplotlib.pyplot as plt

    fixtures = {k: request.getfixturevalue(k) for k in ("fit", "class_fit", "regression_fit")}
    assert plt.get_fignums() == []
    fig = CALLS[name](fixtures)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [], f"{name} left its figure in pyplot"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    image = plt.imread(io.BytesIO(buf.getvalue()), format="png")
    assert image.shape[0] > 10 and image.shape[1] > 10
    assert (image[..., :3] < 0.9).any()  # something was drawn


def test_a_figure_the_user_made_stays_in_pyplot(fit):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plots.plot_forest(fit, ax=ax) is fig
    assert plots.plot_network(fit, ax=ax) is fig
    assert plt.get_fignums() == [fig.number]


# ------------------------------------------------------------------ in a real kernel
class _ThisPythonKernelManager(AsyncKernelManager):
    """A kernel of this interpreter (``sys.executable -m ipykernel_launcher``)."""

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="this Python (tests)",
            language="python",
        )


SETUP = f"""\
import sys
sys.path.insert(0, {str(REPO)!r})  # this checkout's nma_bayes, as the tests use
import nma_bayes as nb
assert nb.__file__.startswith({str(REPO)!r}), nb.__file__
fit = nb.fit_network(nb.datasets.load_dataset("parkinsons"), engine="exact", random_seed=1)
"""
CELLS = {
    "network": "nb.plot_network(fit)",
    "forest": "fig = nb.plot_forest(fit)\nfig",
    "trace": "nb.plot_trace(fit)",  # drawn by ArviZ through pyplot, then let go
    "saved": "import io\nfig = nb.plot_sucra(fit, lower_is_better=True)\n"
    "fig.savefig(io.BytesIO(), format='png')\nfig",
    # control: a figure pyplot holds, also returned, shows twice (the problem avoided above)
    "pyplot-control": "import matplotlib.pyplot as plt\nfig = plt.figure()\n"
    "fig.add_subplot().plot([0, 1])\nfig",
}


def _images(cell) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def test_a_returned_figure_shows_once_in_jupyter():
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(SETUP)]
        + [nbformat.v4.new_code_cell(code) for code in CELLS.values()]
    )
    nbclient.NotebookClient(
        notebook, kernel_name="python3", kernel_manager_class=_ThisPythonKernelManager,
        timeout=300, allow_errors=False, resources={"metadata": {"path": str(REPO)}},
    ).execute()  # fmt: skip
    shown = {name: _images(cell) for name, cell in zip(CELLS, notebook.cells[1:], strict=True)}
    assert shown == {"network": 1, "forest": 1, "trace": 1, "saved": 1, "pyplot-control": 2}
