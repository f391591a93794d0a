"""Working in Jupyter: the progress bar's default, and the rich HTML summary of a fit.

No kernel is started here: the kernel detection is tested with stand-ins for IPython, the
sampler with a stand-in for nutpie that records what it was given, and the HTML by parsing it.
"""

from __future__ import annotations

import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest

import nma_bayes as nb
from nma_bayes.base.errors import ModelSpecError
from nma_bayes.base.html import MAX_EFFECT_ROWS, fit_html, number
from nma_bayes.data.network import Network
from nma_bayes.engines import light_import, nuts
from nma_bayes.engines.nuts import SamplerSettings, in_jupyter_kernel
from nma_bayes.models.spec import ModelSpec

HOSTILE = "<b>Caber</b> & 'goline'"


# ------------------------------------------------------------------ kernel detection
def fake_ipython(monkeypatch, shell=None, *, raises: bool = False):
    """Put a stand-in ``IPython`` module in ``sys.modules`` whose ``get_ipython()`` is ``shell``."""
    module = types.ModuleType("IPython")

    def get_ipython():
        if raises:
            raise RuntimeError("broken IPython")
        return shell

    module.get_ipython = get_ipython
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_no_ipython_imported_means_no_kernel_and_ipython_stays_unimported(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert in_jupyter_kernel() is False
    assert "IPython" not in sys.modules  # detection never imports IPython


def test_a_shell_with_a_kernel_is_a_kernel(monkeypatch):
    fake_ipython(monkeypatch, types.SimpleNamespace(kernel=object()))
    assert in_jupyter_kernel() is True


@pytest.mark.parametrize(
    "shell",
    [None, types.SimpleNamespace(), types.SimpleNamespace(kernel=None)],
    ids=["plain-python-with-ipython-imported", "terminal-ipython", "kernel-none"],
)
def test_other_shells_are_not_kernels(monkeypatch, shell):
    fake_ipython(monkeypatch, shell)
    assert in_jupyter_kernel() is False


def test_a_broken_ipython_is_not_a_kernel(monkeypatch):
    fake_ipython(monkeypatch, raises=True)
    assert in_jupyter_kernel() is False


# ------------------------------------------------------------------ progressbar option
@pytest.mark.parametrize("in_kernel", [True, False])
def test_default_progressbar_follows_the_kernel(monkeypatch, in_kernel):
    monkeypatch.setattr(nuts, "in_jupyter_kernel", lambda: in_kernel)
    settings = SamplerSettings()
    assert settings.progressbar is None
    assert settings.show_progress() is in_kernel
    assert SamplerSettings(progressbar=True).show_progress() is True
    assert SamplerSettings(progressbar=False).show_progress() is False


def test_fit_network_defaults_to_automatic_progressbar():
    import inspect

    assert inspect.signature(nb.fit_network).parameters["progressbar"].default is None


@pytest.mark.parametrize("value", ["yes", 1, 0, "auto", [True]])
def test_bad_progressbar_values_are_refused(value):
    with pytest.raises(ModelSpecError, match="progressbar must be True or False, or None") as e:
        SamplerSettings(progressbar=value)
    assert e.value.rule == "bad-option"
    df = nb.datasets.load_dataset("parkinsons")
    with pytest.raises(ModelSpecError, match="progressbar") as e:
        nb.fit_network(df, engine="pymc", progressbar=value)
    assert e.value.rule == "bad-option"


class _Stop(Exception):
    """Raised by the stand-in sampler once it has recorded its arguments."""


@pytest.mark.parametrize(
    ("progressbar", "in_kernel", "shown"),
    [(None, True, True), (None, False, False), (True, False, True), (False, True, False)],
)
def test_nutpie_gets_the_resolved_progress_bar(monkeypatch, progressbar, in_kernel, shown):
    seen = {}

    def sample(model, **kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(nuts, "in_jupyter_kernel", lambda: in_kernel)
    monkeypatch.setattr(nuts, "_compiled_for", lambda *args, **kwargs: "compiled")
    monkeypatch.setattr(light_import, "import_nutpie", lambda: types.SimpleNamespace(sample=sample))
    network = Network.from_contrasts(nb.datasets.load_dataset("parkinsons"))
    settings = SamplerSettings(progressbar=progressbar, collapse=False)
    with pytest.raises(_Stop):
        nuts.sample_posterior(network, ModelSpec(), settings, seed=1)
    assert seen["progress_bar"] is shown


# ------------------------------------------------------------------ rich HTML summary
class _Parsed(HTMLParser):
    """Text of every table cell, grouped by table class and row, and the other texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.classes: list[str] = []
        self.texts: list[str] = []
        self._table = None
        self._cell: list[str] | None = None
        self._styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("class"):
            self.classes.append(attrs["class"])
        if tag == "table":
            self._table = attrs.get("class", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "style":
            self._styles += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        else:
            self.texts.append(data)


def parse(html: str) -> _Parsed:
    parser = _Parsed()
    parser.feed(html)
    parser.close()
    return parser


def facts(parsed: _Parsed) -> dict[str, str]:
    return {row[0]: row[1] for row in parsed.tables["nma-fit-facts"]}


def effect_rows(parsed: _Parsed) -> list[list[str]]:
    return [row for row in parsed.tables["nma-fit-effects"] if row and row[0] != "treatment"]


@pytest.fixture(scope="module")
def hostile_fit():
    df = nb.datasets.load_dataset("parkinsons").replace({"Cabergoline": HOSTILE})
    return nb.fit_network(
        df, reference="Placebo", engine="exact", random_seed=3, prior_tau=nb.Uniform(0, 5)
    )


def test_html_summary_is_compact_and_complete(hostile_fit):
    html = hostile_fit._repr_html_()
    parsed = parse(html)
    got = facts(parsed)
    assert list(got) == [
        "network", "reference", "model", "likelihood", "priors", "engine", "tau", "convergence",
    ]  # fmt: skip
    assert got["network"].startswith("7 studies, 5 treatments")
    assert got["reference"].startswith("Placebo")
    assert got["priors"] == "d: normal(0, 10^2); tau: uniform(0, 5)"
    assert "exact engine" in got["engine"] and "seed 3" in got["engine"]
    tau = hostile_fit.heterogeneity().loc["tau"]
    assert got["tau"].startswith(
        f"median {number(tau['median'])} (95% CrI {number(tau['ci_lower'])} to "
        f"{number(tau['ci_upper'])})"
    )
    assert got["convergence"].startswith("exact posterior")
    rel = hostile_fit.relative_effects()
    rows = effect_rows(parsed)
    assert [r[0] for r in rows] == list(rel["treatment"])  # all 4: nothing left out
    assert rows[0][1:] == [
        number(rel["median"].iloc[0]),
        f"{number(rel['ci_lower'].iloc[0])} to {number(rel['ci_upper'].iloc[0])}",
    ]
    assert "nma-fit-more" not in parsed.classes
    assert len(html) < 4000  # compact: no full summary table


def test_html_summary_escapes_data_strings(hostile_fit):
    html = hostile_fit._repr_html_()
    assert HOSTILE not in html and "<b>" not in html
    assert "&lt;b&gt;Caber&lt;/b&gt; &amp; " in html
    assert HOSTILE in [r[0] for r in effect_rows(parse(html))]  # shown as text, exactly


def test_html_summary_lists_a_few_effects_of_a_large_network():
    df = nb.datasets.load_dataset("social_anxiety")
    fit = nb.fit_network(df, reference="Waitlist", engine="exact", random_seed=1)
    parsed = parse(fit._repr_html_())
    assert len(effect_rows(parsed)) == MAX_EFFECT_ROWS < 40
    more = "".join(parsed.texts)
    assert f"and {40 - MAX_EFFECT_ROWS} more" in more
    assert "Relative effects vs Waitlist" in more


def test_html_summary_recomputes_no_diagnostics(hostile_fit, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the HTML summary must not recompute this")

    for name in ("diagnostics", "summary", "league_table", "sucra", "model_fit"):
        monkeypatch.setattr(hostile_fit, name, refuse)
    assert "nma-fit-facts" in hostile_fit._repr_html_()


class _AsSampled:
    """A fit seen as if NUTS had made it, with the given convergence problems."""

    engine = "pymc"

    def __init__(self, fit, problems):
        self._fit = fit
        self.problems = problems

    def __getattr__(self, name):
        return getattr(self._fit, name)


@pytest.mark.parametrize("problems", [[], ["R-hat 1.05 > 1.01 for <tau>"]])
def test_html_summary_states_convergence(hostile_fit, problems):
    html = fit_html(_AsSampled(hostile_fit, problems))
    status = facts(parse(html))["convergence"]
    if problems:
        assert status == "problems: R-hat 1.05 > 1.01 for <tau>"
        assert "color:#b00020" in html and "&lt;tau&gt;" in html
    else:
        assert status.startswith("no problems: R-hat ≤ 1.01")
        assert "color:#1a7f37" in html


def test_html_summary_of_a_fixed_effect_fit_has_no_tau():
    df = nb.datasets.load_dataset("parkinsons")
    fit = nb.fit_network(df, effects="fixed", engine="exact", random_seed=1)
    got = facts(parse(fit._repr_html_()))
    assert "tau" not in got
    assert got["model"].startswith("fixed")
    assert got["priors"] == "d: normal(0, 10^2)"


# ------------------------------------------------------------------ in a real kernel
def test_in_a_real_kernel_progress_is_on_and_a_fit_shows_its_summary():
    import nbclient
    import nbformat
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisPython(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="this Python", language="python")

    repo = str(Path(__file__).resolve().parents[2])
    cells = [
        f"import sys\nsys.path.insert(0, {repo!r})\nimport nma_bayes as nb\n"
        f"assert nb.__file__.startswith({repo!r})\n"
        "from nma_bayes.engines.nuts import SamplerSettings as S\n"
        "print(S().show_progress(), S(progressbar=False).show_progress())",
        "nb.fit_network(nb.datasets.load_dataset('parkinsons'), engine='exact', random_seed=1)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        notebook, kernel_name="python3", kernel_manager_class=ThisPython, timeout=300,
        allow_errors=False, resources={"metadata": {"path": repo}},
    ).execute()  # fmt: skip
    printed = "".join(out.get("text", "") for out in notebook.cells[0].outputs)
    assert printed.split() == ["True", "False"]  # on by default in a kernel, forced off
    (shown,) = notebook.cells[1].outputs
    assert "nma-fit-facts" in shown["data"]["text/html"]
