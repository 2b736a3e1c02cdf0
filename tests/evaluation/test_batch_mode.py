"""Batch mode: the size plan, the three providers' batch wire formats against the fake
provider's batch endpoints (real HTTP on 127.0.0.1), and whole batch runs driven as the
Celery tasks and beat drive them (tasks run eagerly in this process), with expired, partly
failed, refused and cancelled batches."""

import io
from decimal import Decimal

import pandas as pd
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from config.celery import app as celery_app
from evaluation import batch_mode, lifecycle
from evaluation.errors import InvalidRunSettings
from evaluation.models import EvaluationRun, ModelConfiguration, ProviderBatch, Response
from evaluation.providers import GenerationRequest
from evaluation.providers.batch import (
    BATCH_LIMITS,
    ENDED,
    IN_PROGRESS,
    BatchLimits,
    BatchTooLarge,
    make_batch_api,
    plan_batches,
)
from evaluation.selectors import answer_log_frames, progress
from evaluation.sweep_spec import parse_sweep
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, answer_for, rating_for

MODEL_IDS = {"openai": "fake-model", "anthropic": "claude-fake", "gemini": "gemini-fake"}


# --- the plan: pure --------------------------------------------------------------------------
def test_plan_respects_the_request_and_byte_limits_and_covers_every_request_once():
    limits = BatchLimits(max_requests=4, max_bytes=100)
    sizes = [30, 30, 30, 30, 5, 5, 5, 5, 5, 90, 10]
    plan = plan_batches(sizes, limits)
    assert plan == [(0, 3), (3, 7), (7, 10), (10, 11)]
    covered = [i for start, stop in plan for i in range(start, stop)]
    assert covered == list(range(len(sizes)))
    for start, stop in plan:
        assert stop - start <= limits.max_requests
        assert sum(sizes[start:stop]) <= limits.max_bytes


def test_plan_edges():
    limits = BatchLimits(max_requests=2, max_bytes=10)
    assert plan_batches([], limits) == []
    assert plan_batches([10, 10, 10], limits) == [(0, 1), (1, 2), (2, 3)]
    assert plan_batches([1] * 5, limits) == [(0, 2), (2, 4), (4, 5)]
    with pytest.raises(BatchTooLarge, match="11 bytes"):
        plan_batches([3, 11], limits)


def test_provider_limits_and_discounts_are_the_documented_ones():
    assert BATCH_LIMITS["openai"] == BatchLimits(50_000, 200 * 1024 * 1024)
    assert BATCH_LIMITS["anthropic"] == BatchLimits(100_000, 256 * 1024 * 1024)
    config = ModelConfiguration(provider="anthropic", input_cost_per_million=3,
                                output_cost_per_million=15)  # fmt: skip
    live = config.cost_of(input_tokens=1_000_000, output_tokens=1_000_000)
    assert live == Decimal(18)
    assert config.cost_of(input_tokens=1_000_000, output_tokens=1_000_000, batched=True) == 9
    assert ModelConfiguration(provider="local").batch_discount == 0


# --- the wire formats --------------------------------------------------------------------------
@pytest.fixture
def server():
    with FakeProvider() as fake:
        yield fake


