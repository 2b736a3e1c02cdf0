"""Property test: whatever a client posts to the answer endpoints, the answer is a 2xx/3xx or a
4xx with a message — never a 500 — and invalid posts store nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.models import Assignment, InstrumentResponse, ItemRating

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db

junk = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.sampled_from(["1", "6", "7", "0", "-1", "3.5", "1e3", " 2 ", "\x00", "NaN"]),
)


@pytest.fixture
def session():
    study = make_study(attention_check_count=1)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-FUZZ")
    bot.consent()
    bot.demographics()
    return study, bot, bot.token()


def state():
    return (
        list(ItemRating.objects.values_list("item_id", "rating")),
        list(Assignment.objects.values_list("pk", "answered_at", "given_value")),
        InstrumentResponse.objects.count(),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    position=junk,
    value=junk,
    instrument=st.sampled_from([None, "bfi10", "pvq21", "pvq_rr", "nope"]),
    number=junk,
    use_token=st.sampled_from(["good", "bad", "none"]),
)
def test_answer_endpoint_never_fails_with_500(
    session, position, value, instrument, number, use_token
):
    study, bot, token = session
    data = {}
    for key, raw in (
        ("position", position),
        ("value", value),
        ("instrument", instrument),
        ("number", number),
    ):
        if raw is not None:
            data[key] = raw
    if use_token == "good":
        data["token"] = token
    elif use_token == "bad":
        data["token"] = token[:-2] + "xx"
    before = state()
    response = bot.client.post(f"/s/{study.slug}/answer/", data, HTTP_ACCEPT="application/json")
    assert response.status_code < 500
    body = response.json()
    if response.status_code >= 400:
        assert body["ok"] is False and body["error"]
        assert state() == before
    # only an already answered position or the first open one, with a value on the scale
    if response.status_code == 200 and not data.get("instrument"):
        first_open = 1 + sum(1 for _, answered, _ in before[1] if answered is not None)
        assert 1 <= int(data["position"]) <= first_open and 1 <= int(data["value"]) <= 6
