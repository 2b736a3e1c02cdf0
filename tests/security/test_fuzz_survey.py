"""Property-based fuzzing (hypothesis) of every participant form and the answer endpoint.

Whatever a participant, a bot or a broken phone sends: never a 500; a refusal is a 4xx
with a message for the participant (JSON ``{"ok": false, "error": ...}`` on the answer
endpoint); and a refused request stores nothing. Runs on the test database of
``DATABASE_URL`` (PostgreSQL in CI, where NUL bytes and integer overflows would surface).
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey.models import (
    Assignment,
    InstrumentResponse,
    ItemRating,
    Participant,
    ParticipantAttempt,
)
from tests.conftest import REQUIRE_SERVICES
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    # Reproducible in CI (a red build must be re-runnable); local runs explore new inputs.
    derandomize=REQUIRE_SERVICES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a form field may receive: nasty text, numbers of any size, near-misses.
junk = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["", " ", "0", "1", "3", "6", "7", "-1", "1.5", "1e9", "NaN", "٣", "\x00", "<script>"]
    ),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
field_names = st.sampled_from(
    ["token", "value", "position", "instrument", "number", "elapsed_ms", "choice", "arrival"]
    + [f"q{n}" for n in (0, 1, 2, 10, 57, 99)]
    + ["age", "gender", "country", "education", "first_language"]
)
form_data = st.dictionaries(field_names, junk, max_size=8)


def state() -> tuple:
    return (
        sorted(ItemRating.objects.values_list("participant_id", "item_id", "rating")),
        sorted(
            InstrumentResponse.objects.values_list(
                "participant_id", "instrument_id", "item_number", "value"
            )
        ),
        sorted(Assignment.objects.values_list("pk", "answered_at", "given_value")),
        sorted(Participant.objects.values_list("pk", "status", "demographics")),
        ParticipantAttempt.objects.count(),
    )


def check_response(response, *, before: tuple, json: bool = False) -> None:
    assert response.status_code < 500, response.content[:500]
    if 400 <= response.status_code < 500:
        if json:
            body = response.json()
            assert body["ok"] is False and body["error"].strip()
        else:
            assert len(response.content.strip()) > 0
        assert state() == before, "a refused request changed stored data"


@pytest.fixture(autouse=True)
def no_entry_limit(settings):
    """Hundreds of arrivals from one test client: lift the per-client entry limit."""
    settings.SURVEY_ENTRY_RATE = "100000/m"


@pytest.fixture
def participant_at_items():
    study = make_study(n_items=12, items_per_participant=4)
    bot = SurveyBot(slug=study.slug)
    bot.client.raise_request_exception = True  # any exception fails the test with its trace
    bot.arrive(PROLIFIC_PID="FUZZPID01", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    bot.demographics()
    assert bot.page == "item"
    return bot


@FUZZ
@given(data=form_data, with_token=st.booleans(), json=st.booleans())
@example(data={"instrument": "\x00", "number": "1", "value": "3"}, with_token=True, json=True)
@example(data={"instrument": "bfi10", "number": "\x00", "value": "3"}, with_token=True, json=True)
@example(data={"position": "1", "value": "\x00"}, with_token=True, json=False)
def test_answer_endpoint_never_fails(participant_at_items, data, with_token, json):
    bot = participant_at_items
    if with_token:
        data = {**data, "token": bot.token()}
    before = state()
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    response = bot.client.post(f"/s/{bot.slug}/answer/", data, **headers)
    check_response(response, before=before, json=True)


@FUZZ
@given(data=form_data, position=st.integers(min_value=0, max_value=2**31), json=st.booleans())
def test_item_form_never_fails(participant_at_items, data, position, json):
    bot = participant_at_items
    data = {"token": bot.token(), **data}
    before = state()
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    response = bot.client.post(f"/s/{bot.slug}/item/{position}/", data, **headers)
    check_response(response, before=before, json=json)


@FUZZ
@given(
    data=form_data,
    code=st.sampled_from(["pvq21", "bfi10", "pvq_rr", "nope"]),
    page=st.integers(0, 40),
)
def test_questionnaire_form_never_fails(participant_at_items, data, code, page):
    bot = participant_at_items
    data = {"token": bot.token(), **data}
    before = state()
    response = bot.client.post(f"/s/{bot.slug}/questionnaire/{code}/{page}/", data)
    check_response(response, before=before)


@FUZZ
@given(data=form_data)
def test_demographics_form_never_fails(data):
    study = make_study(n_items=4, items_per_participant=2)
    bot = SurveyBot(slug=study.slug)
    bot.arrive(PROLIFIC_PID="FUZZPID02", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    assert bot.page == "demographics"
    before = state()
    response = bot.client.post(f"/s/{study.slug}/about-you/", {"token": bot.token(), **data})
    check_response(response, before=before)
    if response.status_code == 400:
        assert b"errorlist" in response.content  # the form says what is wrong


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "participant_id", "x"]),
        junk,
        max_size=4,
    ),
    consent=form_data,
)
def test_entry_and_consent_never_fail(params, consent):
    study = make_study(n_items=4, items_per_participant=2)
    client = Client()
    before = state()
    response = client.get(f"/s/{study.slug}/", params)
    check_response(response, before=before)
    assert state() == before  # opening the link stores nothing before consent
    before = state()
    response = client.post(f"/s/{study.slug}/consent/", consent)
    check_response(response, before=before)


@FUZZ
@given(slug=st.text(max_size=30), tail=st.sampled_from(["", "next/", "done/", "answer/", "stop/"]))
def test_unknown_studies_and_paths_are_404_not_500(slug, tail):
    response = Client().get(f"/s/{slug}/{tail}")
    assert response.status_code < 500
