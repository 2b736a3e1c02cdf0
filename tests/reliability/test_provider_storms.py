"""Provider fault *storms* within one run, with the counts the run's status shows.

``tests/evaluation`` covers each fault once (client classification, Retry-After, a real
Celery run after injected failures, a SIGKILLed worker). Here the faults come in storms:
more 429s and hangs than the retry budget, truncated JSON and empty answers (what reasoning
models give when the budget is spent thinking). Every unit must end answered, invalid or
failed-and-counted (never missing), and a resume must then complete the run exactly once
per unit.
"""

from __future__ import annotations

import pytest

from evaluation import lifecycle
from evaluation.models import EvaluationRun, Response
from evaluation.selectors import missing_units, progress
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db

N_ITEMS = 8


def run_in_process(run: EvaluationRun) -> EvaluationRun:
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=run.model_config.generation_params()
    )
    lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    return run


def units(run: EvaluationRun) -> list[tuple[int, str, int]]:
    return sorted(run.responses.values_list("item_id", "variant", "repetition"))


def test_storms_beyond_the_retry_budget_are_counted_then_resumed_once():
    with FakeProvider(retry_after=0.01, hang_seconds=1.5) as server:
        config = ModelConfigurationFactory(
            base_url=server.url("openai"), max_retries=2, timeout_seconds=0.5, max_concurrency=1
        )
        run = lifecycle.create_run(
            model_config=config, item_set=make_item_set(n_items=N_ITEMS), variants=["v1"]
        )
        # One request at a time, so the storms hit units in order (concurrent units would
        # share them out below the retry budget). Two units exhaust their 3 attempts on 429s, one on hangs past the timeout, one on
        # truncated JSON; two more get empty content (reasoning spent the token budget).
        server.script(*["429"] * 6, *["hang"] * 3, *["malformed"] * 3)
        server.script("empty", "empty", "empty", "empty", "empty", "empty")
        run = run_in_process(run)

        stats = progress(run=run)
        assert stats["answered"] == N_ITEMS and stats["remaining"] == 0  # nothing missing
        assert stats["failed"] == 4
        failed = list(run.responses.filter(state=Response.State.FAILED))
        reasons = " | ".join(r.error for r in failed)
        assert "429" in reasons and "timeout" in reasons and "malformed JSON" in reasons
        assert stats["invalid"] >= 1  # empty answers are stored as invalid, not dropped
        assert all(r.raw_text == "" for r in run.responses.filter(state=Response.State.INVALID))
        summary = run.summary["personas"][""]
        assert summary["failed"] == 4

        # Resume (in-process): failed rows are asked again; each unit ends with one row.
        run.responses.filter(state=Response.State.FAILED).delete()
        run = run_in_process(run)
        stats = progress(run=run)
        assert stats["failed"] == 0 and stats["remaining"] == 0
        assert len(units(run)) == len(set(units(run))) == N_ITEMS
        assert run.status == EvaluationRun.Status.DONE
