"""Provider batch APIs: submit many requests at once, poll, read the results (no Django).

One class per wire format, built on the live client of the same provider so that a batch
request's body is exactly the body a live call would send and a result is parsed by the
same ``parse``:

- OpenAI (``/v1/files`` + ``/v1/batches``): a JSONL file of ``{"custom_id", "method",
  "url", "body"}`` lines is uploaded (purpose ``batch``), a batch created on it; when it
  ends, ``output_file_id`` holds the answered lines and ``error_file_id`` the failed and
  expired ones (``{"custom_id", "response": {"status_code", "body"}, "error"}``).
- Anthropic (``/v1/messages/batches``): ``{"requests": [{"custom_id", "params"}]}``; when
  ``processing_status`` is ``ended``, ``results_url`` serves JSONL lines whose ``result``
  is ``succeeded`` (a message), ``errored``, ``canceled`` or ``expired``.
- Gemini (``models/{model}:batchGenerateContent`` with inlined requests): the reply is a
  long-running operation ``batches/{id}``; ``GET batches/{id}`` says its ``state``
  (``BATCH_STATE_PENDING|RUNNING|SUCCEEDED|FAILED|CANCELLED|EXPIRED``) and, once done,
  carries ``response.inlinedResponses.inlinedResponses`` in the order of the requests, each
  a ``response`` or an ``error``.

Submissions carry our own key (write-ahead, so that a worker that died after the provider
accepted a batch does not submit it again: :meth:`BatchAPI.find` looks for it first). OpenAI
keeps it in the batch's ``metadata`` (``valueportrait_key``), Gemini in its ``displayName``;
Anthropic's batches have neither, so the key prefixes every ``custom_id`` and ``find`` adopts
the batch created in the submission's time window with the same number of requests (checked
against its first result's custom id once it has ended) — a wrong adoption cannot store
foreign answers, because results are matched by custom id. The list endpoints used:
``GET /v1/batches`` (newest first, ``after`` cursor), ``GET /v1/messages/batches`` (newest
first, ``after_id``), ``GET /v1beta/batches`` (operations, ``pageToken``).

Each provider's size limits and batch discount are data (:data:`BATCH_LIMITS`,
:data:`BATCH_DISCOUNT`); :func:`plan_batches` cuts a list of request sizes into batches
within them. HTTP errors are the live clients' (:class:`TransientProviderError` for 408,
429, 5xx and connection trouble: try again on the next poll; :class:`PermanentProviderError`
otherwise).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import httpx
import numpy as np

from .anthropic import AnthropicClient
from .base import (
    GenerationRequest,
    HttpClient,
    PermanentProviderError,
    ProviderAnswer,
    TransientProviderError,
    api_key_from_env,
    json_body,
    raise_for_status,
)
from .gemini import GeminiClient
from .openai_compat import OpenAICompatibleClient


@dataclass(frozen=True)
class BatchLimits:
    """The most one batch may hold: requests, and bytes of its encoded requests."""

    max_requests: int
    max_bytes: int


MB = 1024 * 1024
# From each provider's batch documentation: OpenAI 50,000 requests and 200 MB per input
# file; Anthropic 100,000 requests or 256 MB per batch; Gemini's inlined requests must stay
# under 20 MB in all (larger jobs go through its file API, which we do not use), and we keep
# its batches to OpenAI's request count.
BATCH_LIMITS: dict[str, BatchLimits] = {
    "openai": BatchLimits(max_requests=50_000, max_bytes=200 * MB),
    "anthropic": BatchLimits(max_requests=100_000, max_bytes=256 * MB),
    "gemini": BatchLimits(max_requests=50_000, max_bytes=20 * MB),
}
# Share of the live price taken off for batched requests (all three: 50 %).
BATCH_DISCOUNT: dict[str, Decimal] = {
    "openai": Decimal("0.5"),
    "anthropic": Decimal("0.5"),
    "gemini": Decimal("0.5"),
}
BATCH_PROVIDERS = tuple(BATCH_LIMITS)


class BatchTooLarge(ValueError):
    """A single request exceeds its provider's batch size limit."""


