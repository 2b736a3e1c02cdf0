"""Concurrency on PostgreSQL: parallel arrivals and parallel submissions of one answer.

Each thread has its own database connection and runs the real service (or the real view
through a test client), all released at once by a barrier.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
from django.db import connection
from django.test import Client

from survey import errors
from survey.models import Assignment, ItemRating, Participant
from survey.services import ending, enrolment
from survey.tokens import make_token

from .study_setup import make_study

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def run_parallel(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads started together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def arrive(study, i: int):
    return enrolment.consent(
        study=study,
        arrival=enrolment.Arrival(external_id=f"PID{i:03d}", origin="prolific", session_id=f"S{i}"),
        agreed=True,
        rng=np.random.default_rng(i),
    )


def item_loads(study) -> Counter:
    loads = Counter(
        Assignment.objects.filter(participant__study=study, kind="item").values_list(
            "item_id", flat=True
        )
    )
    for item_id in study.item_pool.values_list("pk", flat=True):
        loads.setdefault(item_id, 0)
    return loads


def test_fifty_parallel_arrivals_get_balanced_items():
    study = make_study(n_items=40, items_per_participant=10, target_ratings_per_item=20)
    results = run_parallel(50, lambda i: arrive(study, i))
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert Participant.objects.filter(study=study).count() == 50
    loads = item_loads(study)
    assert sum(loads.values()) == 500
    assert max(loads.values()) - min(loads.values()) <= 1  # 12 or 13 each
    for p in Participant.objects.filter(study=study):
        items = list(p.assignments.filter(kind="item").values_list("item_id", flat=True))
        assert len(items) == len(set(items)) == 10


def test_fifty_parallel_arrivals_never_over_assign_a_full_study():
    study = make_study(n_items=20, items_per_participant=5, target_ratings_per_item=10)
    results = run_parallel(50, lambda i: arrive(study, i))
    full = [r for r in results if isinstance(r, errors.StudyFull)]
    other_errors = [r for r in results if isinstance(r, Exception) and r not in full]
    assert not other_errors, other_errors
    assert len(full) == 10
    assert Participant.objects.filter(study=study).count() == 40
    loads = item_loads(study)
    assert set(loads.values()) == {10}  # exactly the target, never more


def test_same_participant_arriving_in_parallel_is_one_participant():
    study = make_study()
    results = run_parallel(
        10,
        lambda i: (
            enrolment.consent(
                study=study,
                arrival=enrolment.Arrival(
                    external_id="PID-TWIN", origin="prolific", session_id="S"
                ),
                agreed=True,
            ).pk
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Participant.objects.count() == 1
    assert Assignment.objects.filter(kind="item").count() == 5


def test_parallel_double_submission_stores_one_rating():
    study = make_study(attention_check_count=0)
    participant = arrive(study, 1)
    participant.demographics = {"age": 30}
    participant.save()
    token = make_token(participant_id=participant.pk, study_id=participant.study_id)
    url = f"/s/{study.slug}/item/1/"

    def submit(i: int) -> int:
        return Client().post(url, {"token": token, "value": 5}).status_code

    statuses = run_parallel(20, submit)
    assert set(statuses) == {302}, statuses
    assert ItemRating.objects.filter(participant=participant).count() == 1
    assert ItemRating.objects.get(participant=participant).rating == 5
    assignment = participant.assignments.get(position=1)
    assert assignment.answered_at is not None


def test_parallel_completion_completes_and_signals_once():
    from survey.bots import SurveyBot
    from survey.signals import participant_completed

    study = make_study(attention_check_count=0, instruments=("bfi10",))
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-FINISH")
    bot.consent()
    bot.demographics()
    for _ in range(5):
        bot.answer_current_item(3)
    assert bot.page == "questionnaire"
    participant = Participant.objects.get(external_id="PID-FINISH")
    from survey.models import Instrument, InstrumentResponse

    bfi = Instrument.objects.get(code="bfi10")
    InstrumentResponse.objects.bulk_create(
        InstrumentResponse(participant=participant, instrument=bfi, item_number=n, value=3)
        for n in range(1, 11)
    )
    received = []

    def handler(**kwargs):
        received.append(kwargs["participant_id"])

    participant_completed.connect(handler)
    try:
        results = run_parallel(
            8, lambda i: ending.complete(participant=Participant.objects.get(pk=participant.pk))
        )
    finally:
        participant_completed.disconnect(handler)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert received == [participant.pk]
    participant.refresh_from_db()
    assert participant.status == Participant.Status.COMPLETED
    assert participant.scores.filter(family="big_five").count() == 5
