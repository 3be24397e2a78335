"""Debian's Chromium driven by Playwright, for the tests that render e-mails and pages and keep screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# as root Chromium needs --no-sandbox; the rest keeps it from reaching for the (closed) network at start
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (.ci/run installs "
                                    "the distribution's chromium package)")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def screenshot_folder(tmp_path: Path) -> Path:
    """$LISTENER_SCREENSHOTS, or the test's own tmp dir: where a person looks at what the tests rendered."""
    folder = Path(os.environ.get("LISTENER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(html: str, tmp_path: Path, name: str, width: int = 900, height: int = 700) -> Path:
    """Render an e-mail's HTML part in a real browser and keep a picture of it to look at."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    path = screenshot_folder(tmp_path) / name
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_content(html)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    assert path.stat().st_size > 0
    return path
