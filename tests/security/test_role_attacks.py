"""Each role tries to read or write what it must not, with real data present.

``tests/test_permissions.py`` checks every URL's role decision with ids that do not exist;
this suite attacks real objects: two real participants with raw Prolific ids, their answers,
exports, evaluation runs, tokens, the admin. Every refusal must be a refusal (login
redirect, 401, 403, 404 or 409) that leaks none of the protected data and changes nothing.
A positive control (an admin holding ``view_raw_participant_ids`` does see the raw ids)
proves the leak checks can fail.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmark.models import CorrelationRun
from evaluation.models import EvaluationRun
from survey.models import Assignment, ItemRating, Participant, Study
from survey.tokens import TOKEN_SALT
from tests.dashboards.helpers import make_user
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study

pytestmark = pytest.mark.django_db

RAW_IDS = ("PIDSECRETALPHA01", "PIDSECRETBRAVO02")
REFUSED = {302, 401, 403, 404, 405, 409}


@pytest.fixture
def world():
    """A Prolific study with one completed and one in-progress participant."""
    study = make_study(n_items=12, items_per_participant=4, attention_check_count=0)
    done = SurveyBot(slug=study.slug)
    done.arrive(PROLIFIC_PID=RAW_IDS[0], STUDY_ID="S", SESSION_ID="A")
    assert done.run_to_end() == "done"
    busy = SurveyBot(slug=study.slug)
    busy.arrive(PROLIFIC_PID=RAW_IDS[1], STUDY_ID="S", SESSION_ID="B")
    busy.consent()
    busy.demographics()
    busy.answer_current_item(value=2)
    other = make_study(n_items=6, items_per_participant=2, attention_check_count=0)
    return {"study": study, "done": done, "busy": busy, "other": other}


def snapshot() -> tuple:
    return (
        sorted(ItemRating.objects.values_list("participant_id", "item_id", "rating")),
        sorted(Participant.objects.values_list("pk", "status")),
        sorted(Assignment.objects.values_list("pk", "answered_at", "given_value")),
        sorted(Study.objects.values_list("pk", "status")),
        Token.objects.count(),
        CorrelationRun.objects.count(),
        EvaluationRun.objects.count(),
    )


def assert_no_raw_ids(response) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for raw in RAW_IDS:
        assert raw.encode() not in body, (
            f"raw Prolific id leaked by {response.request['PATH_INFO']}"
        )


def staff_urls(slug: str) -> list[str]:
    return [
        "/studies/",
        f"/studies/{slug}/",
        f"/studies/{slug}/monitor/",
        f"/studies/{slug}/monitor.json",
        f"/studies/{slug}/export/ratings.csv",
        f"/studies/{slug}/export/ratings.json",
        f"/studies/{slug}/export/participants.csv",
        f"/studies/{slug}/export/participants.json",
        f"/studies/{slug}/export/survey.json",
        f"/studies/{slug}/export/value.json",
        "/api/v1/studies/",
        f"/api/v1/studies/{slug}/",
        "/api/v1/participants/",
        "/api/v1/evaluation-runs/",
        "/api/v1/model-configurations/",
        "/api/v1/users/",
        "/api/v1/tokens/",
        "/dashboards/humans/",
        "/admin/survey/participant/",
    ]


# --- participants ---------------------------------------------------------------------


def forged_token(participant: Participant, study: Study) -> str:
    """A token for someone else's participant, signed with a key the attacker guessed."""
    return signing.dumps(
        {"p": participant.pk, "s": study.pk}, key="guessed-secret", salt=TOKEN_SALT
    )


def test_a_participant_cannot_answer_or_read_as_another_participant(world):
    study, busy = world["study"], world["busy"]
    victim = Participant.objects.get(external_id=RAW_IDS[1])
    attacker = SurveyBot(slug=study.slug)
    attacker.arrive(PROLIFIC_PID="PIDATTACKER00001", STUDY_ID="S", SESSION_ID="C")
    attacker.consent()
    before = snapshot()
    token = forged_token(victim, study)
    for url, data in (
        (f"/s/{study.slug}/item/2/", {"token": token, "value": 6}),
        (f"/s/{study.slug}/answer/", {"token": token, "position": 2, "value": 6}),
        (f"/s/{study.slug}/stop/", {"token": token}),
    ):
        response = attacker.client.post(url, data, HTTP_ACCEPT="application/json")
        assert response.status_code == 403, (url, response.status_code)
        assert "not valid" in response.json()["error"]
    # The attacker's own session only ever shows the attacker's own pages.
    page = attacker.client.get(f"/s/{study.slug}/next/", follow=True)
    assert busy.token() not in page.content.decode()
    assert snapshot() == before


