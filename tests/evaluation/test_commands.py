"""Commands of the evaluation app: add_model, run_evaluation's options and progress bar."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evaluation import lifecycle
from evaluation.models import EvaluationRun, ModelConfiguration
from evaluation.selectors import missing_units
from tests.commands import Terminal
from tests.evaluation.factories import make_item_set
from tests.evaluation.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


def _add(*args):
    out = StringIO()
    call_command("add_model", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "provider, extra",
    [
        ("openai", ["--base-url", "http://127.0.0.1:8080/v1", "--length-parameter", "max_tokens"]),
        ("anthropic", ["--max-tokens", "32"]),
        ("gemini", ["--top-logprobs", "5", "--reasoning-effort", "low"]),
    ],
)
def test_add_model_for_each_hosted_provider_is_idempotent(provider, extra, monkeypatch):
    monkeypatch.delenv("SOME_API_KEY", raising=False)
    args = [
        "m1",
        "--provider",
        provider,
        "--model-id",
        "the-model",
        "--api-key-env",
        "SOME_API_KEY",
    ]
    printed = _add(*args, *extra, "--temperature", "0", "--seed", "3")
    assert "created" in printed and "SOME_API_KEY is not set here" in printed
    config = ModelConfiguration.objects.get(name="m1")
    assert (config.provider, config.api_key_env, config.temperature, config.seed) == (
        provider, "SOME_API_KEY", 0.0, 3,
    )  # fmt: skip
    assert "unchanged" in _add(*args, *extra, "--temperature", "0", "--seed", "3")
    assert ModelConfiguration.objects.count() == 1
    with pytest.raises(CommandError, match="exists with other temperature"):
        _add(*args, "--temperature", "0.7")
    assert "updated" in _add(*args, "--temperature", "0.7", "--update")
    assert ModelConfiguration.objects.get(name="m1").temperature == 0.7
    assert ModelConfiguration.objects.get(name="m1").seed == 3  # not given: kept


def test_add_model_refuses_what_the_staff_form_refuses(tmp_path):
    with pytest.raises(CommandError, match="never the key itself"):
        _add("k", "--provider", "openai", "--model-id", "gpt-4o", "--api-key-env", "sk-abc123")
    with pytest.raises(CommandError, match="temperature"):
        _add("t", "--provider", "openai", "--model-id", "gpt-4o", "--temperature", "3")
    with pytest.raises(CommandError, match="no config.json"):
        _add("l", "--provider", "local", "--model-id", str(tmp_path))
    with pytest.raises(CommandError, match="A local model has no base URL"):
        (tmp_path / "config.json").write_text("{}")
        _add(
            "l",
            "--provider",
            "local",
            "--model-id",
            str(tmp_path),
            "--base-url",
            "http://example.org",
        )
    assert "created" in _add("l", "--provider", "local", "--model-id", str(tmp_path))
    assert not ModelConfiguration.objects.exclude(name="l").exists()


@pytest.fixture
def in_process(monkeypatch):
    """Publishing a run answers it in this process (no broker): what the workers would do."""

    def answer(run_id):
        run = EvaluationRun.objects.get(pk=run_id)
        EvaluationRun.objects.filter(pk=run_id).update(status=EvaluationRun.Status.RUNNING)
        lifecycle.execute_batch(run_id=run_id, units=missing_units(run=run))

    monkeypatch.setattr(lifecycle, "_publish", answer)


def test_run_evaluation_options_and_progress_bar(in_process):
    item_set = make_item_set(n_items=3)
    with FakeProvider() as server:
        _add("fake", "--provider", "openai", "--model-id", "m", "--base-url", server.url("openai"))
        target = item_set.entries.order_by("item_id").first().item
        server.invalid_for = (target.text,)
        out, terminal = StringIO(), Terminal()
        call_command(
            "run_evaluation", "--model", "fake", "--item-set", str(item_set.pk),
            "--variants", "v1", "--invalid-retries", "1", "--no-follow-up", "--wait",
            stdout=out, stderr=terminal,
        )  # fmt: skip
        asked = server.request_count()
    run = EvaluationRun.objects.get()
    assert (run.invalid_retries, run.reask_follow_up) == (1, False)
    assert asked == 3 + 1  # one re-ask of the unreadable answer
    printed = out.getvalue()
    bar = terminal.getvalue()
    assert "3/3" in bar and "100%" in bar  # the bar, drawn in place on a terminal's stderr
    assert "3/3" not in printed
    assert printed.count("\n") <= 4
    assert f"run #{run.pk} done: 2 valid, 1 invalid, 0 failed of 3" in printed
