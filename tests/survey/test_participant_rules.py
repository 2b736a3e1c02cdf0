"""The rules on the survey models: which participants count, the scale, per-study choices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from survey import counting, scale
from survey.models import Participant
from tests.factories import ParticipantFactory, StudyFactory

from .study_setup import make_study

pytestmark = pytest.mark.django_db

S = Participant.Status


def people(study, *specs):
    """One participant per (status, quality_flags) spec, in order."""
    return [ParticipantFactory(study=study, status=s, quality_flags=f) for s, f in specs]


def test_counted_is_finished_and_unflagged_when_the_study_excludes_flagged():
    study = StudyFactory(exclude_flagged_participants=True)
    done, imported, flagged, empty_flags, metrics_only, screened, going = people(
        study,
        (S.COMPLETED, {}),
        (S.IMPORTED, {}),
        (S.COMPLETED, {"flags": ["speeder"]}),
        (S.COMPLETED, {"flags": []}),
        (S.COMPLETED, {"attention_failures": 0}),
        (S.SCREENED_OUT, {"flags": ["attention_check_failed"]}),
        (S.IN_PROGRESS, {}),
    )
    ParticipantFactory(study=StudyFactory(), status=S.COMPLETED)  # another study's
    assert set(Participant.objects.counted(study)) == {done, imported, empty_flags, metrics_only}
    assert set(study.participants.finished()) == {
        done,
        imported,
        flagged,
        empty_flags,
        metrics_only,
    }
    assert set(study.participants.flagged()) == {flagged, screened}
    assert set(study.participants.unflagged()) == {
        done,
        imported,
        empty_flags,
        metrics_only,
        going,
    }
    assert flagged.is_excluded and not done.is_excluded


def test_counted_keeps_flagged_participants_when_the_study_says_so():
    study = StudyFactory(exclude_flagged_participants=False)
    done, flagged, _ = people(
        study,
        (S.COMPLETED, {}),
        (S.COMPLETED, {"flags": ["speeder"]}),
        (S.RETURNED, {}),
    )
    assert set(Participant.objects.counted(study)) == {done, flagged}
    assert not flagged.is_excluded and flagged.is_flagged


def test_stale_is_in_progress_past_the_time_limit():
    study = StudyFactory()
    now = timezone.now()
    late = ParticipantFactory(study=study, expires_at=now - timedelta(seconds=1))
    ParticipantFactory(study=study, expires_at=now + timedelta(minutes=5))
    ParticipantFactory(study=study, expires_at=None)
    ParticipantFactory(study=study, status=S.COMPLETED, expires_at=now - timedelta(hours=1))
    assert list(Participant.objects.stale()) == [late]
    assert not Participant.objects.stale(now=now - timedelta(minutes=1)).exists()


def test_scale_is_one_six_point_definition():
    assert scale.VALUES == (1, 2, 3, 4, 5, 6) and len(scale.LABELS) == scale.MAX
    assert [scale.value_of(scale.label_of(v)) for v in scale.VALUES] == list(scale.VALUES)
    assert scale.DESCENDING[0] == scale.label_of(scale.MAX)
    with pytest.raises(ValueError):
        scale.label_of(7)
    with pytest.raises(KeyError):
        scale.value_of("like me!")


def test_study_rules():
    study = make_study(n_items=3, target_ratings_per_item=1, instruments=("bfi10", "pvq21"))
    assert [i.code for i in study.instruments_in_order()] == ["pvq21", "bfi10"]
    assert study.pvq_form_for(gender="female") == "female"
    assert study.pvq_form_for(gender="non_binary") == "male"
    study.pvq_form = study.PvqForm.FEMALE
    assert study.pvq_form_for(gender="male") == "female"
    assert "\u201ca little like me\u201d" in study.attention_check_text(3)
    assert study.has_room()
    # One participant holding every item's lease fills a study that wants one rating each.
    holder = ParticipantFactory(study=study, expires_at=timezone.now() + timedelta(hours=1))
    for position, item in enumerate(study.item_pool.all(), start=1):
        holder.assignments.create(position=position, item=item, expires_at=holder.expires_at)
    assert not study.has_room()
    assert study.has_room(now=timezone.now() + timedelta(hours=2))  # the leases have run out


@pytest.mark.parametrize("exclude_flagged", [True, False])
def test_the_database_rule_and_the_pure_rule_count_the_same_people(exclude_flagged):
    study = StudyFactory(exclude_flagged_participants=exclude_flagged)
    flag_sets = [{}, {"flags": []}, {"flags": ["speeder"]}, {"total_seconds": 12.0}]
    for status in Participant.Status:
        for flags in flag_sets:
            ParticipantFactory(study=study, status=status, quality_flags=flags)
    pure = {
        p
        for p in study.participants.all()
        if counting.exclusion_reason(
            status=p.status, flags=p.flags, exclude_flagged=exclude_flagged
        )
        is None
    }
    assert set(Participant.objects.counted(study)) == pure
    # Two finished statuses × the four flag sets, less the flagged one when it is excluded.
    assert len(pure) == 2 * (3 if exclude_flagged else 4)
    assert (
        counting.exclusion_reason(status="completed", flags=["speeder"], exclude_flagged=True)
        == "quality flags: speeder"
    )
    assert counting.exclusion_reason(status="returned", flags=[], exclude_flagged=False) == (
        "not completed (status returned)"
    )
