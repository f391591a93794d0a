"""Build the documentation site with ``mkdocs build --strict`` (broken links, bad API refs fail).

The site is built once per module; the checks read the built HTML. Equations are rendered to
MathML at build time by ``docs/hooks/mathml.py`` and nothing is loaded from outside the site, so
the docs read offline.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "docs" / "hooks" / "mathml.py"
HAS_MKDOCS = all(
    importlib.util.find_spec(name) is not None
    for name in ("mkdocs", "material", "mkdocstrings", "latex2mathml")
)
needs_mkdocs = pytest.mark.skipif(
    not HAS_MKDOCS, reason="mkdocs, mkdocs-material, mkdocstrings or latex2mathml not installed"
)

# A resource the browser fetches (not a hyperlink): <script src>, <link href> (stylesheet, icon,
# font preload, ...), <img src>, <iframe src>, CSS @import / url(), absolute or protocol-relative.
EXTERNAL = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\ssrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\shref=[\"']?(?:https?:)?//"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
TEX_DELIMITER = re.compile(r"\\[()\[\]]")
OUTSIDE_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)


def _mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not HAS_MKDOCS:
        pytest.skip("mkdocs, mkdocs-material, mkdocstrings or latex2mathml not installed")
    out = tmp_path_factory.mktemp("docs") / "site"
    proc = _mkdocs_build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


@needs_mkdocs
def test_docs_build_strict(site):
    assert (site / "api" / "index.html").is_file()
    assert (site / "model" / "index.html").is_file()
    # the build hook is configuration, not content
    assert not (site / "hooks").exists()


def test_docs_pages_in_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in ("index.md", "getting_started.md", "data.md", "model.md", "examples.md", "api.md"):
        assert (ROOT / "docs" / page).is_file()
        assert page in nav


@needs_mkdocs
def test_equations_rendered_to_mathml(site):
    model = (site / "model" / "index.html").read_text(encoding="utf-8")
    assert model.count("<math ") >= 100
    assert model.count('display="block"') >= 4
    pages = _pages(site)
    math_total = 0
    for name, text in pages.items():
        # no TeX left for a browser script to typeset: no \( \) \[ \] in the prose, and every
        # arithmatex wrapper holds a <math> element
        prose = OUTSIDE_CODE.sub("", text)
        assert not TEX_DELIMITER.search(prose), (name, TEX_DELIMITER.search(prose))
        for tag, inner in ARITHMATEX.findall(text):
            assert inner.startswith("<math "), (name, inner[:200])
            assert ('display="block"' in inner.split(">", 1)[0]) == (tag == "div"), name
        math_total += text.count("<math ")
        # unknown TeX commands would come through as <mi>\name</mi>
        assert not re.search(r"<(?:mi|mo|mn|mtext|ms)\b[^>]*>[^<]*\\", text), name
    assert math_total >= 150


@needs_mkdocs
def test_docstring_math_rendered_to_mathml(site):
    # ``.. math::`` in module docstrings (mkdocstrings shows them as a paragraph and a code block)
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    exact = api[api.index('id="nma_bayes.engines.exact"') :]
    exact = exact[: exact.index('id="nma_bayes.engines.exact.ExactPosterior"')]
    assert exact.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">') == 2
    assert "\\mid" not in exact and "\\tau" not in exact
    assert ".. math::" not in OUTSIDE_CODE.sub("", api)
    # \sim is the relation U+223C, not an identifier "~" (a latex2mathml quirk the hook mends)
    assert "<mo>&#x0223C;</mo>" in exact
    assert "<mi>&#x0007E;</mi>" not in api


@needs_mkdocs
def test_site_loads_nothing_from_outside(site):
    config = (ROOT / "mkdocs.yml").read_text()
    assert "mathjax" not in config.lower() and "unpkg" not in config
    pages = _pages(site)
    assert len(pages) >= 6
    for name, text in pages.items():
        assert 'src="http' not in text, name
        assert not re.search(r"<link\b[^>]*href=[\"']?https?:", text), name
        assert not EXTERNAL.search(text), (name, EXTERNAL.search(text))
    for css in site.rglob("*.css"):
        assert not EXTERNAL.search(css.read_text(encoding="utf-8")), css


def _mini_site(tmp_path: Path, page: str, theme: str = "font: false") -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "docs" / "bad.md").write_text(page)
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\nstrict: true\n"
        f"theme:\n  name: material\n  {theme}\n"
        "markdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n"
        f"hooks:\n  - {HOOK.as_posix()}\n"
    )
    return config


@needs_mkdocs
def test_unconvertible_tex_fails_the_build(tmp_path):
    config = _mini_site(
        tmp_path,
        "# Bad\n\nFine $x^2$, malformed $\\left( x$ and unknown $\\foobar{y}$.\n\n"
        "$$\n\\begin{equation} z \\end{equation}\n$$\n",
    )
    proc = _mkdocs_build(config, tmp_path / "site")
    assert proc.returncode != 0
    # every failure is reported, with its page and expression, and no page is written
    assert "3 equation(s) could not be rendered" in proc.stderr, proc.stderr[-3000:]
    assert "bad.md: cannot render TeX `\\left( x`" in proc.stderr
    assert "bad.md: cannot render TeX `\\foobar{y}`" in proc.stderr
    assert "unknown command \\foobar" in proc.stderr
    assert "unsupported environment 'equation'" in proc.stderr
    assert not (tmp_path / "site" / "bad" / "index.html").exists()


@needs_mkdocs
def test_external_resources_fail_the_build(tmp_path):
    # mkdocs-material's default fonts come from Google Fonts: the hook refuses them
    config = _mini_site(tmp_path, "# Fine\n\n$x^2$\n", theme="font: {text: Roboto}")
    proc = _mkdocs_build(config, tmp_path / "site")
    assert proc.returncode != 0
    assert "loads resources from outside the site" in proc.stderr, proc.stderr[-3000:]
    assert "fonts.googleapis.com" in proc.stderr


@needs_mkdocs
def test_to_mathml_unit():
    spec = importlib.util.spec_from_file_location("docs_hook_mathml", HOOK)
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    block = hook.to_mathml(r"y \sim N(\mu, \tau^2)", display=True)
    assert block.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    assert "<mo>&#x0223C;</mo>" in block
    assert 'display="inline"' in hook.to_mathml(r"\tfrac12", display=False)
    for bad in ("", r"\frac{a}{", r"\notacommand x", r"\begin{equation}x\end{equation}"):
        with pytest.raises(hook.TexError):
            hook.to_mathml(bad, display=False)
    html = (
        '<p>Text <span class="arithmatex">\\(a &lt; b\\)</span></p>\n<p>.. math::</p>\n'
        '<div class="highlight"><pre><span></span><code>x = 1\n\ny = 2\n</code></pre></div>\n'
        "<p>and :math:<code>z</code>.</p>"
    )
    hook._failures.clear()
    out = hook.render_page_math(html, "page.md")
    assert hook._failures == []
    assert out.count("<math ") == 4 and out.count('display="block"') == 2
    assert "<mo>&#x0003C;</mo>" in out and ".. math::" not in out and ":math:" not in out
    split = hook.render_page_math(
        '<p>.. math::</p>\n<div class="highlight"><pre><span></span><code>a &amp;= b \\\\\n'
        "c &amp;= d\n</code></pre></div>",
        "page.md",
    )
    assert hook._failures == [] and split.count("<mtr>") == 2 and split.count("<math ") == 1
    hook.render_page_math("<p>.. math:: \\left(</p>", "other.md")
    assert len(hook._failures) == 1 and hook._failures[0].startswith("other.md: ")
    # RST math that the hook does not recognise is reported, not shipped
    hook._failures.clear()
    hook.render_page_math("<p>Text\n.. math::\n  x</p>", "third.md")
    assert hook._failures == ["third.md: reStructuredText math not converted (.. math::)"]
    assert hook.external_resources('<a href="https://example.org">x</a>') == []
    assert hook.external_resources('<script src="https://cdn.example/x.js"></script>') != []
