"""Celery worker subprocesses on the test database, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings

from tests.conftest import PROJECT_DIR


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, name: str):
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.evaluation.worker_settings",
            DATABASE_URL=_database_url(),  # pytest-django's test database
            PYTHONPATH=str(PROJECT_DIR),
        )
        celery = os.path.join(os.path.dirname(sys.executable), "celery")
        self.process = subprocess.Popen(
            [
                celery,
                "-A",
                "config",
                "worker",
                "--pool=threads",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
                "-n",
                f"{name}@%h",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so SIGKILL reaches the whole worker
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
