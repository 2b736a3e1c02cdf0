"""Run a script against a real Celery worker subprocess (shared by the worker tests)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import PROJECT_DIR


def run_with_worker(*, env: dict, script: str, timeout: float = 150) -> subprocess.CompletedProcess:
    """Migrate the database of ``env``, start ``celery worker`` there, run ``script`` with
    Python in the same environment, stop the worker, and return the script's result."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    worker = subprocess.Popen(
        [celery, "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
