"""Demo content of the evaluation app (idempotent, no network at load time).

A model configuration ``demo-local-server`` pointing at an OpenAI-compatible server on
``http://127.0.0.1:8080/v1`` (llama.cpp server, vLLM or Ollama's ``/v1``; or the test
suite's fake provider: ``python -m tests.evaluation.fake_provider --port 8080``) and the
project's own prompt templates. A run needs a validated item set: after
``import_valueportrait`` the paper's preset is one ``import_model_outputs`` creates (or the
benchmark pages freeze one).
"""

from __future__ import annotations

from .models import ModelConfiguration
from .services import ensure_builtin_templates

DEMO_MODEL = "demo-local-server"
DEMO_BASE_URL = "http://127.0.0.1:8080/v1"


def load_demo(stdout=None) -> None:
    ensure_builtin_templates()
    config, created = ModelConfiguration.objects.get_or_create(
        name=DEMO_MODEL,
        defaults={
            "provider": ModelConfiguration.Provider.OPENAI,
            "model_id": "local-model",
            "base_url": DEMO_BASE_URL,
            "api_key_env": "",
            "temperature": 0.0,
            "max_tokens": 16,
            "seed": 2025,
            "max_concurrency": 8,
            "requests_per_minute": 600,
            "notes": "Demo: any OpenAI-compatible server on 127.0.0.1:8080 "
            "(e.g. python -m tests.evaluation.fake_provider --port 8080).",
        },
    )
    if stdout is not None:
        state = "created" if created else "already present"
        stdout.write(
            f"Evaluation: model configuration {config.name} ({config.base_url}) {state}; "
            "project prompt templates loaded."
        )
