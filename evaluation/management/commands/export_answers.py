from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evaluation import answer_logs
from evaluation.selectors import answer_log_frames, run_for_page

# The format when --format is not given, by the output's extension (anything else: hf, a
# directory).
BY_EXTENSION = {".jsonl": "jsonl", ".parquet": "parquet"}


class Command(BaseCommand):
    help = (
        "Write a run's answers, one row per stored answer (valid, invalid and failed) with "
        "prompt, raw text, parse, rating, probabilities, model snapshot, tokens, latency and "
        "cost: JSON Lines, parquet, or a Hugging Face datasets directory (parquet + README)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run", required=True, type=int, help="evaluation run id")
        parser.add_argument(
            "--output",
            required=True,
            help="file (.jsonl, .parquet) or directory (hf); '-' writes JSON Lines to stdout",
        )
        parser.add_argument(
            "--format",
            choices=answer_logs.FORMATS,
            help="default: from --output (.jsonl, .parquet; else hf)",
        )
        parser.add_argument("--chunk-size", type=int, default=5000, help="answers per query")

    def handle(self, *args, run, output, format, chunk_size, **options):
        fmt = format or ("jsonl" if output == "-" else None)
        fmt = fmt or BY_EXTENSION.get(Path(output).suffix.lower(), "hf")
        if output == "-" and fmt != "jsonl":
            raise CommandError("only JSON Lines can be written to stdout ('-')")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        found = run_for_page(run_id=run)
        if found is None:
            raise CommandError(f"no evaluation run #{run}")
        frames = answer_log_frames(run=found, chunk_size=chunk_size)
        try:
            if output == "-":
                rows = answer_logs.write_jsonl(frames, self.stdout)
            elif fmt == "jsonl":
                with open(output, "w", encoding="utf-8") as handle:
                    rows = answer_logs.write_jsonl(frames, handle)
            elif fmt == "parquet":
                rows = answer_logs.write_parquet(frames, output)
            else:
                rows = answer_logs.write_hf_dataset(
                    frames,
                    output,
                    title=f"Value Portrait answers of run {found.pk} ({found.model_config.name})",
                    description=f"Evaluation run #{found.pk} of {found.model_config.name} on "
                    f"item set {found.item_set}, template set {found.template_set} "
                    f"v{found.template_set_version}, variants {', '.join(found.variants)}, "
                    f"{found.repetitions} repetition(s), status {found.status}.",
                )
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from None
        # The summary goes to stderr when the rows go to stdout, so a pipe gets only rows.
        (self.stderr if output == "-" else self.stdout).write(
            f"wrote {rows} answers of run #{found.pk} to {output} ({fmt})\n"
        )
