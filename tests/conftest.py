"""Shared fixtures and the rules for service-backed tests.

Markers (see pyproject): ``postgres``, ``redis``, ``browser`` and ``shared_data`` tests are
skipped with a clear message when the service / Chromium / release data is absent on a
developer's machine, and *fail* instead when ``VP_REQUIRE_SERVICES=1`` (services, browser)
or ``VP_REQUIRE_SHARED_DATA=1`` (release data) is set, as ``.ci/run`` does.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation

PROJECT_DIR = Path(__file__).resolve().parent.parent
RELEASE_DIR = Path(
    os.environ.get(
        "VALUEPORTRAIT_DATA_DIR", PROJECT_DIR.parent / "shared" / "data" / "valueportrait"
    )
)
CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("VP_REQUIRE_SERVICES") == "1"
REQUIRE_SHARED_DATA = os.environ.get("VP_REQUIRE_SHARED_DATA") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def redis_available() -> bool:
    url = os.environ.get("REDIS_URL", "")
    return bool(url) and _reachable(url, 6379)


def chromium_available() -> bool:
    if not os.path.exists(CHROMIUM):
        return False
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


def release_available() -> bool:
    return (RELEASE_DIR / "data" / "query-response-tagged" / "query-response-tagged.json").is_file()


def _missing(required: bool, message: str) -> None:
    if required:
        pytest.fail(f"{message} (mandatory here: the run requires it)")
    pytest.skip(message)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not postgres_available():
        _missing(REQUIRE_SERVICES, "needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and not redis_available():
        _missing(REQUIRE_SERVICES, "needs Redis: set REDIS_URL=redis://... to a running server")
    if item.get_closest_marker("browser") and not chromium_available():
        _missing(REQUIRE_SERVICES, f"needs Debian's Chromium at {CHROMIUM} and Playwright")
    if item.get_closest_marker("shared_data") and not release_available():
        _missing(REQUIRE_SHARED_DATA, f"needs the Value Portrait release at {RELEASE_DIR}")


@pytest.fixture(scope="session")
def release_dir() -> Path:
    """The public data release (read-only): skip or fail clearly when absent."""
    if not release_available():
        _missing(REQUIRE_SHARED_DATA, f"needs the Value Portrait release at {RELEASE_DIR}")
    return RELEASE_DIR


@pytest.fixture
def release_copy(release_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the release's imported files, for corruption tests."""
    target = tmp_path / "release"
    for relative in (
        "data/query-response-tagged",
        "data/prolific/survey/main",
        "data/prolific/value/main",
        "data/correlation_results",
    ):
        shutil.copytree(release_dir / relative, target / relative)
    return target


@pytest.fixture
def imported_release(db, release_dir: Path):
    """The release imported into the test database; returns the import summary."""
    from release.services import import_release

    return import_release(directory=release_dir)


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts and ends in the default language: a request served in another
    language (survey.http.use_language) leaves it active in the thread that served it."""
    translation.deactivate()
    yield
    translation.deactivate()
