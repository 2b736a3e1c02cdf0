"""Login attempt limits (django-axes) on the staff login and the admin login.

The test settings turn django-axes off (Django's test client logs in without a request,
which it refuses); these tests turn it back on with the project's real limit
(AXES_FAILURE_LIMIT from config.settings.base) and log in through the real pages.
"""

import random

import pytest
from django.contrib.auth import get_user_model

from config.settings import base

pytestmark = pytest.mark.django_db
PASSWORD = "the-right-passphrase-91"
LIMIT = base.AXES_FAILURE_LIMIT
_random = random.SystemRandom()


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True


def address() -> str:
    return "10." + ".".join(str(_random.randrange(256)) for _ in range(3))


@pytest.fixture(params=["/accounts/login/", "/admin/login/"], ids=["staff", "admin"])
def login_url(request) -> str:
    return request.param


@pytest.fixture
def alice():
    # Staff status so that the admin login accepts her too.
    return get_user_model().objects.create_user(
        "alice", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(client, url: str, *, password: str, username: str = "alice", ip: str):
    client.logout()
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_limit_holds_and_someone_elses_guesses_do_not_lock_the_user_out(
    client, login_url, alice
):
    assert LIMIT == 5
    attacker, alices_desk = address(), address()
    refused = [log_in(client, login_url, password=f"guess-{n}", ip=attacker) for n in range(LIMIT)]
    assert [r.status_code for r in refused[:-1]] == [200] * (LIMIT - 1)  # the form again
    locked = refused[-1]
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert int(locked["Retry-After"]) == base.AXES_COOLOFF_TIME.total_seconds()

    # From the attacker's address even the right password is refused now.
    assert log_in(client, login_url, password=PASSWORD, ip=attacker).status_code == 429
    assert not logged_in(client)

    # Alice, from her own address, logs in as usual.
    response = log_in(client, login_url, password=PASSWORD, ip=alices_desk)
    assert response.status_code == 302 and logged_in(client)


def test_guessing_one_name_does_not_lock_other_accounts_at_that_address(client, alice):
    get_user_model().objects.create_user("bob", password=PASSWORD)
    shared_network = address()
    for n in range(LIMIT):
        log_in(client, "/accounts/login/", password=f"guess-{n}", ip=shared_network)
    response = log_in(
        client, "/accounts/login/", username="bob", password=PASSWORD, ip=shared_network
    )
    assert response.status_code == 302 and logged_in(client)


def test_a_successful_login_clears_the_failures(client, login_url, alice):
    desk = address()
    for round_ in range(2):  # twice one short of the limit, a success in between
        for n in range(LIMIT - 1):
            assert (
                log_in(client, login_url, password=f"typo-{round_}-{n}", ip=desk).status_code == 200
            )
        response = log_in(client, login_url, password=PASSWORD, ip=desk)
        assert response.status_code == 302 and logged_in(client), round_
