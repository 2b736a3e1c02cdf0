"""The database connection drops in the middle of an answer.

The server's connection is really terminated (``pg_terminate_backend`` from a second
connection, right before the answer's INSERT), so psycopg raises exactly what a database
restart or a network cut would. The participant must get a clear "please try again" (503,
not a 500 traceback), nothing half-written may remain, and pressing the button again must
store exactly one answer.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import close_old_connections, connection

from survey.models import Assignment, ItemRating
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def admin_dsn() -> str:
    params = connection.settings_dict
    return (
        f"host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432} "
        f"user={params['USER']} dbname=postgres"
    )


def terminate(pid: int) -> None:
    """Terminate backend ``pid`` and wait until it is gone."""
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)


class DropConnectionOn:
    """A query wrapper that kills the server's own connection before the first matching SQL."""

    def __init__(self, fragment: str):
        self.fragment, self.fired = fragment, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and self.fragment in sql:
            self.fired = True
            terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


def bot_at_first_item() -> SurveyBot:
    study = make_study(n_items=12, attention_check_count=0)
    bot = SurveyBot(slug=study.slug)
    bot.client.raise_request_exception = False  # see what a participant would see
    bot.arrive(PROLIFIC_PID="DBFAULT01", STUDY_ID="S", SESSION_ID="X")
    bot.consent()
    bot.demographics()
    assert bot.page == "item"
    return bot


def item_of(bot: SurveyBot, position: int) -> int:
    return Assignment.objects.get(participant__external_id="DBFAULT01", position=position).item_id


def test_dropped_connection_during_an_item_answer_asks_to_try_again_and_retry_stores_once():
    bot = bot_at_first_item()
    token = bot.token()
    form = {"token": token, "value": 4, "elapsed_ms": 1200}
    dropper = DropConnectionOn('INSERT INTO "survey_itemrating"')
    with connection.execute_wrapper(dropper):
        response = bot.client.post(f"/s/{bot.slug}/item/1/", form)
    assert dropper.fired
    assert response.status_code == 503
    body = response.content.decode()
    assert "try again" in body.lower()
    assert "Traceback" not in body and "OperationalError" not in body
    assert response["Retry-After"]
    # What a real server does at the end of every request: drop the broken connection.
    close_old_connections()
    assert not ItemRating.objects.filter(participant__external_id="DBFAULT01").exists()

    retry = bot.client.post(f"/s/{bot.slug}/item/1/", form)
    assert retry.status_code == 302
    again = bot.client.post(f"/s/{bot.slug}/item/1/", form)  # and a nervous double click
    assert again.status_code == 302
    ratings = ItemRating.objects.filter(participant__external_id="DBFAULT01")
    assert list(ratings.values_list("item_id", "rating")) == [(item_of(bot, 1), 4)]


def test_dropped_connection_on_the_json_answer_endpoint_answers_json_503():
    bot = bot_at_first_item()
    data = {
        "csrfmiddlewaretoken": "unused-in-tests",
        "token": bot.token(),
        "position": 1,
        "value": 2,
    }
    dropper = DropConnectionOn('INSERT INTO "survey_itemrating"')
    with connection.execute_wrapper(dropper):
        response = bot.client.post(f"/s/{bot.slug}/answer/", data, HTTP_ACCEPT="application/json")
    assert dropper.fired
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert "try again" in response.json()["error"].lower()
    close_old_connections()

    retry = bot.client.post(f"/s/{bot.slug}/answer/", data, HTTP_ACCEPT="application/json")
    assert retry.status_code == 200 and retry.json()["ok"] is True
    assert ItemRating.objects.filter(participant__external_id="DBFAULT01").count() == 1
