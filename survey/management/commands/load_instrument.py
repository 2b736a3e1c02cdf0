"""``manage.py load_instrument FILE [--language de]``: load a questionnaire's wording in one
language, checked against its key (the other languages' wordings are left alone)."""

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from survey.instruments.wording import WordingError
from survey.services.instruments import read_wording_file, store_wording


class Command(ProjectCommand):
    help = (
        "Load the wording of PVQ-RR, PVQ-21 or BFI-10 from a JSON file (format documented in "
        "survey/instruments/wording.py and the README). The file is checked against the "
        "shipped scoring key: item count, numbering and every form."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--language",
            default="",
            help="the wording's language (default: the file's 'language', else en); a file "
            "stating another language is refused",
        )

    def handle(self, *args, file, language, **options):
        try:
            wording = read_wording_file(file, language=language)
        except WordingError as exc:
            raise CommandError(f"Nothing loaded. {exc}") from exc
        instrument = store_wording(wording=wording)
        count = instrument.items.count()
        kind = "PLACEHOLDER wording" if instrument.is_placeholder else "wording"
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {kind} for {instrument.get_code_display()} in {instrument.language}: "
                f"{count} item texts "
                f"in forms {', '.join(sorted(wording.forms))} (version '{instrument.wording_version}')."
            )
        )
