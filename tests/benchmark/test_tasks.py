"""Recomputation as a Celery task: claimed once, idempotent, triggered by completions."""

from unittest import mock

import pytest

from benchmark.models import CorrelationRun, StudyAnalysisSettings
from benchmark.services import request_recomputation
from benchmark.tasks import recompute_correlations
from survey.signals import participant_completed

from .conftest import expected_spearman


def test_task_computes_the_run_once_and_records_exclusions(small_study):
    run = request_recomputation(study=small_study, enqueue=False)
    recompute_correlations(run.pk)
    run.refresh_from_db()
    assert run.status == "done" and run.duration_seconds > 0
    assert run.rows.count() == 6 * 10
    assert run.n_participants == 13
    reasons = {e["reason"] for e in run.exclusions["participants"]}
    assert reasons == {"quality flags: straightlining", "not completed (status in_progress)"}
    item = small_study.item_pool.order_by("scenario__external_id", "option_id").first()
    row = run.rows.get(item=item, dimension="Power")
    expected = expected_spearman(small_study, item, "Power")
    assert row.r == pytest.approx(expected.statistic, abs=1e-12)
    assert row.p == pytest.approx(expected.pvalue, abs=1e-12)
    assert row.n == 13 and row.p_bh >= row.p
    assert row.ci_low <= row.r <= row.ci_high  # bootstrap CI (default 200 replicates)
    finished = run.finished_at
    recompute_correlations(run.pk)  # a second delivery does nothing
    run.refresh_from_db()
    assert run.finished_at == finished and run.rows.count() == 60


def test_task_for_a_missing_run_exits_quietly(db):
    recompute_correlations(987654)


def test_request_enqueues_after_commit(small_study, django_capture_on_commit_callbacks):
    with mock.patch("benchmark.tasks.recompute_correlations.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            run = request_recomputation(study=small_study)
    delay.assert_called_once_with(run.pk)
    assert run.status == CorrelationRun.Status.PENDING


def test_completions_trigger_a_recomputation_after_n(
    small_study, django_capture_on_commit_callbacks
):
    StudyAnalysisSettings.objects.filter(study=small_study).update(recompute_after_completions=2)
    with mock.patch("benchmark.tasks.recompute_correlations.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            participant_completed.send(sender=None, participant_id=1, study_id=small_study.pk)
        assert not CorrelationRun.objects.filter(study=small_study).exists()
        with django_capture_on_commit_callbacks(execute=True):
            participant_completed.send(sender=None, participant_id=2, study_id=small_study.pk)
    run = CorrelationRun.objects.get(study=small_study)
    assert run.parameters["trigger"] == "auto: new completions"
    delay.assert_called_once_with(run.pk)
    assert StudyAnalysisSettings.objects.get(study=small_study).completions_since_last_run == 0


def test_failures_are_recorded_on_the_run(small_study):
    run = request_recomputation(study=small_study, enqueue=False)
    with mock.patch("benchmark.services.compute_correlations", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            recompute_correlations(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "boom" in run.error


def test_a_refusing_broker_fails_the_run_not_the_request(
    small_study, django_capture_on_commit_callbacks
):
    with mock.patch(
        "benchmark.tasks.recompute_correlations.delay", side_effect=ConnectionError("no broker")
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run = request_recomputation(study=small_study)
    run.refresh_from_db()
    assert run.status == "failed" and "no broker" in run.error


def test_a_failing_receiver_does_not_break_the_sender(small_study):
    with mock.patch("benchmark.services.note_completion", side_effect=RuntimeError("db gone")):
        participant_completed.send(sender=None, participant_id=1, study_id=small_study.pk)


def test_runs_of_a_lost_worker_are_marked_failed_on_the_next_request(small_study):
    from datetime import timedelta

    from django.utils import timezone

    from benchmark.services import claim_run

    stale = request_recomputation(study=small_study, enqueue=False)
    assert claim_run(run_id=stale.pk)
    CorrelationRun.objects.filter(pk=stale.pk).update(
        started_at=timezone.now() - timedelta(hours=2)
    )
    fresh = request_recomputation(study=small_study, enqueue=False)
    stale.refresh_from_db()
    assert stale.status == "failed" and "worker was lost" in stale.error
    assert fresh.status == "pending"
