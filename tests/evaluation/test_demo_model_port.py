"""``make run``'s demo model when its port (8080) is taken: said plainly, served on a free
port with the demo configuration pointed there, or an OpenAI-compatible server already on the
port used as it is; a remote configuration is never moved."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from evaluation.demo import DEMO_BASE_URL, DEMO_MODEL, load_demo, serve_demo_model
from evaluation.demo_model import DemoModelServer
from evaluation.models import ModelConfiguration
from evaluation.prompts.builtin import SCALE_LABELS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port():
    """A port held by a program that is not an HTTP server (a bare listening socket)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_config() -> ModelConfiguration:
    load_demo()  # without the benchmark's demo item set: the configuration, no run
    return ModelConfiguration.objects.get(name=DEMO_MODEL)


def rate(base_url: str) -> str:
    answer = httpx.post(
        f"{base_url}/chat/completions",
        json={"messages": [{"role": "user", "content": "Response: I help.\n\n"}]},
        timeout=10,
    )
    return answer.json()["choices"][0]["message"]["content"]


@pytest.mark.django_db
def test_a_taken_port_is_said_and_a_free_one_used_with_the_configuration_pointed_there(
    taken_port,
):
    assert demo_config().base_url == DEMO_BASE_URL
    out = io.StringIO()
    server = serve_demo_model(port=taken_port, stdout=out)
    try:
        assert server is not None and f":{taken_port}/" not in server.base_url
        said = out.getvalue()
        assert f"Port {taken_port} on 127.0.0.1 is in use by another program" in said
        assert server.base_url in said and "now points there" in said
        config = ModelConfiguration.objects.get(name=DEMO_MODEL)
        assert config.base_url == server.base_url
        assert rate(config.base_url) in SCALE_LABELS  # the scripted model answers there
    finally:
        server.__exit__(None, None, None)


@pytest.mark.django_db
def test_a_free_port_is_used_and_the_configuration_follows_the_chosen_port():
    demo_config()
    port = free_port()  # e.g. make run DEMO_MODEL_PORT=9000
    server = serve_demo_model(port=port)
    try:
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        assert ModelConfiguration.objects.get(name=DEMO_MODEL).base_url == server.base_url
    finally:
        server.__exit__(None, None, None)


@pytest.mark.django_db
def test_an_openai_compatible_server_already_on_the_port_is_used_as_it_is():
    demo_config()
    with DemoModelServer() as already:  # e.g. the first make run's, or llama.cpp's server
        port = int(already.base_url.rsplit(":", 1)[1].split("/")[0])
        out = io.StringIO()
        call_command("serve_demo_model", "--port", str(port), stdout=out)  # returns at once
        said = out.getvalue()
        assert f"Port {port} already serves an OpenAI-compatible API" in said
        assert "not started" in said and f"{DEMO_MODEL} uses that server" in said
        assert ModelConfiguration.objects.get(name=DEMO_MODEL).base_url == already.base_url


@pytest.mark.django_db
def test_a_configuration_pointed_at_a_remote_server_is_never_moved(taken_port):
    config = demo_config()
    ModelConfiguration.objects.filter(pk=config.pk).update(base_url="https://llm.example/v1")
    out = io.StringIO()
    server = serve_demo_model(port=taken_port, stdout=out)
    try:
        assert "now points there" not in out.getvalue()
        assert ModelConfiguration.objects.get(pk=config.pk).base_url == "https://llm.example/v1"
    finally:
        server.__exit__(None, None, None)


def test_the_plain_module_stops_with_a_clear_message_on_a_taken_port(taken_port):
    done = subprocess.run(
        [sys.executable, "-m", "evaluation.demo_model", "--port", str(taken_port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"Port {taken_port} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_make_run_serves_the_demo_model_through_the_command():
    plan = subprocess.run(
        ["make", "-n", "serve", "DEMO_MODEL_PORT=9123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0
    assert "manage.py serve_demo_model --port 9123" in plan.stdout
