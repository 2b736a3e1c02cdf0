"""Limits against abuse: API request rates per client, and the login lockout's answer.

API (Django REST framework throttles, counted in the cache):

- scope ``user``: every authenticated request (token or login session) counts against its
  user, at ``API_USER_RATE``; one user's script never slows another user down.
- scope ``anon``: requests without credentials that reach a public endpoint (the schema and
  its docs) count against the client address, at ``API_ANON_RATE``.

Beyond the rate the API answers 429 with ``Retry-After`` (DRF's ``Throttled``). Rates use
DRF's syntax (``120/minute``: a count per second, minute, hour or day) and are read from the
settings at each request. A request whose credentials are wrong is refused (401/403) before
any throttle runs; guessing a 40-hex-digit token is not a practical attack anyway. If the
cache is down the throttles let requests through, like the survey's entry limit: the API
must keep working without Redis.

Logins (``/accounts/login/`` and ``/admin/login/``) are limited by django-axes (settings
``AXES_*``); ``login_lockout_response`` is its answer to a locked-out attempt.

One rule for the client's address everywhere (``client_address``): ``REMOTE_ADDR``, or
behind a reverse proxy the header named by ``RATELIMIT_IP_META_KEY``. The ``X-Forwarded-For``
a client sends itself is never believed (DRF would, by default).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the header named by RATELIMIT_IP_META_KEY
    (set by the project's reverse proxy). A list in that header ends with the address the
    proxy itself saw, so its last entry is taken."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    value = request.META.get(meta_key) or request.META.get("REMOTE_ADDR") or ""
    return value.split(",")[-1].strip()


class _FailOpenRateThrottle:
    """Read the rate from the settings at each request; let requests through when the
    cache is unreachable (logged), rather than failing every API call with a 500."""

    rate_setting: str

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("API throttle %s unavailable (cache down): request let through", self)
            return True


class UserThrottle(_FailOpenRateThrottle, UserRateThrottle):
    """Authenticated requests, per user (a token belongs to one user), at API_USER_RATE."""

    scope = "user"
    rate_setting = "API_USER_RATE"


class AnonymousThrottle(_FailOpenRateThrottle, AnonRateThrottle):
    """Requests without credentials, per client address, at API_ANON_RATE. The address is
    hashed in the cache key, so no address is stored."""

    scope = "anon"
    rate_setting = "API_ANON_RATE"

    def get_ident(self, request) -> str:
        return hashlib.sha256(client_address(request).encode()).hexdigest()[:32]


def login_lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: the lockout page, 429, Retry-After."""
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    response = render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cool_off_minutes": max(1, round(cool_off.total_seconds() / 60)),
        },
        status=429,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
