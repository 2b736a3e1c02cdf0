"""Provider clients, one small module per wire format (httpx; no vendor SDKs)."""

from __future__ import annotations

from .anthropic import AnthropicClient
from .base import (
    ConfigurationError,
    GenerationRequest,
    PermanentProviderError,
    ProviderAnswer,
    ProviderError,
    TransientProviderError,
    acall_with_retries,
    call_with_retries,
)
from .gemini import GeminiClient
from .local import LocalTransformersClient
from .openai_compat import OpenAICompatibleClient

CLIENTS = {
    "openai": OpenAICompatibleClient,
    "anthropic": AnthropicClient,
    "gemini": GeminiClient,
    "local": LocalTransformersClient,
}


def make_client(
    *,
    provider: str,
    model_id: str,
    base_url: str = "",
    api_key_env: str = "",
    timeout: float = 60,
    max_connections: int = 64,
    threads: int = 1,
):
    """A client for ``provider``; raises :class:`ConfigurationError` for one without calls.
    ``threads``: torch's threads for a local model (ignored by the HTTP clients)."""
    try:
        cls = CLIENTS[provider]
    except KeyError:
        raise ConfigurationError(f"provider {provider!r} cannot be called") from None
    if cls is LocalTransformersClient:
        return cls(model_id=model_id, threads=threads)
    return cls(
        model_id=model_id,
        base_url=base_url,
        api_key_env=api_key_env,
        timeout=timeout,
        max_connections=max_connections,
    )


__all__ = [
    "CLIENTS",
    "ConfigurationError",
    "GenerationRequest",
    "PermanentProviderError",
    "ProviderAnswer",
    "ProviderError",
    "TransientProviderError",
    "acall_with_retries",
    "call_with_retries",
    "make_client",
]
