"""``manage.py erase_participant ID [--study SLUG] [--note REF]``: a participant's request to
have their data erased, by Prolific id or participant code (``survey.services.erasure``)."""

from __future__ import annotations

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from survey.errors import NobodyToErase
from survey.models import Study
from survey.services.erasure import erase_by_identifier


class Command(ProjectCommand):
    help = "Erase a participant's data on request (keeps an audit record without personal data)."
    study = "optional"
    study_help = "only in this study (slug); default: every study"

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="PROLIFIC_PID or participant code (P-...)")
        parser.add_argument("--note", default="", help="request reference, no personal data")

    def handle(self, *args, identifier: str, study: Study | None, note: str, **options):
        try:
            records = erase_by_identifier(identifier=identifier, study=study, note=note)
        except NobodyToErase as error:
            raise CommandError(str(error)) from error
        for record in records:
            self.stdout.write(
                f"Erased a participant of {record.study_slug} ({record.participant_status}): "
                + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in record.deleted.items())
                + f"; audit record #{record.pk}."
            )
