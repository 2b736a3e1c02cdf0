"""``manage.py export_sensitivity --output FILE.json|.csv|.parquet|- [--run ID ...]``."""

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation.exports import sensitivity_by_model, sensitivity_rows
from evaluation.models import EvaluationRun


class Command(ProjectCommand):
    help = (
        "Write the paper's prompt-sensitivity metrics per model: JSON "
        '{model_name: {"prompt_metrics", "order_metrics", "consistency_metrics", "details"}} '
        "with the release's key names, or CSV / parquet with one row per model and metric "
        "(newest finished run per model, or the runs given)."
    )
    output_formats = ("json", "csv", "parquet")
    legacy_output_options = ("--out",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--run", type=int, action="append", default=None, help="run id (repeatable)"
        )

    def handle(self, *args, format, run, **options):
        runs = None
        if run:
            runs = list(EvaluationRun.objects.filter(pk__in=run).select_related("model_config"))
            missing = sorted(set(run) - {r.pk for r in runs})
            if missing:
                raise CommandError(f"no run {missing[0]}")
        if format == "json":
            data = sensitivity_by_model(runs=runs)
            self.write_json(data)
            count = len(data)
        else:
            rows = sensitivity_rows(runs=runs)
            self.write_table(rows, format)
            count = len({row["model"] for row in rows})
        self.say(self.style.SUCCESS(f"wrote the sensitivity of {count} models to {self.output}"))
