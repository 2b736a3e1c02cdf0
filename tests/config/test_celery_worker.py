"""Celery runs as a real worker process, with and without Redis."""

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import PROJECT_DIR

SEND = (
    "import django; django.setup(); "
    "from config.celery import ping; print(ping.delay().get(timeout=60))"
)


def _run_worker_and_ping(env: dict) -> str:
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    worker = subprocess.Popen(
        [celery, "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", SEND],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


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
