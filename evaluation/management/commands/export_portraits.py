import csv
import json

from django.core.management.base import BaseCommand, CommandError

from evaluation.exports import portrait_rows, portraits_by_model


class Command(BaseCommand):
    help = (
        "Write the centred portrait scores of all finished runs: JSON "
        "{model_name: {dimension: centred_score}} (newest run per model), or CSV with one row "
        "per run and dimension."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="output file (.json or .csv)")
        parser.add_argument("--format", choices=["json", "csv"], help="default: from --out")
        parser.add_argument("--basis", default="answer", choices=["answer", "probability"])

    def handle(self, *args, out, format, basis, **options):
        fmt = format or ("csv" if out.lower().endswith(".csv") else "json")
        try:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                if fmt == "json":
                    data = portraits_by_model(basis=basis)
                    json.dump(data, handle, indent=2, sort_keys=True)
                    count = len(data)
                else:
                    rows = portrait_rows(basis=basis)
                    writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["model"])
                    writer.writeheader()
                    writer.writerows(rows)
                    count = len({r["run_id"] for r in rows})
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"wrote {count} portraits to {out}"))
