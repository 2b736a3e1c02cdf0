"""The declared flow (``survey.steps``): URLs from the sequence, the place, the item page's
one read, refusals mapped to statuses, and bots submitting ``(step, data)``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

import survey.selectors
from survey import errors, steps
from survey.http import STATUS_OF, http_status
from survey.models import InstrumentResponse, ItemRating, Participant

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def started(**study_fields) -> SurveyBot:
    bot = SurveyBot(make_study(**study_fields).slug)
    bot.arrive(PROLIFIC_PID="PID-STEPS", STUDY_ID="S", SESSION_ID="A")
    return bot


def test_every_step_and_ending_has_its_url_and_view():
    for step in steps.PAGE_SEQUENCE:
        place = steps.Place(step.name, position=2, instrument="bfi10", page=1)
        match = resolve(step.url("demo", place))
        assert match.url_name == step.url_name
        if step.route:
            assert match.kwargs["step_name"] == step.name
    for end in steps.ENDINGS:
        assert resolve(end.url("demo")).kwargs["ending_name"] == end.name
    statuses = [s for end in steps.ENDINGS for s in end.statuses]
    assert sorted(statuses) == sorted(set(Participant.Status) - {Participant.Status.IN_PROGRESS})


def test_every_refusal_has_a_status_and_the_most_specific_wins():
    refusals = [c for c in vars(errors).values() if isinstance(c, type)]
    refusals = [c for c in refusals if issubclass(c, errors.FlowError)]
    assert all(http_status(c("x")) in (400, 403, 404, 409) for c in refusals)
    # Each kind of refusal says its status; narrower ones inherit it (StudyFull: StudyClosed).
    assert set(errors.FlowError.__subclasses__()) <= set(STATUS_OF) <= set(refusals)
    assert http_status(errors.Expired("x")) == 409 and http_status(errors.StudyFull("x")) == 409
    assert http_status(errors.ForgedToken("x")) == 403


def test_locate_walks_the_sequence():
    bot = started(items_per_participant=2, attention_check_count=0, instruments=("bfi10",))
    assert bot.place is None and bot.page == "consent"  # no participant yet
    bot.consent()
    participant = Participant.objects.get()
    assert steps.locate(participant).step == "demographics"
    bot.demographics()
    participant.refresh_from_db()
    assert steps.locate(participant) == steps.Place("items", position=1)
    bot.answer_current_item(2)
    bot.answer_current_item(5)
    assert steps.locate(participant) == steps.Place("questionnaires", instrument="bfi10", page=1)
    assert bot.place == steps.locate(participant)
    assert bot.run_to_end() == "done"
    participant.refresh_from_db()
    assert steps.locate(participant) == steps.Place("done")


def test_the_item_page_is_one_read_and_the_first_showing_one_write():
    bot = started(items_per_participant=3, attention_check_count=1)
    bot.consent()
    bot.demographics()
    # The bot was sent to item 1 (its first showing); item 2 comes after a bare POST.
    token = bot.token()
    assert (
        bot.client.post(f"/s/{bot.slug}/item/1/", {"token": token, "value": 3}).status_code == 302
    )
    url = f"/s/{bot.slug}/item/2/"
    for expected in (3, 2):  # session, page read (+ the first-shown time, the first time)
        with CaptureQueriesContext(connection) as queries:
            response = bot.client.get(url)
        assert response.status_code == 200, response.content[:300]
        assert len(queries) == expected, [q["sql"][:80] for q in queries]
    page = response.context_data
    assert page["place"] == steps.Place("items", position=2) and not page["is_review"]
    assert page["answered"] == "1" and page["total"] == str(
        4 + 21 + 10
    )  # 3 items, 1 check, PVQ, BFI
    review = bot.client.get(f"/s/{bot.slug}/item/1/")
    assert review.context_data["is_review"] and review.context_data["current"] == "3"
    # A page past the participant's place, or off their sequence, is the generic page's:
    # a redirect to where they are.
    for position in (3, 99):
        response = bot.client.get(f"/s/{bot.slug}/item/{position}/")
        assert response.status_code == 302 and response.url == url


def test_bot_submissions_that_must_fail_store_nothing():
    bot = started(items_per_participant=2, attention_check_count=0, instruments=("bfi10",))
    bot.submit(
        steps.CONSENT, {"arrival": bot.context["arrival"], "choice": "maybe"}, must_fail=True
    )
    assert not Participant.objects.exists()
    bot.arrive(PROLIFIC_PID="PID-STEPS", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    bot.submit(steps.DEMOGRAPHICS, {"age": 12}, must_fail=True)  # under 18
    assert bot.page == "demographics" and not Participant.objects.get().demographics
    bot.demographics()
    bot.submit(steps.ITEMS, {"value": 7}, must_fail=True)
    bot.submit(steps.ITEMS, {"value": ""}, must_fail=True)
    assert not ItemRating.objects.exists()
    with pytest.raises(AssertionError):  # a valid answer is not a refusal
        bot.submit(steps.ITEMS, {"value": 3}, must_fail=True)
    bot.answer_current_item(4)
    assert bot.page == "questionnaire"
    bot.submit(steps.QUESTIONNAIRES, {"q1": 9}, must_fail=True)  # the BFI is 1-5
    assert not InstrumentResponse.objects.exists() and bot.page == "message"
    bot.get(f"/s/{bot.slug}/next/")  # back from the error page to where the participant is
    assert bot.run_to_end() == "done"


def test_no_read_module_imports_a_write_module():
    for path in Path(survey.selectors.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        ]
        assert not [m for m in imported if m and m.startswith("survey.services")], path
