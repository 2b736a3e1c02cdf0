"""``manage.py import_valueportrait DIR [--study SLUG]``: import the public data release."""

import time

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from release.reader import ReleaseFormatError
from release.services import DEFAULT_STUDY_SLUG, IMPORT_STAGES, import_release


class Command(ProjectCommand):
    help = (
        "Import the Value Portrait public data release (scenarios, items, participants, "
        "ratings, value scores and the published correlations). Idempotent; a malformed "
        "file imports nothing."
    )

    study = "optional"
    study_must_exist = False  # the import creates it
    study_default = DEFAULT_STUDY_SLUG
    study_help = f"slug of the study to create or update (default {DEFAULT_STUDY_SLUG})"
    legacy_study_options = ("--study-slug",)
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", help="Folder with the release's layout (data/, lm_evaluation/)."
        )

    def handle(self, *args, directory, study, **options):
        study_slug = study
        started = time.perf_counter()
        bar = self.progress(total=IMPORT_STAGES, desc="import", unit="stage")
        try:
            summary = import_release(
                directory=directory,
                study_slug=study_slug,
                progress=lambda stage: (bar.set_postfix_str(stage), bar.update(1)),
            )
        except ReleaseFormatError as exc:
            raise CommandError(f"Nothing imported. {exc}") from exc
        finally:
            bar.close()
        for line in summary.lines():
            self.stdout.write(line)
        verdict = "imported" if summary.changed_anything else "already up to date, nothing changed"
        self.stdout.write(
            self.style.SUCCESS(
                f"Study '{study_slug}' {verdict} in {time.perf_counter() - started:.1f} s "
                f"(published correlations: run #{summary.correlation_run_id})."
            )
        )
