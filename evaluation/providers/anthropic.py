"""Anthropic Messages API (``POST /v1/messages``)."""

from __future__ import annotations

from .base import GenerationRequest, HttpClient, ProviderAnswer

API_VERSION = "2023-06-01"
# Extended thinking budget per reasoning effort (tokens on top of max_tokens).
THINKING_BUDGET = {"low": 1024, "medium": 4096, "high": 16384}


class AnthropicClient(HttpClient):
    provider = "anthropic"
    default_base_url = "https://api.anthropic.com/v1"

    def build(self, request: GenerationRequest, api_key: str) -> tuple[str, dict, dict]:
        payload: dict = {
            "model": self.model_id,
            "max_tokens": request.max_tokens,
            "messages": request.messages(),
        }
        if request.reasoning_effort:
            budget = THINKING_BUDGET[request.reasoning_effort]
            payload["thinking"] = {"type": "enabled", "budget_tokens": budget}
            payload["max_tokens"] = request.max_tokens + budget
            # The API requires the default temperature with extended thinking.
        elif request.temperature is not None:
            payload["temperature"] = request.temperature
        headers = {"anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return f"{self.base_url}/messages", headers, payload

    def params_of(self, payload: dict) -> dict:
        sent = {k: payload[k] for k in ("max_tokens", "temperature", "thinking") if k in payload}
        # The Messages API has no seed and no log probabilities: say so in the record.
        sent["not_supported"] = ["seed", "logprobs"]
        return sent

    def parse(self, body: dict, sent: dict) -> ProviderAnswer:
        blocks = body["content"]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        reasoning = "".join(b.get("thinking", "") for b in blocks if b.get("type") == "thinking")
        usage = body.get("usage") or {}
        return ProviderAnswer(
            text=text,
            reasoning=reasoning,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            finish_reason=body.get("stop_reason") or "",
            sent_params=sent,
            model=str(body.get("model") or ""),
        )
