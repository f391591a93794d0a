"""Open a written report in a real headless Chromium and record what the page did.

Shared by the report tests (the whole report, the inconsistency section, the CINeMA and
threshold sections): every request, console message, page error and dialog, and the values of
the JavaScript expressions a test asks for. ``CHROMIUM`` is ``None`` where Debian's ``chromium``
is not on the path (the tests skip); playwright is imported only when a page is opened.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def open_report(path, scripts: dict[str, str]) -> dict:
    """Load ``path``; return its requests, console, errors, dialogs, title and scripts' values."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    seen = {"requests": [], "console": [], "errors": [], "dialogs": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("console", lambda m: seen["console"].append((m.type, m.text)))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_load_state("networkidle")
            seen |= {name: page.evaluate(script) for name, script in scripts.items()}
            seen["title"] = page.title()
        finally:
            browser.close()
    return seen


def assert_quiet(seen: dict, path) -> None:
    """The page requested nothing but itself (and data: URLs) and logged no error or dialog."""
    others = [r for r in seen["requests"] if r != path.as_uri() and not r.startswith("data:")]
    assert others == [] and seen["errors"] == [] and seen["dialogs"] == []
    assert [m for m in seen["console"] if m[0] == "error"] == []
