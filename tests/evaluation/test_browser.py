"""Through a real browser: an admin configures a model, a run is started from the staff page,
its progress updates while a real Celery worker answers, and the portrait appears."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User

from config.roles import ADMINS_GROUP
from evaluation.models import EvaluationRun, ModelConfiguration
from tests.evaluation.factories import make_item_set
from tests.evaluation.fake_provider import FakeProvider

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, chromium_available

    if not chromium_available():
        pytest.skip("needs Debian's Chromium and Playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30000)
        yield context.new_page()
        browser.close()


def test_configure_start_watch_and_see_the_portrait(page, live_server, clean_queue, workers):
    item_set = make_item_set(n_items=12)
    user = User.objects.create_user("boss", password="boss-pass-123")
    user.groups.add(Group.objects.get(name=ADMINS_GROUP))
    with FakeProvider(latency=0.3) as server:
        workers("browser")
        page.goto(f"{live_server.url}/accounts/login/?next=/evaluation/models/new/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", "boss-pass-123")
        page.click("button[type=submit]")

        page.fill("#id_name", "browser-model")
        page.select_option("#id_provider", "openai")
        page.fill("#id_model_id", "fake-model")
        page.fill("#id_base_url", server.url("openai"))
        page.fill("#id_api_key_env", "")
        page.fill("#id_temperature", "0")
        page.fill("#id_seed", "7")
        page.fill("#id_max_concurrency", "2")  # slow enough to watch the progress move
        page.click("form.eval-form button[type=submit]")
        assert page.locator(".messages").inner_text().startswith("Saved model configuration")
        config = ModelConfiguration.objects.get(name="browser-model")

        page.goto(f"{live_server.url}/evaluation/runs/new/")
        page.select_option("#id_model_config", str(config.pk))
        page.select_option("#id_item_set", str(item_set.pk))
        for variant in ("v2", "v2_reversed", "v3", "v3_reversed"):
            page.uncheck(f"input[name=variants][value={variant}]")
        page.fill("#id_label", "from the browser")
        page.click("form.eval-form button[type=submit]")

        page.wait_for_selector("#progress")
        run = EvaluationRun.objects.get(label="from the browser")
        assert page.url.endswith(f"/evaluation/runs/{run.pk}/")
        # The page polls: the answered count moves before the run is done.
        page.wait_for_function(
            "() => { const n = +document.querySelector('[data-field=answered]').textContent;"
            " return n > 0 && n < 24; }"
        )
        # On completion the page reloads with the portrait and its chart.
        page.wait_for_selector("text=Portrait", timeout=90000)
        page.wait_for_selector("#portrait-chart .main-svg")
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.DONE and run.responses.count() == 24
    assert page.locator("[data-field=status]").inner_text() == "done"
    tables = page.locator("table.eval-table").all_inner_texts()
    assert any("Universalism" in t and "Centred" in t for t in tables)