PROMPTS = ["Reply: I share everything.", "Reply: I keep it to myself.", "Reply: I ask a friend."]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_submit_poll_and_read_results_in_each_wire_format(server, provider):
    server.batch_polls_before_done = 1
    api = make_batch_api(provider=provider, model_id=MODEL_IDS[provider],
                         base_url=server.url(provider))  # fmt: skip
    lines = [
        api.request_line(f"u{i}", GenerationRequest(prompt=p, temperature=0.0, max_tokens=16))
        for i, p in enumerate(PROMPTS)
    ]
    # The batch line carries exactly the live call's body.
    live = GenerationRequest(prompt=PROMPTS[0], temperature=0.0, max_tokens=16)
    _url, _headers, live_body = api.client.build(live, "")
    assert live_body in lines[0].values()
    submitted = api.submit(lines, name="test")
    assert submitted.batch_id
    assert api.status(submitted.batch_id).state == IN_PROGRESS
    status = api.status(submitted.batch_id)
    assert status.state == ENDED
    results = {r.custom_id: r for r in api.results(status, [f"u{i}" for i in range(3)])}
    assert set(results) == {"u0", "u1", "u2"}
    for i, prompt in enumerate(PROMPTS):
        answer = results[f"u{i}"].answer
        assert answer is not None and answer.input_tokens == 100
        assert answer.text == answer_for(prompt)[0]  # matched back to its own request
    if provider == "openai":
        upload = [r for r in server.requests if r["route"] == "upload"]
        assert upload and upload[0]["payload"]["bytes"] > 0


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_expired_and_failed_requests_are_reported_as_retryable(server, provider):
    server.batch_script("expire" if provider != "gemini" else "partial")
    api = make_batch_api(provider=provider, model_id=MODEL_IDS[provider],
                         base_url=server.url(provider))  # fmt: skip
    lines = [api.request_line(f"u{i}", GenerationRequest(prompt=f"Reply: answer {i}"))
             for i in range(6)]  # fmt: skip
    status = api.status(api.submit(lines, name="t").batch_id)
    results = {r.custom_id: r for r in api.results(status, [f"u{i}" for i in range(6)])}
    failed = sorted(k for k, r in results.items() if r.answer is None)
    expected = ["u3", "u4", "u5"] if provider != "gemini" else ["u2", "u5"]
    assert failed == expected
    assert all(results[k].retryable and results[k].error for k in failed)


# --- whole runs -------------------------------------------------------------------------------
@pytest.fixture
def eager(settings):
    """Celery tasks run in this process when queued; beat's interval is 0 (always due)."""
    settings.EVALUATION_BATCH_POLL_SECONDS = 0
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _batch_run(server, provider="openai", *, n_items=6, **options):
    config = ModelConfigurationFactory(provider=provider, model_id=MODEL_IDS[provider],
                                       base_url=server.url(provider))  # fmt: skip
    run = lifecycle.create_run(model_config=config, item_set=make_item_set(n_items=n_items),
                               variants=["v1", "v1_reversed"], mode="batch", **options)  # fmt: skip
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.QUEUED, params=config.generation_params()
    )
    return run


def _drive(run, capture, *, polls: int = 20):
    """The dispatch task, then beat's polls until no batch of the run is open."""
    with capture(execute=True):
        lifecycle.dispatch(run_id=run.pk)
    for _ in range(polls):
        if not run.batches.open().exists():
            break
        with capture(execute=True):
            assert lifecycle.poll_batches() >= 1
    run.refresh_from_db()
    return run


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_a_batch_run_stores_answers_as_live_ones_at_the_batch_price(
    server, eager, django_capture_on_commit_callbacks, provider
):
    server.batch_polls_before_done = 2
    run = _drive(_batch_run(server, provider), django_capture_on_commit_callbacks)
    assert run.status == EvaluationRun.Status.DONE
    rows = list(run.responses.select_related("item"))
    assert len(rows) == 12
    for row in rows:
        assert row.state == Response.State.VALID and row.batched
        assert row.rating == rating_for(row.item.text)
        assert row.prompt_sha256 and row.model_snapshot and row.request_params
    live_calls = [r for r in server.requests if r["route"] == provider]
    assert live_calls == []  # nothing asked live
    batches = list(run.batches.all())
    assert [(b.status, b.round, b.request_count) for b in batches] == [("ingested", 0, 12)]
    state = progress(run=run)
    config = run.model_config
    full = config.cost_of(input_tokens=1200, output_tokens=36)
    assert state["cost_estimate_usd"] == pytest.approx(float(full) / 2)
    assert state["batched_answers"] == 12 and state["mode"] == "batch"
    assert run.scores.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_expired_requests_go_into_a_follow_up_batch(
    server, eager, django_capture_on_commit_callbacks, provider
):
    server.batch_script("expire")
    run = _drive(_batch_run(server, provider), django_capture_on_commit_callbacks)
    assert run.status == EvaluationRun.Status.DONE
    assert run.responses.filter(state="valid").count() == 12
    rounds = list(run.batches.values_list("round", "request_count", "status"))
    # Gemini expires whole batches; OpenAI and Anthropic the half not yet done.
    retried = 12 if provider == "gemini" else 6
    assert rounds == [(0, 12, "ingested"), (1, retried, "ingested")]


