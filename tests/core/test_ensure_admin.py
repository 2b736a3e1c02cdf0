"""``manage.py ensure_admin``: the first superuser from the environment, idempotently."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-deployment-passphrase-42"


def ensure_admin() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.org")
    return monkeypatch


def test_creates_a_superuser_who_can_log_in_once(admin_env, client):
    assert "created" in ensure_admin()
    user = get_user_model().objects.get(username="root-admin")
    assert (user.is_superuser, user.is_staff, user.email) == (True, True, "admin@example.org")
    assert client.login(username="root-admin", password=PASSWORD)


def test_running_again_changes_nothing_even_with_another_password(admin_env):
    ensure_admin()
    before = get_user_model().objects.get(username="root-admin")
    admin_env.setenv("DJANGO_SUPERUSER_PASSWORD", "another-long-passphrase-77")
    assert "left unchanged" in ensure_admin()
    after = get_user_model().objects.get(username="root-admin")
    assert after.password == before.password
    assert get_user_model().objects.count() == 1


def test_without_a_username_it_does_nothing(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    assert "no administrator created" in ensure_admin()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("password", ["", "password", "12345678"])
def test_a_missing_or_weak_password_is_refused_and_nothing_created(admin_env, password):
    admin_env.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    with pytest.raises(CommandError, match="password"):
        ensure_admin()
    assert not get_user_model().objects.exists()


def test_an_ordinary_user_of_that_name_is_not_promoted(admin_env):
    get_user_model().objects.create_user("root-admin", password="some-user-password-1")
    with pytest.raises(CommandError, match="not a superuser"):
        ensure_admin()
    assert not get_user_model().objects.get(username="root-admin").is_superuser
