"""A study from creation on Prolific to paid bonuses, against the fake Prolific server: draft and
publish, five participants through the survey bots, the review page approves the four who
completed cleanly and rejects the one who failed the attention checks, and a bonus batch is
paid exactly once although the request is sent again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from survey.models import BonusBatch, Participant, ProlificAction, ProlificStudy

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db

REJECTION = (
    "You failed two of the study's instructed attention checks, which asked you to pick a "
    "given answer. We are rejecting this submission under Prolific's attention-check rule."
)


def researcher() -> Client:
    user = User.objects.create_user("rita", password="pw")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client = Client()
    client.force_login(user)
    return client


def act(client: Client, slug: str, **data):
    response = client.post(reverse("studies:review_action", args=[slug]), data, follow=True)
    assert response.status_code == 200
    return response


def test_a_study_from_draft_to_paid_bonuses(fake_prolific):
    study = make_study(
        completion_code="DONE-7Q",
        screened_out_code="SCREEN-4K",
        no_consent_code="NOPE-2Z",
        description="Rate how similar short responses are to your own thoughts.",
    )
    staff = researcher()
    # Prolific settings on the review page: the token's variable by name, reward, places, time.
    act(
        staff,
        study.slug,
        action="settings",
        api_token_env="PROLIFIC_API_TOKEN",
        reward_cents=300,
        places=5,
        estimated_minutes=15,
    )

    # Draft on Prolific: our link with Prolific's placeholders, codes and what each does.
    act(staff, study.slug, action="create_draft")
    prolific = ProlificStudy.objects.get(study=study)
    draft = fake_prolific.studies[prolific.prolific_study_id]
    assert draft["external_study_url"].startswith(f"http://testserver/s/{study.slug}/?")
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in draft["external_study_url"]
    assert draft["reward"] == 300 and draft["total_available_places"] == 5
    assert {c["code"]: c["actions"][0]["action"] for c in draft["completion_codes"]} == {
        "DONE-7Q": "MANUALLY_REVIEW",
        "SCREEN-4K": "MANUALLY_REVIEW",
        "NOPE-2Z": "REQUEST_RETURN",
    }
    act(staff, study.slug, action="create_draft")  # a second click makes no second draft
    assert len(fake_prolific.studies) == 1

    act(staff, study.slug, action="PUBLISH")
    prolific.refresh_from_db()
    assert prolific.prolific_status == "ACTIVE"

    # Five participants come from Prolific; the last fails both attention checks.
    sessions = {}
    for n in range(5):
        pid = f"5f{n:022d}"
        sid = fake_prolific.add_submission(study_id=prolific.prolific_study_id, participant_id=pid)
        bot = SurveyBot(study.slug, fail_checks=2 if n == 4 else 0)
        bot.arrive(PROLIFIC_PID=pid, STUDY_ID=prolific.prolific_study_id, SESSION_ID=sid)
        ending = bot.run_to_end()
        assert ending == ("screened-out" if n == 4 else "done")
        fake_prolific.submit(sid, code="SCREEN-4K" if n == 4 else "DONE-7Q")
        sessions[pid] = sid

    act(staff, study.slug, action="sync")
    page = staff.get(reverse("studies:review", args=[study.slug]))
    rows = {r["submission_id"]: r for r in page.context["rows"]}
    assert set(rows) == set(sessions.values())
    failed = rows[sessions["5f" + "4".zfill(22)]]
    assert failed["status"] == Participant.Status.SCREENED_OUT
    assert failed["attention_failures"] == 2 and "attention_check_failed" in failed["flags"]
    assert all(not r["flags"] for sid, r in rows.items() if r is not failed)
    assert "Prolific allows rejecting only" in page.content.decode()

    # Approve the four clean completions, reject the one who failed the checks.
    act(staff, study.slug, action="approve_clean")
    act(
        staff,
        study.slug,
        action="reject",
        selected=[failed["pk"]],
        category="FAILED_CHECK",
        message=REJECTION,
    )
    statuses = {sid: fake_prolific.submissions[sid]["status"] for sid in sessions.values()}
    assert sorted(statuses.values()) == ["APPROVED"] * 4 + ["REJECTED"]
    assert statuses[failed["submission_id"]] == "REJECTED"

    # A bonus for the four: Prolific rate-limits the pay call once (retried, not re-paid),
    # then the researcher's browser sends the same form again.
    clean = [r["pk"] for r in rows.values() if r is not failed]
    form = dict(action="bonus", selected=clean, amount="0.50", bonus_key="form-1")
    fake_prolific.fail("POST", "/pay/", status=429, retry_after="0")
    act(staff, study.slug, **form)
    act(staff, study.slug, **form)
    batch = BonusBatch.objects.get()
    assert batch.state == BonusBatch.State.PAID and batch.total == Decimal("2.00")
    assert list(fake_prolific.payments.values()) == [1]
    assert len(fake_prolific.bonus_setups) == 1
    paid = fake_prolific.bonuses_paid()
    assert paid == {rows_sid: Decimal("0.50") for rows_sid, r in rows.items() if r is not failed}

    # Every action is logged with who sent it, what was sent and what Prolific answered.
    kinds = list(ProlificAction.objects.order_by("pk").values_list("kind", "outcome"))
    assert kinds == [
        ("create_draft", "ok"),
        ("transition", "ok"),
        ("sync", "ok"),
        ("approve", "ok"),
        ("reject", "ok"),
        ("bonus_set_up", "ok"),
        ("bonus_pay", "ok"),
    ]
    pay = ProlificAction.objects.get(kind="bonus_pay")
    assert pay.user.username == "rita"
    assert [e["status"] for e in pay.exchanges] == [429, 202]
    reject = ProlificAction.objects.get(kind="reject")
    assert reject.exchanges[0]["body"]["rejection_category"] == "FAILED_CHECK"
    log = staff.get(reverse("studies:review", args=[study.slug])).content.decode()
    assert "Pay bonuses" in log and "Paid" in log and "rita" in log
    assert fake_prolific.token not in log  # the token is never shown
