"""Fixtures of the survey tests."""

from __future__ import annotations

import pytest

from .fake_prolific import FakeProlific


@pytest.fixture
def fake_prolific(settings, monkeypatch):
    """A fake Prolific API on 127.0.0.1, the platform pointed at it, its token in the
    environment variable studies name by default (``PROLIFIC_API_TOKEN``)."""
    fake = FakeProlific().start()
    settings.PROLIFIC_API_URL = f"{fake.url}/api/v1"
    settings.PROLIFIC_RETRY_BACKOFF_SECONDS = 0.01
    monkeypatch.setenv("PROLIFIC_API_TOKEN", fake.token)
    yield fake
    fake.stop()
