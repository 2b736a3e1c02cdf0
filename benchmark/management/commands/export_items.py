"""``manage.py export_items --study SLUG [--correlations published|latest|RUN_ID]
(--preset valueportrait-2025 | --threshold 0.3 --mode pos) --output FILE.csv|.json|.parquet``."""

import json
from pathlib import Path

from django.core.management.base import CommandError

from benchmark.exports import item_set_document, item_set_table, query_response_tagged
from benchmark.pages import chance_line
from benchmark.selection import MODES, PRESETS, SelectionRule
from benchmark.selectors import resolve_run
from benchmark.services import freeze_item_set
from core.commands import ProjectCommand
from survey.instruments import dimensions as dims


class Command(ProjectCommand):
    help = (
        "Freeze a validated item set (a preset or a threshold rule applied to a correlation "
        "run) and export its (item, dimension) pairs with texts and r. JSON also carries the "
        "pairs in the release's query-response-tagged.json shape, written alone beside it."
    )

    study = "required"
    output_formats = ("csv", "json", "parquet")
    legacy_output_options = ("--out",)

    def add_arguments(self, parser):
        parser.add_argument("--correlations", default="latest")
        rule = parser.add_mutually_exclusive_group(required=True)
        rule.add_argument("--preset", choices=sorted(PRESETS))
        rule.add_argument("--threshold", type=float)
        parser.add_argument("--mode", choices=MODES, default=None)
        parser.add_argument("--name", default="", help="item set name for a threshold rule")
        parser.add_argument(
            "--families",
            default="",
            help="comma-separated families for a threshold rule "
            f"(default: schwartz,higher_order,big_five; known: {', '.join(dims.FAMILIES)})",
        )
        parser.add_argument(
            "--fdr-alpha", type=float, help="also require the FDR-adjusted p below this"
        )
        parser.add_argument("--fdr-method", choices=["bh", "by"], default=SelectionRule.fdr_method)
        parser.add_argument(
            "--ci-bound",
            type=float,
            help="also require the bootstrap CI beyond this bound on the selected side",
        )
        parser.add_argument(
            "--max-chance-share",
            type=float,
            help="raise the threshold until the expected chance selections are at most this "
            "share of the selection (e.g. 0.1)",
        )

    def handle(self, *args, study, correlations, preset, threshold, mode, name, format, **o):
        extras = [o["families"], o["fdr_alpha"], o["ci_bound"], o["max_chance_share"]]
        if preset and (mode or any(e not in ("", None) for e in extras)):
            raise CommandError(
                "--mode, --families, --fdr-alpha, --ci-bound and --max-chance-share go with "
                "--threshold"
            )
        if threshold is not None and mode is None:
            raise CommandError("--threshold needs --mode pos|neg|abs")
        try:
            run = resolve_run(study=study, spec=correlations)
            item_set = freeze_item_set(
                run=run,
                preset=preset or "",
                threshold=threshold if threshold is not None else SelectionRule.threshold,
                mode=mode or SelectionRule.mode,
                families=[f for f in o["families"].split(",") if f],
                fdr_alpha=o["fdr_alpha"],
                fdr_method=o["fdr_method"],
                ci_bound=o["ci_bound"],
                max_chance_share=o["max_chance_share"],
                name=name,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if format == "json":
            self.write_json(item_set_document(item_set=item_set))
            if not self.to_stdout:
                tagged = Path(self.output).with_name(
                    Path(self.output).stem + "-query-response-tagged.json"
                )
                tagged.write_text(
                    json.dumps(
                        query_response_tagged(item_set=item_set), indent=1, ensure_ascii=False
                    ),
                    encoding="utf-8",
                )
                self.say(f"wrote the release-shaped list to {tagged}")
        else:
            self.write_table(item_set_table(item_set=item_set), format)
        entries = item_set.entries.count()
        items = item_set.entries.values("item_id").distinct().count()
        self.say(
            f"item set {item_set.name} v{item_set.version} from run #{run.pk}: {entries} pairs "
            f"on {items} items -> {self.output}"
        )
        self.say(chance_line(item_set.chance)["text"])