def plan_batches(sizes: Sequence[int], limits: BatchLimits) -> list[tuple[int, int]]:
    """Cut requests of these encoded ``sizes`` (in order) into consecutive batches, each at
    most ``limits.max_requests`` requests and ``limits.max_bytes`` bytes; returns
    ``(start, stop)`` index pairs covering every request once. Greedy: each batch takes as
    many requests as fit (one cumulative sum and one binary search per batch). Raises
    :class:`BatchTooLarge` when one request alone exceeds the byte limit."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.size and sizes.max() > limits.max_bytes:
        raise BatchTooLarge(
            f"a request of {int(sizes.max())} bytes exceeds the batch limit of "
            f"{limits.max_bytes} bytes"
        )
    ends = np.cumsum(sizes)
    plan = []
    start = 0
    while start < sizes.size:
        used = ends[start - 1] if start else 0
        # The first index whose cumulative size passes the budget ends the batch.
        by_bytes = int(np.searchsorted(ends, used + limits.max_bytes, side="right"))
        stop = min(by_bytes, start + limits.max_requests, sizes.size)
        plan.append((start, stop))
        start = stop
    return plan


KEY_FIELD = "valueportrait_key"  # OpenAI batch metadata field carrying our key
KEY_LENGTH = 34  # "vp" + 32 hex digits
# How far the provider's clock may be from ours when matching a batch by creation time.
CLOCK_SKEW_SECONDS = 300
# At most LIST_PAGES pages of LIST_PAGE_SIZE batches are read when looking for a batch.
LIST_PAGES = 20
LIST_PAGE_SIZE = 100


def new_submission_key() -> str:
    """Our own unique key of one submission (letters and digits: valid in every provider's
    custom id, metadata value and display name)."""
    return "vp" + uuid.uuid4().hex


def request_id(key: str, index: int) -> str:
    """The custom id of a batch's ``index``-th request: ``<key>-u<index>`` (``u<index>``
    for batches stored before keys existed). At most 64 characters of ``[A-Za-z0-9_-]``,
    as Anthropic requires."""
    return f"{key}-u{index}" if key else f"u{index}"


def _epoch(text: str) -> float | None:
    """An RFC 3339 time (``2024-08-20T18:37:24.100435Z``) as Unix seconds; None if absent or
    unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def encoded_size(line: dict) -> int:
    """Bytes of one request as it travels (a JSONL line with its newline)."""
    return len(json.dumps(line, ensure_ascii=False).encode()) + 1


# --- what the three formats share ------------------------------------------------------------
IN_PROGRESS = "in_progress"
ENDED = "ended"  # results (possibly partial: some failed or expired) can be read
FAILED = "failed"  # the provider refused or lost the whole batch: no results
EXPIRED = "expired"  # the whole batch expired without results
CANCELLED = "cancelled"


@dataclass
class BatchStatus:
    state: str  # one of the five above
    provider_state: str  # the provider's own word
    counts: dict = field(default_factory=dict)
    output_ref: str = ""  # OpenAI output_file_id, Anthropic results_url
    error_ref: str = ""  # OpenAI error_file_id
    error: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class BatchResult:
    """One request's outcome: an answer, or an error that is ``retryable`` (expired,
    cancelled, 429/5xx) or not (the provider refused the request itself)."""

    custom_id: str
    answer: ProviderAnswer | None = None
    error: str = ""
    retryable: bool = False


@dataclass
class Submitted:
    batch_id: str
    input_file_id: str = ""
    provider_state: str = ""


