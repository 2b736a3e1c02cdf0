"""Batch submission is paid once: the write-ahead record, the provider's list endpoints
(fake provider, real HTTP on 127.0.0.1) and the recovery of a submission whose outcome was
never recorded — a lost reply, and a worker process killed between the provider accepting
the batch and our database write."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from evaluation import batch_mode
from evaluation.models import EvaluationRun, ProviderBatch
from evaluation.providers import GenerationRequest, PermanentProviderError
from evaluation.providers import batch as batch_wire
from evaluation.providers.batch import make_batch_api, new_submission_key, request_id
from evaluation.selectors import missing_units
from tests.conftest import PROJECT_DIR
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, rating_for
from tests.evaluation.workers import _database_url

MODEL_IDS = {"openai": "fake-model", "anthropic": "claude-fake", "gemini": "gemini-fake"}
PROVIDERS = ["openai", "anthropic", "gemini"]
Status = ProviderBatch.Status


@pytest.fixture
def server():
    with FakeProvider() as fake:
        yield fake


def _api(server, provider):
    return make_batch_api(provider=provider, model_id=MODEL_IDS[provider],
                          base_url=server.url(provider))  # fmt: skip


def _lines(api, key, n):
    return [api.request_line(request_id(key, i), GenerationRequest(prompt=f"Reply: answer {i}"))
            for i in range(n)]  # fmt: skip


# --- the wire: find a batch by its key -------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_find_returns_the_batch_carrying_the_key_across_list_pages(server, provider, monkeypatch):
    monkeypatch.setattr(batch_wire, "LIST_PAGE_SIZE", 1)  # one batch per page: pagination
    api = _api(server, provider)
    since = time.time()
    keys = [new_submission_key() for _ in range(3)]
    # Different sizes, so that Anthropic (matched by window and size) can tell them apart.
    ids = [api.submit(_lines(api, k, n), name=f"t{n}", key=k).batch_id
           for k, n in zip(keys, (2, 3, 4), strict=True)]  # fmt: skip
    until = time.time()
    found = api.find(key=keys[0], since=since, until=until, request_count=2)
    assert found is not None and found.batch_id == ids[0]  # the oldest: the third page
    assert api.find(key=keys[1], since=since, until=until, request_count=3).batch_id == ids[1]
    pages = [r for r in server.requests if r["route"] == "get" and "batches" in r["path"]]
    assert len(pages) >= 4  # 3 pages for the first, 2 for the second
    if provider != "anthropic":  # matched by the key itself
        assert api.find(key=new_submission_key(), since=since, until=until,
                        request_count=2) is None  # fmt: skip
    api.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_key_travels_in_the_providers_own_fields(server, provider):
    api = _api(server, provider)
    key = new_submission_key()
    api.submit(_lines(api, key, 2), name="valueportrait-run1-batch1", key=key)
    batch = server.batches[1]
    if provider == "openai":
        assert batch["metadata"] == {"name": "valueportrait-run1-batch1",
                                     batch_wire.KEY_FIELD: key}  # fmt: skip
    if provider == "gemini":
        assert batch["display_name"] == f"valueportrait-run1-batch1-{key}"
        assert len(batch["display_name"]) <= 128
    # Every provider: the custom ids carry it too (Anthropic's only place), within
    # Anthropic's 64 characters of [A-Za-z0-9_-].
    assert [c for c, _ in batch["requests"]] == [f"{key}-u0", f"{key}-u1"]
    assert all(len(c) <= 64 and c.replace("-", "").replace("_", "").isalnum()
               for c, _ in batch["requests"])  # fmt: skip
    api.close()


def test_anthropic_find_skips_taken_batches_other_sizes_and_ended_batches_of_another_key(
    server,
):
    server.batch_polls_before_done = 0
    api = _api(server, "anthropic")
    since = time.time()
    other, ours = new_submission_key(), new_submission_key()
    ended_other = api.submit(_lines(api, other, 3), name="a").batch_id
    api.status(ended_other)  # ends it: its results name the other key
    taken = api.submit(_lines(api, other, 3), name="b").batch_id
    api.submit(_lines(api, other, 5), name="c")  # another size
    mine = api.submit(_lines(api, ours, 3), name="d").batch_id
    found = api.find(key=ours, since=since, until=time.time(), request_count=3,
                     taken=frozenset({taken}))  # fmt: skip
    assert found is not None and found.batch_id == mine
    # Outside the submission's window nothing is adopted.
    later = time.time() + 3 * batch_wire.CLOCK_SKEW_SECONDS
    assert api.find(key=ours, since=later, until=later, request_count=3) is None
    api.close()


# --- whole runs: a submission whose outcome was not recorded ----------------------------------
def _pending_batch(server, provider, *, n_items=3) -> tuple[EvaluationRun, ProviderBatch]:
    """A running batch-mode run with its one batch planned (pending), nothing queued."""
    config = ModelConfigurationFactory(provider=provider, model_id=MODEL_IDS[provider],
                                       base_url=server.url(provider))  # fmt: skip
    from evaluation import lifecycle  # noqa: PLC0415 - keeps the module's imports light

    run = lifecycle.create_run(model_config=config, item_set=make_item_set(n_items=n_items),
                               variants=["v1", "v1_reversed"], mode="batch")  # fmt: skip
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=config.generation_params()
    )
    run.refresh_from_db()
    entries = [batch_mode.new_entry(u) for u in missing_units(run=run)]
    with transaction.atomic():
        (batch,) = batch_mode._plan(run, entries, round_=0)
    return run, batch


def _lease_runs_out(batch: ProviderBatch) -> None:
    ProviderBatch.objects.filter(pk=batch.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), polled_at=None
    )


def _finish(run: EvaluationRun, batch: ProviderBatch) -> None:
    """Poll the batch until its results are stored."""
    for _ in range(5):
        _lease_runs_out(batch)
        outcome, _run = batch_mode.advance_batch(batch_id=batch.pk)
        if outcome == "ingested":
            return
    raise AssertionError(f"not ingested: {ProviderBatch.objects.get(pk=batch.pk)}")


def _assert_paid_once_and_answered(server, run, batch, provider_batch_id):
    batch.refresh_from_db()
    assert batch.status == Status.SUBMITTED
    assert batch.provider_batch_id == provider_batch_id
    assert server.batch_counter == 1 and server.batch_lines == 6  # one batch, sent once
    _finish(run, batch)
    rows = list(run.responses.select_related("item"))
    assert len(rows) == 6 and all(r.state == "valid" and r.batched for r in rows)
    assert all(r.rating == rating_for(r.item.text) for r in rows)


PROVIDER_BATCH_ID = {"openai": "batch_1", "anthropic": "msgbatch_1", "gemini": "batches/1"}


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lost_reply_to_the_create_call_is_adopted_not_submitted_again(server, provider, settings):
    settings.EVALUATION_BATCH_POLL_SECONDS = 0
    run, batch = _pending_batch(server, provider)
    server.drop_batch_replies = 1  # the provider accepts the batch; its reply never arrives
    outcome, _run = batch_mode.advance_batch(batch_id=batch.pk)
    assert outcome == "retry"
    batch.refresh_from_db()
    assert batch.status == Status.SUBMITTING and not batch.provider_batch_id
    assert batch.submit_started_at is not None and "submitting" in batch.error
    assert server.batch_counter == 1
    outcome, _run = batch_mode.advance_batch(batch_id=batch.pk)  # the next poll
    assert outcome == "adopted"
    _assert_paid_once_and_answered(server, run, batch, PROVIDER_BATCH_ID[provider])


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unconfirmed_submission_the_provider_never_got_is_sent_once_more(
    server, provider, settings
):
    """The worker died after the write-ahead record, before the call reached the provider:
    nothing to adopt, so it is sent (once)."""
    settings.EVALUATION_BATCH_POLL_SECONDS = 0
    run, batch = _pending_batch(server, provider)
    ProviderBatch.objects.filter(pk=batch.pk).update(
        status=Status.SUBMITTING, submit_started_at=timezone.now()
    )
    outcome, _run = batch_mode.advance_batch(batch_id=batch.pk)
    assert outcome == "submitted"
    listed = [r for r in server.requests if r["route"] == "get" and "batches" in r["path"]]
    assert listed  # it looked first
    _assert_paid_once_and_answered(server, run, batch, PROVIDER_BATCH_ID[provider])


@pytest.mark.django_db
def test_a_run_cancelled_during_an_unconfirmed_submission_cancels_the_batch_found(server, settings):
    settings.EVALUATION_BATCH_POLL_SECONDS = 0
    run, batch = _pending_batch(server, "openai")
    server.drop_batch_replies = 1
    assert batch_mode.advance_batch(batch_id=batch.pk)[0] == "retry"
    EvaluationRun.objects.filter(pk=run.pk).update(status=EvaluationRun.Status.CANCELLED)
    assert batch_mode.advance_batch(batch_id=batch.pk)[0] == "cancelled"
    assert server.batches[1]["cancelled"]
    assert ProviderBatch.objects.get(pk=batch.pk).status == Status.CANCELLED


# --- a worker killed between the provider's acceptance and our write --------------------------
ADVANCE_ONE = (
    "import sys, django; django.setup(); from evaluation import batch_mode; "
    "print(batch_mode.advance_batch(batch_id=int(sys.argv[1]))[0])"
)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_worker_killed_after_the_provider_accepted_the_batch_does_not_pay_twice(
    server, provider, settings
):
    """A worker process submits; the fake provider stores the batch and SIGKILLs the worker
    before answering, so the process dies between the HTTP call and the database write. Once
    its lease runs out, the next worker adopts the provider's batch instead of sending the
    units again."""
    settings.EVALUATION_BATCH_POLL_SECONDS = 0
    run, batch = _pending_batch(server, provider)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.evaluation.worker_settings",
               DATABASE_URL=_database_url(), PYTHONPATH=str(PROJECT_DIR),
               EVALUATION_BATCH_POLL_SECONDS="0")  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-c", ADVANCE_ONE, str(batch.pk)], cwd=PROJECT_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    server.on_batch_created = lambda _batch: worker.kill()
    _stdout, stderr = worker.communicate(timeout=120)
    assert worker.returncode == -9, stderr.decode()[-2000:]  # killed, not finished
    batch.refresh_from_db()
    # What the dead worker left: the write-ahead record, no provider id, a live lease.
    assert batch.status == Status.SUBMITTING and not batch.provider_batch_id
    assert batch.claimed_until > timezone.now()
    assert server.batch_counter == 1
    assert batch_mode.advance_batch(batch_id=batch.pk)[0] == "not due"  # the lease holds
    _lease_runs_out(batch)
    assert batch_mode.advance_batch(batch_id=batch.pk)[0] == "adopted"
    _assert_paid_once_and_answered(server, run, batch, PROVIDER_BATCH_ID[provider])


@pytest.mark.django_db
def test_the_migration_keys_batches_not_yet_sent_and_leaves_sent_ones_on_their_old_ids(server):
    from importlib import import_module  # noqa: PLC0415

    from django.apps import apps  # noqa: PLC0415

    migration = import_module("evaluation.migrations.0012_key_pending_batches")
    run, pending = _pending_batch(server, "openai")
    sent = ProviderBatch.objects.create(run=run, provider="openai", status=Status.SUBMITTED,
                                        provider_batch_id="batch_old", requests=[])  # fmt: skip
    ProviderBatch.objects.filter(pk=pending.pk).update(submission_key="")
    migration.key_pending_batches(apps, None)
    pending.refresh_from_db()
    sent.refresh_from_db()
    assert pending.submission_key.startswith("vp") and len(pending.submission_key) == 34
    assert sent.submission_key == "" and batch_mode.custom_id(sent, 3) == "u3"
    assert batch_mode.custom_id(pending, 3) == f"{pending.submission_key}-u3"


def test_the_fake_provider_refuses_what_the_providers_refuse(server):
    """So that the keys we send are checked against the documented limits."""
    anthropic = _api(server, "anthropic")
    too_long = [anthropic.request_line("x" * 65, GenerationRequest(prompt="Reply: a"))]
    with pytest.raises(PermanentProviderError, match="custom_id"):
        anthropic.submit(too_long, name="t")
    spaced = [anthropic.request_line("a b", GenerationRequest(prompt="Reply: a"))]
    with pytest.raises(PermanentProviderError, match="custom_id"):
        anthropic.submit(spaced, name="t")
    openai = _api(server, "openai")
    with pytest.raises(PermanentProviderError, match="metadata"):
        openai.submit(_lines(openai, "k", 1), name="n" * 600, key="k" * 600)
    assert server.batch_counter == 0
    anthropic.close()
    openai.close()
