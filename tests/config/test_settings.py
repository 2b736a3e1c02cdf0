"""Settings come from the environment with safe local defaults; production fails loudly."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.conftest import PROJECT_DIR

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k
    not in {
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_SECRET_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_SETTINGS_MODULE",
    }
}


def _settings(module: str, code: str, **env) -> subprocess.CompletedProcess:
    script = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='{module}'; django.setup(); from django.conf import settings as s; {code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env={**CLEAN_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_local_defaults_are_sqlite_and_serverless_celery():
    result = _settings(
        "config.settings.local",
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CELERY_RESULT_BACKEND)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "django-db"]


def test_environment_selects_postgres_and_redis():
    result = _settings(
        "config.settings.local",
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)",
        DATABASE_URL="postgres://u@db:5432/x",
        REDIS_URL="redis://cache:6379/1",
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache:6379/1"]


def test_production_without_secret_key_fails_loudly():
    result = _settings(
        "config.settings.production",
        "print('started')",
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="postgres://u@db/x",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr and "started" not in result.stdout


def test_production_is_secure_when_configured():
    result = _settings(
        "config.settings.production",
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE)",
        DJANGO_SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="postgres://u@db/x",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True"]


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_prepared_statements_are_on_for_postgresql_and_can_be_turned_off():
    show = "print(s.DATABASES['default']['OPTIONS'].get('prepare_threshold', 'absent'))"
    pg = "postgres://u@db:5432/x"
    on = _settings("config.settings.local", show, DATABASE_URL=pg)
    off = _settings(
        "config.settings.local", show, DATABASE_URL=pg, DATABASE_PREPARED_STATEMENTS="off"
    )
    sqlite = _settings("config.settings.local", show)
    assert (on.stdout.split(), off.stdout.split(), sqlite.stdout.split()) == (
        ["0"],
        ["None"],
        ["absent"],
    ), (on.stderr, off.stderr, sqlite.stderr)


PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://u@db/x",
}
SHOW_DEPLOYMENT = (
    "import json; print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, str(s.STATIC_ROOT), "
    "s.SECURE_REDIRECT_EXEMPT]))"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        # HTTPS assumed: secure cookies, redirect, no forwarded header believed.
        ({}, [True, True, True, None]),
        # Plain HTTP on purpose (docker compose on a laptop).
        (
            {"DJANGO_SECURE_COOKIES": "false", "SECURE_SSL_REDIRECT": "false"},
            [False, False, False, None],
        ),
        # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
        ({"TRUSTED_PROXY": "true"}, [True, True, True, ["HTTP_X_FORWARDED_PROTO", "https"]]),
        ({"TRUSTED_PROXY": "false", "DJANGO_SECURE_COOKIES": "true"}, [True, True, True, None]),
    ],
)
def test_production_https_settings_follow_the_environment(environment, expected):
    result = _settings("config.settings.production", SHOW_DEPLOYMENT, **PRODUCTION, **environment)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values[:4] == expected
    # The container's health check is asked over plain HTTP: never redirected.
    assert values[5] == [r"^healthz$"]


def test_static_root_comes_from_the_environment(tmp_path):
    default = _settings("config.settings.production", SHOW_DEPLOYMENT, **PRODUCTION)
    chosen = _settings(
        "config.settings.production",
        SHOW_DEPLOYMENT,
        **PRODUCTION,
        DJANGO_STATIC_ROOT=str(tmp_path / "static-root"),
    )
    assert json.loads(default.stdout)[4] == str(PROJECT_DIR / "staticfiles"), default.stderr
    assert json.loads(chosen.stdout)[4] == str(tmp_path / "static-root"), chosen.stderr


def test_a_checkout_finds_templates_and_static_files_beside_the_packages():
    result = _settings(
        "config.settings.local",
        "print(s.SITE_DIR, s.BASE_DIR, s.TEMPLATES[0]['DIRS'][0], s.STATICFILES_DIRS[0])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(PROJECT_DIR),
        str(PROJECT_DIR),
        str(PROJECT_DIR / "templates"),
        str(PROJECT_DIR / "static"),
    ]
