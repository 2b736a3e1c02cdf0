"""How a session ends: time-outs, screen-out, returning the study, completion, quality flags.

Every write here is conditional on the participant still being in progress, so that two
requests racing to end a session end it once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, ngettext_lazy

from survey import quality
from survey.errors import Expired, Incomplete, SessionEnded
from survey.models import Assignment, Participant, Study
from survey.selectors.progress import has_lapsed, instrument_pages, missing_answers
from survey.services.scoring import compute_participant_scores
from survey.signals import participant_completed


def time_out(*, participant_id: int) -> None:
    """Mark the participant timed out, unless they already left the in-progress state."""
    Participant.objects.filter(pk=participant_id, status=Participant.Status.IN_PROGRESS).update(
        status=Participant.Status.TIMED_OUT
    )


def expire_if_due(*, participant: Participant, now: datetime | None = None) -> bool:
    """Mark an in-progress participant whose lease ran out as timed out (True if so)."""
    if has_lapsed(participant=participant, now=now):
        time_out(participant_id=participant.pk)
        participant.status = Participant.Status.TIMED_OUT
        return True
    return False


def ensure_answerable(*, status: str, timed_out: bool) -> None:
    """Raise unless answers may still be stored for a participant in ``status``
    (``timed_out``: their time limit has just passed)."""
    if timed_out:
        raise Expired(
            gettext_lazy("The time limit for this study has passed, so this answer was not stored.")
        )
    if status != Participant.Status.IN_PROGRESS:
        raise SessionEnded(
            gettext_lazy("This session has ended; answers can no longer be changed.")
        )


def require_in_progress(*, participant: Participant) -> None:
    timed_out = expire_if_due(participant=participant)
    ensure_answerable(status=participant.status, timed_out=timed_out)


def release_leases(*, participant: Participant, now: datetime | None = None) -> None:
    participant.assignments.filter(released_at__isnull=True, completed_at__isnull=True).update(
        released_at=now or timezone.now()
    )


def screen_out(*, participant: Participant) -> None:
    """End the session after too many failed checks; the items go back to the pool."""
    now = timezone.now()
    with transaction.atomic():
        updated = Participant.objects.filter(
            pk=participant.pk, status=Participant.Status.IN_PROGRESS
        ).update(status=Participant.Status.SCREENED_OUT, completed_at=now)
        if updated:
            release_leases(participant=participant, now=now)
            participant.status = Participant.Status.SCREENED_OUT
            store_quality(participant=participant)


def return_study(*, participant: Participant) -> None:
    """The participant chose to stop: mark returned and free their items."""
    now = timezone.now()
    with transaction.atomic():
        if Participant.objects.filter(
            pk=participant.pk, status=Participant.Status.IN_PROGRESS
        ).update(status=Participant.Status.RETURNED):
            release_leases(participant=participant, now=now)
            participant.status = Participant.Status.RETURNED


def item_pace(*, participant: Participant, assignments: list[Assignment]) -> quality.Pace:
    """Seconds on each answered item page and the least plausible seconds for it.

    A page's time is the longer of the server's (first shown to first answer) and the
    browser's (``response_time_ms``): a page counts as fast only when both clocks say so. Its
    minimum is reading what it showed at the study's skimming pace: the response, and the
    scenario the first time the participant met it (later items of a scenario repeat it)."""
    study = participant.study
    client_ms = dict(participant.ratings.values_list("item_id", "response_time_ms"))
    seen_scenarios: set[int] = set()
    seconds, minimums = [], []
    for a in assignments:
        if a.item_id is None or not (a.shown_at and a.answered_at):
            continue
        server = (a.answered_at - a.shown_at).total_seconds()
        seconds.append(max(server, (client_ms.get(a.item_id) or 0) / 1000))
        words = quality.word_count(a.item.text)
        if a.item.scenario_id not in seen_scenarios:
            seen_scenarios.add(a.item.scenario_id)
            scenario = a.item.scenario
            words += quality.word_count(f"{scenario.title} {scenario.text}")
        minimums.append(
            quality.reading_minimum(
                words=words,
                floor_seconds=study.min_seconds_per_item,
                words_per_minute=study.fast_reading_wpm,
            )
        )
    return quality.Pace(seconds=seconds, minimums=minimums)


def questionnaire_pace(*, participant: Participant, timings: dict[str, float]) -> quality.Pace:
    """Seconds on each answered questionnaire page (server and browser, the longer) and its
    minimum: ``min_seconds_per_question`` times the questions on it."""
    study = participant.study
    client_ms: dict[tuple[str, int], int] = {
        (code, number): ms or 0
        for code, number, ms in participant.instrument_responses.values_list(
            "instrument__code", "item_number", "response_time_ms"
        )
    }
    seconds, minimums = [], []
    for instrument in study.instruments_in_order():
        for index, numbers in enumerate(instrument_pages(instrument=instrument, study=study), 1):
            server = timings.get(f"{instrument.code}:{index}")
            if server is None:
                continue
            browser = max((client_ms.get((instrument.code, n), 0) for n in numbers), default=0)
            seconds.append(max(server, browser / 1000))
            minimums.append(study.min_seconds_per_question * len(numbers))
    return quality.Pace(seconds=seconds, minimums=minimums)


def store_quality(*, participant: Participant) -> dict:
    """Compute the quality metrics and flags and store them on the participant."""
    study = participant.study
    assignments = list(
        participant.assignments.select_related("item__scenario").order_by("position")
    )
    ratings = dict(participant.ratings.values_list("item_id", "rating"))
    in_order = [ratings[a.item_id] for a in assignments if a.item_id in ratings]
    checks = [a for a in assignments if a.is_attention_check and a.given_value is not None]
    failures = sum(1 for a in checks if not a.attention_passed)
    participant.refresh_from_db(fields=["consented_at", "completed_at"])
    total = None
    if participant.consented_at and participant.completed_at:
        total = (participant.completed_at - participant.consented_at).total_seconds()
    others = [
        (done - began).total_seconds()
        for began, done in Participant.objects.filter(
            study=study, status=Participant.Status.COMPLETED, consented_at__isnull=False
        )
        .exclude(pk=participant.pk)
        .values_list("consented_at", "completed_at")
    ]
    page_seconds = {
        f"item:{a.position}": round((a.answered_at - a.shown_at).total_seconds(), 3)
        for a in assignments
        if a.shown_at and a.answered_at
    }
    timings = {
        page: (answered - shown).total_seconds()
        for page, shown, answered in participant.page_timings.filter(
            answered_at__isnull=False
        ).values_list("page", "shown_at", "answered_at")
    }
    page_seconds.update({page: round(value, 3) for page, value in timings.items()})
    report = quality.assess(
        attention_failures=failures,
        attention_checks_answered=len(checks),
        ratings_in_order=in_order,
        total_seconds=total,
        other_totals=others,
        speeder_fraction=study.speeder_fraction,
        straightlining_threshold=study.straightlining_threshold,
        page_seconds=page_seconds,
        item_pace=item_pace(participant=participant, assignments=assignments),
        questionnaire_pace=questionnaire_pace(participant=participant, timings=timings),
    )
    data = report.as_json()
    Participant.objects.filter(pk=participant.pk).update(quality_flags=data)
    participant.quality_flags = data
    return data


def complete(*, participant: Participant) -> Participant:
    """Check every answer is stored, score, flag, mark completed and signal (after commit).

    Idempotent: completing a completed participant changes nothing and sends nothing.
    """
    with transaction.atomic():
        locked = (
            Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        )
        if locked.status == Participant.Status.COMPLETED:
            return locked
        require_in_progress(participant=locked)
        missing = missing_answers(participant=locked)
        if missing:
            # The participant reads how many; the names (e.g. "question 3") are for logs.
            raise Incomplete(
                format_lazy(
                    ngettext_lazy(
                        "{count} answer is missing, so the study cannot be completed yet.",
                        "{count} answers are missing, so the study cannot be completed yet.",
                        len(missing),
                    ),
                    count=len(missing),
                )
            )
        now = timezone.now()
        compute_participant_scores(participant=locked)
        locked.status = Participant.Status.COMPLETED
        locked.completed_at = now
        locked.last_seen_at = now
        locked.save(update_fields=["status", "completed_at", "last_seen_at"])
        locked.assignments.filter(kind=Assignment.Kind.ITEM).update(completed_at=now)
        store_quality(participant=locked)
        participant_id, study_id = locked.pk, locked.study_id
        transaction.on_commit(
            lambda: participant_completed.send(
                sender=Participant, participant_id=participant_id, study_id=study_id
            )
        )
    return locked


def recompute_quality(*, study: Study) -> int:
    """Recompute every finished participant's flags (e.g. after the median settled)."""
    n = 0
    for participant in Participant.objects.filter(
        study=study,
        status__in=[Participant.Status.COMPLETED, Participant.Status.SCREENED_OUT],
    ).select_related("study"):
        store_quality(participant=participant)
        n += 1
    return n


def recompute_when_rules_change(sender, instance: Study, created: bool = False, **kwargs) -> None:
    """``post_save`` of a study: when a quality rule changed, recompute every finished
    participant's flags once the save commits (from the admin, the staff pages or code)."""
    changed = not created and instance.quality_rules_changed()
    instance.mark_quality_rules_saved()  # the values now in the database
    if not changed:
        return
    study_id = instance.pk

    def recompute() -> None:
        study = Study.objects.filter(pk=study_id).first()
        if study is not None:  # deleted meanwhile: nothing to recompute
            recompute_quality(study=study)

    transaction.on_commit(recompute)


def expire_stale(*, study: Study | None = None) -> int:
    """Mark in-progress participants whose lease expired as timed out."""
    stale = Participant.objects.stale()
    if study is not None:
        stale = stale.filter(study=study)
    return stale.update(status=Participant.Status.TIMED_OUT)
