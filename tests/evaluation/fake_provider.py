"""A scripted test server speaking the OpenAI-compatible, Anthropic and Gemini wire formats.

Reusable by tests and the benchmark::

    with FakeProvider(latency=0.2) as server:
        server.script("429", "500", "hang", ...)   # faults for the next requests, in order
        client = OpenAICompatibleClient(model_id="m", base_url=server.url("openai"))

Routes: ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic),
``POST /v1beta/models/<model>:generateContent`` (Gemini).

Batch APIs, answering each request as the live route would: OpenAI ``POST /v1/files``
(multipart, purpose ``batch``), ``POST /v1/batches``, ``GET /v1/batches/<id>``, ``POST
/v1/batches/<id>/cancel``, ``GET /v1/files/<id>/content``; Anthropic ``POST
/v1/messages/batches``, ``GET …/<id>``, ``GET …/<id>/results``, ``POST …/<id>/cancel``; Gemini
``POST /v1beta/models/<model>:batchGenerateContent``, ``GET /v1beta/batches/<id>``, ``POST
/v1beta/batches/<id>:cancel``; and the list endpoints, newest first: OpenAI ``GET /v1/batches``
(``limit``, ``after``; each batch with its ``metadata`` and ``created_at``), Anthropic ``GET
/v1/messages/batches`` (``limit``, ``after_id``; ``created_at`` in RFC 3339), Gemini ``GET
/v1beta/batches`` (``pageSize``, ``pageToken``; operations whose metadata holds the
``displayName`` and ``createTime``). ``on_batch_created`` is called with each new batch before
the create call is answered (a test kills the submitting worker there);
``drop_batch_replies = n`` accepts the next n batches and closes the connection without
answering (a lost reply). Like the providers, it refuses Anthropic custom ids outside
``^[a-zA-Z0-9_-]{1,64}$`` (or repeated) and OpenAI metadata beyond 16 pairs / 64-character
keys / 512-character values. A batch ends after ``batch_polls_before_done`` status requests
(0: the first), never while ``hold_batches`` is set; :meth:`FakeProvider.batch_script` makes
the next batches expire, fail partly or wholly, or refuse some requests.

Answers are deterministic: the rated response text (after "Reply:" / "Response:") is hashed
to a rating 1-6 (:func:`rating_for`), answered as the phrase, or as the digit of the listed
option when the prompt lists ``k = phrase`` lines; log probabilities put 0.7 on that digit.

Faults (:meth:`FakeProvider.script`, consumed one per request, any route): ``"429"``
(with ``Retry-After: <retry_after>``), ``"500"``, ``"400"`` (bad request with a message),
``"hang"`` (sleeps ``hang_seconds`` before answering), ``"malformed"`` (truncated JSON),
``"empty"`` (empty content), ``"invalid"`` (an answer no parser accepts), ``"think"``
(the answer wrapped after a ``<think>`` block), ``"sliver"`` (a digit answer "The answer is
<digit>" whose first token puts 0.999 on "The" and 0.001 on the digit). ``invalid_for``
makes every answer whose prompt contains one of the given strings invalid;
``fixed_answer={"some prompt text": 6}`` gives that rating to every item whose prompt contains
the string (a model answering one template with one rating whatever the item).

Every answer reports the model snapshot that gave it (``model``, Gemini's ``modelVersion``):
the requested id, or ``snapshots`` in turn. Like OpenAI, the OpenAI route refuses ``max_tokens`` for its reasoning models (model ids of
the o1/o3/o4/gpt-5 families) with OpenAI's own 400 body; ``legacy_length_parameter=True``
makes it refuse ``max_completion_tokens`` instead, as servers that only know ``max_tokens``
(older vLLM, Azure's older API versions) do.
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The fake model's answers are the demo model's (one rule for both).
from evaluation.demo_model import answer_for, rated_text, rating_for  # noqa: F401

# Where each wire format reports the model snapshot that answered.
SNAPSHOT_FIELD = {"openai": "model", "anthropic": "model", "gemini": "modelVersion"}
GEMINI_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")
# OpenAI's reasoning models, which refuse max_tokens (the server's behaviour, emulated here).
OPENAI_REASONING_MODEL = re.compile(r"^(o1|o3|o4|gpt-5)(\b|-|$)")
MAX_TOKENS_REFUSED = {
    "error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
}
MAX_COMPLETION_TOKENS_REFUSED = {
    "error": {
        "message": "Unrecognized request argument supplied: max_completion_tokens",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


SLIVER_ANSWER = "The answer is "


def _logprobs_for(answer: str, digit: str | None) -> list[dict]:
    if digit is not None and answer.startswith(SLIVER_ANSWER):
        # The model was about to say something else: 0.1 % on the digit.
        return [
            {"token": "The", "logprob": math.log(0.999)},
            {"token": digit, "logprob": math.log(0.001)},
        ]
    if digit is None:
        first = answer.split()[0]
        return [{"token": first, "logprob": 0.0}]
    others = [d for d in "123456" if d != digit]
    alternatives = [{"token": digit, "logprob": math.log(0.7)}]
    alternatives += [{"token": " " + others[0], "logprob": math.log(0.1)}]
    alternatives += [{"token": d, "logprob": math.log(0.04)} for d in others[1:]]
    alternatives += [{"token": "The", "logprob": math.log(0.04)}]
    return alternatives  # 0.7 + 0.1 + 4 * 0.04 = 0.96 on digits


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a worker opens its pool's
    # dozens at once (a real provider's front end accepts them).
    request_queue_size = 256
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (a test's timeout) before the buffered answer was flushed.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeProvider:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        retry_after: float = 0.2,
        hang_seconds: float = 5.0,
        port: int = 0,
        legacy_length_parameter: bool = False,
        snapshots: tuple[str, ...] = (),
        fixed_answer: dict[str, int] | None = None,
    ):
        self.latency = latency
        self.retry_after = retry_after
        self.hang_seconds = hang_seconds
        self.legacy_length_parameter = legacy_length_parameter
        self.snapshots = snapshots
        self.faults: deque[str] = deque()
        self.invalid_for: tuple[str, ...] = ()
        self.fixed_answer: dict[str, int] = dict(fixed_answer or {})
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        # Batch APIs: uploaded files, batches by number, scripted outcomes, and whether (or
        # after how many status requests) batches end.
        self.files: dict[str, bytes] = {}
        self.file_counter = 0
        self.batches: dict[int, dict] = {}
        self.batch_counter = 0
        self.batch_lines = 0
        self.batch_outcomes: deque[str] = deque()
        self.batch_polls_before_done = 0
        self.hold_batches = False
        self.on_batch_created: Callable[[dict], None] | None = None
        self.drop_batch_replies = 0
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- control ---------------------------------------------------------------------------
    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, provider: str = "openai") -> str:
        root = f"http://127.0.0.1:{self.port}"
        return root + ("/v1beta" if provider == "gemini" else "/v1")

    def script(self, *faults: str) -> None:
        with self.lock:
            self.faults.extend(faults)

    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def _next_fault(self) -> str | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def _snapshot(self, route: str, payload: dict, path: str) -> str:
        """The requested model id, or the scripted snapshots in turn (a provider rolling a
        new version out while a run is going)."""
        if self.snapshots:
            with self.lock:
                return self.snapshots[(len(self.requests) - 1) % len(self.snapshots)]
        if route == "gemini":
            return GEMINI_PATH.match(path)["model"] + "-001"
        return str(payload.get("model"))

    def _refused_length_parameter(self, payload: dict) -> dict | None:
        if self.legacy_length_parameter:
            return MAX_COMPLETION_TOKENS_REFUSED if "max_completion_tokens" in payload else None
        reasoning = OPENAI_REASONING_MODEL.match(str(payload.get("model", "")))
        return MAX_TOKENS_REFUSED if reasoning and "max_tokens" in payload else None

    # --- answering (live calls and batch lines alike) --------------------------------------
    def reply(self, route: str, payload: dict, path: str, fault: str | None) -> tuple:
        """``(status, body dict, headers)`` of one request on ``route`` with ``fault``."""
        refused = route == "openai" and self._refused_length_parameter(payload)
        if refused:
            return 400, refused, {}
        if fault == "429":
            error = {"error": {"message": "rate limited, slow down"}}
            return 429, error, {"Retry-After": f"{self.retry_after:g}"}
        if fault == "500":
            return 500, {"error": {"message": "internal error"}}, {}
        if fault == "400":
            return 400, {"error": {"message": "model does not exist: scripted"}}, {}
        if fault == "malformed":
            return 200, None, {}
        if fault == "hang":
            time.sleep(self.hang_seconds)
        # The rating comes from the item (the first turn); a re-ask's follow-up turn is
        # the last one, so invalid_for strings in the item's text are invalid only when
        # the identical prompt is asked again.
        first, prompt = _turns(route, payload)
        fixed = [r for text, r in self.fixed_answer.items() if text in first]
        answer, digit = answer_for(first, fixed[0] if fixed else None)
        if fault == "invalid" or any(s in prompt for s in self.invalid_for):
            answer, digit = "I would rather not say.", None
        elif fault == "empty":
            answer, digit = "", None
        elif fault == "sliver" and digit is not None:
            answer = SLIVER_ANSWER + digit
        if fault == "think":
            reasoning = "Let me weigh this. Very much like me? Perhaps not."
            answer = f"<think>{reasoning}</think>\n{answer}"
        body = _BODIES[route](payload, answer, digit)
        body[SNAPSHOT_FIELD[route]] = self._snapshot(route, payload, path)
        return 200, body, {}

    # --- batch APIs -------------------------------------------------------------------------
    def batch_script(self, *outcomes: str) -> None:
        """Outcomes of the next batches created, in order (default ``"ok"``): ``"expire"``
        (the second half of its requests is not answered: OpenAI reports the batch
        ``expired`` with them in the error file, Anthropic ends it with ``expired`` results,
        Gemini's whole batch ends ``BATCH_STATE_EXPIRED``), ``"partial"`` (every third
        request fails with a server error), ``"refuse"`` (every third request is refused with
        a 400), ``"fail"`` (the whole batch fails: OpenAI ``failed``, Gemini
        ``BATCH_STATE_FAILED``; Anthropic refuses the create call with a 400)."""
        with self.lock:
            self.batch_outcomes.extend(outcomes)

    def _new_batch(self, route: str, requests: list[tuple[str, dict]], path: str,
                   **extra) -> dict:  # fmt: skip
        """A new batch (``extra``: OpenAI's ``metadata``, Gemini's ``display_name``)."""
        with self.lock:
            outcome = self.batch_outcomes.popleft() if self.batch_outcomes else "ok"
            self.batch_counter += 1
            batch = {
                "id": self.batch_counter, "route": route, "requests": requests, "path": path,
                "outcome": outcome, "polls": 0, "results": None, "cancelled": False,
                "created_at": time.time(), **extra,
            }  # fmt: skip
            self.batches[self.batch_counter] = batch
            self.batch_lines += len(requests)
        return batch

    def _accepted(self, batch: dict, handler) -> bool:
        """After a batch was created: the hook, then whether to answer (False: the
        connection is closed without a reply, as when it is lost)."""
        if self.on_batch_created is not None:
            self.on_batch_created(batch)
        with self.lock:
            drop = self.drop_batch_replies > 0
            self.drop_batch_replies -= drop
        if drop:
            handler.close_connection = True
        return not drop

    def batches_of(self, route: str) -> list[dict]:
        """The batches created on ``route``, newest first (as the list endpoints give them)."""
        with self.lock:
            return [b for b in reversed(self.batches.values()) if b["route"] == route]

    def _batch_done(self, batch: dict) -> bool:
        """Counts this status request; the batch ends after ``batch_polls_before_done`` of
        them unless ``hold_batches`` is set."""
        with self.lock:
            batch["polls"] += 1
            done = batch["cancelled"] or (
                not self.hold_batches and batch["polls"] > self.batch_polls_before_done
            )
        if done and batch["results"] is None:
            batch["results"] = self._batch_results(batch)
        return done

    def _batch_results(self, batch: dict) -> list[tuple[str, str, int, dict | None]]:
        """Per request: ``(custom id, kind, status, body)``, kind ok/error/expired/cancelled."""
        outcome, requests = batch["outcome"], batch["requests"]
        results = []
        for index, (custom_id, payload) in enumerate(requests):
            if batch["cancelled"]:
                results.append((custom_id, "cancelled", 0, None))
                continue
            if outcome == "expire" and index >= len(requests) // 2:
                results.append((custom_id, "expired", 0, None))
                continue
            fault = None
            if outcome in ("partial", "refuse") and index % 3 == 2:
                fault = "500" if outcome == "partial" else "400"
            route = batch["route"]
            status, body, _headers = self.reply(route, payload, batch["path"], fault)
            results.append((custom_id, "ok" if status == 200 else "error", status, body))
        return results

    # --- HTTP ------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Status line, headers and body leave in one segment (the handler flushes after
            # each request), without Nagle's algorithm: written unbuffered, the body waited
            # for the client's delayed ACK of the headers, 40 ms a request on loopback, which
            # no real provider adds.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None,
                      content_type: str = "application/json") -> None:  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _json(self, status: int, body: dict) -> None:
                self._send(status, json.dumps(body).encode())

            def _record(self, route: str, payload) -> dict:
                entry = {"route": route, "path": self.path, "headers": dict(self.headers),
                         "payload": payload, "at": time.monotonic()}  # fmt: skip
                with fake.lock:
                    fake.requests.append(entry)
                return entry

            def query(self) -> dict[str, str]:
                return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

            def do_GET(self) -> None:  # noqa: N802
                self._record("get", None)
                path = urlsplit(self.path).path
                for pattern, method in _GET_ROUTES:
                    match = pattern.match(path)
                    if match:
                        return method(fake, self, **match.groupdict())
                self._json(404, {"error": {"message": "no such route"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path == "/v1/files":
                    return _openai_upload(fake, self, raw)
                try:
                    payload = json.loads(raw) if raw else {}
                except ValueError:
                    self._send(400, b'{"error": {"message": "request body is not JSON"}}')
                    return
                for pattern, method in _POST_BATCH_ROUTES:
                    match = pattern.match(self.path)
                    if match:
                        self._record("batch", payload)
                        return method(fake, self, payload, **match.groupdict())
                route = self._route()
                if route is None:
                    self._send(404, b'{"error": {"message": "no such route"}}')
                    return
                entry = self._record(route, payload)
                refused = route == "openai" and fake._refused_length_parameter(payload)
                fault = None if refused else fake._next_fault()
                if fake.latency and not refused:
                    time.sleep(fake.latency)
                status, body, headers = fake.reply(route, payload, self.path, fault)
                if body is None:  # malformed
                    self._send(200, b'{"choices": [{"message": {"content": "like m')
                else:
                    self._send(status, json.dumps(body).encode(), headers)
                entry["answered"] = time.monotonic()

            def _route(self) -> str | None:
                if self.path == "/v1/chat/completions":
                    return "openai"
                if self.path == "/v1/messages":
                    return "anthropic"
                if GEMINI_PATH.match(self.path):
                    return "gemini"
                return None

        return Handler


def _turns(route: str, payload: dict) -> tuple[str, str]:
    """The first and the last user turn."""
    if route == "gemini":
        texts = [c["parts"][0]["text"] for c in payload["contents"] if c["role"] == "user"]
    else:
        texts = [m["content"] for m in payload["messages"] if m["role"] == "user"]
    return texts[0], texts[-1]


def _openai_body(payload: dict, answer: str, digit: str | None) -> dict:
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": answer},
        "finish_reason": "stop",
    }
    if payload.get("logprobs") and answer:
        top = _logprobs_for(answer.split("</think>")[-1].strip(), digit)
        choice["logprobs"] = {
            "content": [
                {
                    "token": top[0]["token"],
                    "logprob": top[0]["logprob"],
                    "top_logprobs": top[: payload.get("top_logprobs") or 1],
                }
            ]
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": payload.get("model"),
        "choices": [choice],
        "usage": {"prompt_tokens": 100, "completion_tokens": 3, "total_tokens": 103},
    }


def _anthropic_body(payload: dict, answer: str, digit: str | None) -> dict:
    content = []
    if "<think>" in answer:
        thinking, answer = answer.split("</think>")
        content.append({"type": "thinking", "thinking": thinking[7:]})
    content.append({"type": "text", "text": answer.strip()})
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "output_tokens": 3},
    }


def _gemini_body(payload: dict, answer: str, digit: str | None) -> dict:
    parts = []
    if "<think>" in answer:
        thinking, answer = answer.split("</think>")
        parts.append({"text": thinking[7:], "thought": True})
    parts.append({"text": answer.strip()})
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
    config = payload.get("generationConfig") or {}
    if config.get("responseLogprobs") and answer.strip():
        top = _logprobs_for(answer.strip(), digit)[: config.get("logprobs") or 1]
        candidate["logprobsResult"] = {
            "topCandidates": [
                {"candidates": [{"token": t["token"], "logProbability": t["logprob"]} for t in top]}
            ]
        }
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 3},
    }


_BODIES = {"openai": _openai_body, "anthropic": _anthropic_body, "gemini": _gemini_body}


# --- OpenAI: /v1/files + /v1/batches ---------------------------------------------------------
def _openai_upload(fake: FakeProvider, handler, raw: bytes) -> None:
    """``POST /v1/files`` (multipart/form-data: ``purpose`` and ``file``)."""
    header = f"Content-Type: {handler.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = BytesParser().parsebytes(header + raw)
    fields = {
        part.get_param("name", header="content-disposition"): part
        for part in (message.get_payload() if message.is_multipart() else [])
    }
    if "file" not in fields or fields.get("purpose") is None:
        handler._json(400, {"error": {"message": "'file' and 'purpose' are required"}})
        return
    content = fields["file"].get_payload(decode=True)
    with fake.lock:
        fake.file_counter += 1
        file_id = f"file-{fake.file_counter}"
        fake.files[file_id] = content
    handler._record("upload", {"file_id": file_id, "bytes": len(content)})
    handler._json(200, {"id": file_id, "object": "file", "bytes": len(content),
                        "purpose": fields["purpose"].get_payload(), "filename": "batch.jsonl"})  # fmt: skip


# OpenAI's limits on a batch's metadata: 16 pairs, keys up to 64 and values up to 512 characters.
def _metadata_refused(metadata) -> str | None:
    if not isinstance(metadata, dict) or len(metadata) > 16:
        return "metadata: at most 16 key-value pairs"
    for key, value in metadata.items():
        if len(str(key)) > 64 or not isinstance(value, str) or len(value) > 512:
            return f"metadata.{key}: keys up to 64 and string values up to 512 characters"
    return None


def _openai_create(fake: FakeProvider, handler, payload: dict) -> None:
    content = fake.files.get(payload.get("input_file_id", ""))
    if content is None:
        handler._json(404, {"error": {"message": "No such File object"}})
        return
    refused = _metadata_refused(payload.get("metadata") or {})
    if refused:
        handler._json(400, {"error": {"message": refused, "type": "invalid_request_error"}})
        return
    lines = [json.loads(line) for line in content.decode().splitlines() if line.strip()]
    requests = [(line["custom_id"], line["body"]) for line in lines]
    batch = fake._new_batch("openai", requests, "/v1/chat/completions",
                            metadata=dict(payload.get("metadata") or {}),
                            input_file_id=payload["input_file_id"])  # fmt: skip
    if fake._accepted(batch, handler):
        handler._json(200, _openai_batch(fake, batch, status="validating"))


def _openai_batch(fake: FakeProvider, batch: dict, status: str | None = None) -> dict:
    body = {"id": f"batch_{batch['id']}", "object": "batch", "endpoint": "/v1/chat/completions",
            "input_file_id": batch.get("input_file_id", ""), "completion_window": "24h",
            "status": status or "in_progress", "created_at": int(batch["created_at"]),
            "metadata": batch.get("metadata") or None,
            "output_file_id": None, "error_file_id": None, "errors": None,
            "request_counts": {"total": len(batch["requests"]), "completed": 0, "failed": 0}}  # fmt: skip
    if status is not None or batch["results"] is None:
        return body
    if batch["outcome"] == "fail":
        body["status"] = "failed"
        body["errors"] = {"object": "list", "data": [
            {"code": "invalid_request", "message": "scripted: the batch failed validation"}]}  # fmt: skip
        return body
    ok, errors = [], []
    for custom_id, kind, status_code, answer in batch["results"]:
        line = {"id": f"batch_req_{custom_id}", "custom_id": custom_id}
        if kind in ("expired", "cancelled"):
            code = "batch_expired" if kind == "expired" else "batch_cancelled"
            errors.append({**line, "response": None, "error": {
                "code": code, "message": f"This request was not executed: batch {kind}."}})  # fmt: skip
            continue
        line["response"] = {"status_code": status_code, "request_id": "req", "body": answer}
        line["error"] = None
        (ok if kind == "ok" else errors).append(line)
    with fake.lock:
        for name, lines in (("output", ok), ("error", errors)):
            if lines:
                file_id = f"file-{name}-{batch['id']}"
                fake.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                body[f"{name}_file_id"] = file_id
    expired = any(kind == "expired" for _, kind, _, _ in batch["results"])
    body["status"] = "cancelled" if batch["cancelled"] else "expired" if expired else "completed"
    body["request_counts"].update(completed=len(ok), failed=len(errors))
    return body


def _openai_get(fake: FakeProvider, handler, batch_id: str) -> None:
    batch = fake.batches.get(int(batch_id))
    if batch is None:
        handler._json(404, {"error": {"message": "No such Batch object"}})
        return
    fake._batch_done(batch)
    handler._json(200, _openai_batch(fake, batch))


def _openai_list(fake: FakeProvider, handler) -> None:
    """``GET /v1/batches?limit=&after=``: newest first; a listed batch is shown as it stands
    (listing does not count as a status request)."""
    query = handler.query()
    batches = fake.batches_of("openai")
    after = query.get("after")
    if after:
        ids = [f"batch_{b['id']}" for b in batches]
        batches = batches[ids.index(after) + 1 :] if after in ids else []
    limit = int(query.get("limit") or 20)
    page = [_openai_batch(fake, b, status=None if b["results"] else "in_progress")
            for b in batches[:limit]]  # fmt: skip
    handler._json(200, {
        "object": "list", "data": page, "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None, "has_more": len(batches) > limit,
    })  # fmt: skip


def _openai_cancel(fake: FakeProvider, handler, payload: dict, batch_id: str) -> None:
    batch = fake.batches[int(batch_id)]
    batch["cancelled"] = True
    handler._json(200, _openai_batch(fake, batch, status="cancelling"))


def _openai_file(fake: FakeProvider, handler, file_id: str) -> None:
    content = fake.files.get(file_id)
    if content is None:
        handler._json(404, {"error": {"message": "No such File object"}})
        return
    handler._send(200, content, content_type="application/octet-stream")


# --- Anthropic: /v1/messages/batches ---------------------------------------------------------
ANTHROPIC_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # as Anthropic documents it


def _anthropic_create(fake: FakeProvider, handler, payload: dict) -> None:
    requests = [(r["custom_id"], r["params"]) for r in payload.get("requests") or []]
    ids = [custom_id for custom_id, _ in requests]
    bad = [i for i in ids if not ANTHROPIC_CUSTOM_ID.match(str(i))]
    if bad or len(set(ids)) != len(ids):
        handler._json(400, {"type": "error", "error": {
            "type": "invalid_request_error",
            "message": f"custom_id must match ^[a-zA-Z0-9_-]{{1,64}}$ and be unique: {bad[:3]}"}})  # fmt: skip
        return
    if fake.batch_outcomes and fake.batch_outcomes[0] == "fail":
        fake.batch_outcomes.popleft()
        handler._json(400, {"type": "error", "error": {
            "type": "invalid_request_error", "message": "scripted: batch refused"}})  # fmt: skip
        return
    batch = fake._new_batch("anthropic", requests, "/v1/messages")
    if fake._accepted(batch, handler):
        handler._json(200, _anthropic_batch(handler, batch, ended=False))


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _anthropic_batch(handler, batch: dict, *, ended: bool) -> dict:
    counts = {"processing": 0 if ended else len(batch["requests"]), "succeeded": 0,
              "errored": 0, "canceled": 0, "expired": 0}  # fmt: skip
    if ended:
        for _id, kind, _status, _body in batch["results"]:
            name = {"ok": "succeeded", "error": "errored", "cancelled": "canceled"}.get(kind, kind)
            counts[name] += 1
    host = f"http://127.0.0.1:{handler.server.server_address[1]}"
    return {
        "id": f"msgbatch_{batch['id']}", "type": "message_batch",
        "created_at": _rfc3339(batch["created_at"]),
        "processing_status": "ended" if ended else "in_progress", "request_counts": counts,
        "results_url": f"{host}/v1/messages/batches/msgbatch_{batch['id']}/results"
        if ended else None,
    }  # fmt: skip


def _anthropic_get(fake: FakeProvider, handler, batch_id: str) -> None:
    batch = fake.batches.get(int(batch_id))
    if batch is None:
        handler._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                      "message": "batch not found"}})  # fmt: skip
        return
    handler._json(200, _anthropic_batch(handler, batch, ended=fake._batch_done(batch)))


def _anthropic_list(fake: FakeProvider, handler) -> None:
    """``GET /v1/messages/batches?limit=&after_id=``: newest first, without custom ids."""
    query = handler.query()
    batches = fake.batches_of("anthropic")
    after = query.get("after_id")
    if after:
        ids = [f"msgbatch_{b['id']}" for b in batches]
        batches = batches[ids.index(after) + 1 :] if after in ids else []
    limit = int(query.get("limit") or 20)
    page = [_anthropic_batch(handler, b, ended=b["results"] is not None) for b in batches[:limit]]
    handler._json(200, {
        "data": page, "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None, "has_more": len(batches) > limit,
    })  # fmt: skip


def _anthropic_results(fake: FakeProvider, handler, batch_id: str) -> None:
    batch = fake.batches[int(batch_id)]
    lines = []
    for custom_id, kind, status, body in batch["results"] or []:
        if kind == "ok":
            result = {"type": "succeeded", "message": body}
        elif kind == "error":
            error_type = "api_error" if status >= 500 else "invalid_request_error"
            result = {"type": "errored", "error": {"type": "error", "error": {
                "type": error_type, "message": (body or {}).get("error", {}).get("message", "")}}}  # fmt: skip
        else:
            result = {"type": "canceled" if kind == "cancelled" else "expired"}
        lines.append(json.dumps({"custom_id": custom_id, "result": result}) + "\n")
    handler._send(200, "".join(lines).encode(), content_type="application/binary")


def _anthropic_cancel(fake: FakeProvider, handler, payload: dict, batch_id: str) -> None:
    batch = fake.batches[int(batch_id)]
    batch["cancelled"] = True
    handler._json(200, _anthropic_batch(handler, batch, ended=False))


# --- Gemini: models/{model}:batchGenerateContent, batches/{id} -------------------------------
def _gemini_create(fake: FakeProvider, handler, payload: dict, model: str) -> None:
    inlined = ((payload.get("batch") or {}).get("inputConfig") or {}).get("requests") or {}
    requests = [
        ((r.get("metadata") or {}).get("key", str(i)), r["request"])
        for i, r in enumerate(inlined.get("requests") or [])
    ]
    batch = fake._new_batch("gemini", requests, f"/v1beta/models/{model}:generateContent",
                            display_name=str((payload.get("batch") or {}).get("displayName", "")))  # fmt: skip
    if fake._accepted(batch, handler):
        handler._json(200, _gemini_operation(batch, done=False))


def _gemini_operation(batch: dict, *, done: bool) -> dict:
    total = len(batch["requests"])
    metadata = {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "name": f"batches/{batch['id']}", "displayName": batch.get("display_name", ""),
        "createTime": _rfc3339(batch["created_at"]),
        "state": "BATCH_STATE_RUNNING" if batch["polls"] else "BATCH_STATE_PENDING",
        "batchStats": {"requestCount": str(total), "pendingRequestCount": str(total)},
    }  # fmt: skip
    body = {"name": f"batches/{batch['id']}", "metadata": metadata, "done": done}
    if not done:
        return body
    kinds = {kind for _, kind, _, _ in batch["results"]}
    if batch["cancelled"]:
        metadata["state"] = "BATCH_STATE_CANCELLED"
    elif batch["outcome"] == "fail":
        metadata["state"] = "BATCH_STATE_FAILED"
        body["error"] = {"code": 3, "message": "scripted: the batch failed"}
    elif "expired" in kinds:
        metadata["state"] = "BATCH_STATE_EXPIRED"
    else:
        metadata["state"] = "BATCH_STATE_SUCCEEDED"
        responses = []
        for custom_id, kind, status, answer in batch["results"]:
            if kind == "ok":
                responses.append({"response": answer, "metadata": {"key": custom_id}})
            else:
                code = 13 if status >= 500 else 3
                responses.append({"error": {"code": code, "message": "scripted failure"}})
        failed = sum(1 for r in responses if "error" in r)
        metadata["batchStats"] = {"requestCount": str(total),
                                  "successfulRequestCount": str(total - failed),
                                  "failedRequestCount": str(failed)}  # fmt: skip
        body["response"] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
            "GenerateContentBatchOutput",
            "inlinedResponses": {"inlinedResponses": responses},
        }
    return body


def _gemini_get(fake: FakeProvider, handler, batch_id: str) -> None:
    batch = fake.batches.get(int(batch_id))
    if batch is None:
        handler._json(404, {"error": {"code": 404, "message": "batch not found",
                                      "status": "NOT_FOUND"}})  # fmt: skip
        return
    handler._json(200, _gemini_operation(batch, done=fake._batch_done(batch)))


def _gemini_list(fake: FakeProvider, handler) -> None:
    """``GET /v1beta/batches?pageSize=&pageToken=``: a ListOperationsResponse (the page
    token is the offset here; opaque to clients)."""
    query = handler.query()
    batches = fake.batches_of("gemini")
    start = int(query.get("pageToken") or 0)
    size = int(query.get("pageSize") or 20)
    page = batches[start : start + size]
    body: dict = {"operations": [
        _gemini_operation(b, done=b["results"] is not None) for b in page]}  # fmt: skip
    if start + size < len(batches):
        body["nextPageToken"] = str(start + size)
    handler._json(200, body)


def _gemini_cancel(fake: FakeProvider, handler, payload: dict, batch_id: str) -> None:
    fake.batches[int(batch_id)]["cancelled"] = True
    handler._json(200, {})


_GET_ROUTES = [
    (re.compile(r"^/v1/batches$"), _openai_list),
    (re.compile(r"^/v1/messages/batches$"), _anthropic_list),
    (re.compile(r"^/v1beta/batches$"), _gemini_list),
    (re.compile(r"^/v1/batches/batch_(?P<batch_id>\d+)$"), _openai_get),
    (re.compile(r"^/v1/files/(?P<file_id>[\w-]+)/content$"), _openai_file),
    (re.compile(r"^/v1/messages/batches/msgbatch_(?P<batch_id>\d+)$"), _anthropic_get),
    (re.compile(r"^/v1/messages/batches/msgbatch_(?P<batch_id>\d+)/results$"), _anthropic_results),
    (re.compile(r"^/v1beta/batches/(?P<batch_id>\d+)$"), _gemini_get),
]
_POST_BATCH_ROUTES = [
    (re.compile(r"^/v1/batches$"), _openai_create),
    (re.compile(r"^/v1/batches/batch_(?P<batch_id>\d+)/cancel$"), _openai_cancel),
    (re.compile(r"^/v1/messages/batches$"), _anthropic_create),
    (re.compile(r"^/v1/messages/batches/msgbatch_(?P<batch_id>\d+)/cancel$"), _anthropic_cancel),
    (re.compile(r"^/v1beta/models/(?P<model>[^/:]+):batchGenerateContent$"), _gemini_create),
    (re.compile(r"^/v1beta/batches/(?P<batch_id>\d+):cancel$"), _gemini_cancel),
]


if __name__ == "__main__":  # for manual tries: python -m tests.evaluation.fake_provider --port 8080
    import argparse

    parser = argparse.ArgumentParser(description="Scripted fake LLM provider on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    arguments = parser.parse_args()
    with FakeProvider(latency=arguments.latency, port=arguments.port) as server:
        print(f"fake provider at {server.url('openai')} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
