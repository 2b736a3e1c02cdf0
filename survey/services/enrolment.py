"""Arrival and consent: a participant is created at the consent page with balanced items.

A returning PROLIFIC_PID (or plain-link session) is a resume, never a second participant;
a new Prolific SESSION_ID is recorded as a new attempt of the same participant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from survey import scale
from survey.balance import build_sequence, choose_items
from survey.errors import StudyClosed, StudyFull
from survey.models import Assignment, Participant, ParticipantAttempt, Study
from survey.selectors.progress import find_participant


@dataclass(frozen=True)
class Arrival:
    external_id: str
    origin: str
    prolific_study_id: str = ""
    session_id: str = ""
    language: str = ""  # asked for (e.g. ?lang=); the study's language unless it offers this


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
    external id is returned unchanged (a resume, not a duplicate). ``StudyClosed`` when the
    study takes nobody now, ``StudyFull`` when every item has its ratings.
    """
    reason = study.refusal_reason()
    if reason:
        raise StudyClosed(reason)
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
            language=locked.language_for(arrival.language),
        )
        if not agreed:
            participant = Participant.objects.create(
                status=Participant.Status.NO_CONSENT, **participant_fields
            )
            ParticipantAttempt.objects.create(
                participant=participant, session_id=arrival.session_id
            )
            return participant
        language = participant_fields["language"]
        ids, loads = locked.item_loads(now=now, language=language)
        if not ids:
            raise StudyClosed(
                format_lazy(
                    gettext_lazy(
                        "This study has no items that can be shown in {language} yet "
                        "(none has a reviewed translation)."
                    ),
                    language=repr(language),
                )
            )
        chosen = choose_items(
            ids,
            loads,
            target=locked.target_ratings_per_item,
            k=locked.items_per_participant,
            rng=rng,
        )
        if not chosen:
            raise StudyFull(
                gettext_lazy(
                    "This study is full: every item has all the ratings it needs. "
                    "Thank you for your interest."
                )
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
