"""A small run of ``perf/load_survey`` in CI: the whole flow through gunicorn on PostgreSQL.

The full launch (200 concurrent participants, latency and throughput targets) is a perf
script, not a test; this smoke run proves the script works and that a handful of
concurrent participants lose and duplicate nothing and stay balanced.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import PROJECT_DIR

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_load_script_smoke_run_loses_and_duplicates_nothing():
    database = settings.DATABASES["default"]
    server = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/postgres"
    name = f"{database['NAME']}_loadsmoke"[:60]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perf.load_survey",
            "--participants",
            "6",
            "--ramp",
            "1",
            "--think",
            "0",
            "0.02",
            "--probe-seconds",
            "2",
            "--probe-concurrency",
            "4",
            "--probe-participants",
            "4",
            "--workers",
            "2",
            "--database-url",
            server,
            "--database-name",
            name,
        ],
        cwd=PROJECT_DIR,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "completed: 6 in the database, 6 saw their code" in output
    assert "lost 0, wrong value 0, duplicated rows 0, duplicated participants 0" in output
    assert "-> within one" in output
