"""OpenAI-compatible chat completions (OpenAI, OpenRouter, vLLM, llama.cpp server, Ollama /v1)."""

from __future__ import annotations

import re

from .base import GenerationRequest, HttpClient, ProviderAnswer

SENT_KEYS = (
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
)


def first_answer_token_logprobs(content: list[dict] | None) -> list[tuple[str, float]] | None:
    """Top alternatives of the first answer token: reasoning blocks and whitespace skipped."""
    if not content:
        return None
    seen = ""
    for entry in content:
        token = entry.get("token", "")
        seen += token
        inside_reasoning = "<think>" in seen and "</think>" not in seen
        if inside_reasoning or "</think>" in token or not token.strip():
            continue
        alternatives = entry.get("top_logprobs") or [
            {"token": token, "logprob": entry.get("logprob")}
        ]
        return [(alt["token"], alt["logprob"]) for alt in alternatives]
    return None


MAX_TOKENS = "max_tokens"
MAX_COMPLETION_TOKENS = "max_completion_tokens"
LENGTH_PARAMETERS = (MAX_TOKENS, MAX_COMPLETION_TOKENS)
# OpenAI's reasoning models (o1, o3, o4, gpt-5 families; also behind a router's "openai/"
# prefix) refuse max_tokens: max_completion_tokens bounds their reasoning tokens too.
_REASONING_MODEL = re.compile(r"^(o1|o3|o4|gpt-5)(\b|-|$)")


def default_length_parameter(model_id: str, reasoning_effort: str | None = None) -> str:
    """The length parameter an endpoint takes for ``model_id`` when none is configured."""
    name = model_id.rsplit("/", 1)[-1].lower()
    if reasoning_effort or _REASONING_MODEL.match(name):
        return MAX_COMPLETION_TOKENS
    return MAX_TOKENS


class OpenAICompatibleClient(HttpClient):
    provider = "openai"
    default_base_url = "https://api.openai.com/v1"

    def build(self, request: GenerationRequest, api_key: str) -> tuple[str, dict, dict]:
        length_key = request.length_parameter or default_length_parameter(
            self.model_id, request.reasoning_effort
        )
        payload: dict = {
            "model": self.model_id,
            "messages": request.messages(),
            length_key: request.max_tokens,
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.seed is not None:
            payload["seed"] = request.seed
        if request.reasoning_effort:
            payload["reasoning_effort"] = request.reasoning_effort
        if request.top_logprobs:
            payload["logprobs"] = True
            payload["top_logprobs"] = request.top_logprobs
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return f"{self.base_url}/chat/completions", headers, payload

    def params_of(self, payload: dict) -> dict:
        return {key: payload[key] for key in SENT_KEYS if key in payload}

    def parse(self, body: dict, sent: dict) -> ProviderAnswer:
        choice = body["choices"][0]
        message = choice.get("message") or {}
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        usage = body.get("usage") or {}
        return ProviderAnswer(
            text=message.get("content") or "",
            reasoning=reasoning if isinstance(reasoning, str) else str(reasoning),
            first_token_logprobs=first_answer_token_logprobs(
                (choice.get("logprobs") or {}).get("content")
            ),
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=choice.get("finish_reason") or "",
            sent_params=sent,
            model=str(body.get("model") or ""),
        )
