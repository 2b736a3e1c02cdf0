"""``manage.py export_portraits --output FILE.json|.csv|.parquet|- [--basis answer]``."""

from core.commands import ProjectCommand
from evaluation.exports import portrait_rows, portraits_by_model


class Command(ProjectCommand):
    help = (
        "Write the centred portrait scores of all finished runs: JSON "
        "{model_name: {dimension: centred_score}} (newest run per model), or CSV / parquet "
        "with one row per run and dimension."
    )
    output_formats = ("json", "csv", "parquet")
    legacy_output_options = ("--out",)

    def add_arguments(self, parser):
        parser.add_argument("--basis", default="answer", choices=["answer", "probability"])

    def handle(self, *args, format, basis, **options):
        if format == "json":
            data = portraits_by_model(basis=basis)
            self.write_json(dict(sorted(data.items())))
            count = len(data)
        else:
            rows = portrait_rows(basis=basis)
            self.write_table(rows, format)
            count = len({r["run_id"] for r in rows})
        self.say(self.style.SUCCESS(f"wrote {count} portraits to {self.output}"))
