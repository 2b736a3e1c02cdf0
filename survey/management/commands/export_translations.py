"""``manage.py export_translations --language de [--study SLUG] --out FILE``: a language's
translation table as CSV (source text beside each translation; empty where none yet)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.tabular import rows_to_csv
from survey.language_codes import normalise_language
from survey.models import Study
from survey.selectors.translations import translation_table


class Command(BaseCommand):
    help = "Write the item translations of one language as CSV (for translators and reviewers)."

    def add_arguments(self, parser):
        parser.add_argument("--language", required=True, help="language code, e.g. de or ko")
        parser.add_argument("--study", default="", help="only this study's item pool")
        parser.add_argument("--out", default="-", help="file to write (default: standard output)")

    def handle(self, *args, language, study, out, **options):
        try:
            language = normalise_language(language)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        found = None
        if study:
            found = Study.objects.filter(slug=study).first()
            if found is None:
                raise CommandError(f"no study {study!r}")
        table = translation_table(language=language, study=found)
        text = rows_to_csv(table)
        if out == "-":
            self.stdout.write(text, ending="")
            return
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        self.stderr.write(f"{len(table)} items written to {out} ({language})")
