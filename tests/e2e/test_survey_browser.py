"""End-to-end: real participants' paths in headless Debian Chromium against the live server.

- a study created in the admin (in the browser) is completed on a desktop with the keyboard by
  a participant arriving with Prolific parameters, who closes the browser mid-way, resumes with
  the same PROLIFIC_PID and ends on the Prolific completion URL (intercepted, never loaded);
- the demo study is completed on a phone-sized viewport with taps;
- the researcher's monitor shows the result.
The database is checked at the end of each.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from survey.models import (
    Assignment,
    Instrument,
    InstrumentResponse,
    ItemRating,
    Participant,
    ParticipantAttempt,
    Study,
)
from survey.services.demo import load_demo_accounts, load_demo_items, load_demo_study
from survey.services.instruments import ensure_instrument
from tests.factories import ItemFactory, ScenarioFactory, SourceFactory

from .conftest import save_screenshot
from .participant import BrowserParticipant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
}


def create_study_in_admin(page, base: str) -> Study:
    """Log in as an admin and create an open Prolific study through the admin's add form."""
    source = SourceFactory(slug="e2e", name="E2E source")
    for n in range(4):
        scenario = ScenarioFactory(source=source, external_id=f"{1101 + n}")
        for option in (1, 2):
            ItemFactory(scenario=scenario, option_id=option)
    pvq21, bfi10 = ensure_instrument("pvq21"), ensure_instrument("bfi10")
    User.objects.create_superuser("boss", "boss@example.org", "boss-password")
    page.goto(f"{base}/admin/login/?next=/admin/survey/study/add/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "boss-password")
    with page.expect_navigation():
        page.click("input[type=submit]")
    page.fill("#id_title", "Browser study")
    page.select_option("#id_status", "open")
    page.click("#id_item_pool_add_all")
    page.fill("#id_items_per_participant", "5")
    page.fill("#id_target_ratings_per_item", "5")
    page.select_option("#id_instruments_from", [str(pvq21.pk), str(bfi10.pk)])
    page.click("#id_instruments_add")
    page.check("#id_allow_placeholder_wording")
    page.fill("#id_consent_text", "You rate short texts. Taking part is voluntary.")
    page.fill("#id_completion_code", "E2E-DONE")
    page.fill("#id_screened_out_code", "E2E-OUT")
    page.fill("#id_attention_check_count", "2")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was added successfully" in page.content()
    study = Study.objects.get(title="Browser study")
    assert study.slug == "browser-study", study.slug
    assert study.status == Study.Status.OPEN and study.uses_prolific
    assert study.item_pool.count() == 8
    return study


def test_prolific_participant_on_desktop_with_keyboard_resumes_and_returns_to_prolific(
    live_server, new_context, prolific_visits
):
    base = live_server.url
    admin = new_context(**DESKTOP).new_page()
    study = create_study_in_admin(admin, base)
    entry = f"{base}/s/{study.slug}/?PROLIFIC_PID=E2EPID1&STUDY_ID=PSTUDY&SESSION_ID="

    context = new_context(**DESKTOP)
    page = context.new_page()
    page.goto(entry + "SESSION-A")
    assert "placeholder-notice" in page.content()
    save_screenshot(page, "consent-desktop")
    bot = BrowserParticipant(page, mode="keyboard")
    bot.consent()
    bot.demographics()
    assert bot.kind == "item"
    save_screenshot(page, "item-desktop")
    bot.item()
    bot.item()
    resume_at = int(page.locator("[data-page=item]").get_attribute("data-position"))
    context.close()  # the participant closes the browser mid-way

    page = new_context(**DESKTOP).new_page()  # a fresh browser: no cookies
    page.goto(entry + "SESSION-B")
    assert int(page.locator("[data-page=item]").get_attribute("data-position")) == resume_at
    again = BrowserParticipant(page, mode="keyboard", answers=bot.answers)
    again.run_until("questionnaire")
    save_screenshot(page, "questionnaire-desktop")
    # a questionnaire answer is stored the moment it is given, before "Continue"
    first = page.locator("fieldset.question").first
    number = first.get_attribute("data-number")
    first.locator(".likert-option").nth(2).click()
    page.wait_for_selector(f'fieldset.question[data-number="{number}"].saved')
    assert InstrumentResponse.objects.filter(participant__external_id="E2EPID1").count() == 1
    again.run_until("done")
    # no automatic redirect (WCAG 2.2.1): the participant follows the link when ready
    page.wait_for_timeout(1800)
    assert page.url.endswith(f"/s/{study.slug}/done/") and prolific_visits == []
    page.click("#completion-link")
    page.wait_for_url(re.compile(r"^https://app\.prolific\.com/submissions/complete\?cc=E2E-DONE$"))
    assert prolific_visits == ["https://app.prolific.com/submissions/complete?cc=E2E-DONE"]

    # what the database holds
    p = Participant.objects.get(study=study)
    assert Participant.objects.filter(study=study).count() == 1
    assert p.status == Participant.Status.COMPLETED and p.external_id == "E2EPID1"
    assert set(
        ParticipantAttempt.objects.filter(participant=p).values_list("session_id", flat=True)
    ) == {
        "SESSION-A",
        "SESSION-B",
    }
    assert p.pvq_form == "male" and p.demographics["country"] == "Germany"
    logged = {pos: value for kind, pos, value in [a[:3] for a in again.answers] if kind == "item"}
    stored = {
        a.position: a.item.ratings.get(participant=p).rating
        for a in Assignment.objects.filter(participant=p, kind="item").select_related("item")
    }
    assert stored == logged and len(stored) == 5
    assert ItemRating.objects.filter(participant=p).count() == 5
    checks = Assignment.objects.filter(participant=p, kind="attention")
    assert checks.count() == 2 and all(c.attention_passed for c in checks)
    questionnaire = {(a[1], a[2]): a[3] for a in again.answers if a[0] == "q"}
    stored_q = {
        (r.instrument.code, r.item_number): r.value
        for r in InstrumentResponse.objects.filter(participant=p).select_related("instrument")
    }
    assert stored_q == questionnaire and len(stored_q) == 31
    assert p.scores.filter(family="schwartz").count() == 10
    assert p.quality_flags["attention_failures"] == 0


def test_demo_study_on_a_phone_with_taps(live_server, new_context, prolific_visits):
    load_demo_study(load_demo_items())
    study = Study.objects.get(slug="demo")
    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/s/demo/")
    save_screenshot(page, "consent-phone")
    bot = BrowserParticipant(page, mode="tap")
    bot.consent()
    bot.demographics()
    save_screenshot(page, "item-phone")
    # nothing is wider than the phone's screen
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    # the back button and re-answering never duplicate a rating
    bot.item()
    page.go_back()
    page.wait_for_load_state()
    if bot.kind == "item":
        bot.item()
    bot.run_until("questionnaire")
    save_screenshot(page, "questionnaire-phone")
    bot.run_until("done")
    assert "DEMO-DONE" in page.locator("#completion-code").inner_text()
    save_screenshot(page, "done-phone")
    page.wait_for_timeout(1800)
    assert page.url.endswith("/s/demo/done/") and prolific_visits == []
    p = Participant.objects.get(study=study)
    assert p.status == Participant.Status.COMPLETED
    assert p.ratings.count() == 40 == p.assignments.filter(kind="item").count()
    pvq_rr = Instrument.objects.get(code="pvq_rr", language="en")
    assert p.instrument_responses.filter(instrument=pvq_rr).count() == 57
    assert p.scores.filter(family="pvq_rr19").count() == 19


def test_researcher_monitor_in_the_browser(live_server, new_context):
    load_demo_accounts()
    study = load_demo_study(load_demo_items())
    from tests.survey.bots import SurveyBot

    for i in range(2):
        bot = SurveyBot(study.slug)
        bot.arrive(participant_id=f"panel-{i}")
        assert bot.run_to_end() == "done"
    starter = SurveyBot(study.slug)
    starter.arrive(participant_id="panel-live")
    starter.consent()
    page = new_context(**DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/studies/demo/monitor/")
    page.fill("#id_username", "researcher")
    page.fill("#id_password", "portrait-demo-2025")
    with page.expect_navigation():
        page.click("form button[type=submit], form input[type=submit]")
    assert page.url.endswith("/studies/demo/monitor/")
    assert page.locator('.tile[data-status="completed"] .n').inner_text() == "2"
    assert page.locator('.tile[data-status="in_progress"] .n').inner_text() == "1"
    assert page.locator("#item-strip .cell").count() == 50
    save_screenshot(page, "monitor")
    page.goto(f"{live_server.url}/studies/demo/")
    save_screenshot(page, "study-page")
    assert (
        "P-"
        in page.context.request.get(f"{live_server.url}/studies/demo/export/ratings.csv").text()
    )
