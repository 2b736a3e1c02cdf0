import os
from pathlib import Path

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation.forms import ModelConfigurationForm
from evaluation.models import ModelConfiguration

# Command-line option -> model field, for every field the staff form edits.
OPTIONS = {
    "provider": "provider",
    "model_id": "model_id",
    "base_url": "base_url",
    "api_key_env": "api_key_env",
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "length_parameter": "length_parameter",
    "seed": "seed",
    "reasoning_effort": "reasoning_effort",
    "top_logprobs": "top_logprobs",
    "requests_per_minute": "requests_per_minute",
    "tokens_per_minute": "tokens_per_minute",
    "max_concurrency": "max_concurrency",
    "timeout": "timeout_seconds",
    "max_retries": "max_retries",
    "input_cost": "input_cost_per_million",
    "output_cost": "output_cost_per_million",
    "notes": "notes",
}


def _field_default(name: str):
    field = ModelConfiguration._meta.get_field(name)
    return field.get_default() if field.has_default() else None


class Command(ProjectCommand):
    help = (
        "Create a model configuration (any provider), validated as on the staff page: the API "
        "key is named by its environment variable, never given. Idempotent by name: the same "
        "configuration again changes nothing; different values need --update."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="configuration name, e.g. gpt-4o-2024-11-20")
        parser.add_argument(
            "--provider",
            required=True,
            choices=[
                p
                for p in ModelConfiguration.Provider.values
                if p != ModelConfiguration.Provider.REFERENCE
            ],
        )
        parser.add_argument(
            "--model-id", required=True, help="the provider's model name, or the local directory"
        )
        parser.add_argument("--base-url", help="endpoint root (empty: the provider's default)")
        parser.add_argument("--api-key-env", help="NAME of the environment variable with the key")
        parser.add_argument("--temperature", type=float)
        parser.add_argument("--max-tokens", type=int)
        parser.add_argument(
            "--length-parameter",
            choices=["max_tokens", "max_completion_tokens"],
            help="OpenAI-compatible endpoints (default: by model id)",
        )
        parser.add_argument("--seed", type=int)
        parser.add_argument("--reasoning-effort", choices=["low", "medium", "high"])
        parser.add_argument("--top-logprobs", type=int)
        parser.add_argument("--requests-per-minute", type=int)
        parser.add_argument("--tokens-per-minute", type=int)
        parser.add_argument("--max-concurrency", type=int)
        parser.add_argument("--timeout", type=float, help="seconds per request")
        parser.add_argument("--max-retries", type=int)
        parser.add_argument("--input-cost", help="USD per million input tokens")
        parser.add_argument("--output-cost", help="USD per million output tokens")
        parser.add_argument("--notes")
        parser.add_argument(
            "--update", action="store_true", help="change an existing configuration of this name"
        )

    def handle(self, *args, name, update, **options):
        existing = ModelConfiguration.objects.filter(name=name).first()
        if existing and existing.provider == ModelConfiguration.Provider.REFERENCE:
            raise CommandError(f"{name} is an imported reference model, not a configuration")
        data = {"name": name}
        for option, field in OPTIONS.items():
            value = options.get(option)
            if value is None:
                # Not given: keep what an existing configuration has, else the default.
                value = getattr(existing, field) if existing else _field_default(field)
            data[field] = "" if value is None else value
        form = ModelConfigurationForm(data=data, instance=existing)
        if not form.is_valid():
            errors = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()
            )
            raise CommandError(f"refused: {errors}")
        if data["provider"] == ModelConfiguration.Provider.LOCAL:
            directory = Path(data["model_id"])
            if not (directory / "config.json").is_file():
                raise CommandError(
                    f"{directory} is not a model directory (no config.json): make one with "
                    "manage.py prepare_local_model FILE.gguf --out DIR"
                )
        if existing:
            changed = sorted(form.changed_data)
            if not changed:
                self.stdout.write(f"model configuration {name} unchanged (#{existing.pk})")
                return
            if not update:
                raise CommandError(
                    f"a model configuration named {name} exists with other {', '.join(changed)}: "
                    "use --update to change it"
                )
        config = form.save()
        verb = "updated" if existing else "created"
        self.stdout.write(self.style.SUCCESS(f"model configuration {name} {verb} (#{config.pk})"))
        key = config.api_key_env
        if key and not os.environ.get(key):
            self.stdout.write(
                self.style.WARNING(
                    f"{key} is not set here: the workers need it in their environment"
                )
            )
