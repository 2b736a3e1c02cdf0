"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PROLIFIC_PATTERN = "https://app.prolific.com/**"


# One browser per test module: a sync Playwright left running for the whole session would keep
# its event loop in the main thread and break other modules that start their own Playwright.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_available

    if not chromium_available():
        pytest.skip("needs Debian's Chromium and Playwright")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests (and
    # their database teardown) make between browser steps are plain synchronous code, so
    # Django's async guard is lifted while this module's browser lives — never process-wide,
    # because subprocesses such as ``check --deploy`` inherit the environment.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch(sync_playwright)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch(sync_playwright):
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
