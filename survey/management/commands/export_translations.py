"""``manage.py export_translations --language de [--study SLUG] [--output FILE|-]``: a language's
translation table as CSV (source text beside each translation; empty where none yet)."""

from __future__ import annotations

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from core.tabular import rows_to_csv
from survey.language_codes import normalise_language
from survey.selectors.translations import translation_table


class Command(ProjectCommand):
    help = "Write the item translations of one language as CSV (for translators and reviewers)."
    study = "optional"
    study_help = "only this study's item pool"
    output_formats = ("csv",)
    output_default = "-"
    legacy_output_options = ("--out",)

    def add_arguments(self, parser):
        parser.add_argument("--language", required=True, help="language code, e.g. de or ko")

    def handle(self, *args, language, study, **options):
        try:
            language = normalise_language(language)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        table = translation_table(language=language, study=study)
        self.write_text(rows_to_csv(table))
        self.stderr.write(f"{len(table)} items written to {self.output} ({language})")
