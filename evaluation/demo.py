"""Demo content of the evaluation app (idempotent; nothing leaves this machine).

- A model configuration ``demo-local-server`` pointing at ``http://127.0.0.1:8080/v1``, where
  ``make run`` serves the demo's scripted model (``serve_demo_model``: on a free port, with
  the configuration moved there, when 8080 is taken) (``evaluation.demo_model``: not a language
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
import re
from typing import TextIO

from django.db import DatabaseError

from benchmark.models import ValidatedItemSet

from .demo_model import DemoModelServer, openai_compatible_at, port_in_use
from .lifecycle import answer_in_process, create_run
from .models import EvaluationRun, ModelConfiguration
from .services import ensure_builtin_templates

DEMO_MODEL = "demo-local-server"
DEMO_BASE_URL = "http://127.0.0.1:8080/v1"
DEMO_ITEM_SET = "demo-items"  # frozen by benchmark.demo
# A demo configuration still pointing at a server on this machine (not one a person pointed
# at a remote API) may be moved to the port the scripted model really got.
LOCAL_BASE_URL = re.compile(r"^http://(127\.0\.0\.1|localhost):\d+/v1/?$")
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


def point_demo_configuration(*, base_url: str) -> bool:
    """Point ``demo-local-server`` at ``base_url`` if it still points at a local server;
    returns whether it points there now (False: no demo configuration, or a remote one, or
    a database not migrated yet, as under ``make serve`` before ``make demo``)."""
    try:
        config = ModelConfiguration.objects.filter(name=DEMO_MODEL).first()
    except DatabaseError:
        return False
    if config is None or not LOCAL_BASE_URL.match(config.base_url or ""):
        return False
    if config.base_url != base_url:
        ModelConfiguration.objects.filter(pk=config.pk).update(base_url=base_url)
    return True


def serve_demo_model(
    *, port: int, host: str = "127.0.0.1", stdout: TextIO | None = None
) -> DemoModelServer | None:
    """Start the scripted model ``make run`` serves, preferably on ``port``; returns it
    started (the caller stops it), or None when an OpenAI-compatible server already answers
    on ``port`` (the demo configuration uses that one).

    A port taken by anything else is reported and a free one used instead, with the demo
    configuration pointed at it, so a run started from the new-run page is still answered."""
    out = stdout or io.StringIO()
    wanted = f"http://{host}:{port}/v1"
    try:
        server = DemoModelServer(port=port, host=host)
    except OSError as exc:
        if not port_in_use(exc):
            raise
        if openai_compatible_at(wanted):
            pointed = point_demo_configuration(base_url=wanted)
            out.write(
                f"Port {port} already serves an OpenAI-compatible API ({wanted}/models answers), "
                f"so the demo's scripted model is not started"
                + (f"; the model configuration {DEMO_MODEL} uses that server." if pointed else ".")
            )
            return None
        server = DemoModelServer(port=0, host=host)
        pointed = point_demo_configuration(base_url=server.base_url)
        out.write(
            f"Port {port} on {host} is in use by another program, so the demo's scripted model "
            f"serves on {server.base_url} instead"
            + (f"; the model configuration {DEMO_MODEL} now points there." if pointed else ".")
            + " (Free the port or set DEMO_MODEL_PORT to choose another.)"
        )
        return server.__enter__()
    pointed = point_demo_configuration(base_url=server.base_url)
    out.write(
        f"Demo scripted model on {server.base_url}"
        + (f" (model configuration {DEMO_MODEL})." if pointed else ".")
    )
    return server.__enter__()
