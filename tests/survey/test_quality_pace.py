"""The absolute pace rule (``too_fast``) beside the relative speeder rule, and flags that follow
the study's rules when they change."""

from __future__ import annotations

import pytest

from survey import quality
from survey.models import Participant

from .bots import SurveyBot
from .study_setup import make_study


def test_reading_minimum_reads_words_at_the_skimming_pace_above_a_floor():
    # 100 words at 600 wpm take 10 s; 5 words would take 0.5 s, so the 2 s floor applies.
    assert quality.reading_minimum(words=100, floor_seconds=2, words_per_minute=600) == 10
    assert quality.reading_minimum(words=5, floor_seconds=2, words_per_minute=600) == 2


def test_pace_flags_only_when_most_pages_are_too_quick():
    minimums = [3.0] * 6
    # The case: every item answered in 125-450 ms.
    assert quality.Pace(seconds=[0.125, 0.3, 0.45, 0.2, 0.4, 0.15], minimums=minimums).is_too_fast()
    # One quick click among careful pages is not a speeder.
    assert not quality.Pace(seconds=[0.2, 6, 7, 5, 9, 4], minimums=minimums).is_too_fast()
    # Exactly half too quick is not "more than half".
    assert not quality.Pace(seconds=[1, 1, 1, 5, 5, 5], minimums=minimums).is_too_fast()
    assert quality.Pace(seconds=[], minimums=[]).fast_share() is None


def test_absolute_pace_flags_without_any_other_participant():
    report = quality.assess(
        attention_failures=0,
        attention_checks_answered=2,
        ratings_in_order=[1, 3, 5, 2, 6, 4],
        total_seconds=44,
        other_totals=[],  # no median to compare with: the relative rule cannot fire
        speeder_fraction=0.4,
        straightlining_threshold=0.8,
        item_pace=quality.Pace(seconds=[0.2] * 6, minimums=[2.0] * 6),
    )
    assert report.flags == [quality.TOO_FAST]
    data = report.as_json()
    assert data["item_pages_too_fast"] == 1.0 and data["median_item_page_seconds"] == 0.2


@pytest.mark.django_db
def test_participants_answering_in_fractions_of_a_second_are_flagged_careful_ones_not():
    study = make_study()
    speeders = [SurveyBot(study.slug, page_ms=300) for _ in range(2)]
    careful = SurveyBot(study.slug)
    for n, bot in enumerate([*speeders, careful]):
        bot.arrive(PROLIFIC_PID=f"PID-{n}", STUDY_ID="S", SESSION_ID=f"SE{n}")
        assert bot.run_to_end() == "done"
    by_pid = {p.external_id: p for p in Participant.objects.all()}
    for pid in ("PID-0", "PID-1"):
        assert quality.TOO_FAST in by_pid[pid].flags
        assert by_pid[pid].quality_flags["item_pages_too_fast"] == 1.0
        assert by_pid[pid].quality_flags["questionnaire_pages_too_fast"] == 1.0
    assert by_pid["PID-2"].flags == []
    assert by_pid["PID-2"].quality_flags["item_pages_too_fast"] == 0.0
    # Too fast leaves them out of the statistics like any flag.
    assert set(Participant.objects.counted(study)) == {by_pid["PID-2"]}


@pytest.mark.django_db
def test_changing_a_rule_recomputes_the_flags(django_capture_on_commit_callbacks):
    # Only the item floor decides here: questions and reading need (almost) no time.
    study = make_study(min_seconds_per_question=0.1, fast_reading_wpm=100_000)
    bot = SurveyBot(study.slug, page_ms=2500)  # 2.5 s per page: above the 2 s floor
    bot.arrive(PROLIFIC_PID="PID-X", STUDY_ID="S", SESSION_ID="SE")
    bot.run_to_end()
    participant = Participant.objects.get()
    assert quality.TOO_FAST not in participant.flags
    study.refresh_from_db()
    study.min_seconds_per_item = 4.0
    with django_capture_on_commit_callbacks(execute=True):
        study.save()
    participant.refresh_from_db()
    assert quality.TOO_FAST in participant.flags
    # Saving without changing a rule recomputes nothing (the flags stay as stored).
    Participant.objects.filter(pk=participant.pk).update(quality_flags={"flags": []})
    study.title = "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        study.save()
    participant.refresh_from_db()
    assert participant.flags == []
