"""API throttling through the real API: per user (token or session) and per anonymous client.

The test settings raise both rates (the suite sends many requests from one user and one
address); these tests put back the project's real default rates from config.settings.base.
Every test uses its own users and client addresses, so their counters start at zero.
"""

import logging
import random

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.authtoken.models import Token

from config.settings import base
from core.throttling import UserThrottle
from tests.dashboards.helpers import make_user

pytestmark = pytest.mark.django_db
REAL_RATES = override_settings(API_USER_RATE=base.API_USER_RATE, API_ANON_RATE=base.API_ANON_RATE)
_random = random.SystemRandom()
DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def allowed_requests(rate: str) -> tuple[int, int]:
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0]]


def fresh_address() -> str:
    """An address no earlier run has used (the cache outlives a test run)."""
    return "10." + ".".join(str(_random.randrange(256)) for _ in range(3))


def token_for(username: str) -> str:
    user = make_user("researcher", username)
    # Primary keys restart with each test database; the cache's counters do not.
    cache.delete(UserThrottle.cache_format % {"scope": UserThrottle.scope, "ident": user.pk})
    return Token.objects.create(user=user).key


def assert_throttled(response, duration: int) -> None:
    assert response.status_code == 429, response.content[:300]
    assert 1 <= int(response["Retry-After"]) <= duration
    if response["Content-Type"] == "application/json":
        assert "throttled" in response.json()["detail"].lower()


@REAL_RATES
def test_a_token_gets_the_real_user_rate_then_429_while_other_users_go_on(client):
    limit, duration = allowed_requests(base.API_USER_RATE)
    assert limit >= 60, "the documented default lets a script page through an export"
    key = token_for("scripted")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}", "REMOTE_ADDR": fresh_address()}
    statuses = [client.get("/api/v1/", **headers).status_code for _ in range(limit)]
    assert statuses == [200] * limit
    assert_throttled(client.get("/api/v1/studies/", **headers), duration)

    # The same user through a login session shares the count: it is per user.
    client.force_login(Token.objects.get(key=key).user)
    assert_throttled(client.get("/api/v1/"), duration)
    client.logout()

    # Another user's token, from the very same address, is not affected.
    other = {**headers, "HTTP_AUTHORIZATION": f"Token {token_for('colleague')}"}
    assert client.get("/api/v1/studies/", **other).status_code == 200


@REAL_RATES
def test_an_anonymous_client_gets_the_real_anonymous_rate_per_address(client):
    limit, duration = allowed_requests(base.API_ANON_RATE)
    flooding = fresh_address()
    for _ in range(limit):
        assert client.get("/api/docs/", REMOTE_ADDR=flooding).status_code == 200
    assert_throttled(client.get("/api/docs/", REMOTE_ADDR=flooding), duration)
    # A forged X-Forwarded-For does not make a new client (DRF would believe it by default).
    forged = client.get("/api/docs/", REMOTE_ADDR=flooding, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert_throttled(forged, duration)
    # Another client address is not affected, nor is a logged-in user at that address.
    assert client.get("/api/docs/", REMOTE_ADDR=fresh_address()).status_code == 200
    key = token_for("researcher-on-the-same-network")
    assert (
        client.get("/api/v1/", REMOTE_ADDR=flooding, HTTP_AUTHORIZATION=f"Token {key}").status_code
        == 200
    )


@override_settings(API_ANON_RATE="2/minute", RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP")
def test_behind_a_proxy_the_configured_header_names_the_client(client):
    proxy = fresh_address()
    first, second = fresh_address(), fresh_address()
    for _ in range(2):
        assert client.get("/api/docs/", REMOTE_ADDR=proxy, HTTP_X_REAL_IP=first).status_code == 200
    assert client.get("/api/docs/", REMOTE_ADDR=proxy, HTTP_X_REAL_IP=first).status_code == 429
    # Everyone arrives from the proxy's address; the next client is still served.
    assert client.get("/api/docs/", REMOTE_ADDR=proxy, HTTP_X_REAL_IP=second).status_code == 200


@override_settings(
    API_USER_RATE="1/minute",
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1: every cache call fails to connect.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    },
)
def test_with_the_cache_down_the_api_keeps_answering(client, caplog):
    key = Token.objects.create(user=make_user("researcher", "while-redis-is-down")).key
    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        statuses = [
            client.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {key}").status_code for _ in range(3)
        ]
    assert statuses == [200, 200, 200]
    assert "cache down" in caplog.text
