"""``manage.py export_human_portraits --study SLUG [--item-set ID] [--group-by FIELD]
--output FILE.json|.csv|.parquet|-``."""

from django.core.management.base import CommandError

from benchmark.models import ValidatedItemSet
from core.commands import ProjectCommand
from dashboards import human_selectors as hs
from dashboards.demographics import FIELDS


class Command(ProjectCommand):
    help = (
        "Write the human portraits of a study on the models' scale (the participants' mean "
        "rating of each item, then the portrait rule of the validated item set): JSON "
        '{group: {dimension: centred_score}} with "all" for everyone counted (null where too '
        "few participants), or CSV / parquet with one row per group and dimension with n, the "
        "bootstrap interval over participants and the reason of any missing score."
    )
    study = "required"
    output_formats = ("json", "csv", "parquet")
    legacy_output_options = ("--out",)
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--item-set", type=int, help="validated item set id (default: the study's newest)"
        )
        parser.add_argument(
            "--group-by", choices=FIELDS, help="also one portrait per group of this field"
        )

    def handle(self, *args, study, item_set, group_by, format, **options):
        chosen = None
        if item_set is not None:
            chosen = ValidatedItemSet.objects.filter(pk=item_set).first()
            if chosen is None:
                raise CommandError(f"no validated item set {item_set}")
        with self.progress(total=1, desc="human portraits", unit="study") as bar:
            try:
                portraits = hs.human_portraits(study=study, item_set=chosen, field=group_by)
            except hs.HumanPortraitError as exc:
                raise CommandError(str(exc)) from None
            bar.update(1)
        if format == "json":
            self.write_json(hs.as_json(portraits))
        else:
            self.write_table(hs.as_rows(portraits), format)
        sizes = ", ".join(f"{g.label} {g.n_participants}" for g in portraits.groups)
        self.say(
            self.style.SUCCESS(
                f"wrote the human portraits on {portraits.item_set} (participants: {sizes}) "
                f"to {self.output}"
            )
        )