class BatchAPI:
    """Base: an HTTP session with the live client's base URL, key and timeouts."""

    provider = ""
    client_class: type[HttpClient] = HttpClient

    def __init__(self, *, model_id: str, base_url: str = "", api_key_env: str = "",
                 timeout: float = 120.0):  # fmt: skip
        self.client = self.client_class(
            model_id=model_id, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
            max_connections=4,
        )  # fmt: skip
        self.base_url = self.client.base_url
        self.limits = BATCH_LIMITS[self.provider]

    def close(self) -> None:
        self.client.close()

    def _headers(self) -> dict:
        raise NotImplementedError

    def _call(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        try:
            response = self.client.http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientProviderError(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientProviderError(f"connection error: {type(exc).__name__}: {exc}") from None
        raise_for_status(response)
        return response

    def _json(self, method: str, url: str, **kwargs) -> dict:
        return json_body(self._call(method, url, **kwargs))

    def _answered(self, custom_id: str, body: dict) -> BatchResult:
        """A result line's answer through the live client's parser (the parameters sent
        are the caller's to record: it built the request). A body the parser cannot read is
        a retryable error, as a malformed live answer is."""
        try:
            return BatchResult(custom_id, answer=self.client.parse(body, {}))
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            return BatchResult(
                custom_id, error=f"unexpected response shape ({type(exc).__name__}: {exc})",
                retryable=True,
            )  # fmt: skip

    def request_line(self, custom_id: str, request: GenerationRequest) -> dict:
        """One request in this provider's batch input format (the live call's body)."""
        raise NotImplementedError

    def sent_params(self, request: GenerationRequest) -> dict:
        return self.client.sent_params(request)

    def find(
        self, *, key: str, since: float, until: float, request_count: int,
        taken: frozenset[str] = frozenset(),
    ) -> Submitted | None:  # fmt: skip
        """The batch an earlier submission with ``key`` created, if the provider has it
        (``since``/``until``: Unix seconds around the submission; ``taken``: provider ids
        already recorded for other submissions); None when it never arrived."""
        raise NotImplementedError

    # Subclasses: submit, status, results, cancel, find.


def _jsonl(text: str) -> Iterator[dict]:
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


class OpenAIBatchAPI(BatchAPI):
    provider = "openai"
    client_class = OpenAICompatibleClient
    endpoint = "/v1/chat/completions"

    def _headers(self) -> dict:
        key = api_key_from_env(self.client.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def request_line(self, custom_id: str, request: GenerationRequest) -> dict:
        _url, _headers, body = self.client.build(request, api_key="")
        return {"custom_id": custom_id, "method": "POST", "url": self.endpoint, "body": body}

    def submit(self, lines: list[dict], *, name: str, key: str = "") -> Submitted:
        content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        uploaded = self._json(
            "POST", f"{self.base_url}/files", data={"purpose": "batch"},
            files={"file": (f"{name}.jsonl", content.encode(), "application/jsonl")},
        )  # fmt: skip
        batch = self._json(
            "POST", f"{self.base_url}/batches",
            json={"input_file_id": uploaded["id"], "endpoint": self.endpoint,
                  "completion_window": "24h",
                  "metadata": {"name": name[:500], **({KEY_FIELD: key} if key else {})}},
        )  # fmt: skip
        return Submitted(batch["id"], uploaded["id"], str(batch.get("status", "")))

    def find(self, *, key, since, until, request_count, taken=frozenset()):
        params: dict = {"limit": LIST_PAGE_SIZE}
        for _page in range(LIST_PAGES):
            page = self._json("GET", f"{self.base_url}/batches", params=params)
            for batch in page.get("data") or []:
                if (batch.get("metadata") or {}).get(KEY_FIELD) == key:
                    return Submitted(batch["id"], batch.get("input_file_id") or "",
                                     str(batch.get("status", "")))  # fmt: skip
                if float(batch.get("created_at") or 0) < since - CLOCK_SKEW_SECONDS:
                    return None  # newest first: the rest are older than the submission
            if not page.get("has_more") or not page.get("last_id"):
                return None
            params["after"] = page["last_id"]
        return None

    STATES = {
        "validating": IN_PROGRESS, "in_progress": IN_PROGRESS, "finalizing": IN_PROGRESS,
        "cancelling": IN_PROGRESS, "completed": ENDED, "failed": FAILED, "expired": ENDED,
        "cancelled": ENDED,
    }  # fmt: skip

    def status(self, batch_id: str) -> BatchStatus:
        body = self._json("GET", f"{self.base_url}/batches/{batch_id}")
        state = str(body.get("status", ""))
        errors = ((body.get("errors") or {}).get("data")) or []
        return BatchStatus(
            # An expired or cancelled OpenAI batch still reports what it finished (output
            # file) and lists the rest in its error file: it is read like an ended one.
            state=self.STATES.get(state, IN_PROGRESS),
            provider_state=state,
            counts=dict(body.get("request_counts") or {}),
            output_ref=body.get("output_file_id") or "",
            error_ref=body.get("error_file_id") or "",
            error="; ".join(str(e.get("message", e)) for e in errors)[:2000],
            raw=body,
        )

    def results(self, status: BatchStatus, custom_ids: Sequence[str] = ()) -> Iterator[BatchResult]:
        for ref in (status.output_ref, status.error_ref):
            if not ref:
                continue
            text = self._call("GET", f"{self.base_url}/files/{ref}/content").text
            for line in _jsonl(text):
                yield self._result(line)

    def _result(self, line: dict) -> BatchResult:
        custom_id = str(line.get("custom_id", ""))
        response = line.get("response") or {}
        error = line.get("error")
        code = int(response.get("status_code") or 0)
        if error or code != 200:
            body = response.get("body") or {}
            message = (error or body.get("error") or {}).get("message") or str(error or body)
            kind = (error or {}).get("code") or f"HTTP {code}"
            retryable = bool(error) or code in (408, 409, 425, 429) or code >= 500
            return BatchResult(custom_id, error=f"{kind}: {message}"[:2000], retryable=retryable)
        return self._answered(custom_id, response.get("body") or {})

    def cancel(self, batch_id: str) -> None:
        self._json("POST", f"{self.base_url}/batches/{batch_id}/cancel")


class AnthropicBatchAPI(BatchAPI):
    provider = "anthropic"
    client_class = AnthropicClient

    def _headers(self) -> dict:
        _url, headers, _body = self.client.build(
            GenerationRequest(prompt=""), api_key_from_env(self.client.api_key_env)
        )
        return headers

    def request_line(self, custom_id: str, request: GenerationRequest) -> dict:
        _url, _headers, body = self.client.build(request, api_key="")
        return {"custom_id": custom_id, "params": body}

    def submit(self, lines: list[dict], *, name: str, key: str = "") -> Submitted:
        # No name or metadata field: the key travels in the custom ids (request_id).
        body = self._json("POST", f"{self.base_url}/messages/batches", json={"requests": lines})
        return Submitted(body["id"], "", str(body.get("processing_status", "")))

    def find(self, *, key, since, until, request_count, taken=frozenset()):
        """The earliest batch created within ``[since, until]`` (give or take the clock
        skew) with ``request_count`` requests, not ``taken``, and — when it has ended — whose
        first result carries the key."""
        params: dict = {"limit": LIST_PAGE_SIZE}
        candidates = []
        for _page in range(LIST_PAGES):
            page = self._json("GET", f"{self.base_url}/messages/batches", params=params)
            older = False
            for batch in page.get("data") or []:
                created = _epoch(batch.get("created_at", ""))
                if created is None or batch.get("id") in taken:
                    continue
                if created < since - CLOCK_SKEW_SECONDS:
                    older = True
                    break
                total = sum(int(v or 0) for v in (batch.get("request_counts") or {}).values())
                if created <= until + CLOCK_SKEW_SECONDS and total == request_count:
                    candidates.append((created, batch))
            if older or not page.get("has_more") or not page.get("last_id"):
                break
            params["after_id"] = page["last_id"]
        for _created, batch in sorted(candidates, key=lambda c: c[0]):
            first = self._first_custom_id(batch.get("results_url") or "")
            if first is None or first.startswith(f"{key}-"):
                return Submitted(batch["id"], "", str(batch.get("processing_status", "")))
        return None

    def _first_custom_id(self, results_url: str) -> str | None:
        """The custom id on the first line of an ended batch's results (streamed: only the
        first line is read); None while it has no results."""
        if not results_url:
            return None
        try:
            with self.client.http.stream("GET", results_url, headers=self._headers()) as reply:
                if reply.status_code >= 400:
                    reply.read()  # the error message is in the body
                    raise_for_status(reply)
                for line in reply.iter_lines():
                    if line.strip():
                        return str(json.loads(line).get("custom_id", ""))
        except httpx.TransportError as exc:
            raise TransientProviderError(f"connection error: {type(exc).__name__}") from None
        return ""

    def status(self, batch_id: str) -> BatchStatus:
        body = self._json("GET", f"{self.base_url}/messages/batches/{batch_id}")
        state = str(body.get("processing_status", ""))
        return BatchStatus(
            state=ENDED if state == "ended" else IN_PROGRESS,
            provider_state=state,
            counts=dict(body.get("request_counts") or {}),
            output_ref=body.get("results_url") or "",
            raw=body,
        )

    def results(self, status: BatchStatus, custom_ids: Sequence[str] = ()) -> Iterator[BatchResult]:
        if not status.output_ref:
            return
        for line in _jsonl(self._call("GET", status.output_ref).text):
            custom_id = str(line.get("custom_id", ""))
            result = line.get("result") or {}
            kind = result.get("type")
            if kind == "succeeded":
                yield self._answered(custom_id, result.get("message") or {})
                continue
            if kind == "errored":
                error = (result.get("error") or {}).get("error") or result.get("error") or {}
                error_type = str(error.get("type", "error"))
                yield BatchResult(
                    custom_id,
                    error=f"{error_type}: {error.get('message', '')}"[:2000],
                    # Anthropic's own trouble (overloaded, api_error) is worth another try;
                    # an invalid request is not.
                    retryable=error_type in ("api_error", "overloaded_error", "rate_limit_error"),
                )
                continue
            yield BatchResult(custom_id, error=f"{kind}: not answered in the batch", retryable=True)

    def cancel(self, batch_id: str) -> None:
        self._json("POST", f"{self.base_url}/messages/batches/{batch_id}/cancel")


class GeminiBatchAPI(BatchAPI):
    provider = "gemini"
    client_class = GeminiClient
    STATES = {
        "BATCH_STATE_PENDING": IN_PROGRESS, "BATCH_STATE_RUNNING": IN_PROGRESS,
        "BATCH_STATE_SUCCEEDED": ENDED, "BATCH_STATE_FAILED": FAILED,
        "BATCH_STATE_CANCELLED": CANCELLED, "BATCH_STATE_EXPIRED": EXPIRED,
    }  # fmt: skip

    def _headers(self) -> dict:
        key = api_key_from_env(self.client.api_key_env)
        return {"x-goog-api-key": key} if key else {}

    def request_line(self, custom_id: str, request: GenerationRequest) -> dict:
        _url, _headers, body = self.client.build(request, api_key="")
        return {"request": body, "metadata": {"key": custom_id}}

    def submit(self, lines: list[dict], *, name: str, key: str = "") -> Submitted:
        # The key ends the display name (at most 128 characters), where find looks for it.
        name = f"{name[: 127 - len(key)]}-{key}" if key else name
        body = self._json(
            "POST", f"{self.base_url}/models/{self.client.model_id}:batchGenerateContent",
            json={"batch": {"displayName": name[:128],
                            "inputConfig": {"requests": {"requests": lines}}}},
        )  # fmt: skip
        state = str((body.get("metadata") or {}).get("state", ""))
        return Submitted(body["name"], "", state)

    def status(self, batch_id: str) -> BatchStatus:
        body = self._json("GET", f"{self.base_url}/{batch_id}")
        metadata = body.get("metadata") or {}
        state = str(metadata.get("state", ""))
        error = body.get("error") or {}
        return BatchStatus(
            state=self.STATES.get(state, IN_PROGRESS),
            provider_state=state,
            counts=dict(metadata.get("batchStats") or {}),
            error=str(error.get("message", ""))[:2000] if error else "",
            raw=body,
        )

    def results(self, status: BatchStatus, custom_ids: Sequence[str] = ()) -> Iterator[BatchResult]:
        """The inlined responses; one without its metadata key is matched by position
        (Gemini answers inlined requests in their order, and has been seen to drop the
        metadata)."""
        output = (status.raw.get("response") or {}).get("inlinedResponses") or {}
        for position, entry in enumerate(output.get("inlinedResponses") or []):
            key = str((entry.get("metadata") or {}).get("key", ""))
            if not key and position < len(custom_ids):
                key = custom_ids[position]
            if "response" in entry:
                yield self._answered(key, entry["response"] or {})
                continue
            error = entry.get("error") or {}
            code = int(error.get("code") or 0)
            yield BatchResult(
                key,
                error=f"error {code}: {error.get('message', '')}"[:2000],
                # google.rpc codes: 4 deadline, 8 exhausted, 13 internal, 14 unavailable.
                retryable=code in (4, 8, 13, 14) or code in (429, 500, 503, 504),
            )

    def cancel(self, batch_id: str) -> None:
        self._call("POST", f"{self.base_url}/{batch_id}:cancel")

    def find(self, *, key, since, until, request_count, taken=frozenset()):
        # The list's order is not documented: read up to LIST_PAGES pages, match the name.
        params: dict = {"pageSize": LIST_PAGE_SIZE}
        for _page in range(LIST_PAGES):
            page = self._json("GET", f"{self.base_url}/batches", params=params)
            for operation in page.get("operations") or []:
                metadata = operation.get("metadata") or {}
                if str(metadata.get("displayName", "")).endswith(f"-{key}"):
                    return Submitted(operation["name"], "", str(metadata.get("state", "")))
            if not page.get("nextPageToken"):
                return None
            params["pageToken"] = page["nextPageToken"]
        return None


BATCH_APIS: dict[str, type[BatchAPI]] = {
    "openai": OpenAIBatchAPI,
    "anthropic": AnthropicBatchAPI,
    "gemini": GeminiBatchAPI,
}


def make_batch_api(*, provider: str, model_id: str, base_url: str = "", api_key_env: str = "",
                   timeout: float = 120.0) -> BatchAPI:  # fmt: skip
    """The batch API of ``provider``; :class:`PermanentProviderError` when it has none."""
    try:
        cls = BATCH_APIS[provider]
    except KeyError:
        raise PermanentProviderError(f"provider {provider!r} has no batch API") from None
    return cls(model_id=model_id, base_url=base_url, api_key_env=api_key_env, timeout=timeout)
