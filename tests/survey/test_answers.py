"""The item answer path (``survey.services.answers``): few statements, straight redirects.

The flow's guarantees (idempotence, refusals, attention checks, screen-out, concurrency) are
tested through the bots in ``test_flow_bots.py``, ``test_answer_fuzz.py`` and
``test_concurrency.py``; these tests pin what the hot path adds.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from survey.models import Assignment, ItemRating, Participant
from survey.services.answers import statements
from survey.services.responses import LAST_SEEN_RESOLUTION
from tests.conftest import PROJECT_DIR

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def bot_at_items(*, attention_check_count: int = 0, pid: str = "PID-ANSWERS") -> SurveyBot:
    study = make_study(attention_check_count=attention_check_count)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID=pid, STUDY_ID="STUDY1", SESSION_ID="SESS1")
    bot.consent()
    bot.demographics()
    assert bot.page == "item"
    return bot


def answer(bot: SurveyBot, position: int, value: int = 3, **extra):
    return bot.client.post(
        f"/s/{bot.slug}/item/{position}/", {"token": bot.token(), "value": value, **extra}
    )


@pytest.mark.postgres
def test_an_answer_is_one_read_and_one_write_on_postgresql():
    bot = bot_at_items()
    token = bot.token()
    for position, expected_next in ((1, 2), (1, 2)):  # a first answer, then a change
        with CaptureQueriesContext(connection) as queries:
            response = bot.client.post(
                f"/s/{bot.slug}/answer/",
                {"token": token, "position": position, "value": 4},
                HTTP_ACCEPT="application/json",
            )
        assert response.json()["ok"] is True
        assert response.json()["next"] == f"/s/{bot.slug}/item/{expected_next}/"
        sql = [query["sql"] for query in queries.captured_queries]
        # No study lookup, no session, no separate BEGIN/COMMIT: read, then one atomic write.
        assert len(sql) == 2, sql
        assert sql[0].startswith("SELECT") and sql[1].startswith("WITH rating AS (INSERT")
    assert list(ItemRating.objects.values_list("rating", flat=True)) == [4]


@pytest.mark.postgres
def test_the_answer_statements_stay_prepared_on_the_connection():
    bot = bot_at_items()
    for position in (1, 2):
        assert answer(bot, position).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    sql = statements("postgresql")
    assert server_side(sql.read) in prepared
    assert server_side(sql.writes[0]) in prepared


def server_side(statement: str) -> str:
    """The statement as PostgreSQL keeps it: ``%s`` placeholders numbered ``$1``, ``$2``..."""
    numbers = itertools.count(1)
    return re.sub("%s", lambda _: f"${next(numbers)}", statement)


def test_the_item_form_goes_straight_to_the_next_open_question():
    bot = bot_at_items(attention_check_count=1)
    n_positions = Assignment.objects.filter(participant__external_id="PID-ANSWERS").count()
    for position in range(1, n_positions):
        bot.answer_current_item()  # the attention check too, from the page's instruction
        # One hop, straight to the next question (no detour through /next/).
        assert bot.last.redirect_chain == [(f"/s/{bot.slug}/item/{position + 1}/", 302)]
    # Changing an earlier rating goes on to the first open question, not to the one after.
    response = answer(bot, 1, 5)
    assert response["Location"] == f"/s/{bot.slug}/item/{n_positions}/"
    # After the last item the flow decides (the questionnaires come next).
    response = answer(bot, n_positions)
    assert response["Location"] == f"/s/{bot.slug}/next/"


def progress_bar(bot: SurveyBot) -> tuple[int, int]:
    """(answered, total) as the page's progress bar shows them."""
    now = re.search(r'aria-valuenow="(\d+)"', bot.html).group(1)
    most = re.search(r'aria-valuemax="(\d+)"', bot.html).group(1)
    return int(now), int(most)


def test_the_progress_bar_counts_items_then_questionnaire_answers():
    bot = bot_at_items()  # 5 items, then PVQ-21 (21 questions) and BFI-10 (10)
    total = 5 + 21 + 10
    assert progress_bar(bot) == (0, total)
    for answered in range(1, 6):
        bot.answer_current_item()
        assert progress_bar(bot) == (answered, total)
    assert bot.page == "questionnaire"
    on_first_page = len(set(re.findall(r'name="q(\d+)"', bot.html)))
    bot.answer_questionnaire_page()
    assert progress_bar(bot) == (5 + on_first_page, total)


def test_a_reviewed_item_shows_its_stored_rating_and_an_open_one_none():
    bot = bot_at_items()
    assert answer(bot, 1, 5).status_code == 302
    bot.get(f"/s/{bot.slug}/item/1/")
    selected = re.findall(r'value="(\d)" class="scale-option selected"', bot.html)
    assert selected == ["5"]
    bot.get(f"/s/{bot.slug}/item/2/")
    assert 'class="scale-option selected"' not in bot.html


def test_last_seen_is_written_at_most_once_per_resolution():
    bot = bot_at_items()
    participant = Participant.objects.get(external_id="PID-ANSWERS")
    long_ago = timezone.now() - 2 * LAST_SEEN_RESOLUTION
    Participant.objects.filter(pk=participant.pk).update(last_seen_at=long_ago)
    before = timezone.now()
    assert answer(bot, 1).status_code == 302
    seen = Participant.objects.get(pk=participant.pk).last_seen_at
    assert seen >= before - timedelta(seconds=1)
    assert answer(bot, 2).status_code == 302  # within the resolution: not written again
    assert Participant.objects.get(pk=participant.pk).last_seen_at == seen


def test_an_unknown_study_is_404_and_another_studys_token_403():
    bot = bot_at_items()
    other = bot_at_items(pid="PID-OTHER")  # a second study with its own participant
    response = bot.client.post("/s/no-such-study/item/1/", {"token": bot.token(), "value": 3})
    assert response.status_code == 404
    response = bot.client.post(
        f"/s/{other.slug}/answer/",
        {"token": bot.token(), "position": 1, "value": 3},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert "another study" in response.json()["error"]
    assert not ItemRating.objects.exists()


@pytest.mark.slow
def test_the_answer_path_on_sqlite(tmp_path):
    """The app's default database takes the same path as separate statements in a
    transaction; a fresh SQLite database in a subprocess runs the checks."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.survey.sqlite_answer_flow"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "vendor": "sqlite",
        "first": [302, "/item/2/"],
        "repeat": [302, "/item/2/"],
        "changed_rating": 5,
        "ratings": 1,
        "ahead": 409,
        "unassigned": 404,
        "out_of_scale": 400,
        "attention_final": True,
        "last_seen_written": True,
    }
