"""Redis is down (``REDIS_URL`` pointing at a closed port).

* The survey does not need Redis: a participant takes a whole study while the cache (entry
  rate limiter) and the Celery broker are unreachable, including a completion that would
  enqueue a benchmark recomputation.
* Starting an evaluation run says clearly that the queue is unavailable, queues nothing and
  leaves the run startable; once Redis is back, starting it again queues it.

(The provider-level fault tests and the SIGKILLed Celery worker are in tests/evaluation.)
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.test import override_settings
from kombu.exceptions import OperationalError

from benchmark.models import CorrelationRun, StudyAnalysisSettings
from config.celery import app
from evaluation import lifecycle
from evaluation.errors import QueueUnavailable
from evaluation.models import EvaluationRun
from survey.models import Participant
from tests.evaluation.factories import ModelConfigurationFactory
from tests.evaluation.test_runs import make_item_set
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on close: nothing listens there


def forget_broker_connections() -> None:
    """Celery keeps its connection pool and producers once made: after an earlier test has
    sent a task, a changed ``broker_url`` alone would still publish to the old broker. Drop
    them, as Celery itself does after a fork (``Celery._after_fork``)."""
    app._after_fork()


@contextmanager
def broker_down():
    """Redis unreachable for this block: cache and Celery broker at a closed port."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    previous = app.conf.broker_url
    app.conf.broker_url = url
    forget_broker_connections()
    with override_settings(CACHES=cache, REDIS_URL=url, CELERY_BROKER_URL=url):
        caches._settings = None  # rebuild the cache handler from the overridden setting
        try:
            yield url
        finally:
            app.conf.broker_url = previous
            forget_broker_connections()
    caches._settings = None


@pytest.fixture
def redis_down():
    with broker_down() as url:
        yield url


NOWHERE = "vp-tests-no-worker-listens"  # a queue no worker consumes: the message just sits


@pytest.mark.redis
def test_the_broker_is_down_even_after_tasks_went_to_the_real_one():
    """Regression: a task already sent to the real broker left Celery's pooled connection
    behind, so with the broker "down" tasks still went out and nothing here was tested."""
    app.send_task("tests.nothing", queue=NOWHERE)  # the real Redis: makes the pool
    with broker_down(), pytest.raises(OperationalError):
        app.send_task("tests.nothing", queue=NOWHERE)


@pytest.mark.django_db(transaction=True)
def test_a_participant_completes_a_study_while_redis_is_down(redis_down):
    study = make_study(n_items=8, items_per_participant=4)
    StudyAnalysisSettings.objects.create(study=study, recompute_after_completions=1)
    bot = SurveyBot(slug=study.slug)
    bot.client.raise_request_exception = False
    bot.arrive(PROLIFIC_PID="REDISDOWN1", STUDY_ID="S", SESSION_ID="X")
    started = time.monotonic()
    assert bot.run_to_end() == "done", bot.html[:500]
    assert time.monotonic() - started < 60  # no long hang on the unreachable broker
    participant = Participant.objects.get(external_id="REDISDOWN1")
    assert participant.status == Participant.Status.COMPLETED
    assert participant.ratings.count() == 4
    assert participant.scores.exists()
    # The recomputation it triggered could not be queued: recorded on the run, not on the
    # participant's request.
    recompute = CorrelationRun.objects.get(study=study)
    assert recompute.status == CorrelationRun.Status.FAILED
    assert "could not reach the task queue" in recompute.error


@pytest.mark.django_db(transaction=True)
def test_starting_a_run_with_redis_down_says_the_queue_is_unavailable(redis_down):
    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(), item_set=make_item_set(n_items=2)
    )
    with pytest.raises(QueueUnavailable) as refused:
        lifecycle.start_run(run_id=run.pk)
    assert "task queue is unavailable" in str(refused.value)
    assert "Redis" in str(refused.value)
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.DRAFT
    assert not run.responses.exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_run_refused_while_redis_was_down_queues_once_redis_is_back(redis_down, settings):
    import redis

    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(), item_set=make_item_set(n_items=2)
    )
    with pytest.raises(QueueUnavailable):
        lifecycle.start_run(run_id=run.pk)
    # Redis is back (the real server of REDIS_URL).
    real = os.environ["REDIS_URL"]
    app.conf.broker_url = real
    queue = app.conf.task_default_queue or "celery"
    client = redis.Redis.from_url(real)
    before = client.llen(queue)
    try:
        started = lifecycle.start_run(run_id=run.pk)
        assert started.status == EvaluationRun.Status.QUEUED
        assert client.llen(queue) == before + 1
    finally:
        client.delete(queue)  # no worker here: drop the message we queued