def test_a_token_of_one_study_is_refused_by_another(world):
    other = world["other"]
    participant = Participant.objects.get(external_id=RAW_IDS[1])
    token = signing.dumps({"p": participant.pk, "s": participant.study_id}, salt=TOKEN_SALT)
    before = snapshot()
    response = Client().post(
        f"/s/{other.slug}/answer/",
        {"token": token, "position": 1, "value": 3},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert "another study" in response.json()["error"]
    assert snapshot() == before


def test_a_finished_participant_cannot_change_answers(world):
    study = world["study"]
    participant = Participant.objects.get(external_id=RAW_IDS[0])
    token = signing.dumps({"p": participant.pk, "s": study.pk}, salt=TOKEN_SALT)
    before = snapshot()
    response = Client().post(
        f"/s/{study.slug}/answer/",
        {"token": token, "position": 1, "value": 1},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409 and "ended" in response.json()["error"]
    assert snapshot() == before


@pytest.mark.parametrize("role", ["anonymous", "participant"])
def test_anonymous_and_participants_reach_no_staff_data(world, role):
    client = world["busy"].client if role == "participant" else Client()
    before = snapshot()
    for url in staff_urls(world["study"].slug):
        response = client.get(url)
        assert response.status_code in REFUSED, (url, response.status_code)
        if response.status_code == 302:
            assert "login" in response["Location"], url
        assert_no_raw_ids(response)
    for url, data in (
        (f"/studies/{world['study'].slug}/status/", {"status": "closed"}),
        ("/api/v1/tokens/", {"username": "admin-user"}),
        (f"/benchmark/{world['study'].slug}/recompute/", {"method": "spearman"}),
    ):
        assert client.post(url, data).status_code in REFUSED, url
    assert snapshot() == before


# --- researchers ----------------------------------------------------------------------


def test_a_researcher_sees_pseudonyms_only_and_cannot_act_as_admin(world, client):
    study = world["study"]
    admin = make_user("admin")
    client.force_login(make_user("researcher"))
    for url in staff_urls(study.slug):
        response = client.get(url)
        assert_no_raw_ids(response)
        if url.startswith(("/api/v1/participants", "/api/v1/users", "/api/v1/tokens", "/admin/")):
            assert response.status_code in REFUSED, (url, response.status_code)
        else:
            assert response.status_code == 200, (url, response.status_code)
    before = snapshot()
    for fmt in ("csv", "json"):
        raw = client.get(f"/studies/{study.slug}/export/participants-raw.{fmt}")
        assert raw.status_code == 403
        assert_no_raw_ids(raw)
    refused_writes = [
        client.post(f"/studies/{study.slug}/status/", {"status": "closed"}),
        client.post("/api/v1/tokens/", {"username": admin.username}),
        client.delete(f"/api/v1/tokens/{admin.username}/"),
        client.post(f"/benchmark/{study.slug}/recompute/", {"method": "spearman"}),
        client.post("/api/v1/model-cards/", {"name": "x"}, content_type="application/json"),
        client.post("/admin/survey/study/add/", {"title": "x", "slug": "x"}),
    ]
    assert all(r.status_code in REFUSED for r in refused_writes), [
        r.status_code for r in refused_writes
    ]
    assert snapshot() == before


# --- admins ---------------------------------------------------------------------------


def test_raw_ids_need_the_permission_even_for_admins(world, client):
    study = world["study"]
    admin = make_user("admin")
    client.force_login(admin)
    response = client.get(f"/studies/{study.slug}/export/participants-raw.csv")
    assert response.status_code == 403
    assert_no_raw_ids(response)
    # Positive control: with the permission the raw ids are there (the checks above can fail).
    admin.user_permissions.add(Permission.objects.get(codename="view_raw_participant_ids"))
    client.force_login(type(admin).objects.get(pk=admin.pk))
    allowed = client.get(f"/studies/{study.slug}/export/participants-raw.csv")
    assert allowed.status_code == 200
    with pytest.raises(AssertionError):
        assert_no_raw_ids(allowed)


def test_a_revoked_api_token_reads_nothing(world, client):
    researcher = make_user("researcher")
    token = Token.objects.create(user=researcher)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/studies/").status_code == 200
    admin = make_user("admin")
    client.force_login(admin)
    assert client.delete(f"/api/v1/tokens/{researcher.username}/").status_code in (200, 204)
    refused = api.get("/api/v1/studies/")
    assert refused.status_code in (401, 403)
    assert "invalid token" in refused.json()["detail"].lower()
    assert world["study"].slug.encode() not in refused.content


def test_evaluation_runs_are_not_writable_without_a_role(world):
    config = ModelConfigurationFactory()
    item_set = make_item_set(n_items=2)
    before = snapshot()
    for client in (Client(), world["busy"].client):
        response = client.post(
            "/api/v1/evaluation-runs/",
            {"model_config": config.pk, "item_set": item_set.pk},
            content_type="application/json",
        )
        assert response.status_code in (401, 403)
    assert snapshot() == before
