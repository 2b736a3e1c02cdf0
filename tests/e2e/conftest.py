"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are plain synchronous code, so Django's async guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PROLIFIC_PATTERN = "https://app.prolific.com/**"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_available

    if not chromium_available():
        pytest.skip("needs Debian's Chromium and Playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def no_entry_rate_limit(settings):
    """The browser always comes from 127.0.0.1, which earlier tests of the same run may have
    used up against the per-address survey entry limit; these tests are not about it."""
    settings.SURVEY_ENTRY_RATE = "100000/m"


@pytest.fixture
def prolific_visits():
    """Completion URLs the browser was sent to (intercepted: Prolific is never contacted)."""
    return []


@pytest.fixture
def new_context(browser, prolific_visits):
    """Factory for isolated browser contexts (a fresh browser profile each)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15000)

        def stub(route):
            prolific_visits.append(route.request.url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<html><body><h1 id='prolific-stub'>Prolific (stub)</h1></body></html>",
            )

        context.route(PROLIFIC_PATTERN, stub)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        try:
            context.close()
        except Exception:  # already closed by the test (a closed browser mid-study)
            pass


def save_screenshot(page, name: str) -> None:
    """Refresh docs/screenshots/<name>.png when VP_SCREENSHOTS=1 (README pictures)."""
    if os.environ.get("VP_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
