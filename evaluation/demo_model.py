"""The demo's scripted "model": an OpenAI-compatible chat-completions server that is not a
language model (stdlib only, no Django).

It answers every item with a fixed rating drawn from a hash of the rated response's text,
as the scale's phrase ("like me"), or the option's digit when the prompt lists ``k = phrase``
lines. So its portrait is demo data: it shows what the pages do, never what a model thinks.
``manage.py load_demo`` starts it on a free port for the demo run, and ``make run`` serves it
with ``manage.py serve_demo_model`` on 127.0.0.1:8080 (``DEMO_MODEL_PORT``), where the demo
model configuration ``demo-local-server`` points, so a run started from
``/evaluation/runs/new/`` is answered at once. When that port is taken, the command reuses an
OpenAI-compatible server already answering there, or else serves on a free port and points
the configuration at it (``evaluation.demo.serve_demo_model``). Without Django::

    python -m evaluation.demo_model --port 8080   # says so and stops if the port is taken

The tests' fake provider (``tests/evaluation/fake_provider.py``) answers by the same rule.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import re
import sys
import threading
import urllib.error
import urllib.request
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from survey.scale import LABELS, words_in

# The rated text follows the built-in layouts' reply line in any of their languages.
RESPONSE_LINE = re.compile(r"(?:Reply|Response|Antwort|답변): (.*?)(?:\n\n|\Z)", re.DOTALL)
DIGIT_LINE = re.compile(r"^([1-6]) = (.+)$", re.MULTILINE)
MODEL_SNAPSHOT = "demo-scripted-2025"


def rating_for(response_text: str) -> int:
    """The rating the scripted model gives to a response text (1..6, deterministic)."""
    return int(hashlib.sha256(response_text.strip().encode()).hexdigest(), 16) % 6 + 1


def rated_text(prompt: str) -> str:
    match = RESPONSE_LINE.search(prompt)
    return match.group(1) if match else prompt


# The site's message catalogues (the labels of the other languages): the checkout's
# locale/, or the copy an installed wheel carries.
_ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIRS = (_ROOT / "locale", _ROOT / "config" / "site" / "locale")


@lru_cache(maxsize=1)
def known_labels() -> tuple[tuple[str, ...], ...]:
    """The six labels in English and in each language with a compiled catalogue."""
    found = [LABELS]
    for directory in LOCALE_DIRS:
        for mo in sorted(directory.glob("*/LC_MESSAGES/django.mo")):
            language = mo.parts[-3].lower().replace("_", "-")
            found.append(words_in(language, [directory]).labels)
    return tuple(dict.fromkeys(found))


def answer_for(prompt: str, rating: int | None = None) -> tuple[str, str | None]:
    """``(answer text, digit)`` giving ``rating`` (default: :func:`rating_for` the rated
    text); digit is set when the prompt asks for a number. A phrase answer is the label in
    the language of the labels the prompt lists (English when it lists none it knows)."""
    rating = rating or rating_for(rated_text(prompt))
    listed = {phrase.strip(): digit for digit, phrase in DIGIT_LINE.findall(prompt)}
    if listed:  # the digit of the option listed with this rating's label, in its language
        labels = next(ls for ls in known_labels() if ls[rating - 1] in listed)
        return listed[labels[rating - 1]], listed[labels[rating - 1]]
    lines = {line.strip() for line in prompt.splitlines()}
    labels = next((ls for ls in known_labels() if set(ls) <= lines), LABELS)
    return labels[rating - 1], None


def chat_completion(payload: dict) -> dict:
    """The OpenAI chat-completions answer to ``payload`` (its last user message rated)."""
    messages = payload.get("messages") or []
    prompt = next(
        (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    answer, _digit = answer_for(prompt)
    prompt_tokens = len(prompt) // 4  # a rough count: the demo has no tokenizer
    return {
        "id": "chatcmpl-demo",
        "object": "chat.completion",
        "model": MODEL_SNAPSHOT,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 3,
            "total_tokens": prompt_tokens + 3,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        # OpenAI's model list: how a second ``make run`` recognises a server already there.
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": MODEL_SNAPSHOT, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": "only /v1/models and chat completions"}})

    def do_POST(self):  # noqa: N802 (http.server's naming)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": "only /v1/chat/completions is served"}})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, json.JSONDecodeError):
            self._send(400, {"error": {"message": "the body is not JSON"}})
            return
        self._send(200, chat_completion(payload))

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 (quiet: one line per answer is noise)
        pass


class DemoModelServer:
    """The scripted model on ``127.0.0.1:port`` (0: a free port) in a background thread::

    with DemoModelServer() as server:
        config.base_url = server.base_url
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        """Binds at once: ``OSError`` (``errno.EADDRINUSE``) when the port is taken."""
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> DemoModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def port_in_use(error: OSError) -> bool:
    return error.errno in (errno.EADDRINUSE, errno.EACCES)


def openai_compatible_at(base_url: str, *, timeout: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server answers ``GET <base_url>/models`` with a model list
    (the scripted model does, and so do llama.cpp's server, vLLM and Ollama's ``/v1``)."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/models", timeout=timeout) as answer:
            body = json.loads(answer.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(body, dict) and isinstance(body.get("data"), list)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo's scripted model.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    try:
        server = ThreadingHTTPServer((args.host, args.port), _Handler)
    except OSError as exc:
        if not port_in_use(exc):
            raise
        sys.exit(
            f"Port {args.port} on {args.host} is in use: the demo's scripted model cannot serve "
            "there. Choose another with --port (and point the model configuration at it), or "
            "use `manage.py serve_demo_model`, which finds a free port and does both."
        )
    print(f"Demo scripted model on http://{args.host}:{args.port}/v1 (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
