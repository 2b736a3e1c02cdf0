"""Google Gemini ``models/{model}:generateContent``."""

from __future__ import annotations

from .base import GenerationRequest, HttpClient, ProviderAnswer

THINKING_BUDGET = {"low": 1024, "medium": 4096, "high": 16384}


class GeminiClient(HttpClient):
    provider = "gemini"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"

    def build(self, request: GenerationRequest, api_key: str) -> tuple[str, dict, dict]:
        config: dict = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.seed is not None:
            config["seed"] = request.seed
        if request.top_logprobs:
            config["responseLogprobs"] = True
            config["logprobs"] = request.top_logprobs
        if request.reasoning_effort:
            config["thinkingConfig"] = {
                "thinkingBudget": THINKING_BUDGET[request.reasoning_effort],
                "includeThoughts": True,
            }
        payload = {
            "contents": [
                {
                    "role": "model" if m["role"] == "assistant" else "user",
                    "parts": [{"text": m["content"]}],
                }
                for m in request.messages()
            ],
            "generationConfig": config,
        }
        headers = {"x-goog-api-key": api_key} if api_key else {}
        return f"{self.base_url}/models/{self.model_id}:generateContent", headers, payload

    def params_of(self, payload: dict) -> dict:
        return dict(payload["generationConfig"])

    def parse(self, body: dict, sent: dict) -> ProviderAnswer:
        candidates = body.get("candidates") or []
        usage = body.get("usageMetadata") or {}
        model = str(body.get("modelVersion") or "")
        tokens_in = int(usage.get("promptTokenCount") or 0)
        tokens_out = int(usage.get("candidatesTokenCount") or 0) + int(
            usage.get("thoughtsTokenCount") or 0
        )
        if not candidates:
            reason = (body.get("promptFeedback") or {}).get("blockReason", "no candidates")
            return ProviderAnswer(
                text="",
                finish_reason=str(reason),
                input_tokens=tokens_in,
                sent_params=sent,
                model=model,
            )
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        text = "".join(p.get("text", "") for p in parts if not p.get("thought"))
        reasoning = "".join(p.get("text", "") for p in parts if p.get("thought"))
        logprobs = None
        top = (candidate.get("logprobsResult") or {}).get("topCandidates") or []
        for position in top:
            alternatives = position.get("candidates") or []
            if alternatives and alternatives[0].get("token", "").strip():
                logprobs = [(a["token"], a["logProbability"]) for a in alternatives]
                break
        return ProviderAnswer(
            text=text,
            reasoning=reasoning,
            first_token_logprobs=logprobs,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            finish_reason=candidate.get("finishReason") or "",
            sent_params=sent,
            model=model,
        )
