"""``manage.py load_instrument FILE``: load a questionnaire's wording, checked against its key."""

from django.core.management.base import BaseCommand, CommandError

from survey.instruments.wording import WordingError
from survey.services.instruments import read_wording_file, store_wording


class Command(BaseCommand):
    help = (
        "Load the wording of PVQ-RR, PVQ-21 or BFI-10 from a JSON file (format documented in "
        "survey/instruments/wording.py and the README). The file is checked against the "
        "shipped scoring key: item count, numbering and every form."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            wording = read_wording_file(file)
        except WordingError as exc:
            raise CommandError(f"Nothing loaded. {exc}") from exc
        instrument = store_wording(wording=wording)
        count = instrument.items.count()
        kind = "PLACEHOLDER wording" if instrument.is_placeholder else "wording"
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {kind} for {instrument.get_code_display()}: {count} item texts "
                f"in forms {', '.join(sorted(wording.forms))} (version '{instrument.wording_version}')."
            )
        )
