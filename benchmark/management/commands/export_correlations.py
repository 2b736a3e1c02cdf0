"""``manage.py export_correlations --study SLUG --output FILE.csv|.json|.parquet|-``."""

from django.core.management.base import CommandError

from benchmark.exports import correlation_table, correlations_document
from benchmark.selectors import resolve_run
from core.commands import ProjectCommand


class Command(ProjectCommand):
    help = (
        "Export a study's correlations (default: the latest computed run), one row per "
        "(item, dimension): portrait_id, option_id, dimension, r, p, n, adjusted p / bootstrap "
        "CI where computed, family. JSON adds the run's metadata and item profiles."
    )
    study = "required"
    output_formats = ("csv", "json", "parquet")
    legacy_output_options = ("--out",)
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--correlations",
            default="latest",
            help="published, latest (default) or a correlation run id",
        )

    def handle(self, *args, study, format, correlations, **options):
        try:
            run = resolve_run(study=study, spec=correlations)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        with self.progress(total=1, desc="export", unit="table") as bar:
            if format == "json":
                self.write_json(correlations_document(run=run))
                rows = run.rows.count()
            else:
                rows = self.write_table(correlation_table(run=run), format)
            bar.update(1)
        self.say(f"wrote {rows} rows of run #{run.pk} to {self.output}")
