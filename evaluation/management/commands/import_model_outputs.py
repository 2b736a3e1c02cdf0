from django.core.management.base import BaseCommand, CommandError

from benchmark.models import ValidatedItemSet
from evaluation.reference_import import ImportError_, import_model_outputs


class Command(BaseCommand):
    help = (
        "Import per-model averaged outputs in the release's layout "
        "(lm_evaluation/average_outputs/*_averaged_results.json) as scored reference runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the release, its lm_evaluation or average_outputs")
        parser.add_argument(
            "--item-set",
            type=int,
            help="validated item set id (default: the valueportrait-2025 preset on the "
            "imported published correlations)",
        )

    def handle(self, *args, directory, item_set, **options):
        chosen = None
        if item_set is not None:
            chosen = ValidatedItemSet.objects.filter(pk=item_set).first()
            if chosen is None:
                raise CommandError(f"item set {item_set} does not exist")
        try:
            runs = import_model_outputs(directory=directory, item_set=chosen)
        except ImportError_ as exc:
            raise CommandError(str(exc)) from None
        for run in runs:
            stored = run.responses.count()
            invalid = run.responses.filter(state="invalid").count()
            scored = run.summary.get("personas", {}).get("", {})
            self.stdout.write(
                f"{run.model_config.name}: reference run #{run.pk}, {stored} answers stored "
                f"({invalid} unparseable in the release); portrait on {run.item_set} from "
                f"{scored.get('items_rated', 0)} items ({scored.get('invalid', 0)} of their "
                "answers invalid)"
            )
