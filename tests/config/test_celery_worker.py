"""Celery runs as a real worker process, with and without Redis."""

import os
import time

import pytest

from tests.workers import run_with_worker

SEND = (
    "import django; django.setup(); "
    "from config.celery import ping; print(ping.delay().get(timeout=60))"
)


def _run_worker_and_ping(env: dict) -> str:
    result = run_with_worker(env=env, script=SEND, timeout=90)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
def test_worker_on_filesystem_broker_without_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_FILESYSTEM_DIR=str(tmp_path / "celery"),
    )
    started = time.monotonic()
    assert _run_worker_and_ping(env) == "pong"
    assert time.monotonic() - started < 120


@pytest.mark.slow
@pytest.mark.redis
def test_worker_on_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert _run_worker_and_ping(env) == "pong"
