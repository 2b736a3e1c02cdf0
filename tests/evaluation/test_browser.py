"""Through a real browser: an admin configures a model, a run is started from the staff page,
its progress updates while a real Celery worker answers, and the portrait appears."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth.models import Group, User

from core.roles import ADMINS_GROUP
from evaluation.models import EvaluationRun, ModelConfiguration
from tests.evaluation.factories import make_item_set
from tests.evaluation.fake_provider import FakeProvider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def in_browser(steps) -> dict:
    """Run ``steps(page, found)`` with headless Chromium in a thread of its own.

    Playwright's sync API runs an event loop in its thread; keeping it off the test's thread
    means Django's ORM there stays usable without DJANGO_ALLOW_ASYNC_UNSAFE, and a loop left
    behind by another test cannot break this one.
    """
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, chromium_available

    if not chromium_available():
        pytest.skip("needs Debian's Chromium and Playwright")
    found: dict = {}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=["--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking"],
                )  # fmt: skip
                try:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.set_default_timeout(30000)
                    steps(context.new_page(), found)
                finally:
                    browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=240)
    if errors:
        raise errors[0]
    assert not thread.is_alive(), "browser steps did not finish"
    return found


def test_configure_start_watch_and_see_the_portrait(live_server, clean_queue, workers):
    item_set = make_item_set(n_items=12)
    user = User.objects.create_user("boss", password="boss-pass-123")
    user.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])

    def steps(page, found):
        page.goto(f"{live_server.url}/accounts/login/?next=/evaluation/models/new/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", "boss-pass-123")
        page.click("form button[type=submit]")

        page.fill("#id_name", "browser-model")
        page.select_option("#id_provider", "openai")
        page.fill("#id_model_id", "fake-model")
        page.fill("#id_base_url", server.url("openai"))
        page.fill("#id_api_key_env", "")
        page.fill("#id_temperature", "0")
        page.fill("#id_seed", "7")
        page.fill("#id_max_concurrency", "2")  # slow enough to watch the progress move
        page.click("form.eval-form button[type=submit]")
        found["saved"] = page.locator(".messages").inner_text()

        page.goto(f"{live_server.url}/evaluation/runs/new/")
        page.select_option("#id_model_config", label="browser-model")
        page.select_option("#id_item_set", label=str(item_set))
        for variant in ("v2", "v2_reversed", "v3", "v3_reversed"):
            page.uncheck(f"input[name=variants][value={variant}]")
        page.fill("#id_label", "from the browser")
        page.click("form.eval-form button[type=submit]")

        page.wait_for_selector("#progress")
        found["url"] = page.url
        # The page polls: the answered count moves before the run is done.
        page.wait_for_function(
            "() => { const n = +document.querySelector('[data-field=answered]').textContent;"
            " return n > 0 && n < 24; }"
        )
        # On completion the page reloads with the portrait and its chart.
        page.wait_for_selector("text=Portrait", timeout=90000)
        page.wait_for_selector("#portrait-chart .main-svg")
        found["status"] = page.locator("[data-field=status]").inner_text()
        found["tables"] = page.locator("table.eval-table").all_inner_texts()

    with FakeProvider(latency=0.3) as server:
        workers("browser")
        found = in_browser(steps)

    assert found["saved"].startswith("Saved model configuration")
    config = ModelConfiguration.objects.get(name="browser-model")
    assert (config.temperature, config.seed, config.max_concurrency) == (0.0, 7, 2)
    run = EvaluationRun.objects.get(label="from the browser")
    assert re.search(rf"/evaluation/runs/{run.pk}/$", found["url"])
    assert run.status == EvaluationRun.Status.DONE and run.responses.count() == 24
    assert found["status"] == "done"
    assert any("Universalism" in t and "Centred" in t for t in found["tables"])
