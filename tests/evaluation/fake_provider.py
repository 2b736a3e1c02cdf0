"""A scripted test server speaking the OpenAI-compatible, Anthropic and Gemini wire formats.

Reusable by tests and the benchmark::

    with FakeProvider(latency=0.2) as server:
        server.script("429", "500", "hang", ...)   # faults for the next requests, in order
        client = OpenAICompatibleClient(model_id="m", base_url=server.url("openai"))

Routes: ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic),
``POST /v1beta/models/<model>:generateContent`` (Gemini).

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

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from survey.scale import LABELS

_RESPONSE = re.compile(r"(?:Reply|Response): (.*?)(?:\n\n|\Z)", re.DOTALL)
_DIGIT_LINE = re.compile(r"^([1-6]) = (.+)$", re.MULTILINE)
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


def rating_for(response_text: str) -> int:
    """The rating the fake model gives to a response text (1..6, deterministic)."""
    return int(hashlib.sha256(response_text.strip().encode()).hexdigest(), 16) % 6 + 1


def rated_text(prompt: str) -> str:
    match = _RESPONSE.search(prompt)
    return match.group(1) if match else prompt


def answer_for(prompt: str, rating: int | None = None) -> tuple[str, str | None]:
    """``(answer text, digit)`` giving ``rating`` (default: :func:`rating_for` the rated
    text); digit is set when the prompt asks for a number."""
    rating = rating or rating_for(rated_text(prompt))
    label = LABELS[rating - 1]
    listed = {phrase.strip(): digit for digit, phrase in _DIGIT_LINE.findall(prompt)}
    if listed:
        return listed[label], listed[label]
    return label, None


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
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
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

    # --- HTTP ------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    self._send(400, b'{"error": {"message": "request body is not JSON"}}')
                    return
                route = self._route()
                if route is None:
                    self._send(404, b'{"error": {"message": "no such route"}}')
                    return
                with fake.lock:
                    fake.requests.append(
                        {
                            "route": route,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "payload": payload,
                        }
                    )
                refused = route == "openai" and fake._refused_length_parameter(payload)
                if refused:
                    self._send(400, json.dumps(refused).encode())
                    return
                fault = fake._next_fault()
                if fake.latency:
                    time.sleep(fake.latency)
                if fault == "429":
                    self._send(
                        429,
                        b'{"error": {"message": "rate limited, slow down"}}',
                        {"Retry-After": f"{fake.retry_after:g}"},
                    )
                    return
                if fault == "500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                    return
                if fault == "400":
                    self._send(400, b'{"error": {"message": "model does not exist: scripted"}}')
                    return
                if fault == "malformed":
                    self._send(200, b'{"choices": [{"message": {"content": "like m')
                    return
                if fault == "hang":
                    time.sleep(fake.hang_seconds)
                # The rating comes from the item (the first turn); a re-ask's follow-up turn is
                # the last one, so invalid_for strings in the item's text are invalid only when
                # the identical prompt is asked again.
                first, prompt = self._turns(route, payload)
                fixed = [r for text, r in fake.fixed_answer.items() if text in first]
                answer, digit = answer_for(first, fixed[0] if fixed else None)
                if fault == "invalid" or any(s in prompt for s in fake.invalid_for):
                    answer, digit = "I would rather not say.", None
                elif fault == "empty":
                    answer, digit = "", None
                elif fault == "sliver" and digit is not None:
                    answer = SLIVER_ANSWER + digit
                reasoning = ""
                if fault == "think":
                    reasoning = "Let me weigh this. Very much like me? Perhaps not."
                    answer = f"<think>{reasoning}</think>\n{answer}"
                body = getattr(self, f"_{route}")(payload, answer, digit)
                body[SNAPSHOT_FIELD[route]] = fake._snapshot(route, payload, self.path)
                self._send(200, json.dumps(body).encode())

            def _route(self) -> str | None:
                if self.path == "/v1/chat/completions":
                    return "openai"
                if self.path == "/v1/messages":
                    return "anthropic"
                if GEMINI_PATH.match(self.path):
                    return "gemini"
                return None

            @staticmethod
            def _turns(route: str, payload: dict) -> tuple[str, str]:
                """The first and the last user turn."""
                if route == "gemini":
                    texts = [
                        c["parts"][0]["text"] for c in payload["contents"] if c["role"] == "user"
                    ]
                else:
                    texts = [m["content"] for m in payload["messages"] if m["role"] == "user"]
                return texts[0], texts[-1]

            @staticmethod
            def _openai(payload: dict, answer: str, digit: str | None) -> dict:
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

            @staticmethod
            def _anthropic(payload: dict, answer: str, digit: str | None) -> dict:
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

            @staticmethod
            def _gemini(payload: dict, answer: str, digit: str | None) -> dict:
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
                            {
                                "candidates": [
                                    {"token": t["token"], "logProbability": t["logprob"]}
                                    for t in top
                                ]
                            }
                        ]
                    }
                return {
                    "candidates": [candidate],
                    "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 3},
                }

        return Handler


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
