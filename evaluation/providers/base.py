"""What every provider client shares: request/answer types, errors, retries (no Django).

A client turns a :class:`GenerationRequest` into one HTTP call in its provider's wire format
and the reply into a :class:`ProviderAnswer`. Errors are split in two: temporary ones
(:class:`TransientProviderError`: timeouts, connection errors, 429, 5xx, a malformed or
truncated body) are retried with exponential backoff and jitter, honouring ``Retry-After``;
everything else (:class:`PermanentProviderError`: other 4xx) fails at once with the
provider's own message. API keys are read from the environment at call time and never put
into errors, answers or logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

MAX_RETRY_AFTER_SECONDS = 300.0


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    temperature: float | None = None
    max_tokens: int = 64
    seed: int | None = None
    reasoning_effort: str | None = None
    top_logprobs: int | None = None
    # OpenAI-compatible endpoints: "max_tokens" or "max_completion_tokens" (None: by model id).
    length_parameter: str | None = None
    # Earlier turns after the prompt, for a re-ask: ({"role": "assistant"|"user",
    # "content": ...}, ...), ending with the user's follow-up.
    history: tuple[dict, ...] = ()

    def messages(self) -> list[dict]:
        """The conversation: the prompt, then the re-ask's turns."""
        return [{"role": "user", "content": self.prompt}, *self.history]


@dataclass
class ProviderAnswer:
    text: str
    reasoning: str = ""
    # (token, logprob) alternatives for the first answer token, when the endpoint gives them.
    first_token_logprobs: list[tuple[str, float]] | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str = ""
    # The parameters that went into the request body (never headers, never the key).
    sent_params: dict = field(default_factory=dict)
    # The model snapshot the provider says answered ("model" of OpenAI and Anthropic,
    # "modelVersion" of Gemini; the loaded directory for a local model).
    model: str = ""

    def to_json(self) -> dict:
        data = asdict(self)
        if self.first_token_logprobs is not None:
            data["first_token_logprobs"] = [list(pair) for pair in self.first_token_logprobs]
        return data

    @classmethod
    def from_json(cls, data: dict) -> ProviderAnswer:
        pairs = data.get("first_token_logprobs")
        return cls(
            text=data.get("text", ""),
            reasoning=data.get("reasoning", ""),
            first_token_logprobs=None if pairs is None else [(t, lp) for t, lp in pairs],
            input_tokens=data.get("input_tokens", 0),
            output_tokens=data.get("output_tokens", 0),
            finish_reason=data.get("finish_reason", ""),
            sent_params=data.get("sent_params", {}),
            model=data.get("model", ""),
        )


