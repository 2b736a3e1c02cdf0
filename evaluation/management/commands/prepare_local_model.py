from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation.local_models import LocalModelError, prepare_from_gguf


class Command(ProjectCommand):
    help = (
        "Turn a GGUF file into a model directory for the local backend (weights dequantised "
        "to float32, tokenizer, and valueportrait-source.json naming the file and its SHA-256). "
        "Needs the [local] extra; downloads nothing."
    )

    output_formats = ("model-directory",)
    directory_formats = ("model-directory",)
    output_help = "the model directory to write"
    legacy_output_options = ("--out",)

    def add_arguments(self, parser):
        parser.add_argument("gguf_file", help="e.g. gemma-3-270m-q4_k_m.gguf")
        parser.add_argument("--force", action="store_true", help="replace a non-empty --output")

    def handle(self, *args, gguf_file, output, force, **options):
        out = output
        try:
            record = prepare_from_gguf(gguf_file=gguf_file, out_dir=out, force=force)
        except LocalModelError as exc:
            raise CommandError(str(exc)) from None
        chat = (
            "a chat template"
            if record["chat_template"]
            else "no chat template: a base model, prompts go in as plain text"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{record['gguf_file']} ({record['architecture']}, "
                f"{record['parameters'] / 1e6:.1f} M parameters, {chat}) -> {out}"
            )
        )
        self.stdout.write(
            f"next: manage.py add_model NAME --provider local --model-id {out} [--max-tokens 16]"
        )
