"""Run by ``test_answers.test_the_answer_path_on_sqlite`` in a subprocess whose DATABASE_URL
is a fresh SQLite file: migrates it, answers items through the views and prints one JSON
line of what happened (the test compares it with what the flow promises)."""

from __future__ import annotations

import json
from datetime import timedelta

import django


def main() -> dict:
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from survey.models import Assignment, ItemRating, Participant
    from tests.survey.bots import SurveyBot
    from tests.survey.study_setup import make_study

    study = make_study(attention_check_count=1)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-SQLITE", STUDY_ID="S", SESSION_ID="X")
    bot.consent()
    bot.demographics()
    participant = Participant.objects.get(external_id="PID-SQLITE")
    Participant.objects.filter(pk=participant.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=5)
    )
    token = bot.token()
    slug = study.slug
    check = Assignment.objects.get(participant=participant, kind=Assignment.Kind.ATTENTION)
    # Put the attention check at position 2 and an item at 1 (swap positions if needed).
    if check.position != 2:
        other = Assignment.objects.get(participant=participant, position=2)
        Assignment.objects.filter(pk=other.pk).update(position=99)
        Assignment.objects.filter(pk=check.pk).update(position=2)
        Assignment.objects.filter(pk=other.pk).update(position=check.position)

    def post(position, value):
        return bot.client.post(f"/s/{slug}/item/{position}/", {"token": token, "value": value})

    def hop(response):
        return [response.status_code, response["Location"].removeprefix(f"/s/{slug}")]

    report = {"vendor": connection.vendor}
    report["ahead"] = post(3, 3).status_code
    report["unassigned"] = post(77, 3).status_code
    report["out_of_scale"] = post(1, 9).status_code
    report["first"] = hop(post(1, 3))
    report["repeat"] = hop(post(1, 5))
    report["changed_rating"] = ItemRating.objects.get(participant=participant).rating
    report["ratings"] = ItemRating.objects.filter(participant=participant).count()
    expected = Assignment.objects.get(pk=check.pk).expected_value
    post(2, expected)
    post(2, expected % 6 + 1)  # a second answer to a check changes nothing
    report["attention_final"] = Assignment.objects.get(pk=check.pk).given_value == expected
    seen = Participant.objects.get(pk=participant.pk).last_seen_at
    report["last_seen_written"] = timezone.now() - seen < timedelta(minutes=1)
    return report


if __name__ == "__main__":
    print(json.dumps(main()))
