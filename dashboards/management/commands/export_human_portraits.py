"""``manage.py export_human_portraits --study SLUG [--item-set ID] [--group-by FIELD]
--out FILE.json|FILE.csv``."""

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from benchmark.models import ValidatedItemSet
from dashboards import human_selectors as hs
from dashboards.demographics import FIELDS
from survey.models import Study


class Command(BaseCommand):
    help = (
        "Write the human portraits of a study on the models' scale (the participants' mean "
        "rating of each item, then the portrait rule of the validated item set): JSON "
        '{group: {dimension: centred_score}} with "all" for everyone counted (null where too '
        "few participants), or CSV with one row per group and dimension with n, the "
        "bootstrap interval over participants and the reason of any missing score."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="study slug")
        parser.add_argument(
            "--item-set", type=int, help="validated item set id (default: the study's newest)"
        )
        parser.add_argument(
            "--group-by", choices=FIELDS, help="also one portrait per group of this field"
        )
        parser.add_argument("--out", required=True, help="output file (.json or .csv)")

    def handle(self, *args, study, item_set, group_by, out, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"no study {study!r}")
        chosen = None
        if item_set is not None:
            chosen = ValidatedItemSet.objects.filter(pk=item_set).first()
            if chosen is None:
                raise CommandError(f"no validated item set {item_set}")
        try:
            portraits = hs.human_portraits(study=found, item_set=chosen, field=group_by)
        except hs.HumanPortraitError as exc:
            raise CommandError(str(exc)) from None
        try:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                if out.lower().endswith(".csv"):
                    rows = hs.as_rows(portraits)
                    writer = csv.DictWriter(handle, fieldnames=hs.ROW_COLUMNS)
                    writer.writeheader()
                    writer.writerows(rows)
                else:
                    json.dump(hs.as_json(portraits), handle, indent=2, sort_keys=True)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}") from None
        sizes = ", ".join(f"{g.label} {g.n_participants}" for g in portraits.groups)
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote the human portraits on {portraits.item_set} (participants: {sizes}) "
                f"to {out}"
            )
        )
