"""Prolific services against the fake server: bonuses paid once through crashes, double clicks
and lost answers; rejections checked before sending; the token's absence; the signed webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from survey.models import BonusBatch, ProlificAction, ProlificStudy, ProlificSubmission
from survey.prolific import services
from survey.prolific.errors import InvalidRequest, NotConfigured, ProlificRefused, StateConflict
from survey.tasks import check_bonus_batches, resume_bonus_batches
from tests.factories import StudyFactory

S = BonusBatch.State


def at_once(n: int, call) -> list[Exception]:
    """Run ``call`` in ``n`` threads released together (each on its own database
    connection); the exceptions they raised."""
    start = threading.Barrier(n)
    errors = []

    def run():
        try:
            start.wait()
            call()
        except Exception as exc:  # returned to the test, which asserts on them
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def live_study(fake, *, submissions: int = 2):
    """A study created on the fake Prolific with ``submissions`` awaiting review, stored here."""
    study = StudyFactory(completion_code="DONE1")
    ProlificStudy.objects.create(study=study, reward_cents=200, places=5)
    services.create_draft(study=study, entry_url="https://vp.example/s/x/")
    prolific_id = study.prolific.prolific_study_id
    for n in range(submissions):
        sid = fake.add_submission(study_id=prolific_id, participant_id=f"PID{n}")
        fake.submit(sid, code="DONE1")
    services.sync_submissions(study=study)
    return study, list(ProlificSubmission.objects.values_list("submission_id", flat=True))


def batch_for(study, sids, key="k1") -> BonusBatch:
    return services.record_bonus_batch(
        study=study, bonuses={sid: "1.25" for sid in sids}, request_key=key
    )


@pytest.mark.django_db
def test_a_crash_after_set_up_resumes_and_pays_once(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    services.set_up_bonus_batch(batch_id=batch.pk)  # ... and the process dies here
    batch.refresh_from_db()
    assert batch.state == S.SET_UP and batch.prolific_bulk_id and not fake_prolific.payments
    assert services.pay_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert services.pay_bonus_batch(batch_id=batch.pk).state == S.PAID  # again: nothing sent
    assert fake_prolific.payments == {batch.prolific_bulk_id: 1}
    assert fake_prolific.bonuses_paid() == {sid: Decimal("1.25") for sid in sids}


@pytest.mark.django_db
def test_a_set_up_left_by_a_dead_process_is_redone_and_paid_once(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    # Prolific set it up, but our process died before storing the bulk id.
    fake_prolific.set_up_bonuses({"study_id": study.prolific.prolific_study_id,
                                  "csv_bonuses": batch.csv()})  # fmt: skip
    BonusBatch.objects.filter(pk=batch.pk).update(
        state=S.SETTING_UP, claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert services.pay_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert len(fake_prolific.bonus_setups) == 2  # the orphan set-up was never paid
    assert sum(fake_prolific.payments.values()) == 1
    # A set-up claimed moments ago belongs to a live process: left alone.
    other = batch_for(study, sids, key="k2")
    BonusBatch.objects.filter(pk=other.pk).update(state=S.SETTING_UP, claimed_at=timezone.now())
    assert services.pay_bonus_batch(batch_id=other.pk).state == S.SETTING_UP


@pytest.mark.django_db
def test_a_lost_answer_to_pay_is_never_paid_again_until_a_person_confirms(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", after_work=True, drop=True)  # paid, answer lost
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.state == S.UNKNOWN
    for _ in range(3):  # retries, double clicks, the worker's resume: none pays
        assert services.pay_bonus_batch(batch_id=batch.pk).state == S.UNKNOWN
    assert sum(fake_prolific.payments.values()) == 1
    assert ProlificAction.objects.filter(kind="bonus_pay").get().outcome == "unknown"
    confirmed = services.confirm_bonus_outcome(batch_id=batch.pk, paid=True)
    assert confirmed.state == S.PAID and confirmed.paid_at
    with pytest.raises(StateConflict):
        services.confirm_bonus_outcome(batch_id=batch.pk, paid=False)
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_a_server_error_before_paying_is_paid_after_a_person_confirms_it_was_not(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", status=500)  # refused before paying anything
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    assert BonusBatch.objects.get(pk=batch.pk).state == S.UNKNOWN
    assert not fake_prolific.payments
    assert services.confirm_bonus_outcome(batch_id=batch.pk, paid=False).state == S.SET_UP
    assert services.pay_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_the_same_form_twice_records_one_batch(fake_prolific):
    study, sids = live_study(fake_prolific)
    first = batch_for(study, sids, key="form-A")
    again = services.record_bonus_batch(study=study, bonuses={sids[0]: "9"}, request_key="form-A")
    assert again.pk == first.pk and BonusBatch.objects.count() == 1
    with pytest.raises(InvalidRequest):
        services.record_bonus_batch(study=study, bonuses={"nope": "1"}, request_key="form-B")
    with pytest.raises(InvalidRequest):
        services.record_bonus_batch(study=study, bonuses={sids[0]: "-1"}, request_key="form-C")


@pytest.mark.django_db(transaction=True)
def test_two_requests_paying_at_once_pay_once(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    assert at_once(4, lambda: services.pay_bonus_batch(batch_id=batch.pk)) == []
    assert BonusBatch.objects.get(pk=batch.pk).state == S.PAID
    assert len(fake_prolific.bonus_setups) == 1 and sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_rejections_break_no_prolific_rule_before_sending(fake_prolific):
    study, sids = live_study(fake_prolific)
    sent = len(fake_prolific.requests)
    with pytest.raises(InvalidRequest, match="100 characters"):
        services.reject(study=study, submission_ids=sids, category="FAILED_CHECK", message="Bad.")
    with pytest.raises(InvalidRequest, match="category"):
        services.reject(study=study, submission_ids=sids, category="SLOW", message="x" * 120)
    assert len(fake_prolific.requests) == sent
    assert services.request_return(study=study, submission_ids=sids[:1], reasons=["Withdrew."])
    assert fake_prolific.submissions[sids[0]]["return_requested"]
    services.approve(study=study, submission_ids=sids[1:])
    with pytest.raises(InvalidRequest):  # already approved: nothing left to review
        services.approve(study=study, submission_ids=sids[1:])


@pytest.mark.django_db
def test_no_token_in_the_environment_sends_nothing(fake_prolific, monkeypatch):
    study = StudyFactory(completion_code="DONE1")
    ProlificStudy.objects.create(study=study, reward_cents=200, places=5, api_token_env="MY_TOKEN")
    monkeypatch.delenv("MY_TOKEN", raising=False)
    with pytest.raises(NotConfigured, match="MY_TOKEN"):
        services.create_draft(study=study, entry_url="https://vp.example/s/x/")
    assert fake_prolific.requests == []
    assert ProlificStudy.objects.get(study=study).creating_since is None  # claim released


def signed(body: bytes, secret: str, timestamp: str) -> dict:
    signature = base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()
    return {
        "HTTP_X_PROLIFIC_REQUEST_SIGNATURE": signature,
        "HTTP_X_PROLIFIC_REQUEST_TIMESTAMP": timestamp,
    }


@pytest.mark.django_db
def test_the_webhook_takes_only_signed_fresh_events(fake_prolific, client, monkeypatch):
    study, sids = live_study(fake_prolific, submissions=1)
    monkeypatch.setenv("PROLIFIC_WEBHOOK_SECRET", "s3cret")
    url = reverse("prolific_webhook")
    body = json.dumps(
        {"event_type": "submission.status.change", "resource_id": sids[0], "status": "RETURNED"}
    ).encode()
    now = str(int(time.time()))

    def post(headers):
        return client.post(url, body, content_type="application/json", **headers)

    assert post({}).status_code == 403
    assert post(signed(body, "wrong", now)).status_code == 403
    assert post(signed(body, "s3cret", str(int(time.time()) - 3600))).status_code == 403
    assert ProlificSubmission.objects.get().status == "AWAITING REVIEW"
    response = post(signed(body, "s3cret", now))
    assert response.status_code == 200 and response.json() == {"stored": True}
    assert ProlificSubmission.objects.get().status == "RETURNED"


@pytest.mark.django_db
def test_the_resume_task_finishes_interrupted_batches_once_and_leaves_unknown_ones(fake_prolific):
    study, sids = live_study(fake_prolific)
    set_up = batch_for(study, sids, key="a")
    services.set_up_bonus_batch(batch_id=set_up.pk)  # crashed before paying
    recorded = batch_for(study, sids, key="b")  # crashed before setting up
    unknown = batch_for(study, sids, key="c")
    fake_prolific.fail("POST", "/pay/", after_work=True, drop=True)
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=unknown.pk)
    paid_before = sum(fake_prolific.payments.values())
    assert resume_bonus_batches() == {set_up.pk: S.PAID, recorded.pk: S.PAID}
    assert resume_bonus_batches() == {}  # twice: nothing left, nothing paid again
    assert sum(fake_prolific.payments.values()) == paid_before + 2
    assert BonusBatch.objects.get(pk=unknown.pk).state == S.UNKNOWN


# --- learning what happened to a batch whose payment is unknown ------------------------------


def sent_long_ago(batch) -> None:
    """The pay call was sent more than the settling time ago."""
    BonusBatch.objects.filter(pk=batch.pk).update(
        pay_sent_at=timezone.now() - timedelta(minutes=61)
    )


@pytest.mark.django_db
def test_a_lost_answer_is_checked_on_prolific_and_marked_paid_without_paying_again(
    fake_prolific,
):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", after_work=True, drop=True)  # paid, answer lost
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    assert BonusBatch.objects.get(pk=batch.pk).state == S.UNKNOWN
    checked = services.check_bonus_batch(batch_id=batch.pk)
    assert checked.state == S.PAID and checked.paid_at and "paid" in checked.check_note
    assert sum(fake_prolific.payments.values()) == 1
    assert fake_prolific.bonuses_paid() == {sid: Decimal("1.25") for sid in sids}
    check = ProlificAction.objects.get(kind="bonus_check")
    assert [(e["method"], e["status"]) for e in check.exchanges] == [("GET", 200)] * 2
    assert check.exchanges[0]["answer"]["bonus_payments"] == [125]
    # checked again, clicked again, resumed: nothing more is sent to pay
    assert services.check_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert services.pay_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_a_5xx_before_paying_is_paid_again_only_once_the_settling_time_passed(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", status=500)  # refused before paying anything
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    too_early = services.check_bonus_batch(batch_id=batch.pk)
    assert too_early.state == S.UNKNOWN and "yet" in too_early.check_note
    assert not fake_prolific.payments  # Prolific may still be processing: nothing sent
    sent_long_ago(batch)
    assert services.check_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1
    notes = list(
        ProlificAction.objects.filter(kind="bonus_check")
        .order_by("pk")
        .values_list("note", flat=True)
    )
    assert "yet" in notes[0] and "paid again (once)" in notes[1]
    assert ProlificAction.objects.filter(kind="bonus_pay", outcome="ok").count() == 1


@pytest.mark.django_db
def test_a_payment_prolific_processes_late_is_never_paid_twice(fake_prolific):
    fake_prolific.settle_later = True
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", status=502, after_work=True)  # paid, 5xx answered
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    assert services.check_bonus_batch(batch_id=batch.pk).state == S.UNKNOWN  # not shown yet
    fake_prolific.settle()
    sent_long_ago(batch)
    assert services.check_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_bonuses_listed_on_some_submissions_only_are_left_to_a_person(fake_prolific):
    fake_prolific.settle_later = True
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", after_work=True, drop=True)
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    fake_prolific.submissions[sids[0]]["bonus_payments"].append(125)  # half processed
    sent_long_ago(batch)
    checked = services.check_bonus_batch(batch_id=batch.pk)
    assert checked.state == S.UNKNOWN and "some of the batch's bonuses" in checked.check_note
    assert sum(fake_prolific.payments.values()) == 1
    assert services.confirm_bonus_outcome(batch_id=batch.pk, paid=True).state == S.PAID


@pytest.mark.django_db
def test_an_earlier_paid_batch_of_the_same_amounts_is_not_taken_for_this_one(fake_prolific):
    study, sids = live_study(fake_prolific)
    first = batch_for(study, sids, key="first")
    assert services.pay_bonus_batch(batch_id=first.pk).state == S.PAID
    second = batch_for(study, sids, key="second")  # the same 1.25 each, again
    fake_prolific.fail("POST", "/pay/", status=503)  # refused before paying
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=second.pk)
    sent_long_ago(second)
    # each submission lists 1.25 once: the first batch's, so the second was not paid
    assert services.check_bonus_batch(batch_id=second.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 2
    assert fake_prolific.bonuses_paid() == {sid: Decimal("2.50") for sid in sids}


@pytest.mark.django_db
def test_a_payer_that_died_after_sending_is_checked_like_a_lost_answer(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    services.set_up_bonus_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    # our process claimed the batch, sent the pay call, and died before hearing back
    fake_prolific.handle(
        "POST", f"/api/v1/bulk-bonus-payments/{batch.prolific_bulk_id}/pay/", {}, fake_prolific.url
    )
    long_ago = timezone.now() - timedelta(hours=1)
    BonusBatch.objects.filter(pk=batch.pk).update(
        state=S.PAYING, claimed_at=long_ago, pay_sent_at=long_ago
    )
    assert services.unknown_batch_ids() == [batch.pk]
    assert services.check_bonus_batch(batch_id=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db(transaction=True)
def test_checks_running_at_once_pay_an_unpaid_batch_once(fake_prolific):
    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", status=500)
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=batch.pk)
    sent_long_ago(batch)
    assert at_once(4, lambda: services.check_bonus_batch(batch_id=batch.pk)) == []
    assert BonusBatch.objects.get(pk=batch.pk).state == S.PAID
    assert sum(fake_prolific.payments.values()) == 1


@pytest.mark.django_db
def test_the_check_task_settles_unknown_batches_and_a_failed_read_keeps_them_unknown(
    fake_prolific,
):
    study, sids = live_study(fake_prolific)
    lost = batch_for(study, sids, key="lost")
    fake_prolific.fail("POST", "/pay/", after_work=True, drop=True)
    with pytest.raises(ProlificRefused):
        services.pay_bonus_batch(batch_id=lost.pk)
    fake_prolific.fail("GET", "/submissions/", status=503, times=10)  # Prolific down
    assert check_bonus_batches() == {lost.pk: S.UNKNOWN}
    assert "Check failed" in BonusBatch.objects.get(pk=lost.pk).check_note
    fake_prolific.faults.clear()
    assert check_bonus_batches() == {lost.pk: S.PAID}
    assert check_bonus_batches() == {}
    assert sum(fake_prolific.payments.values()) == 1


def test_celery_beat_checks_unknown_batches_and_resumes_interrupted_ones(settings):
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    every = float(settings.PROLIFIC_BONUS_CHECK_SECONDS)
    assert schedule["survey.check_bonus_batches"] == every
    assert schedule["survey.resume_bonus_batches"] == every
