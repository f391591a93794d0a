r"""MkDocs hook: render the site's equations to MathML at build time, so it reads offline.

Browsers render MathML natively (Chromium >= 109, Firefox, Safari), so the built site needs no
MathJax and loads nothing from outside itself. Converted with ``latex2mathml``:

* ``pymdownx.arithmatex`` output in generic mode: ``<span class="arithmatex">\(...\)</span>``
  (inline) and ``<div class="arithmatex">\[...\]</div>`` (display). The wrapper element is kept
  (mkdocs-material styles ``div.arithmatex``: centred, scrolls when too wide), the TeX inside is
  replaced by a ``<math>`` element.
* reStructuredText math in numpy docstrings rendered by mkdocstrings, which does not know it:
  a ``.. math::`` directive comes through as a paragraph ``.. math::`` followed by an indented
  code block (one display equation per blank-line-separated paragraph, as in Sphinx), and a
  ``:math:`...``` role as ``:math:<code>...</code>``.

TeX that cannot be converted fails the build (whatever ``strict`` says) with the page and the
expression: ``latex2mathml`` raises on malformed TeX but passes unknown commands through as
``<mi>\name</mi>`` and drops unknown environments, so those are refused here as well. The
build also fails if a page loads a script, stylesheet, font, image or frame from another host.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml import commands as l2m_commands
from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.DOTALL
)
# ``.. math::`` (optionally with the equation on the same line), then the indented body that
# Markdown turned into a plain (unhighlighted) code block.
_RST_MATH_DIRECTIVE = re.compile(
    r"<p>\.\. math::(?P<inline>[^<]*)</p>"
    r'(?:\s*<div class="highlight"><pre>(?:<span></span>)?'
    r"<code>(?P<body>[^<]*)</code></pre></div>)?"
)
_RST_MATH_ROLE = re.compile(r":math:<code>(?P<tex>[^<]*)</code>")
_RST_OPTION = re.compile(r"^\s*:[a-z-]+:.*$")  # :label:, :nowrap:, ... of a math directive
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)
_LEFTOVER = re.compile(r"\.\. math::|:math:")
_ENVIRONMENT = re.compile(r"\\begin\s*\{([^}]*)\}")
# latex2mathml's environments: the matrix-like ones (``\begin{pmatrix}``, ``cases``, ``align``...)
_KNOWN_ENVIRONMENTS = frozenset(name.lstrip("\\") for name in l2m_commands.MATRICES)
_MATHML_TEXT = re.compile(r">([^<]*)<")
_SIM = re.compile(r"\\sim(?![A-Za-z])")

# A resource the browser would fetch from another host: script/img/iframe/... ``src``,
# stylesheet/font/icon ``<link href>``, CSS ``@import`` and ``url(...)``.
_EXTERNAL = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed|track|input)\b[^>]*\ssrc=[\"']?(?:https?:)?//"
    r"|<link\b(?![^>]*\brel=[\"']?(?:canonical|alternate)\b)[^>]*\shref=[\"']?(?:https?:)?//"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)

_failures: list[str] = []


class TexError(ValueError):
    """TeX that cannot be rendered to MathML."""


def to_mathml(tex: str, *, display: bool) -> str:
    r"""Convert a TeX expression (without delimiters) to a ``<math>`` element.

    Parameters
    ----------
    tex : str
        The expression, e.g. ``\mu_i + \delta_{ik}``.
    display : bool
        ``display="block"`` if true, else inline.

    Returns
    -------
    str
        The MathML.

    Raises
    ------
    TexError
        If the TeX is empty or malformed, or uses a command or environment that latex2mathml
        does not know.
    """
    tex = tex.strip()
    if not tex:
        raise TexError("empty expression")
    for env in _ENVIRONMENT.findall(tex):
        if env.strip() not in _KNOWN_ENVIRONMENTS:
            raise TexError(f"unsupported environment {env!r}")
    # latex2mathml (3.81) turns \sim into an identifier "~" (its symbol table lists \sim as an
    # alias of ASCII tilde); \thicksim gives the relation U+223C that \sim means.
    tex = _SIM.sub(r"\\thicksim", tex)
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own exceptions and plain Python ones
        raise TexError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    unknown = sorted({t for t in _MATHML_TEXT.findall(mathml) if "\\" in t})
    if unknown:
        raise TexError("unknown command " + ", ".join(unknown))
    return mathml


def _render(tex: str, display: bool, where: str) -> str | None:
    try:
        return to_mathml(tex, display=display)
    except TexError as exc:
        _failures.append(f"{where}: cannot render TeX `{tex.strip()}` to MathML ({exc})")
        return None


def render_page_math(content: str, where: str) -> str:
    """Replace the TeX of a page's HTML by MathML; failures are recorded, not raised.

    Parameters
    ----------
    content : str
        The page's HTML (MkDocs ``page.content``).
    where : str
        The page, for error messages.

    Returns
    -------
    str
        The HTML with ``<math>`` elements instead of TeX.
    """
    unrendered_rst = 0  # failed directives and roles, already reported, left in the page

    def arithmatex(m: re.Match[str]) -> str:
        tag, raw = m["tag"], html.unescape(m["tex"]).strip()
        opening, closing = ("\\[", "\\]") if tag == "div" else ("\\(", "\\)")
        if not (raw.startswith(opening) and raw.endswith(closing)):
            _failures.append(f"{where}: arithmatex {tag} without {opening} {closing}: `{raw}`")
            return m[0]
        mathml = _render(raw[2:-2], tag == "div", where)
        return m[0] if mathml is None else f'<{tag} class="arithmatex">{mathml}</{tag}>'

    def directive(m: re.Match[str]) -> str:
        nonlocal unrendered_rst
        text = html.unescape(m["inline"] or "") + "\n\n" + html.unescape(m["body"] or "")
        lines = [line for line in text.splitlines() if not _RST_OPTION.match(line)]
        equations = [eq for eq in re.split(r"\n\s*\n", "\n".join(lines)) if eq.strip()]
        if not equations:
            _failures.append(f"{where}: empty or unparsed '.. math::' directive")
            unrendered_rst += 1
            return m[0]
        # as Sphinx does: an equation broken with \\ and no environment of its own is split
        equations = [
            f"\\begin{{split}}{eq}\\end{{split}}" if "\\\\" in eq and "\\begin" not in eq else eq
            for eq in equations
        ]
        rendered = [_render(eq, True, where) for eq in equations]
        if any(mathml is None for mathml in rendered):
            unrendered_rst += 1
            return m[0]
        return "\n".join(f'<div class="arithmatex">{mathml}</div>' for mathml in rendered)

    def role(m: re.Match[str]) -> str:
        nonlocal unrendered_rst
        mathml = _render(html.unescape(m["tex"]), False, where)
        if mathml is None:
            unrendered_rst += 1
            return m[0]
        return f'<span class="arithmatex">{mathml}</span>'

    content = _ARITHMATEX.sub(arithmatex, content)
    content = _RST_MATH_DIRECTIVE.sub(directive, content)
    content = _RST_MATH_ROLE.sub(role, content)
    leftovers = _LEFTOVER.findall(_CODE.sub("", content))
    if len(leftovers) > unrendered_rst:
        _failures.append(f"{where}: reStructuredText math not converted ({', '.join(leftovers)})")
    return content


def external_resources(output: str) -> list[str]:
    """Return the references in a page's HTML that make the browser fetch from another host.

    Parameters
    ----------
    output : str
        A built page.

    Returns
    -------
    list of str
        The offending snippets (empty if the page is self-contained). Hyperlinks (``<a href>``)
        and ``<link rel="canonical">`` are not fetched and not reported.
    """
    return [output[m.start() : m.start() + 160] for m in _EXTERNAL.finditer(output)]


def on_pre_build(config: Any) -> None:
    """Forget the failures of a previous build (``mkdocs serve`` rebuilds in-process)."""
    _failures.clear()


def on_page_content(html_content: str, page: Any, config: Any, files: Any) -> str:
    """Render the page's equations to MathML."""
    return render_page_math(html_content, page.file.src_uri)


def on_env(env: Any, config: Any, files: Any) -> Any:
    """Fail the build, before any page is written, if some TeX could not be rendered."""
    if _failures:
        raise PluginError(
            f"{len(_failures)} equation(s) could not be rendered to MathML:\n"
            + "\n".join(_failures)
        )
    return env


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Fail the build if the page would load anything from another host."""
    found = external_resources(output)
    if found:
        raise PluginError(
            f"{page.file.src_uri} loads resources from outside the site (it must read offline): "
            + "; ".join(found)
        )
    return output
