"""The three HTTP clients against the scripted fake provider server."""

import asyncio
import math

import pytest

from evaluation.parsing import option_probabilities, parse_phrase
from evaluation.prompts import DESCENDING
from evaluation.providers import (
    AnthropicClient,
    GeminiClient,
    GenerationRequest,
    OpenAICompatibleClient,
    PermanentProviderError,
    ProviderAnswer,
    TransientProviderError,
    acall_with_retries,
    call_with_retries,
)
from evaluation.providers.base import ConfigurationError, parse_retry_after
from evaluation.providers.openai_compat import default_length_parameter
from evaluation.units import build_prompt
from tests.evaluation.fake_provider import FakeProvider, rating_for

CLIENTS = {"openai": OpenAICompatibleClient, "anthropic": AnthropicClient, "gemini": GeminiClient}
PROMPT = build_prompt(
    "Message: {text}\n\nReply: {content}\n\nAnswer:\n" + "\n".join(DESCENDING),
    title="",
    scenario="Should I call my sister?",
    response="Yes, family comes first.",
    persona=None,
)
DIGIT_PROMPT = PROMPT.replace(
    "\n".join(DESCENDING), "\n".join(f"{k} = {label}" for k, label in enumerate(DESCENDING, 1))
)
EXPECTED = rating_for("Yes, family comes first.")


@pytest.fixture
def server():
    with FakeProvider(hang_seconds=3.0, retry_after=0.3) as fake:
        yield fake


def _client(provider, server, **kwargs):
    return CLIENTS[provider](model_id="fake-model", base_url=server.url(provider), **kwargs)


