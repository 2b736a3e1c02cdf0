"""``manage.py import_translations FILE --language de [--reviewed-by USER]``: store a
language's item translations from CSV; every row is checked first and one bad row imports
nothing (the command lists every problem with its line)."""

from __future__ import annotations

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from survey.services.translations import TranslationImportError, import_translations


class Command(ProjectCommand):
    help = "Import item translations of one language from CSV (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--language", required=True, help="language code, e.g. de or ko")
        parser.add_argument(
            "--reviewed-by",
            default="",
            help="username recorded as reviewer of reviewed rows whose reviewed_by is empty",
        )

    def handle(self, *args, file, language, reviewed_by, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Nothing imported. {file}: {exc}") from exc
        try:
            result = import_translations(
                language=language, csv_text=text, default_reviewer=reviewed_by
            )
        except TranslationImportError as exc:
            raise CommandError(
                f"Nothing imported: {len(exc.errors)} problem(s).\n" + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.language}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.skipped} rows without translation skipped."
            )
        )
