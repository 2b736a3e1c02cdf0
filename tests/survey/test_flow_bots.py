"""Bot tests: scripted participants go through whole studies, valid paths and forbidden moves."""

from __future__ import annotations

import pytest
from django.test import Client

from survey.models import (
    Assignment,
    InstrumentResponse,
    ItemRating,
    Participant,
    ParticipantAttempt,
    ParticipantScore,
)
from survey.signals import participant_completed

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def prolific(pid: str, session: str = "SESS1") -> dict:
    return {"PROLIFIC_PID": pid, "STUDY_ID": "STUDY1", "SESSION_ID": session}


def test_prolific_participant_completes_the_whole_study(django_capture_on_commit_callbacks):
    study = make_study()
    received = []
    handler = lambda **kw: received.append(kw)  # noqa: E731
    participant_completed.connect(handler)
    try:
        bot = SurveyBot(study.slug)
        bot.arrive(**prolific("PID-ALICE"))
        assert bot.page == "consent"
        assert Participant.objects.count() == 0  # nothing stored before consent
        with django_capture_on_commit_callbacks(execute=True):
            assert bot.run_to_end() == "done"
    finally:
        participant_completed.disconnect(handler)
    p = Participant.objects.get()
    assert p.external_id == "PID-ALICE" and p.origin == "prolific"
    assert p.status == Participant.Status.COMPLETED and p.completed_at
    assert p.prolific_study_id == "STUDY1" and p.prolific_session_id == "SESS1"
    assert p.demographics["gender"] == "female" and p.pvq_form == "female"
    # every logged answer is in the database, once
    items_logged = [e for e in bot.log if e[0] == "item"]
    assert ItemRating.objects.filter(participant=p).count() == len(items_logged) == 5
    checks = list(p.assignments.filter(kind=Assignment.Kind.ATTENTION))
    assert len(checks) == 2 and all(c.attention_passed for c in checks)
    assert InstrumentResponse.objects.filter(participant=p).count() == 21 + 10
    assert ParticipantScore.objects.filter(participant=p, family="schwartz").count() == 10
    assert ParticipantScore.objects.filter(participant=p, family="big_five").count() == 5
    assert set(p.quality_flags) >= {"flags", "attention_failures", "straightlining_share"}
    assert p.quality_flags["attention_failures"] == 0
    assert "item:1" in p.quality_flags["page_seconds"]
    assert received == [
        {
            "signal": participant_completed,
            "sender": Participant,
            "participant_id": p.pk,
            "study_id": study.pk,
        }
    ]
    # the completion page shows the code and the Prolific URL
    assert "DONE123" in bot.html
    assert "https://app.prolific.com/submissions/complete?cc=DONE123" in bot.html
    assert p.assignments.filter(kind="item", completed_at__isnull=False).count() == 5


def test_same_prolific_pid_resumes_and_new_session_is_an_attempt():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-BOB", "S1"))
    bot.consent()
    bot.demographics()
    bot.answer_current_item()
    bot.answer_current_item()
    at_position = bot.html
    # a new browser (no cookies) with the same PROLIFIC_PID and a new SESSION_ID
    again = SurveyBot(study.slug)
    again.arrive(**prolific("PID-BOB", "S2"))
    assert again.page == "item"
    assert 'data-position="3"' in again.html and 'data-position="3"' in at_position
    assert Participant.objects.count() == 1
    p = Participant.objects.get()
    assert p.prolific_session_id == "S2"
    assert set(ParticipantAttempt.objects.values_list("session_id", flat=True)) == {"S1", "S2"}
    assert again.run_to_end() == "done"
    assert Participant.objects.get().status == Participant.Status.COMPLETED
    # reopening after completion shows the completion page, nothing new is stored
    third = SurveyBot(study.slug)
    third.arrive(**prolific("PID-BOB", "S3"))
    assert third.page == "done"
    assert Participant.objects.count() == 1


def test_plain_link_gets_a_generated_id_and_resumes_by_session():
    study = make_study(uses_prolific=False, completion_redirect_url="")
    bot = SurveyBot(study.slug)
    bot.arrive()
    bot.consent()
    p = Participant.objects.get()
    assert p.origin == "link" and p.external_id.startswith("L-")
    bot.arrive()  # same browser: resume, not a new participant
    assert bot.page == "demographics" and Participant.objects.count() == 1
    assert bot.run_to_end() == "done"
    assert "DONE123" in bot.html and "prolific.com" not in bot.html


