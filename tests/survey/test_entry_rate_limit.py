"""Survey entry is rate limited per client; other pages are not; a dead cache fails open."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_entry_beyond_the_rate_gets_429_with_retry_after(client, settings):
    settings.SURVEY_ENTRY_RATE = "3/m"
    statuses = [client.get("/s/some-study/").status_code for _ in range(3)]
    assert 429 not in statuses
    refused = client.get("/s/some-study/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert b"Please wait a moment" in refused.content
    # Another client address is not affected; non-entry pages are not limited.
    assert client.get("/s/some-study/", REMOTE_ADDR="10.9.8.7").status_code != 429
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_limiter_fails_open_when_the_redis_cache_is_down(client, settings):
    settings.SURVEY_ENTRY_RATE = "1/m"
    # A real Redis cache backend pointed at a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert all(client.get("/s/x/").status_code != 429 for _ in range(3))


@pytest.mark.django_db
def test_consent_posts_are_limited_separately_from_entry(client, settings):
    settings.SURVEY_ENTRY_RATE = "2/m"
    for _ in range(2):
        assert client.post("/s/some-study/consent/").status_code != 429
    assert client.post("/s/some-study/consent/").status_code == 429
    # Entry GETs have their own counter; answers are never limited.
    assert client.get("/s/some-study/").status_code != 429
    assert client.post("/s/some-study/answer/").status_code != 429