@pytest.mark.parametrize("provider", sorted(CLIENTS))
def test_answer_and_parameters_are_really_sent(provider, server, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-secret-123")
    client = _client(provider, server, api_key_env="FAKE_KEY")
    request = GenerationRequest(prompt=PROMPT, temperature=0.0, max_tokens=12, seed=7)
    answer = client.generate(request)
    assert parse_phrase(answer.text).rating == EXPECTED
    assert (answer.input_tokens, answer.output_tokens) == (100, 3)
    # The snapshot each wire format reports: "model", Gemini's "modelVersion".
    assert answer.model == ("fake-model-001" if provider == "gemini" else "fake-model")
    assert ProviderAnswer.from_json(answer.to_json()).model == answer.model
    sent = server.requests[-1]
    payload, headers = sent["payload"], {k.lower(): v for k, v in sent["headers"].items()}
    if provider == "openai":
        assert (
            payload["temperature"] == 0.0 and payload["seed"] == 7 and payload["max_tokens"] == 12
        )
        assert headers["authorization"] == "Bearer sk-secret-123"
    elif provider == "anthropic":
        assert payload["temperature"] == 0.0 and payload["max_tokens"] == 12
        assert headers["x-api-key"] == "sk-secret-123" and "anthropic-version" in headers
        assert "seed" in answer.sent_params["not_supported"]
    else:
        config = payload["generationConfig"]
        assert (config["temperature"], config["seed"], config["maxOutputTokens"]) == (0.0, 7, 12)
        assert headers["x-goog-api-key"] == "sk-secret-123"
        assert sent["path"] == "/v1beta/models/fake-model:generateContent"
    # What is recorded with the response never contains the key.
    assert "sk-secret" not in repr(answer.to_json())


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_logprobs_give_the_option_distribution(provider, server):
    client = _client(provider, server)
    answer = client.generate(GenerationRequest(prompt=DIGIT_PROMPT, top_logprobs=10))
    distribution = option_probabilities(answer.first_token_logprobs, DESCENDING)
    assert distribution.valid_mass == pytest.approx(0.96)
    assert distribution.probabilities[EXPECTED - 1] == pytest.approx(0.7 / 0.96)
    assert math.isclose(sum(distribution.probabilities), 1.0)


@pytest.mark.parametrize("provider", sorted(CLIENTS))
def test_reasoning_blocks_are_separated(provider, server):
    server.script("think")
    answer = _client(provider, server).generate(GenerationRequest(prompt=PROMPT))
    parsed = parse_phrase(answer.text)
    assert parsed.rating == EXPECTED
    assert "weigh" in (answer.reasoning + parsed.reasoning)


@pytest.mark.parametrize("provider", sorted(CLIENTS))
def test_faults_are_classified(provider, server):
    client = _client(provider, server, timeout=1.0)
    request = GenerationRequest(prompt=PROMPT)
    server.script("429", "500", "malformed", "hang", "400")
    with pytest.raises(TransientProviderError) as rate_limited:
        client.generate(request)
    assert rate_limited.value.status == 429 and rate_limited.value.retry_after == pytest.approx(0.3)
    with pytest.raises(TransientProviderError, match="HTTP 500"):
        client.generate(request)
    with pytest.raises(TransientProviderError, match="malformed JSON"):
        client.generate(request)
    with pytest.raises(TransientProviderError, match="timeout"):
        client.generate(request)
    with pytest.raises(PermanentProviderError, match="model does not exist: scripted") as bad:
        client.generate(request)
    assert not isinstance(bad.value, TransientProviderError) and bad.value.status == 400


def test_empty_content_is_an_invalid_answer_not_an_error(server):
    server.script("empty")
    answer = _client("openai", server).generate(GenerationRequest(prompt=PROMPT))
    assert answer.text == "" and not parse_phrase(answer.text).valid


def test_retries_honour_retry_after_and_give_up_after_the_limit(server):
    client = _client("openai", server)
    request = GenerationRequest(prompt=PROMPT)
    server.script("429", "500")
    waits = []
    answer, attempts = call_with_retries(
        lambda: client.generate(request),
        max_retries=3,
        sleep=waits.append,
        backoff_base=0.01,
    )
    assert attempts == 3 and parse_phrase(answer.text).rating == EXPECTED
    assert waits[0] >= 0.3  # Retry-After honoured
    assert waits[1] <= 0.02  # plain jittered backoff for the 500
    server.script("500", "500", "500")
    with pytest.raises(TransientProviderError):
        call_with_retries(lambda: client.generate(request), max_retries=2, sleep=lambda s: None)
    server.script("400")
    calls = server.request_count()
    with pytest.raises(PermanentProviderError):
        call_with_retries(lambda: client.generate(request), max_retries=5, sleep=lambda s: None)
    assert server.request_count() == calls + 1  # 4xx fails fast, no retry


@pytest.mark.parametrize("provider", sorted(CLIENTS))
def test_the_coroutine_call_sends_parses_and_classifies_as_the_blocking_one(
    provider, server, monkeypatch
):
    """``agenerate`` (the live runs' path): the same body and headers, the same answer, the
    same error classes, the key masked out of a message that quotes it."""
    monkeypatch.setenv("FAKE_KEY", "sk-secret-123")
    client = _client(provider, server, api_key_env="FAKE_KEY", timeout=1.0)
    request = GenerationRequest(prompt=PROMPT, temperature=0.0, max_tokens=12, seed=7)

    async def calls():
        answers = [await client.agenerate(request)]
        errors = []
        server.script("429", "500", "malformed", "hang", "400")
        for _ in range(5):
            try:
                await client.agenerate(request)
            except Exception as exc:  # noqa: BLE001 - compared below
                errors.append(exc)
        answers.append(await client.agenerate(request))
        return answers, errors

    answers, errors = asyncio.run(calls())
    blocking = client.generate(request)
    assert [a.to_json() for a in answers] == [blocking.to_json()] * 2
    asked = [r for r in server.requests if r["route"] == provider]
    assert asked[0]["payload"] == asked[-1]["payload"]
    assert asked[0]["headers"].keys() == asked[-1]["headers"].keys()
    assert [type(e) for e in errors] == [TransientProviderError] * 4 + [PermanentProviderError]
    assert errors[0].status == 429 and errors[0].retry_after == pytest.approx(0.3)
    assert "timeout" in str(errors[3]) and errors[4].status == 400

    server.script("400")
    client_quoted = _client(provider, server, api_key_env="FAKE_KEY")
    monkeypatch.setenv("FAKE_KEY", "scripted")  # a key that the 400's message quotes
    with pytest.raises(PermanentProviderError, match=r"\[redacted key\]"):
        asyncio.run(client_quoted.agenerate(request))


def test_coroutine_retries_honour_retry_after_and_give_up_after_the_limit(server):
    client = _client("openai", server)
    request = GenerationRequest(prompt=PROMPT)
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    async def retried(max_retries):
        return await acall_with_retries(
            lambda: client.agenerate(request),
            max_retries=max_retries,
            sleep=sleep,
            backoff_base=0.01,
        )

    server.script("429", "500")
    answer, attempts = asyncio.run(retried(3))
    assert attempts == 3 and parse_phrase(answer.text).rating == EXPECTED
    assert waits[0] >= 0.3 and waits[1] <= 0.02  # Retry-After, then the plain backoff
    server.script("500", "500", "500")
    with pytest.raises(TransientProviderError):
        asyncio.run(retried(2))
    server.script("400")
    calls = server.request_count()
    with pytest.raises(PermanentProviderError):
        asyncio.run(retried(5))
    assert server.request_count() == calls + 1  # 4xx fails fast, no retry


def test_missing_key_variable_is_a_configuration_error(server, monkeypatch):
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    client = _client("openai", server, api_key_env="NOT_SET_KEY")
    with pytest.raises(ConfigurationError, match="NOT_SET_KEY is not set"):
        client.generate(GenerationRequest(prompt=PROMPT))


def test_retry_after_forms():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("100000") == 300.0


@pytest.mark.parametrize("provider", sorted(CLIENTS))
def test_reasoning_effort_is_sent_in_each_wire_format(provider, server):
    request = GenerationRequest(
        prompt=PROMPT, max_tokens=20, reasoning_effort="low", temperature=0.5
    )
    answer = _client(provider, server).generate(request)
    payload = server.requests[-1]["payload"]
    if provider == "openai":
        assert payload["reasoning_effort"] == "low" and payload["max_completion_tokens"] == 20
        assert "max_tokens" not in payload
    elif provider == "anthropic":
        assert payload["thinking"] == {"type": "enabled", "budget_tokens": 1024}
        assert payload["max_tokens"] == 20 + 1024 and "temperature" not in payload
    else:
        assert payload["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 1024
    assert {k: v for k, v in answer.sent_params.items() if k != "not_supported"} == {
        k: v for k, v in (payload.get("generationConfig") or payload).items()
        if k not in ("model", "messages", "contents")
    }  # fmt: skip


@pytest.mark.parametrize(
    "model_id, effort, expected",
    [
        ("gpt-4o-2024-11-20", None, "max_tokens"),
        ("o1", None, "max_completion_tokens"),
        ("o1-preview", None, "max_completion_tokens"),
        ("o3-mini", None, "max_completion_tokens"),
        ("o4-mini-2025-04-16", None, "max_completion_tokens"),
        ("gpt-5", None, "max_completion_tokens"),
        ("gpt-5.1-mini", None, "max_completion_tokens"),
        ("openai/gpt-5-nano", None, "max_completion_tokens"),  # a router's prefix
        ("O3", None, "max_completion_tokens"),
        ("o10-experimental", None, "max_tokens"),
        ("meta-llama/llama-3.1-8b-instruct", None, "max_tokens"),
        ("my-finetune", "low", "max_completion_tokens"),  # reasoning effort: a reasoning model
    ],
)
def test_length_parameter_by_model_id(model_id, effort, expected):
    assert default_length_parameter(model_id, effort) == expected


def test_reasoning_models_refuse_max_tokens_as_openai_does(server):
    request = GenerationRequest(prompt=PROMPT, max_tokens=30)
    client = OpenAICompatibleClient(model_id="o3-mini", base_url=server.url("openai"))
    assert parse_phrase(client.generate(request).text).rating == EXPECTED
    assert server.requests[-1]["payload"]["max_completion_tokens"] == 30
    forced = GenerationRequest(prompt=PROMPT, max_tokens=30, length_parameter="max_tokens")
    with pytest.raises(PermanentProviderError) as refused:
        client.generate(forced)
    assert refused.value.status == 400
    assert "Unsupported parameter: 'max_tokens' is not supported with this model" in str(
        refused.value
    )


def test_a_server_that_only_knows_max_tokens(monkeypatch):
    with FakeProvider(legacy_length_parameter=True) as legacy:
        client = OpenAICompatibleClient(model_id="local-llama", base_url=legacy.url("openai"))
        assert client.generate(GenerationRequest(prompt=PROMPT)).text  # max_tokens by default
        newer = GenerationRequest(prompt=PROMPT, length_parameter="max_completion_tokens")
        with pytest.raises(PermanentProviderError, match="Unrecognized request argument"):
            client.generate(newer)


@pytest.mark.django_db
def test_model_configuration_states_its_length_parameter():
    from evaluation.models import ModelConfiguration

    config = ModelConfiguration(name="x", provider="openai", model_id="o3-mini", max_tokens=9)
    assert config.generation_params()["length_parameter"] == "max_completion_tokens"
    config.length_parameter = "max_tokens"
    assert config.generation_params()["length_parameter"] == "max_tokens"
    config.provider = "anthropic"
    assert "length_parameter" not in config.generation_params()
