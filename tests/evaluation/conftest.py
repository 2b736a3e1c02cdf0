"""Fixtures of the evaluation tests: Celery worker subprocesses and a clean queue."""

from __future__ import annotations

import os

import pytest

from tests.evaluation.workers import Worker


@pytest.fixture
def clean_queue():
    import redis

    # Drop what earlier runs left in the queue (only Celery's own keys).
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in ("celery", "unacked", "unacked_index", "unacked_mutex"):
        client.delete(key)
    for key in client.scan_iter("_kombu*"):
        client.delete(key)
    yield


@pytest.fixture
def workers():
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