def test_declining_consent_shows_the_no_consent_code():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-NO"))
    bot.consent(agree=False)
    assert bot.page == "ended" and "NOCONSENT" in bot.html
    p = Participant.objects.get()
    assert p.status == Participant.Status.NO_CONSENT and not p.assignments.exists()


def test_double_click_and_repeated_answers_store_one_row():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-DBL"))
    bot.consent()
    bot.consent(resend=True)  # double-clicked consent: same participant
    assert Participant.objects.count() == 1
    bot.demographics()
    p = Participant.objects.get()
    first = p.assignments.get(position=1)
    if first.kind == "attention":
        value = first.expected_value
    else:
        value = 4
    token = bot.token()
    for _ in range(3):
        response = bot.client.post(f"/s/{study.slug}/item/1/", {"token": token, "value": value})
        assert response.status_code == 302
    assert p.ratings.count() == (0 if first.kind == "attention" else 1)
    # a changed answer before moving on updates the one row
    if first.kind == "item":
        bot.client.post(f"/s/{study.slug}/item/1/", {"token": token, "value": 2})
        assert list(p.ratings.values_list("rating", flat=True)) == [2]


def test_forbidden_moves_fail_clearly_and_change_nothing():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-EVIL"))
    bot.consent()
    bot.demographics()
    p = Participant.objects.get()
    token = bot.token()
    url = f"/s/{study.slug}/item/1/"
    other = Client()

    def rows():
        return (
            ItemRating.objects.count(),
            Assignment.objects.filter(answered_at__isnull=False).count(),
            InstrumentResponse.objects.count(),
        )

    before = rows()
    # value outside 1-6, not a number, missing
    for value in ("0", "7", "abc", ""):
        r = bot.client.post(url, {"token": token, "value": value})
        assert r.status_code == 400, value
        assert b"between 1 and 6" in r.content or b"choose an answer" in r.content
    # missing token (fresh client) and forged token
    assert other.post(url, {"value": 3}).status_code == 403
    assert other.post(url, {"value": 3, "token": token + "x"}).status_code == 403
    assert bot.client.post(url, {"value": 3, "token": "forged:abc"}).status_code == 403
    # a position that is not assigned, a position ahead of the current one
    assert (
        bot.client.post(f"/s/{study.slug}/item/99/", {"token": token, "value": 3}).status_code
        == 404
    )
    assert (
        bot.client.post(f"/s/{study.slug}/item/3/", {"token": token, "value": 3}).status_code == 409
    )
    # questionnaire before the items are done
    r = bot.client.post(f"/s/{study.slug}/questionnaire/bfi10/1/", {"token": token, "q1": 3})
    assert r.status_code == 409
    # JSON answers get JSON errors
    r = bot.client.post(
        f"/s/{study.slug}/answer/",
        {"token": token, "position": 1, "value": 9},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 400 and r.json()["ok"] is False
    assert rows() == before
    # a token from another study is refused
    other_study = make_study(n_items=4)
    r = bot.client.post(f"/s/{other_study.slug}/item/1/", {"token": token, "value": 3})
    assert r.status_code == 403
    # finish, then answering again is refused
    bot.get(f"/s/{study.slug}/next/")
    assert bot.run_to_end() == "done"
    p.refresh_from_db()
    final = rows()
    r = bot.client.post(url, {"token": token, "value": 1})
    assert r.status_code == 409 and b"ended" in r.content
    r = bot.client.post(f"/s/{study.slug}/questionnaire/bfi10/1/", {"token": token, "q1": 1})
    assert r.status_code == 409
    assert rows() == final


def test_questionnaire_rejects_values_off_the_scale_and_keeps_partial_answers():
    study = make_study(items_per_participant=1, attention_check_count=0, instruments=("bfi10",))
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-Q"))
    bot.consent()
    bot.demographics()
    bot.answer_current_item(3)
    assert bot.page == "questionnaire"
    url = bot.path
    token = bot.token()
    r = bot.client.post(url, {"token": token, "q1": "6"})  # BFI is 1-5
    assert r.status_code == 400 and InstrumentResponse.objects.count() == 0
    r = bot.client.post(url, {"token": token, "q9": "3"})  # not on page 1
    assert r.status_code == 400 and InstrumentResponse.objects.count() == 0
    r = bot.client.post(url, {"token": token, "q1": "2", "q2": "4"})
    assert r.status_code == 400 and b"answer every question" in r.content
    assert InstrumentResponse.objects.count() == 2  # what was given is kept
    r = bot.client.post(url, {"token": token, "q1": "2", "q2": "4"})
    assert InstrumentResponse.objects.count() == 2


def test_two_failed_attention_checks_screen_out_under_prolific_rules():
    study = make_study(attention_check_count=3, attention_failures_to_screen_out=1)
    assert study.screen_out_after == 2  # Prolific: never after a single failure
    bot = SurveyBot(study.slug, fail_checks=2)
    bot.arrive(**prolific("PID-CARELESS"))
    assert bot.run_to_end() == "screened-out"
    assert "SCREENED" in bot.html and "return the study" in bot.html
    assert "submissions/complete?cc=SCREENED" in bot.html
    p = Participant.objects.get()
    assert p.status == Participant.Status.SCREENED_OUT
    assert p.quality_flags["attention_failures"] == 2
    assert "attention_check_failed" in p.flags
    # leases are given back
    assert not p.assignments.filter(released_at__isnull=True).exists()
    # and no more answers are accepted
    r = bot.client.post(
        f"/s/{study.slug}/item/1/",
        {"token": bot.token() if 'name="token"' in bot.html else "", "value": 1},
    )
    assert r.status_code in (403, 409)


def test_one_failed_check_flags_but_does_not_screen_out():
    study = make_study(attention_check_count=2)
    bot = SurveyBot(study.slug, fail_checks=1)
    bot.arrive(**prolific("PID-ONCE"))
    assert bot.run_to_end() == "done"
    p = Participant.objects.get()
    assert p.status == Participant.Status.COMPLETED
    assert p.flags == ["attention_check_failed"]


def test_pvq_form_follows_gender_unless_the_study_sets_one():
    study = make_study(items_per_participant=1, attention_check_count=0, instruments=("pvq21",))
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-M"))
    bot.consent()
    bot.demographics(gender="non_binary")
    assert Participant.objects.get().pvq_form == "male"
    bot.answer_current_item(2)
    assert bot.page == "questionnaire"
    from survey.models import InstrumentItem

    male_text = InstrumentItem.objects.get(instrument__code="pvq21", form="male", number=1).text
    assert male_text.split()[-1] in bot.html or "Placeholder" in bot.html
    assert "placeholder-notice" in bot.html
    forced = make_study(n_items=3, items_per_participant=1, pvq_form="female")
    bot2 = SurveyBot(forced.slug)
    bot2.arrive(**prolific("PID-F"))
    bot2.consent()
    bot2.demographics(gender="male")
    assert Participant.objects.get(external_id="PID-F").pvq_form == "female"


def test_closed_paused_and_full_studies_say_so_politely():
    study = make_study(
        n_items=2, items_per_participant=2, target_ratings_per_item=1, attention_check_count=0
    )
    first = SurveyBot(study.slug)
    first.arrive(**prolific("PID-1"))
    first.consent()
    second = SurveyBot(study.slug)
    second.arrive(**prolific("PID-2"))
    assert second.last.status_code == 200 and "full" in second.html
    study.status = "closed"
    study.save()
    third = SurveyBot(study.slug)
    third.arrive(**prolific("PID-3"))
    assert "has closed" in third.html
    assert Participant.objects.count() == 1


def test_expired_lease_times_out_and_frees_the_items():
    from datetime import timedelta

    from django.utils import timezone

    study = make_study(
        n_items=2, items_per_participant=2, target_ratings_per_item=1, attention_check_count=0
    )
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-SLOW"))
    bot.consent()
    p = Participant.objects.get()
    past = timezone.now() - timedelta(minutes=1)
    Participant.objects.filter(pk=p.pk).update(expires_at=past)
    Assignment.objects.filter(participant=p).update(expires_at=past)
    token = bot.token()
    r = bot.client.post(f"/s/{study.slug}/item/1/", {"token": token, "value": 3})
    assert r.status_code == 409 and b"time limit" in r.content
    assert Participant.objects.get().status == Participant.Status.TIMED_OUT
    newcomer = SurveyBot(study.slug)
    newcomer.arrive(**prolific("PID-NEXT"))
    newcomer.consent()
    assert Participant.objects.get(external_id="PID-NEXT").assignments.count() == 2


def test_stopping_returns_the_study_and_frees_items():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-STOP"))
    bot.consent()
    bot.demographics()
    bot.post(f"/s/{study.slug}/stop/", {"token": bot.token()})
    assert bot.page == "ended"
    p = Participant.objects.get()
    assert p.status == Participant.Status.RETURNED
    assert not p.assignments.filter(released_at__isnull=True).exists()


def test_study_without_questionnaires_or_demographics_completes_after_the_items():
    study = make_study(instruments=(), demographic_fields=[], attention_check_count=1)
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-SHORT"))
    bot.consent()
    assert bot.page == "item"
    assert bot.run_to_end() == "done"
    p = Participant.objects.get()
    assert p.status == Participant.Status.COMPLETED and p.ratings.count() == 5
    assert not p.scores.exists()


def test_invalid_demographics_are_refused_with_messages_and_nothing_stored():
    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-YOUNG"))
    bot.consent()
    response = bot.client.post(
        bot.path, {"token": bot.token(), "age": "12", "gender": "robot", "country": "X"}
    )
    assert response.status_code == 400
    assert b"greater than or equal to 18" in response.content
    assert b"Select a valid choice" in response.content
    assert Participant.objects.get().demographics == {}
    bot.get(f"/s/{study.slug}/next/")
    assert bot.page == "demographics"


def test_expire_stale_sessions_task_is_idempotent():
    from datetime import timedelta

    from django.utils import timezone

    from survey.tasks import expire_stale_sessions

    study = make_study()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-GONE"))
    bot.consent()
    Participant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_stale_sessions() == 1
    assert expire_stale_sessions() == 0
    assert Participant.objects.get().status == Participant.Status.TIMED_OUT


def test_imported_text_is_escaped_on_the_pages():
    study = make_study(n_items=1, items_per_participant=1, attention_check_count=0)
    item = study.item_pool.get()
    item.text = '<script>alert("x")</script> & <b>bold</b>'
    item.save()
    item.scenario.title = "<img src=x onerror=alert(1)>"
    item.scenario.save()
    bot = SurveyBot(study.slug)
    bot.arrive(**prolific("PID-XSS"))
    bot.consent()
    bot.demographics()
    assert bot.page == "item"
    assert '<script>alert("x")</script>' not in bot.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in bot.html
    assert "<img src=x" not in bot.html


def test_two_tabs_answering_the_same_question_keep_one_row():
    study = make_study(attention_check_count=0)
    tab_a = SurveyBot(study.slug)
    tab_a.arrive(**prolific("PID-TABS"))
    tab_a.consent()
    tab_a.demographics()
    tab_b = SurveyBot(study.slug, client=tab_a.client)  # same browser, second tab
    tab_b.get(f"/s/{study.slug}/next/")
    assert 'data-position="1"' in tab_a.html and 'data-position="1"' in tab_b.html
    tab_a.answer_current_item(2)
    assert 'data-position="2"' in tab_a.html
    tab_b.answer_current_item(5)  # the stale tab changes the answer to question 1
    assert 'data-position="2"' in tab_b.html  # and both continue at question 2
    p = Participant.objects.get()
    assert list(p.ratings.values_list("rating", flat=True)) == [5]
    assert p.assignments.filter(answered_at__isnull=False).count() == 1


def test_nul_bytes_in_urls_and_fields_are_refused_without_errors():
    study = make_study()
    bot = SurveyBot(study.slug)
    assert bot.client.get(f"/s/{study.slug}/", {"PROLIFIC_PID": "A\x00B"}).status_code == 400
    bot.arrive(**prolific("PID-NUL"))
    bot.consent()
    token = bot.token()
    r = bot.client.post(f"/s/{study.slug}/questionnaire/bfi%00/1/", {"token": token, "q1": 1})
    assert r.status_code == 404
    r = bot.client.post(
        f"/s/{study.slug}/answer/",
        {"token": token, "instrument": "bfi\x00", "number": 1, "value": 1},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 404
    r = bot.client.post(bot.path, {"token": token, "age": 30, "country": "A\x00", "gender": "male"})
    assert r.status_code == 400 and Participant.objects.get().demographics == {}
