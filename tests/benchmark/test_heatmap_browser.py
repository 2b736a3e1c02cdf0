"""The run page's Plotly heat map renders in headless Chromium (plotly.js served locally)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from benchmark.services import recompute_now
from core.roles import RESEARCHERS_GROUP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, chromium_available

    if not chromium_available():
        pytest.skip("needs Debian's Chromium and Playwright")
    # Playwright's sync API runs an event loop in this thread; the ORM calls between browser
    # steps are synchronous. Lifted for this test only (the deploy check must not see it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        yield context.new_page()
        browser.close()


def test_heat_map_renders_with_one_cell_per_pair(page, live_server, small_study):
    run = recompute_now(study=small_study)
    user = User.objects.create_user("viewer", password="viewer-pass-123")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(
        f"{live_server.url}/accounts/login/?next=/benchmark/{small_study.slug}/runs/{run.pk}/"
    )
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "viewer-pass-123")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector("#heatmap[data-rendered=true]")
    assert page.locator("#heatmap .main-svg").count() >= 1
    labels = page.evaluate("document.getElementById('heatmap').data[0].x")
    rows = page.evaluate("document.getElementById('heatmap').data[0].z.length")
    assert len(labels) == 10 and "Power" in labels and rows == 6
    assert all(url.startswith(live_server.url) for url in requests)  # nothing from a CDN
