"""The participant flow: entry, consent, balanced leases, answers, screen-out and completion.

Every write is idempotent: the same answer twice stores one row (unique constraints plus
upserts and conditional updates), so the back button, refresh, double clicks and two tabs
never duplicate or lose an answer. Bad requests raise ``FlowError`` (carrying the HTTP status
and a message for the participant) before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.core import signing
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from survey import quality, scale
from survey.balance import build_sequence, choose_items
from survey.models import (
    Assignment,
    Instrument,
    InstrumentResponse,
    ItemRating,
    PageTiming,
    Participant,
    ParticipantAttempt,
    Study,
)
from survey.quality import paginate
from survey.services.scoring import compute_participant_scores
from survey.signals import participant_completed

logger = logging.getLogger(__name__)

TOKEN_SALT = "survey.participant-token"
# "Last seen" is for the staff's monitor; a minute's resolution spares a write per answer.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class FlowError(Exception):
    """A request the flow refuses; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidToken(FlowError):
    status = 403


class StudyFull(FlowError):
    status = 409


# --- tokens -----------------------------------------------------------------------------


def make_token(participant: Participant) -> str:
    """A signed token naming the participant and their study (kept in session and forms)."""
    return signing.dumps({"p": participant.pk, "s": participant.study_id}, salt=TOKEN_SALT)


