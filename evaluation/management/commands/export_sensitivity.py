import json

from django.core.management.base import BaseCommand, CommandError

from evaluation.exports import sensitivity_by_model
from evaluation.models import EvaluationRun


class Command(BaseCommand):
    help = (
        "Write the paper's prompt-sensitivity metrics per model as JSON "
        '{model_name: {"prompt_metrics", "order_metrics", "consistency_metrics", "details"}} '
        "with the release's key names (newest finished run per model, or the runs given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="output file (.json)")
        parser.add_argument(
            "--run", type=int, action="append", default=None, help="run id (repeatable)"
        )

    def handle(self, *args, out, run, **options):
        runs = None
        if run:
            runs = list(EvaluationRun.objects.filter(pk__in=run).select_related("model_config"))
            missing = sorted(set(run) - {r.pk for r in runs})
            if missing:
                raise CommandError(f"no run {missing[0]}")
        data = sensitivity_by_model(runs=runs)
        try:
            with open(out, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(f"wrote the sensitivity of {len(data)} models to {out}")
        )
