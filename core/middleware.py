"""Project-wide middleware: a briefly unreachable database answered with 503 "try again"."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Messages for a database that is briefly unreachable (restart, fail-over, dropped link).
TRY_AGAIN_MESSAGE = (
    "We could not save this just now because of a short interruption on our side. "
    "Nothing was lost. Please try again in a few seconds."
)
TRY_AGAIN_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """Answer a lost database connection with 503 "please try again", not a 500 traceback.

    A connection dropped mid-request rolls the request's transaction back, so nothing half-
    written remains and the participant's retry stores the answer once (writes are
    idempotent). The page is rendered without the request, because context processors
    would touch the broken connection again. Other errors are left to Django.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        if "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"ok": False, "error": TRY_AGAIN_MESSAGE}, status=503)
        else:
            response = HttpResponse(render_to_string("try_again.html"), status=503)
        response["Retry-After"] = str(TRY_AGAIN_SECONDS)
        return response