@pytest.mark.django_db
def test_failed_requests_are_retried_live_when_the_run_says_so(
    server, eager, django_capture_on_commit_callbacks
):
    server.batch_script("partial")
    run = _drive(_batch_run(server, batch_retry="live"), django_capture_on_commit_callbacks)
    assert run.status == EvaluationRun.Status.DONE
    live = [r for r in server.requests if r["route"] == "openai"]
    assert len(live) == 4  # every third of 12 failed with a 500, asked again live
    assert run.responses.filter(state="valid").count() == 12
    assert run.responses.filter(batched=False).count() == 4
    assert run.batches.count() == 1
    assert progress(run=run)["batch_retry"] == "live"


@pytest.mark.django_db
def test_refused_requests_are_stored_as_failed_with_the_providers_message(
    server, eager, django_capture_on_commit_callbacks
):
    server.batch_script("refuse")
    run = _drive(_batch_run(server), django_capture_on_commit_callbacks)
    failed = run.responses.filter(state="failed")
    assert failed.count() == 4 and run.batches.count() == 1
    assert all("model does not exist: scripted" in r.error for r in failed)
    assert run.status == EvaluationRun.Status.DONE  # every unit has its row, failures shown


@pytest.mark.django_db
def test_a_failed_batch_is_retried_until_the_rounds_run_out(
    server, eager, django_capture_on_commit_callbacks
):
    server.batch_script(*["fail"] * 10)
    run = _batch_run(server)
    ModelConfiguration.objects.filter(pk=run.model_config_id).update(max_retries=2)
    run = _drive(run, django_capture_on_commit_callbacks)
    assert list(run.batches.values_list("round", flat=True)) == [0, 1, 2]
    failed = run.responses.filter(state="failed")
    assert failed.count() == 12
    assert "batch failed" in failed.first().error and "after batch retries" in failed.first().error


@pytest.mark.django_db
def test_unreadable_answers_are_re_asked_in_a_follow_up_batch_with_the_follow_up_turn(
    server, eager, django_capture_on_commit_callbacks
):
    run = _batch_run(server, invalid_retries=1)
    target = run.item_set.entries.order_by("item_id").first().item
    server.invalid_for = (target.text,)  # unreadable unless re-asked with a follow-up turn
    run = _drive(run, django_capture_on_commit_callbacks)
    assert run.status == EvaluationRun.Status.DONE
    rounds = list(run.batches.values_list("round", "request_count"))
    assert rounds == [(0, 12), (1, 2)]  # the target item under both variants
    row = run.responses.get(item=target, variant="v1")
    assert row.state == "valid" and row.attempts == 2 and len(row.invalid_answers) == 1
    assert row.input_tokens == 200  # both rounds' tokens
    follow_up_batch = server.batches[max(server.batches)]
    messages = follow_up_batch["requests"][0][1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]


@pytest.mark.django_db
def test_a_cancelled_run_cancels_its_batch_at_the_provider(
    server, eager, django_capture_on_commit_callbacks
):
    server.hold_batches = True
    run = _batch_run(server)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.dispatch(run_id=run.pk)
    batch = run.batches.get()
    assert batch.status == "submitted" and batch.provider_batch_id
    lifecycle.cancel_run(run_id=run.pk)
    assert lifecycle.advance_batch(batch_id=batch.pk) == "cancelled"
    assert server.batches[1]["cancelled"]
    batch.refresh_from_db()
    assert batch.status == "cancelled" and not run.responses.exists()


@pytest.mark.django_db
def test_polling_claims_a_batch_once_and_dispatching_twice_plans_nothing_twice(
    server, eager, django_capture_on_commit_callbacks, settings
):
    server.hold_batches = True
    run = _batch_run(server)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.dispatch(run_id=run.pk)
        EvaluationRun.objects.filter(pk=run.pk).update(status=EvaluationRun.Status.QUEUED)
        lifecycle.dispatch(run_id=run.pk)
    assert run.batches.count() == 1 and len(server.batches) == 1
    batch = run.batches.get()
    # A claimed batch (another poller holds its lease) is left alone.
    assert batch_mode._claim(batch.pk)
    assert lifecycle.advance_batch(batch_id=batch.pk) == "not due"
    ProviderBatch.objects.filter(pk=batch.pk).update(claimed_until=None)
    assert lifecycle.advance_batch(batch_id=batch.pk) == "in progress"
    assert lifecycle.advance_batch(batch_id=987654) == "not due"  # gone: nothing happens


