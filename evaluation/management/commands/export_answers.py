"""``manage.py export_answers --run ID --output FILE.jsonl|.csv|.parquet|DIR|-``."""

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation import answer_logs
from evaluation.selectors import answer_log_frames, run_for_page


class Command(ProjectCommand):
    help = (
        "Write a run's answers, one row per stored answer (valid, invalid and failed) with "
        "prompt, raw text, parse, rating, probabilities, model snapshot, tokens, latency and "
        "cost: JSON Lines, CSV, parquet, or a Hugging Face datasets directory (parquet + "
        "README; any --output without a known extension)."
    )
    output_formats = answer_logs.FORMATS
    directory_formats = ("hf",)
    output_help = "file (.jsonl, .csv, .parquet), a directory (hf), or '-' (JSON Lines)"
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument("--run", required=True, type=int, help="evaluation run id")
        parser.add_argument("--chunk-size", type=int, default=5000, help="answers per query")

    def handle(self, *args, run, format, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        found = run_for_page(run_id=run)
        if found is None:
            raise CommandError(f"no evaluation run #{run}")
        with self.progress(
            total=found.responses.count(), desc=f"run #{found.pk}", unit="answer"
        ) as bar:
            frames = self._counted(answer_log_frames(run=found, chunk_size=chunk_size), bar)
            rows = self._write(found, frames, format)
        self.say(f"wrote {rows} answers of run #{found.pk} to {self.output} ({format})\n")

    @staticmethod
    def _counted(frames, bar):
        for frame in frames:
            yield frame
            bar.update(len(frame))

    def _write(self, run, frames, fmt: str) -> int:
        if fmt == "hf":
            try:
                return answer_logs.write_hf_dataset(
                    frames,
                    self.output,
                    title=f"Value Portrait answers of run {run.pk} ({run.model_config.name})",
                    description=f"Evaluation run #{run.pk} of {run.model_config.name} on "
                    f"item set {run.item_set}, template set {run.template_set} "
                    f"v{run.template_set_version}, variants {', '.join(run.variants)}, "
                    f"{run.repetitions} repetition(s), status {run.status}.",
                )
            except OSError as exc:
                raise CommandError(f"cannot write {self.output}: {exc}") from None
        if fmt == "parquet":
            with self.open_output(binary=True) as handle:
                return answer_logs.write_parquet(frames, handle)
        write = answer_logs.write_jsonl if fmt == "jsonl" else answer_logs.write_csv
        with self.open_output() as handle:
            return write(frames, handle)
