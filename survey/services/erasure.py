"""Erasing a participant's data on request (right to erasure), with an audit record.

Withdrawing during the study is the flow's "stop" (``ending``); this is the request made
afterwards, by panel id or participant code. The participant's row is deleted and with it
(database cascades) their item ratings, questionnaire answers, scores, item leases, attempts
and page times; an ``ErasureRecord`` without personal data remains. ``participant_erased``
is sent inside the same transaction: the benchmark app marks the correlation runs that may
hold the data as stale (and scrubs the panel id from their exclusion lists), and the next
recomputation leaves the participant out because their rows are gone.

The relative speeder flag compares each participant with the median of the others' total
times, so removing one participant can move it: once the erasures commit, every finished
participant of each study touched has their flags recomputed (once per study, as when the
study's quality rules change).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from survey.errors import NobodyToErase
from survey.models import ErasureRecord, Participant, Study
from survey.selectors.erasure import how_identified, participants_named_by
from survey.services.ending import recompute_quality
from survey.signals import participant_erased


def _counts(participant: Participant) -> dict[str, int]:
    return {
        "item_ratings": participant.ratings.count(),
        "questionnaire_answers": participant.instrument_responses.count(),
        "scores": participant.scores.count(),
        "item_assignments": participant.assignments.count(),
        "demographic_answers": len(participant.demographics or {}),
    }


def recompute_flags_after_commit(*, study_ids: Iterable[int]) -> None:
    """Recompute the flags of the finished participants of ``study_ids`` once the current
    transaction commits (at once outside one): the study median moved without the erased."""
    ids = sorted({pk for pk in study_ids if pk is not None})

    def recompute() -> None:
        for study in Study.objects.filter(pk__in=ids):  # a study deleted meanwhile: skipped
            recompute_quality(study=study)

    if ids:
        transaction.on_commit(recompute)


def erase_participant(
    *, participant: Participant, identified_by: str, performed_by=None, note: str = ""
) -> ErasureRecord:
    """Delete one participant and everything they answered; returns the audit record.

    One transaction: the record, the deletion and the receivers of ``participant_erased``
    commit together or not at all. The study's other participants' flags are recomputed
    after it commits."""
    record = _erase(
        participant=participant, identified_by=identified_by, performed_by=performed_by, note=note
    )
    recompute_flags_after_commit(study_ids=[record.study_id])
    return record


def _erase(
    *, participant: Participant, identified_by: str, performed_by=None, note: str = ""
) -> ErasureRecord:
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        study = locked.study
        record = ErasureRecord.objects.create(
            study=study,
            study_slug=study.slug,
            performed_by=performed_by if getattr(performed_by, "pk", None) else None,
            identified_by=identified_by,
            participant_status=locked.status,
            deleted=_counts(locked),
            note=note,
        )
        participant_erased.send(
            sender=Participant,
            study_id=study.pk,
            external_id=locked.external_id,
            pseudonym=locked.pseudonym,
            arrived_at=locked.started_at,
            erasure_id=record.pk,
        )
        locked.delete()
    return record


def erase_participants(
    *, participants: Iterable[Participant], identified_by: str, performed_by=None, note: str = ""
) -> list[ErasureRecord]:
    """Erase each of ``participants`` (e.g. an admin's selection), one record each; the
    flags of each study touched are recomputed once, after the last erasure."""
    records = [
        _erase(participant=p, identified_by=identified_by, performed_by=performed_by, note=note)
        for p in participants
    ]
    recompute_flags_after_commit(study_ids=[r.study_id for r in records])
    return records


def erase_by_identifier(
    *, identifier: str, study: Study | None = None, performed_by=None, note: str = ""
) -> list[ErasureRecord]:
    """Erase the participants a request names by panel id or participant code (in every
    study unless ``study`` is given). ``NobodyToErase`` when nobody matches."""
    participants = participants_named_by(identifier=identifier, study=study)
    if not participants:
        raise NobodyToErase(
            "No participant has this Prolific id or participant code"
            + (f" in study {study.slug}." if study else ".")
        )
    records = [
        _erase(
            participant=p,
            identified_by=how_identified(participant=p, identifier=identifier),
            performed_by=performed_by,
            note=note,
        )
        for p in participants
    ]
    recompute_flags_after_commit(study_ids=[r.study_id for r in records])
    return records
