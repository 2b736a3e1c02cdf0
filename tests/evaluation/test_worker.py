"""End to end with real Celery workers on Redis: injected faults, a worker killed mid-run,
the cache, invalid answers counted."""

from __future__ import annotations

import time

import pytest

from evaluation import lifecycle
from evaluation.models import EvaluationRun, Response
from evaluation.selectors import progress
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, rating_for
from tests.evaluation.workers import Worker

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _wait_for(run, predicate, timeout: float = 120.0, worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if predicate(run):
            return
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"worker died: {worker.process.stderr.read().decode()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out; run {run.status}, progress {progress(run=run)}")


def test_a_run_completes_with_the_right_rows_after_injected_failures(clean_queue, workers):
    with FakeProvider(latency=0.02, retry_after=0.3, hang_seconds=3.0) as server:
        item_set = make_item_set(n_items=10)
        config = ModelConfigurationFactory(
            base_url=server.url("openai"), timeout_seconds=1.0, max_retries=4
        )
        # Re-asks repeat the prompt here, so the item that always gets an unreadable answer
        # ends invalid (a follow-up turn would be answered: test_runs.py tests that).
        run = lifecycle.create_run(
            model_config=config,
            item_set=item_set,
            variants=["v1", "v2_reversed"],
            batch_size=4,
            reask_follow_up=False,
        )
        invalid_item = item_set.entries.order_by("item_id").first().item
        server.invalid_for = (invalid_item.text,)
        server.script("429", "500", "hang", "malformed", "empty", "think", "500")
        worker = workers("w1")
        lifecycle.start_run(run_id=run.pk)
        _wait_for(run, lambda r: r.status == EvaluationRun.Status.DONE, worker=worker)

        rows = list(Response.objects.filter(run=run).select_related("item"))
        assert len(rows) == 20
        assert {(r.item_id, r.variant) for r in rows} == {
            (i, v)
            for i in item_set.entries.values_list("item_id", flat=True)
            for v in ("v1", "v2_reversed")
        }
        for row in rows:
            if row.item_id == invalid_item.pk:
                assert row.state == "invalid" and row.raw_text == "I would rather not say."
            else:
                assert row.state == "valid" and row.rating == rating_for(row.item.text)
        assert server.request_count() > 20  # the faults were retried
        stats = progress(run=run)
        assert (stats["invalid"], stats["done"], stats["remaining"]) == (2, 18, 0)
        assert run.scores.filter(basis="answer").count() == 4

        # A second run of the same model and items is served from the cache: free.
        asked = server.request_count()
        again = lifecycle.create_run(
            model_config=config,
            item_set=item_set,
            variants=["v1", "v2_reversed"],
            batch_size=4,
            reask_follow_up=False,
        )
        lifecycle.start_run(run_id=again.pk)
        _wait_for(again, lambda r: r.status == EvaluationRun.Status.DONE, worker=worker)
        # Only the invalid item is asked again (re-asks after an unparseable answer are
        # cached per attempt too, so not even those).
        assert server.request_count() == asked
        assert again.responses.filter(cached=True).count() == 20


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes(clean_queue, workers):
    with FakeProvider(latency=0.4) as server:
        item_set = make_item_set(n_items=24)
        config = ModelConfigurationFactory(
            base_url=server.url("openai"), timeout_seconds=5.0, max_concurrency=4
        )
        run = lifecycle.create_run(
            model_config=config, item_set=item_set, variants=["v1", "v1_reversed"], batch_size=4
        )
        first = workers("first")
        lifecycle.start_run(run_id=run.pk)
        _wait_for(run, lambda r: r.responses.count() >= 6, worker=first, timeout=60)
        first.kill()
        killed_at = run.responses.count()
        assert killed_at < 48
        run.refresh_from_db()
        assert run.status == EvaluationRun.Status.RUNNING

        second = workers("second")
        _wait_for(run, lambda r: r.status == EvaluationRun.Status.DONE, worker=second, timeout=120)
        rows = Response.objects.filter(run=run)
        assert rows.count() == 48  # every unit once: no duplicates, none lost
        assert rows.filter(state="valid").count() == 48
        assert rows.values("item_id", "variant").distinct().count() == 48
