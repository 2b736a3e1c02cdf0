"""``manage.py export_correlations --study SLUG --format csv|json --out FILE``."""

from django.core.management.base import BaseCommand, CommandError

from benchmark.exports import correlation_table, correlations_json, to_csv
from benchmark.selectors import resolve_run

from ._common import get_study, write_text


class Command(BaseCommand):
    help = (
        "Export a study's correlations (default: the latest computed run), one row per "
        "(item, dimension): portrait_id, option_id, dimension, family, r, p, n, and adjusted "
        "p / bootstrap CI where computed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--format", required=True, choices=["csv", "json"])
        parser.add_argument("--out", required=True)
        parser.add_argument(
            "--correlations",
            default="latest",
            help="published, latest (default) or a correlation run id",
        )

    def handle(self, *args, study, format, out, correlations, **options):
        study = get_study(study)
        try:
            run = resolve_run(study=study, spec=correlations)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        text = to_csv(correlation_table(run=run)) if format == "csv" else correlations_json(run=run)
        path = write_text(out, text)
        self.stdout.write(f"wrote {run.rows.count()} rows of run #{run.pk} to {path}")
