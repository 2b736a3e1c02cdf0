"""Prolific's researcher API over HTTP (httpx; no Django).

One method per endpoint we use, in Prolific's wire format (``https://api.prolific.com/api/v1``,
``Authorization: Token <token>``). The token is passed in by the caller, which reads it from
the environment variable the study names: it never reaches a log, an error or the database.

Retries: a call is retried only when it is safe to send again. Every call is retried on 429
(Prolific did not process it; ``Retry-After`` is honoured) and on a connection that could not
be opened (the request never left). Calls that change nothing twice — reads, transitions
(Prolific documents them idempotent), bulk approval, setting up a bonus (it pays nothing) — are
also retried on 5xx and timeouts. Creating a study and **paying bonuses** are not: a 5xx or a
timeout there may have done the work, so it surfaces as :class:`OutcomeUnknown` and the caller
records it instead of sending it again (and later reads the submissions' ``bonus_payments``
to learn what happened: ``services.check_bonus_batch``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

DEFAULT_BASE_URL = "https://api.prolific.com/api/v1"
MAX_RETRY_AFTER_SECONDS = 120.0

# Prolific's rejection categories (POST /submissions/{id}/transition/, action REJECT).
REJECTION_CATEGORIES = (
    "TOO_QUICKLY",
    "TOO_SLOWLY",
    "FAILED_INSTRUCTIONS",
    "INCOMP_LONGITUDINAL",
    "FAILED_CHECK",
    "LOW_EFFORT",
    "MALINGERING",
    "NO_CODE",
    "BAD_CODE",
    "NO_DATA",
    "UNSUPP_DEVICE",
    "OTHER",
)
# Prolific refuses a rejection whose message to the participant is shorter.
MIN_REJECTION_MESSAGE = 100
STUDY_ACTIONS = ("PUBLISH", "PAUSE", "START", "STOP")


class ProlificError(Exception):
    """Prolific refused the request (``status``: its HTTP status; ``body``: its answer)."""

    def __init__(self, message: str, *, status: int | None = None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


class TemporaryError(ProlificError):
    """Rate limited, a server error, a timeout or no connection: worth trying again later."""

    def __init__(self, message: str, *, status: int | None = None, body=None, retry_after=None):
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class OutcomeUnknown(ProlificError):
    """A call that must not be repeated got no clear answer: it may or may not have happened."""


@dataclass
class Exchange:
    """One request as sent (without the token) and Prolific's answer: what the action log keeps."""

    method: str
    path: str
    body: object = None
    status: int | None = None
    answer: object = None

    def as_json(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "status": self.status,
            "answer": self.answer,
        }


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given in seconds (capped)."""
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS) if value else None
    except ValueError:
        return None


def answer_of(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


@dataclass
class ProlificClient:
    token: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    attempts: int = 4
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    # Every exchange of this client's life, in order (the services log them).
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            headers={"Authorization": f"Token {self.token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ProlificClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the transport -----------------------------------------------------------------

    def call(self, method: str, path: str, body=None, *, repeatable: bool = True):
        """Send one request, retrying what is safe to retry (module docstring); returns
        Prolific's answer (JSON or text). ``repeatable``: sending it twice does no harm."""
        for attempt in range(1, self.attempts + 1):
            exchange = Exchange(method=method, path=path, body=body)
            self.exchanges.append(exchange)
            try:
                response = self.http.request(method, path, json=body)
            except httpx.ConnectError as exc:  # never sent: always safe to try again
                error = TemporaryError(f"cannot reach Prolific: {exc}")
            except httpx.TransportError as exc:  # sent, answer lost
                if not repeatable:
                    exchange.answer = f"no answer: {type(exc).__name__}"
                    raise OutcomeUnknown(f"no answer from Prolific ({type(exc).__name__})") from exc
                error = TemporaryError(f"no answer from Prolific: {type(exc).__name__}")
            else:
                exchange.status, exchange.answer = response.status_code, answer_of(response)
                if response.status_code < 400:
                    return exchange.answer
                message = f"Prolific answered HTTP {response.status_code}: {exchange.answer}"
                if response.status_code == 429:
                    error = TemporaryError(
                        message,
                        status=429,
                        body=exchange.answer,
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    )
                elif response.status_code >= 500:
                    if not repeatable:
                        raise OutcomeUnknown(message, status=response.status_code)
                    error = TemporaryError(message, status=response.status_code)
                else:
                    raise ProlificError(message, status=response.status_code, body=exchange.answer)
            if attempt == self.attempts:
                raise error
            wait = error.retry_after
            self.sleep(wait if wait is not None else self.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    # --- studies -------------------------------------------------------------------------

    def create_study(self, study: dict) -> dict:
        """POST /studies/: a draft (UNPUBLISHED) study. Not repeatable: two would be made."""
        return self.call("POST", "/studies/", study, repeatable=False)

    def transition_study(self, study_id: str, action: str) -> dict:
        if action not in STUDY_ACTIONS:
            raise ValueError(f"unknown study action {action!r}")
        return self.call("POST", f"/studies/{study_id}/transition/", {"action": action})

    def get_study(self, study_id: str) -> dict:
        return self.call("GET", f"/studies/{study_id}/")

    # --- submissions ---------------------------------------------------------------------

    def list_submissions(self, study_id: str) -> list[dict]:
        """Every submission of the study, following Prolific's ``_links.next`` pages."""
        path: str | None = f"/studies/{study_id}/submissions/"
        results: list[dict] = []
        while path:
            page = self.call("GET", path)
            results.extend(page.get("results", []))
            next_link = (page.get("_links") or {}).get("next") or {}
            href = next_link.get("href") if isinstance(next_link, dict) else next_link
            path = href.removeprefix(self.base_url.rstrip("/")) if href else None
        return results

    def get_submission(self, submission_id: str) -> dict:
        """GET /submissions/{id}/: its status and ``bonus_payments``, the bonuses *paid* on it
        (cents/pence; Prolific has no endpoint to read a bulk bonus payment back)."""
        return self.call("GET", f"/submissions/{submission_id}/")

    def approve(self, submission_id: str) -> dict:
        return self.call("POST", f"/submissions/{submission_id}/transition/", {"action": "APPROVE"})

    def bulk_approve(self, submission_ids: list[str]) -> object:
        return self.call("POST", "/submissions/bulk-approve/", {"submission_ids": submission_ids})

    def reject(self, submission_id: str, *, category: str, message: str) -> dict:
        return self.call(
            "POST",
            f"/submissions/{submission_id}/transition/",
            {"action": "REJECT", "rejection_category": category, "message": message},
        )

    def request_return(self, submission_id: str, *, reasons: list[str]) -> dict:
        return self.call(
            "POST",
            f"/submissions/{submission_id}/request-return/",
            {"request_return_reasons": reasons},
        )

    # --- bonuses -------------------------------------------------------------------------

    def set_up_bonuses(self, study_id: str, csv_bonuses: str) -> dict:
        """POST /submissions/bonus-payments/: records the bonuses, pays nothing (repeatable:
        a set-up left unpaid costs nothing)."""
        return self.call(
            "POST",
            "/submissions/bonus-payments/",
            {"study_id": study_id, "csv_bonuses": csv_bonuses},
        )

    def pay_bonuses(self, bulk_id: str) -> object:
        """POST /bulk-bonus-payments/{id}/pay/. **Not idempotent**: each call pays again, so it
        is never repeated after it may have reached Prolific."""
        return self.call("POST", f"/bulk-bonus-payments/{bulk_id}/pay/", {}, repeatable=False)