class ProviderError(Exception):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class TransientProviderError(ProviderError):
    """Worth retrying; ``retry_after`` (seconds) when the provider said how long to wait."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """Not worth retrying (bad request, auth, unknown model ...)."""


class ConfigurationError(PermanentProviderError):
    pass


def api_key_from_env(env_name: str) -> str:
    """The key named by ``env_name`` ("" when no name is configured)."""
    if not env_name:
        return ""
    key = os.environ.get(env_name, "")
    if not key:
        raise ConfigurationError(f"environment variable {env_name} is not set in the worker")
    return key


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _provider_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error)[:500]
    return str(error)[:500]


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = f"HTTP {status}: {_provider_message(response)}"
    if status in (408, 409, 425, 429) or status >= 500:
        raise TransientProviderError(
            message,
            status=status,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    raise PermanentProviderError(message, status=status)


def json_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        raise TransientProviderError(
            f"malformed JSON from provider (HTTP {response.status_code}): {response.text[:200]!r}"
        ) from None
    if not isinstance(body, dict):
        raise TransientProviderError("provider answered with JSON that is not an object")
    return body


class HttpClient:
    """Base of the HTTP clients: one ``httpx.Client`` (thread-safe, pooled) per instance, and
    for :meth:`agenerate` a thread per pooled connection that makes the calls."""

    provider = ""
    default_base_url = ""

    def __init__(
        self,
        *,
        model_id: str,
        base_url: str = "",
        api_key_env: str = "",
        timeout: float = 60.0,
        max_connections: int = 64,
    ):
        self.model_id = model_id
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        self.max_connections = max_connections
        self._callers: tuple[int, ThreadPoolExecutor] | None = None
        self._callers_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def callers(self) -> ThreadPoolExecutor:
        """The threads that make :meth:`agenerate`'s calls, one per pooled connection (made
        again in a forked child: threads do not survive ``fork``)."""
        with self._callers_lock:
            if self._callers is None or self._callers[0] != os.getpid():
                pool = ThreadPoolExecutor(self.max_connections, thread_name_prefix="vp-http")
                self._callers = (os.getpid(), pool)
            return self._callers[1]

    # Subclasses implement these two.
    def build(self, request: GenerationRequest, api_key: str) -> tuple[str, dict, dict]:
        raise NotImplementedError

    def parse(self, body: dict, sent: dict) -> ProviderAnswer:
        raise NotImplementedError

    def sent_params(self, request: GenerationRequest) -> dict:
        """The generation parameters this client puts in the body for ``request``."""
        url, headers, payload = self.build(request, api_key="")
        return self.params_of(payload)

    def params_of(self, payload: dict) -> dict:
        raise NotImplementedError

    def generate(self, request: GenerationRequest) -> ProviderAnswer:
        """One HTTP call (no retry here: see :func:`call_with_retries`)."""
        api_key = api_key_from_env(self.api_key_env)
        url, headers, payload = self.build(request, api_key)
        try:
            try:
                response = self.http.post(url, headers=headers, json=payload)
            except httpx.TransportError as exc:
                raise self._transport_error(exc) from None
            return self._answer(response, payload)
        except ProviderError as exc:
            _redact(exc, api_key)
            raise

    async def agenerate(self, request: GenerationRequest) -> ProviderAnswer:
        """:meth:`generate` awaited: the blocking call runs on one of :meth:`callers`, so an
        event loop drives many calls without blocking. (httpx's ``AsyncClient`` cost twice
        the CPU per call — anyio's locks and cancel scopes in its pool — 2.1 against 1.1 ms
        at 32 in flight.) A call cannot be interrupted: when the awaiting coroutine is
        cancelled, it still waits for the call to end, so a rate-limit slot it holds is
        never free while its request is in flight."""
        call = asyncio.get_running_loop().run_in_executor(self.callers(), self.generate, request)
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            await asyncio.wait([call])
            raise

    def _transport_error(self, exc: httpx.TransportError) -> TransientProviderError:
        if isinstance(exc, httpx.TimeoutException):
            return TransientProviderError(f"timeout after {self.timeout:g}s ({type(exc).__name__})")
        return TransientProviderError(f"connection error: {type(exc).__name__}: {exc}")

    def _answer(self, response: httpx.Response, payload: dict) -> ProviderAnswer:
        raise_for_status(response)
        body = json_body(response)
        try:
            return self.parse(body, self.params_of(payload))
        except (KeyError, IndexError, TypeError) as exc:
            raise TransientProviderError(
                f"unexpected response shape ({type(exc).__name__}: {exc})"
            ) from None


def _redact(exc: ProviderError, api_key: str) -> None:
    """Some servers quote the key they were sent in their error message; the message is
    stored and shown, so the key is masked out of it."""
    if api_key and api_key in str(exc):
        exc.args = (str(exc).replace(api_key, "[redacted key]"),)


def backoff_delay(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rng=random.random
) -> float:
    """Exponential backoff with full jitter for retry ``attempt`` (1, 2, ...)."""
    return rng() * min(cap, base * 2 ** (attempt - 1))


def retry_delay(exc: BaseException, attempt: int, *, backoff_base: float = 0.5) -> float:
    """Seconds to wait before retrying after ``exc`` ended ``attempt`` (1, 2, ...): the
    backoff, or the provider's ``Retry-After`` when that is longer."""
    delay = backoff_delay(attempt, base=backoff_base)
    if isinstance(exc, TransientProviderError) and exc.retry_after is not None:
        delay = max(delay, exc.retry_after)
    return delay


def call_with_retries(
    call: Callable[[], ProviderAnswer],
    *,
    max_retries: int,
    sleep: Callable[[float], None] = time.sleep,
    backoff_base: float = 0.5,
    on_retry: Callable[[TransientProviderError, float], None] | None = None,
) -> tuple[ProviderAnswer, int]:
    """Run ``call``; retry :class:`TransientProviderError` up to ``max_retries`` times.

    Waits ``Retry-After`` when the provider gave it (at least the backoff otherwise).
    Returns ``(answer, attempts)``; re-raises the last error when retries run out.
    """

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception()
        delay = retry_delay(exc, state.attempt_number, backoff_base=backoff_base)
        if on_retry is not None:
            on_retry(exc, delay)
        return delay

    retrying = Retrying(
        retry=retry_if_exception_type(TransientProviderError),
        stop=stop_after_attempt(max_retries + 1),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )
    answer = retrying(call)
    return answer, retrying.statistics.get("attempt_number", 1)


async def acall_with_retries(
    call: Callable[[], Awaitable[ProviderAnswer]],
    *,
    max_retries: int,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    backoff_base: float = 0.5,
) -> tuple[ProviderAnswer, int]:
    """:func:`call_with_retries` for a coroutine function ``call`` (same waits, same
    ``(answer, attempts)``, the last error re-raised when the retries run out)."""
    attempt = 1
    while True:
        try:
            return await call(), attempt
        except TransientProviderError as exc:
            if attempt > max_retries:
                raise
            await sleep(retry_delay(exc, attempt, backoff_base=backoff_base))
            attempt += 1
