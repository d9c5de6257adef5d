"""Browser tests' browser: Debian's Chromium, headless, driven by Playwright.

Playwright drives the machine's own Chromium (`CHROMIUM`, else `chromium` on the PATH) rather than a browser it
downloads: `.ci/run` installs Debian's package when it is missing. Without it a browser test is skipped with the
reason, or fails when the run requires services (`LOYALTY_REQUIRE_SERVICES=1`, as CI sets). Tests that use a page
are marked `browser` (`pytest -m "not browser"` leaves them out on a developer's machine; CI runs them); the
fixtures `browser`, `page` and `touch_page` (a touch screen's) are the suite's (tests/conftest.py). Each test saves
screenshots of what it saw in `tests/artifacts/` (`screenshot`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Error, Page, async_playwright

from tests.databases import unavailable

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 420, "height": 860}  # a phone's, as a messenger shows a chat or a mini app


def chromium_path() -> str | None:
    """The Chromium to drive: CHROMIUM, else the one on the PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium for one test."""
    path = chromium_path()
    if path is None:
        unavailable("Chromium", FileNotFoundError("no `chromium` on the PATH and no CHROMIUM set"))
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=path, headless=True)
        except Error as error:
            unavailable("Chromium", error)
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Browser, **options: object) -> AsyncIterator[Page]:
    """A fresh page the size of a phone's screen, in a context with `options`, closed after use."""
    context = await browser.new_context(viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page the size of a phone's screen."""
    async for made in new_page(browser):
        yield made


@pytest.fixture
async def touch_page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page on a touch screen, as a phone's: a finger taps, nothing hovers."""
    async for made in new_page(browser, has_touch=True, is_mobile=True):
        yield made


async def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows as tests/artifacts/NAME.png (kept by CI as a test artefact)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
