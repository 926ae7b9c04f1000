"""A real browser for the page tests: Debian's chromium (apt-get install chromium), driven by
Playwright's own driver from its PyPI wheel (`playwright install` is never needed).

Without chromium the browser tests skip with the reason, except in CI (CI=true), where a
missing browser is a failure: .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed, and CI=true: .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def screenshot(page: Any, name: str, around: str | None = None, only: str | None = None) -> Path:
    """A PNG of what the window shows (kept small: not the whole page) in docs/screenshots/,
    committed for the README; `around`: scroll that element into view first; `only`: just that
    element (e.g. to leave out a temporary path that would change the file on every run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if around:
        page.eval_on_selector(around, "e => e.scrollIntoView({block: 'start'})")
    if only:
        page.locator(only).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    return path
