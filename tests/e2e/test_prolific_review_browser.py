"""The participant review page in Chromium, against the fake Prolific server: a researcher reads
the submissions from Prolific, filters the table by flags, approves every participant who
completed without a flag in one click, and finds the call in the log; axe-core finds no
WCAG 2.1 A/AA violation on the page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User

from survey.models import Participant, ProlificAction, ProlificStudy
from survey.prolific import services
from tests.survey.bots import SurveyBot
from tests.survey.fake_prolific import FakeProlific
from tests.survey.study_setup import make_study

from .conftest import save_screenshot
from .test_languages_browser import axe_violations
from .test_study_setup_browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prolific(settings, monkeypatch):
    """The fake Prolific API on 127.0.0.1; the live server's calls go there."""
    fake = FakeProlific().start()
    settings.PROLIFIC_API_URL = f"{fake.url}/api/v1"
    settings.PROLIFIC_RETRY_BACKOFF_SECONDS = 0.01
    monkeypatch.setenv("PROLIFIC_API_TOKEN", fake.token)
    yield fake
    fake.stop()


def published_study_with_submissions(prolific):
    """A study on the fake Prolific, published; three participants complete it cleanly and a
    fourth fails both attention checks; each submits on Prolific (awaiting review)."""
    study = make_study(completion_code="REV-DONE", screened_out_code="REV-SCREEN")
    ProlificStudy.objects.create(study=study, reward_cents=250, places=4, estimated_minutes=15)
    services.create_draft(study=study, entry_url=f"https://vp.example/s/{study.slug}/")
    services.transition_study(study=study, action="PUBLISH")
    prolific_id = ProlificStudy.objects.get(study=study).prolific_study_id
    sessions = {}
    for n in range(4):
        pid = f"5e{n:022d}"
        sid = prolific.add_submission(study_id=prolific_id, participant_id=pid)
        bot = SurveyBot(study.slug, fail_checks=2 if n == 3 else 0)
        bot.arrive(PROLIFIC_PID=pid, STUDY_ID=prolific_id, SESSION_ID=sid)
        assert bot.run_to_end() == ("screened-out" if n == 3 else "done")
        prolific.submit(sid, code="REV-SCREEN" if n == 3 else "REV-DONE")
        sessions[pid] = sid
    return study, sessions


def shown_rows(page) -> list[tuple[str, str]]:
    """(participant status, flags) of each row of the review table as displayed."""
    rows = page.locator("#review-table tbody tr[data-participant]")
    return sorted(
        (row.locator("td").nth(2).inner_text(), row.locator("td.flags").inner_text())
        for row in rows.all()
    )


def test_researcher_filters_and_approves_the_clean_completions(live_server, new_context, prolific):
    study, sessions = published_study_with_submissions(prolific)
    user = User.objects.create_user("revi", password="revi-password")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    failed_sid = sessions["5e" + "3".zfill(22)]

    page = new_context(**DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/studies/{study.slug}/review/")
    page.fill("#id_username", "revi")
    page.fill("#id_password", "revi-password")
    with page.expect_navigation():
        page.click("form button[type=submit], form input[type=submit]")
    assert page.locator("h1").inner_text() == "Review participants and pay on Prolific"

    # Read the submissions from Prolific: each participant row gets its Prolific status.
    with page.expect_navigation():
        page.click("button[name=action][value=sync]")
    assert "4 submissions read from Prolific." in page.content()
    statuses = page.locator("#review-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.prolificStatus)"
    )
    assert statuses == ["AWAITING REVIEW"] * 4
    assert axe_violations(page) == []
    save_screenshot(page, "prolific-review")

    # Filters: flagged participants, then those without a flag.
    page.select_option("#filters select[name=flagged]", "yes")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    assert "flagged=yes" in page.url
    assert shown_rows(page) == [("Screened out", "attention_check_failed")]
    page.select_option("#filters select[name=flagged]", "no")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    assert shown_rows(page) == [("Completed", "none")] * 3

    # One click approves every completion without a flag on Prolific (one bulk call).
    with page.expect_navigation():
        page.click("button[name=action][value=approve_clean]")
    assert "3 submissions approved." in page.content()
    assert "flagged=no" in page.url  # the filter is kept
    on_prolific = {sid: prolific.submissions[sid]["status"] for sid in sessions.values()}
    assert on_prolific.pop(failed_sid) == "AWAITING REVIEW"
    assert set(on_prolific.values()) == {"APPROVED"}
    assert shown_rows(page) == [("Completed", "none")] * 3
    assert (
        page.locator("#review-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.prolificStatus)"
        )
        == ["APPROVED"] * 3
    )

    # The log shows it: who, what was sent, Prolific's answer.
    entry = page.locator("#action-log tbody tr[data-kind=approve]")
    assert entry.count() == 1 and entry.get_attribute("data-outcome") == "ok"
    cells = entry.locator("td")
    assert cells.nth(1).inner_text() == "revi" and cells.nth(2).inner_text() == "Approve"
    assert cells.nth(4).inner_text() == "3"
    entry.locator("summary").click()
    sent = entry.locator("pre").inner_text()
    assert re.search(r"POST /submissions/bulk-approve/ → 200", sent)
    for sid in on_prolific:
        assert sid in sent
    assert failed_sid not in sent and prolific.token not in page.content()
    assert axe_violations(page) == []
    logged = ProlificAction.objects.get(kind="approve")
    assert logged.user == user and sorted(logged.submission_ids) == sorted(on_prolific)
    failed = Participant.objects.get(external_id="5e" + "3".zfill(22))
    assert failed.prolific_submissions.get().status == "AWAITING REVIEW"
