"""Demographics, questionnaire answers and the page times (the item answers' hot path is
``survey.services.answers``).

Every write is idempotent: the same answer twice stores one row (unique constraints plus
upserts and conditional updates), so the back button, refresh, double clicks and two tabs
never duplicate or lose an answer. A bad request raises a ``survey.errors`` error before
anything is written.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from survey.errors import BadAnswer, NotInStudy, NotYourTurn
from survey.models import Assignment, Instrument, InstrumentResponse, PageTiming, Participant
from survey.selectors.progress import has_open_items, needs_demographics
from survey.services.ending import require_in_progress
from survey.sql import sql_names

# "Last seen" is for the staff's monitor; a minute's resolution spares a write per answer.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def parse_value(raw, *, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise BadAnswer(
            format_lazy(
                gettext_lazy("Please choose an answer from {low} to {high}."), low=low, high=high
            )
        ) from None
    if not low <= value <= high:
        raise BadAnswer(
            format_lazy(
                gettext_lazy("The answer must be between {low} and {high}; {value} is not."),
                low=low,
                high=high,
                value=value,
            )
        )
    return value


def parse_response_time(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= 24 * 3600 * 1000 else None


def page_shown(*, participant: Participant, page: str) -> None:
    """Record when ``page`` was first shown (one INSERT; a page shown again keeps its time)."""
    PageTiming.objects.bulk_create(
        [PageTiming(participant=participant, page=page)], ignore_conflicts=True
    )


def page_answered(*, participant: Participant, page: str) -> None:
    PageTiming.objects.filter(participant=participant, page=page, answered_at__isnull=True).update(
        answered_at=timezone.now()
    )


@functools.cache
def item_shown_statement() -> str:
    """``item_shown``'s UPDATE, from the model's names (built once: the ORM's compilation of
    it cost the item page more than the statement itself)."""
    table, col = sql_names(connection.vendor, used_by="item page")
    A = Assignment
    return (
        f"UPDATE {table(A)} SET {col(A, 'shown_at')} = %s "
        f"WHERE {col(A, 'participant')} = %s AND {col(A, 'position')} = %s "
        f"AND {col(A, 'shown_at')} IS NULL"
    )


def item_shown(*, participant_id: int, position: int) -> None:
    """Record when the item at ``position`` was first served (a later showing keeps it)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(item_shown_statement(), [now, participant_id, position])


def touch_last_seen(*, participant: Participant, now: datetime) -> None:
    """Note the participant as seen ``now``, unless that was noted within the resolution."""
    if participant.last_seen_at is None or now - participant.last_seen_at >= LAST_SEEN_RESOLUTION:
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=now)
        participant.last_seen_at = now


def save_demographics(*, participant: Participant, cleaned: dict) -> None:
    """Store the demographics form's cleaned data and the PVQ form it implies."""
    require_in_progress(participant=participant)
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
    require_in_progress(participant=participant)
    if all(i.pk != instrument.pk for i in participant.instruments()):
        raise NotInStudy(gettext_lazy("This questionnaire is not part of your study."))
    if needs_demographics(participant=participant) or has_open_items(participant=participant):
        raise NotYourTurn(gettext_lazy("Please answer the earlier questions first."))
    key = instrument.key
    clean: dict[int, int] = {}
    for raw_number, raw_value in answers.items():
        try:
            number = int(raw_number)
        except (TypeError, ValueError):
            raise BadAnswer(
                format_lazy(gettext_lazy("Unknown question {number}."), number=repr(raw_number))
            ) from None
        if number not in key.item_numbers:
            raise BadAnswer(
                format_lazy(
                    gettext_lazy("Question {number} is not part of {questionnaire}."),
                    number=number,
                    questionnaire=gettext_lazy(key.name),
                )
            )
        clean[number] = parse_value(raw_value, low=key.scale_min, high=key.scale_max)
    if not clean:
        raise BadAnswer(gettext_lazy("No answer was given."))
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
