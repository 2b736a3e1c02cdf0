"""Provider API keys never reach the database, logs, exports, API answers or error pages.

A fake key is put in an environment variable named by a model configuration; evaluation
runs go through every wire format (OpenAI-compatible, Anthropic, Gemini) against the fake
provider, with faults (429, 500, malformed JSON, a 400 with a message) so error paths run
too, and with every logger at DEBUG captured. Positive control: the fake server did receive
the key. Then the key must appear nowhere: a full ``dumpdata`` of the database, the logs,
``export_portraits`` (JSON and CSV), the run's API answers and staff pages.

A provider that echoes the key in its error message (some OpenAI-compatible proxies do) is
covered too: the message is stored and shown, so the key must be masked in it.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from evaluation import lifecycle
from evaluation.models import EvaluationRun, ModelConfiguration
from evaluation.selectors import missing_units
from tests.dashboards.helpers import make_user
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db

KEY_ENV = "VP_LEAK_TEST_API_KEY"
KEY = "sk-leakcheck-5f0c9a7e21d84b36a9e0c1d2"


@pytest.fixture
def secret_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "evaluation", "celery", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def run_against(config: ModelConfiguration, item_set) -> EvaluationRun:
    run = lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=config.generation_params()
    )
    lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    return run


def everything_visible(client, runs, tmp_path) -> dict[str, str]:
    """Every place a key could surface, as text."""
    places = {}
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    places["database (dumpdata)"] = dump.getvalue()
    for fmt in ("json", "csv"):
        out = tmp_path / f"portraits.{fmt}"
        call_command("export_portraits", "--out", str(out), stdout=io.StringIO())
        places[f"export_portraits {fmt}"] = out.read_text()
    client.force_login(make_user("admin"))
    urls = ["/api/v1/evaluation-runs/", "/api/v1/model-configurations/"]
    for run in runs:
        urls += [
            f"/api/v1/evaluation-runs/{run.pk}/",
            f"/api/v1/evaluation-runs/{run.pk}/responses/",
            f"/api/v1/evaluation-runs/{run.pk}/portrait/",
            f"/api/v1/model-configurations/{run.model_config_id}/",
            f"/evaluation/runs/{run.pk}/",
            f"/evaluation/runs/{run.pk}/progress.json",
            f"/dashboards/runs/{run.pk}/",
            f"/admin/evaluation/evaluationrun/{run.pk}/change/",
            f"/admin/evaluation/modelconfiguration/{run.model_config_id}/change/",
        ]
    for url in urls:
        response = client.get(url)
        if response.status_code != 404:  # a page not mounted in this build
            places[url] = response.content.decode(errors="replace")
    return places


def assert_key_nowhere(places: dict[str, str], logs: str) -> None:
    places = {**places, "logs": logs}
    leaked = [name for name, text in places.items() if KEY in text or KEY[8:] in text]
    assert not leaked, f"the provider key appears in: {leaked}"


def test_provider_keys_never_leave_the_environment(secret_key, all_logs, client, tmp_path):
    item_set = make_item_set(n_items=3)
    runs = []
    with FakeProvider(retry_after=0.05, hang_seconds=0.1) as server:
        for provider in ("openai", "anthropic", "gemini"):
            config = ModelConfigurationFactory(
                name=f"leak-{provider}",
                provider=provider,
                base_url=server.url(provider),
                api_key_env=KEY_ENV,
                max_retries=3,
            )
            server.script("429", "500", "malformed", "400")
            runs.append(run_against(config, item_set))
        sent = json.dumps([r["headers"] for r in server.requests])
    assert KEY in sent, "positive control: the fake provider must have received the key"
    assert all(run.responses.exists() for run in runs)
    assert_key_nowhere(everything_visible(client, runs, tmp_path), all_logs.text)


class EchoingProvider(BaseHTTPRequestHandler):
    """Answers 401 quoting the key it was sent, as some OpenAI-compatible proxies do."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {sent}."}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_key_echoed_in_a_provider_error_is_masked(secret_key, all_logs, client, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = ModelConfigurationFactory(
            name="leak-echo",
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            api_key_env=KEY_ENV,
        )
        run = run_against(config, make_item_set(n_items=2))
    finally:
        server.shutdown()
        server.server_close()
    errors = list(run.responses.values_list("error", flat=True)) + [run.error]
    assert any("Incorrect API key provided" in (e or "") for e in errors), errors
    assert_key_nowhere(everything_visible(client, [run], tmp_path), all_logs.text)
