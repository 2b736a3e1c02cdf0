"""A recomputation requested like the staff page does is computed by a real Celery worker."""

import os

import pytest

from tests.workers import run_with_worker

REQUEST_AND_WAIT = """
import time, django
django.setup()
from benchmark.services import request_recomputation
from tests.benchmark.conftest import build_small_study
run = request_recomputation(study=build_small_study())  # enqueued on commit (autocommit)
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    run.refresh_from_db()
    if run.status in ("done", "failed"):
        break
    time.sleep(0.5)
print(run.status, run.rows.count(), run.n_participants, run.error)
"""


@pytest.mark.slow
@pytest.mark.redis
def test_worker_on_redis_computes_a_requested_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = run_with_worker(env=env, script=REQUEST_AND_WAIT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["done", "60", "13"], result.stdout
