"""Which participants an erasure request names (reads only)."""

from __future__ import annotations

from django.db.models import Q

from survey.models import ErasureRecord, Participant, Study


def participants_named_by(*, identifier: str, study: Study | None = None) -> list[Participant]:
    """The participants ``identifier`` names: their panel id (PROLIFIC_PID), in every study
    unless ``study`` narrows it, or their participant code (the pseudonym the completion page
    shows). Surrounding spaces are ignored; an empty identifier names nobody."""
    identifier = identifier.strip()
    if not identifier:
        return []
    participants = Participant.objects.filter(
        Q(external_id=identifier) | Q(pseudonym=identifier.upper())
    ).select_related("study")
    if study is not None:
        participants = participants.filter(study=study)
    return list(participants.order_by("pk"))


def how_identified(*, participant: Participant, identifier: str) -> str:
    """How ``identifier`` named ``participant`` (an ``ErasureRecord.IdentifiedBy`` value)."""
    if participant.pseudonym == identifier.strip().upper():
        return ErasureRecord.IdentifiedBy.PARTICIPANT_CODE
    return ErasureRecord.IdentifiedBy.PANEL_ID
