"""Rate limiting of survey entry per client.

A bot flood opening ``/s/<study-slug>/`` and consenting over and over would create
participants and lease items until the pool is exhausted. Entry GETs and consent POSTs (where
participants and their item leases are created) are counted per client address in the cache
(django-ratelimit; the cache key is a hash, so no address is stored), each against
``SURVEY_ENTRY_RATE``, and refused with 429 beyond it. Answering, resuming pages and
everything else are not limited. If the cache (Redis) is down the limiter fails open, because
the survey must keep working without Redis.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)
# (method, path pattern, counter group)
LIMITED = (
    ("GET", re.compile(r"^/s/[-a-zA-Z0-9_]+/$"), "survey-entry"),
    ("POST", re.compile(r"^/s/[-a-zA-Z0-9_]+/consent/$"), "survey-consent"),
)


def _retry_after_seconds(rate: str) -> int:
    count, _, period = rate.partition("/")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number = re.match(r"(\d*)([smhd])", period)
    if not number:
        return 60
    return int(number.group(1) or 1) * units[number.group(2)]


class SurveyEntryRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        group = next(
            (
                name
                for method, pattern, name in LIMITED
                if request.method == method and pattern.match(request.path_info)
            ),
            None,
        )
        if group and self._limited(request, group):
            rate = settings.SURVEY_ENTRY_RATE
            response = HttpResponse(
                render_to_string("rate_limited.html", request=request), status=429
            )
            response["Retry-After"] = str(_retry_after_seconds(rate))
            return response
        return self.get_response(request)

    @staticmethod
    def _limited(request: HttpRequest, group: str) -> bool:
        try:
            return is_ratelimited(
                request,
                group=group,
                key="ip",
                rate=settings.SURVEY_ENTRY_RATE,
                method=request.method,
                increment=True,
            )
        except Exception:  # cache down: the survey must keep working (fail open)
            logger.warning("survey entry rate limiter unavailable; letting the request through")
            return False
