"""Demo content of the evaluation app (idempotent; nothing leaves this machine).

- A model configuration ``demo-local-server`` pointing at ``http://127.0.0.1:8080/v1``, where
  ``make run`` serves the demo's scripted model (``evaluation.demo_model``: not a language
  model; it answers each item with a rating hashed from the response's text). Any
  OpenAI-compatible server there (llama.cpp server, vLLM, Ollama's ``/v1``) works too.
- The project's own prompt templates.
- Once the benchmark's demo item set exists, a **finished demo run** of that configuration on
  it (and one asking as a woman and as a man), answered here and now by the scripted model
  on a free port (the real path: HTTP requests, parsing, scoring), labelled as demo data, so
  the dashboards have portraits to show and ``/evaluation/runs/new/`` has an item set and a model to start a run with.
"""

from __future__ import annotations

import io
from typing import TextIO

from benchmark.models import ValidatedItemSet

from .demo_model import DemoModelServer
from .lifecycle import answer_in_process, create_run
from .models import EvaluationRun, ModelConfiguration
from .services import ensure_builtin_templates

DEMO_MODEL = "demo-local-server"
DEMO_BASE_URL = "http://127.0.0.1:8080/v1"
DEMO_ITEM_SET = "demo-items"  # frozen by benchmark.demo
# The plain run, and a persona run so the bias page has persona answers to compare (the
# scripted model ignores personas: its "woman" answers are its plain ones).
DEMO_RUNS = (
    ("Demo data: scripted answers (not a language model)", {}),
    (
        "Demo data: scripted answers as a woman and as a man (not a language model)",
        {"personas": [{"gender": "woman"}, {"gender": "man"}], "variants": ["v1", "v1_reversed"]},
    ),
)


def load_demo(stdout: TextIO | None = None) -> None:
    out = stdout or io.StringIO()  # called without a place to report: nothing said
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
            "requests_per_minute": 6000,
            "notes": "Demo: the scripted model make run serves on 127.0.0.1:8080 "
            "(python -m evaluation.demo_model --port 8080), or any OpenAI-compatible server "
            "there. Its answers are hashed from the texts: demo data, not a model's values.",
        },
    )
    out.write(
        f"Evaluation: model configuration {config.name} ({config.base_url}) "
        f"{'created' if created else 'already present'}; project prompt templates loaded.",
    )
    item_set = ValidatedItemSet.objects.filter(name=DEMO_ITEM_SET).order_by("-version").first()
    if item_set is None:
        out.write("Evaluation: no demo item set, so no demo run.")
        return
    for label, settings in DEMO_RUNS:
        if EvaluationRun.objects.filter(label=label, status=EvaluationRun.Status.DONE).exists():
            continue
        run = create_run(
            model_config=config, item_set=item_set, label=label, use_cache=False, **settings
        )
        with DemoModelServer() as server:
            # Asked at a free port (8080 may be taken while the demo loads): the same scripted
            # model make run serves at the configured address, which is put back after.
            ModelConfiguration.objects.filter(pk=config.pk).update(base_url=server.base_url)
            try:
                run = answer_in_process(run_id=run.pk)
            finally:
                ModelConfiguration.objects.filter(pk=config.pk).update(base_url=DEMO_BASE_URL)
        out.write(
            f"Evaluation: demo run #{run.pk} {run.status} ({run.responses.count()} scripted "
            "answers).",
        )