def read_token(token: str | None) -> tuple[int, int]:
    """(participant id, study id) of a signed token; ``InvalidToken`` if missing or forged."""
    if not token:
        raise InvalidToken(
            "Your session could not be identified. Please open the study link again."
        )
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        return int(data["p"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken(
            "This session token is not valid. Please open the study link again."
        ) from exc


def participant_from_token(*, token: str | None, study: Study) -> Participant:
    """The participant a token names; ``InvalidToken`` if missing, forged or for another study."""
    participant_id, study_id = read_token(token)
    if study_id != study.pk:
        raise InvalidToken("This session token belongs to another study.")
    participant = Participant.objects.filter(pk=participant_id, study_id=study.pk).first()
    if participant is None:
        raise InvalidToken("This session no longer exists. Please open the study link again.")
    participant.study = study  # the caller's instance: no second fetch of the study
    return participant


# --- entry and consent ------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    external_id: str
    origin: str
    prolific_study_id: str = ""
    session_id: str = ""


def find_participant(*, study: Study, external_id: str) -> Participant | None:
    return Participant.objects.filter(study=study, external_id=external_id).first()


def record_attempt(*, participant: Participant, session_id: str) -> None:
    """Note a (possibly new) arrival; a new SESSION_ID is a new attempt, never a new participant."""
    ParticipantAttempt.objects.get_or_create(participant=participant, session_id=session_id)
    if session_id and participant.prolific_session_id != session_id:
        Participant.objects.filter(pk=participant.pk).update(prolific_session_id=session_id)
        participant.prolific_session_id = session_id


def consent(
    *, study: Study, arrival: Arrival, agreed: bool, rng: np.random.Generator | None = None
) -> Participant:
    """Create the participant at the consent page; assign balanced items if they agree.

    Runs in one short transaction holding a row lock on the study, so concurrent arrivals
    see each other's leases and never over-assign. An existing participant with the same
    external id is returned unchanged (a resume, not a duplicate).
    """
    reason = study.refusal_reason()
    if reason:
        raise FlowError(reason, status=409)
    rng = rng or np.random.default_rng()
    now = timezone.now()
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        existing = find_participant(study=locked, external_id=arrival.external_id)
        if existing is not None:
            record_attempt(participant=existing, session_id=arrival.session_id)
            return existing
        participant_fields = dict(
            study=locked,
            external_id=arrival.external_id,
            origin=arrival.origin,
            prolific_study_id=arrival.prolific_study_id,
            prolific_session_id=arrival.session_id,
            started_at=now,
            last_seen_at=now,
        )
        if not agreed:
            participant = Participant.objects.create(
                status=Participant.Status.NO_CONSENT, **participant_fields
            )
            ParticipantAttempt.objects.create(
                participant=participant, session_id=arrival.session_id
            )
            return participant
        ids, loads = locked.item_loads(now=now)
        chosen = choose_items(
            ids,
            loads,
            target=locked.target_ratings_per_item,
            k=locked.items_per_participant,
            rng=rng,
        )
        if not chosen:
            raise StudyFull(
                "This study is full: every item has all the ratings it needs. "
                "Thank you for your interest.",
            )
        expires = now + timedelta(minutes=locked.time_limit_minutes)
        participant = Participant.objects.create(
            consented_at=now, expires_at=expires, **participant_fields
        )
        ParticipantAttempt.objects.create(participant=participant, session_id=arrival.session_id)
        slots = build_sequence(
            chosen,
            attention_checks=locked.attention_check_count,
            scale_max=scale.MAX,
            rng=rng,
        )
        Assignment.objects.bulk_create(
            Assignment(
                participant=participant,
                position=position,
                kind=Assignment.Kind.ATTENTION if slot.is_attention_check else Assignment.Kind.ITEM,
                item_id=slot.item_id,
                expected_value=slot.expected_value,
                created_at=now,
                expires_at=expires,
            )
            for position, slot in enumerate(slots, start=1)
        )
    return participant


# --- state and steps --------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCounts:
    """The participant's item sequence in numbers (one aggregate query, ``item_counts``)."""

    assigned: int
    answered: int
    first_open: int | None  # the first position without an answer


def item_counts(participant: Participant) -> ItemCounts:
    open_ = Q(answered_at__isnull=True)
    totals = participant.assignments.aggregate(
        assigned=Count("pk"),
        answered=Count("pk", filter=~open_),
        first_open=Min("position", filter=open_),
    )
    return ItemCounts(**totals)


@dataclass(frozen=True)
class Step:
    """Where a participant is: ``kind`` in consent, demographics, item, questionnaire, done,
    screened_out, ended; ``position`` (item) or ``instrument`` + ``page`` (questionnaire).

    ``items`` and ``questionnaire_answers`` carry what ``current_step`` counted on the way,
    so that the progress bar needs no second look (``None``: not counted)."""

    kind: str
    position: int | None = None
    instrument: str | None = None
    page: int | None = None
    items: ItemCounts | None = field(default=None, compare=False)
    questionnaire_answers: int | None = field(default=None, compare=False)


def instrument_pages(instrument: Instrument, study: Study) -> list[list[int]]:
    return paginate(instrument.key.item_numbers, study.questions_per_page)


def time_out(*, participant_id: int) -> None:
    """Mark the participant timed out, unless they already left the in-progress state."""
    Participant.objects.filter(pk=participant_id, status=Participant.Status.IN_PROGRESS).update(
        status=Participant.Status.TIMED_OUT
    )


def expire_if_due(participant: Participant, now=None) -> bool:
    """Mark an in-progress participant whose lease ran out as timed out (True if so)."""
    now = now or timezone.now()
    if (
        participant.status == Participant.Status.IN_PROGRESS
        and participant.expires_at is not None
        and participant.expires_at <= now
    ):
        time_out(participant_id=participant.pk)
        participant.status = Participant.Status.TIMED_OUT
        return True
    return False


def needs_demographics(participant: Participant) -> bool:
    return bool(participant.study.demographic_fields) and not participant.demographics


def current_step(participant: Participant) -> Step:
    """The first unanswered step, so reopening the link resumes exactly where it left off."""
    expire_if_due(participant)
    status = participant.status
    if status == Participant.Status.COMPLETED:
        return Step("done")
    if status == Participant.Status.SCREENED_OUT:
        return Step("screened_out")
    if status != Participant.Status.IN_PROGRESS:
        return Step("ended")
    if participant.consented_at is None:
        return Step("consent")
    if needs_demographics(participant):
        return Step("demographics")
    items = item_counts(participant)
    if items.first_open is not None:
        # Questionnaires come after every item, so none of their answers exist yet.
        return Step("item", position=items.first_open, items=items, questionnaire_answers=0)
    answered: dict[int, set[int]] = {}
    n_answers = 0
    for instrument_id, number in participant.instrument_responses.values_list(
        "instrument_id", "item_number"
    ):
        answered.setdefault(instrument_id, set()).add(number)
        n_answers += 1
    counted = dict(items=items, questionnaire_answers=n_answers)
    for instrument in participant.study.instruments_in_order():
        for page, numbers in enumerate(instrument_pages(instrument, participant.study), start=1):
            if not set(numbers) <= answered.get(instrument.pk, set()):
                return Step("questionnaire", instrument=instrument.code, page=page, **counted)
    return Step("finish", **counted)


def require_in_progress(participant: Participant) -> None:
    timed_out = expire_if_due(participant)
    ensure_answerable(status=participant.status, timed_out=timed_out)


def ensure_answerable(*, status: str, timed_out: bool) -> None:
    """Raise ``FlowError`` unless answers may still be stored for a participant in ``status``
    (``timed_out``: their time limit has just passed)."""
    if timed_out:
        raise FlowError(
            "The time limit for this study has passed, so this answer was not stored.",
            status=409,
        )
    if status != Participant.Status.IN_PROGRESS:
        raise FlowError("This session has ended; answers can no longer be changed.", status=409)


def progress(participant: Participant, step: Step) -> tuple[int, int]:
    """(answered, total) questions for the progress bar."""
    items = step.items or item_counts(participant)
    done_instr = step.questionnaire_answers
    if done_instr is None:
        done_instr = participant.instrument_responses.count()
    n_instrument = sum(i.key.n_items for i in participant.study.instruments_in_order())
    return items.answered + done_instr, items.assigned + n_instrument


# --- page timing ------------------------------------------------------------------------


def page_shown(*, participant: Participant, page: str) -> None:
    """Record when ``page`` was first shown (one INSERT; a page shown again keeps its time)."""
    PageTiming.objects.bulk_create(
        [PageTiming(participant=participant, page=page)], ignore_conflicts=True
    )


def touch_last_seen(*, participant: Participant, now) -> None:
    """Note the participant as seen ``now``, unless that was noted within the resolution."""
    if participant.last_seen_at is None or now - participant.last_seen_at >= LAST_SEEN_RESOLUTION:
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=now)
        participant.last_seen_at = now


def page_answered(*, participant: Participant, page: str) -> None:
    PageTiming.objects.filter(participant=participant, page=page, answered_at__isnull=True).update(
        answered_at=timezone.now()
    )


def assignment_for_page(*, participant: Participant, position: int) -> Assignment | None:
    """The assignment at ``position`` with its item and scenario, and ``stored_rating``: the
    participant's rating of the item so far (``None`` if none)."""
    assignment = (
        Assignment.objects.select_related("item__scenario")
        .filter(participant=participant, position=position)
        .first()
    )
    if assignment is None:
        return None
    assignment.stored_rating = None
    # A rating and its position's answer time are written together, so an open position
    # (the usual case: the question not yet answered) has no rating to look up.
    if assignment.item_id is not None and assignment.answered_at is not None:
        assignment.stored_rating = (
            ItemRating.objects.filter(participant_id=participant.pk, item_id=assignment.item_id)
            .values_list("rating", flat=True)
            .first()
        )
    return assignment


def item_shown(*, participant: Participant, position: int) -> None:
    Assignment.objects.filter(
        participant=participant, position=position, shown_at__isnull=True
    ).update(shown_at=timezone.now())


# --- answers ----------------------------------------------------------------------------


def parse_value(raw, *, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise FlowError(f"Please choose an answer from {low} to {high}.") from None
    if not low <= value <= high:
        raise FlowError(f"The answer must be between {low} and {high}; {value} is not.")
    return value


def parse_response_time(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= 24 * 3600 * 1000 else None


def save_demographics(*, participant: Participant, cleaned: dict) -> None:
    require_in_progress(participant)
    form = participant.study.pvq_form_for(gender=cleaned.get("gender"))
    Participant.objects.filter(pk=participant.pk).update(
        demographics=cleaned, pvq_form=form, last_seen_at=timezone.now()
    )
    participant.demographics, participant.pvq_form = cleaned, form
    page_answered(participant=participant, page="demographics")


def answer_questionnaire(
    *, participant: Participant, instrument: Instrument, answers: dict, response_time_ms=None
) -> int:
    """Store questionnaire answers ``{item_number: value}``; returns how many changed.

    All values are checked first (numbers of the instrument, values on its scale): one bad
    value rejects the whole request and stores nothing.
    """
    require_in_progress(participant)
    if all(i.pk != instrument.pk for i in participant.study.instruments_in_order()):
        raise FlowError("This questionnaire is not part of your study.", status=404)
    if (
        needs_demographics(participant)
        or participant.assignments.filter(answered_at__isnull=True).exists()
    ):
        raise FlowError("Please answer the earlier questions first.", status=409)
    key = instrument.key
    clean: dict[int, int] = {}
    for raw_number, raw_value in answers.items():
        try:
            number = int(raw_number)
        except (TypeError, ValueError):
            raise FlowError(f"Unknown question {raw_number!r}.") from None
        if number not in key.item_numbers:
            raise FlowError(f"Question {number} is not part of {key.name}.", status=400)
        clean[number] = parse_value(raw_value, low=key.scale_min, high=key.scale_max)
    if not clean:
        raise FlowError("No answer was given.")
    ms = parse_response_time(response_time_ms)
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        existing = dict(
            InstrumentResponse.objects.filter(
                participant=participant, instrument=instrument, item_number__in=list(clean)
            ).values_list("item_number", "value")
        )
        new_rows = [
            InstrumentResponse(
                participant=participant,
                instrument=instrument,
                item_number=number,
                value=value,
                created_at=now,
                response_time_ms=ms,
            )
            for number, value in clean.items()
            if number not in existing
        ]
        InstrumentResponse.objects.bulk_create(new_rows, ignore_conflicts=True)
        changed += len(new_rows)
        for number, value in clean.items():
            if number in existing and existing[number] != value:
                InstrumentResponse.objects.filter(
                    participant=participant, instrument=instrument, item_number=number
                ).update(value=value)
                changed += 1
        touch_last_seen(participant=participant, now=now)
    return changed


# --- ending -----------------------------------------------------------------------------


def release_leases(*, participant: Participant, now=None) -> None:
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


def store_quality(*, participant: Participant) -> dict:
    """Compute the quality metrics and flags and store them on the participant."""
    study = participant.study
    assignments = list(participant.assignments.order_by("position"))
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
    for page, shown, answered in participant.page_timings.filter(
        answered_at__isnull=False
    ).values_list("page", "shown_at", "answered_at"):
        page_seconds[page] = round((answered - shown).total_seconds(), 3)
    report = quality.assess(
        attention_failures=failures,
        attention_checks_answered=len(checks),
        ratings_in_order=in_order,
        total_seconds=total,
        other_totals=others,
        speeder_fraction=study.speeder_fraction,
        straightlining_threshold=study.straightlining_threshold,
        page_seconds=page_seconds,
    )
    data = report.as_json()
    Participant.objects.filter(pk=participant.pk).update(quality_flags=data)
    participant.quality_flags = data
    return data


def missing_answers(participant: Participant) -> list[str]:
    """What is still unanswered (empty when the participant may complete)."""
    missing = []
    if needs_demographics(participant):
        missing.append("demographics")
    open_positions = list(
        participant.assignments.filter(answered_at__isnull=True).values_list("position", flat=True)
    )
    missing += [f"question {p}" for p in open_positions]
    rated = set(participant.ratings.values_list("item_id", flat=True))
    for item_id in participant.assignments.filter(kind=Assignment.Kind.ITEM).values_list(
        "item_id", flat=True
    ):
        if item_id not in rated:
            missing.append(f"rating of item {item_id}")
    counts = dict(
        participant.instrument_responses.values("instrument_id")
        .annotate(n=Count("id"))
        .values_list("instrument_id", "n")
    )
    for instrument in participant.study.instruments_in_order():
        if counts.get(instrument.pk, 0) < instrument.key.n_items:
            missing.append(f"{instrument.key.name} answers")
    return missing


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
        require_in_progress(locked)
        missing = missing_answers(locked)
        if missing:
            raise FlowError(
                "Some answers are missing, so the study cannot be completed yet: "
                + ", ".join(missing[:5]),
                status=409,
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


def expire_stale(*, study: Study | None = None) -> int:
    """Mark in-progress participants whose lease expired as timed out."""
    qs = Participant.objects.stale()
    if study is not None:
        qs = qs.filter(study=study)
    return qs.update(status=Participant.Status.TIMED_OUT)
