from django.core.management.base import CommandError

from benchmark.models import ValidatedItemSet
from core.commands import ProjectCommand
from evaluation.reference_import import SOURCES, ImportError_, import_model_outputs
from evaluation.selectors import parse_comparison


class Command(ProjectCommand):
    long_running = True
    help = (
        "Import the release's model outputs as scored reference runs: the averaged outputs "
        "(lm_evaluation/average_outputs/*_averaged_results.json, the default) or, with "
        "--from raw, the raw per-template answers "
        "(lm_evaluation/outputs/final/<provider>/<model>_<variant>_results.json), parsed here "
        "and compared with the paper's parse."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the release, its lm_evaluation or outputs folder")
        parser.add_argument(
            "--from",
            dest="source",
            choices=SOURCES,
            default="averaged",
            help="averaged outputs (the paper's ratings) or raw answers (parsed here)",
        )
        parser.add_argument(
            "--item-set",
            type=int,
            help="validated item set id (default: the valueportrait-2025 preset on the "
            "imported published correlations)",
        )

    def handle(self, *args, directory, source, item_set, **options):
        chosen = None
        if item_set is not None:
            chosen = ValidatedItemSet.objects.filter(pk=item_set).first()
            if chosen is None:
                raise CommandError(f"item set {item_set} does not exist")
        with self.progress(desc="import", unit="model") as bar:

            def advance(model: str, models: int) -> None:
                bar.total = models
                bar.set_postfix_str(model)
                bar.update(1)

            try:
                runs = import_model_outputs(
                    directory=directory, item_set=chosen, source=source, progress=advance
                )
            except ImportError_ as exc:
                raise CommandError(str(exc)) from None
        for run in runs:
            stored = run.responses.count()
            invalid = run.responses.filter(state="invalid").count()
            scored = run.summary.get("personas", {}).get("", {})
            self.stdout.write(
                f"{run.model_config.name}: reference run #{run.pk} ({source}), {stored} answers "
                f"stored ({invalid} unparseable); portrait on {run.item_set} from "
                f"{scored.get('items_rated', 0)} items ({scored.get('invalid', 0)} of their "
                "answers invalid)"
            )
            comparison = parse_comparison(run=run)
            if comparison is not None:
                self._write_comparison(comparison)

    def _write_comparison(self, c: dict) -> None:
        self.stdout.write(
            f"  parse: {c['agree']} of {c['answers']} answers read as the paper did "
            f"({c['same_rating']} same rating, {c['neither']} unparseable for both); "
            f"the paper parsed {c['paper_valid']}, we parsed {c['ours_valid']}; "
            f"{c['several_options']} named two different options; {c['disagree']} differ"
        )
        for row in c["rows"]:
            paper = "unparseable" if row["paper"] is None else f"{row['paper']:g}"
            ours = "unparseable" if row["ours"] is None else f"{row['ours']:g}"
            why = f" ({row['why']})" if row["why"] else ""
            text = " ".join(row["text"].split())
            self.stdout.write(
                f"    {row['item']} {row['variant']}: paper {paper}, ours {ours}{why}: "
                f"{text[:160]!r}"
            )