@pytest.mark.django_db
def test_cached_answers_are_not_sent_again(server, eager, django_capture_on_commit_callbacks):
    first = _drive(_batch_run(server), django_capture_on_commit_callbacks)
    assert first.status == "done"
    again = lifecycle.create_run(model_config=first.model_config, item_set=first.item_set,
                                 variants=["v1", "v1_reversed"], mode="batch")  # fmt: skip
    EvaluationRun.objects.filter(pk=again.pk).update(
        status=EvaluationRun.Status.QUEUED, params=first.params
    )
    again = _drive(again, django_capture_on_commit_callbacks)
    assert again.status == "done" and not again.batches.exists()
    assert again.responses.filter(cached=True, batched=False).count() == 12
    assert len(server.batches) == 1


@pytest.mark.django_db
def test_batch_mode_needs_a_provider_with_a_batch_api():
    config = ModelConfigurationFactory(provider="local", model_id="/tmp/none")
    with pytest.raises(InvalidRunSettings, match="batch API"):
        lifecycle.create_run(model_config=config, item_set=make_item_set(n_items=2),
                             mode="batch")  # fmt: skip
    with pytest.raises(InvalidRunSettings, match="unknown mode"):
        lifecycle.create_run(model_config=ModelConfigurationFactory(),
                             item_set=make_item_set(n_items=2, name="other"), mode="bulk")  # fmt: skip


# --- the adapters: command, API, page, sweep file ------------------------------------------------
@pytest.mark.django_db
def test_run_evaluation_mode_batch_submits_a_batch(
    server, eager, django_capture_on_commit_callbacks
):
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    item_set = make_item_set(n_items=3)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_evaluation", "--model", config.name, "--item-set", str(item_set.pk),
                     "--variants", "v1", "--mode", "batch", "--batch-retry", "live", stdout=out)  # fmt: skip
    run = EvaluationRun.objects.get()
    assert (run.mode, run.batch_retry) == ("batch", "live")
    assert run.batches.get().status == "submitted" and len(server.batches) == 1
    assert f"run #{run.pk} queued" in out.getvalue()


@pytest.mark.django_db
def test_api_and_page_show_the_mode_the_batches_and_the_batch_price(
    client, server, eager, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(User.objects.create_user("res", password="x"))
    User.objects.get(username="res").groups.add(Group.objects.get_or_create(name="researchers")[0])
    monkeypatch.setattr(lifecycle, "_publish", lambda run_id: None)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    item_set = make_item_set(n_items=3)
    refused = client.post("/api/v1/evaluation-runs/", {"model": config.name,
                          "item_set": item_set.pk, "mode": "bulk"},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 400 and "mode" in refused.json()
    created = client.post("/api/v1/evaluation-runs/", {"model": config.name,
                          "item_set": item_set.pk, "variants": ["v1"], "mode": "batch"},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["mode"], body["batch_retry"]) == ("batch", "batch")
    run = EvaluationRun.objects.get(pk=body["id"])
    _drive(run, django_capture_on_commit_callbacks)
    detail = client.get(f"/api/v1/evaluation-runs/{run.pk}/").json()
    assert detail["progress"]["batched_answers"] == 3
    assert detail["progress"]["batches"][0]["status"] == "ingested"
    assert detail["progress"]["batch_discount"] == 0.5
    page = client.get(f"/evaluation/runs/{run.pk}/").content.decode()
    assert 'id="provider-batches"' in page and "50 % off" in page
    assert "retried in a follow-up batch" in page


def test_sweep_files_take_the_mode():
    spec = parse_sweep({"name": "s", "models": ["m"], "item_sets": [1], "mode": "batch",
                        "batch_retry": "live"})  # fmt: skip
    assert spec.options == {"mode": "batch", "batch_retry": "live"}


@pytest.mark.django_db
def test_the_answer_log_marks_batched_answers_and_costs_them_at_the_batch_price(
    server, eager, django_capture_on_commit_callbacks
):
    run = _drive(_batch_run(server, n_items=2), django_capture_on_commit_callbacks)
    frame = pd.concat(list(answer_log_frames(run=run)))
    assert len(frame) == 4 and frame["batched"].all()
    full = float(run.model_config.cost_of(input_tokens=100, output_tokens=3))
    assert frame["cost_usd"].tolist() == pytest.approx([full / 2] * 4)
