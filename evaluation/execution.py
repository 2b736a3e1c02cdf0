"""Answering a batch of units: prompts, cache, shared rate limit, retries, parsing, storage.

The units are asked by coroutines on the process's event loop (:mod:`evaluation.event_loop`),
which do only HTTP and Redis (no database access); the calling thread reads everything
needed first, then stores the answers as they arrive, those arriving together in one insert
that ignores a row that already exists (the unique unit key), so a batch that runs twice
writes once and no transaction is ever open across an HTTP call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import F

from evaluation import event_loop, parsing
from evaluation.personas import parse_persona_key
from evaluation.prompts import SCALE_LABELS, follow_up
from evaluation.prompts.builtin import follow_up_wording
from evaluation.providers import (
    GenerationRequest,
    ProviderAnswer,
    ProviderError,
    acall_with_retries,
    make_client,
)
from evaluation.ratelimit import Limits, async_limiter_for, async_slot
from evaluation.units import Unit, build_prompt, cache_key, estimate_tokens
from survey.language_codes import SOURCE_LANGUAGE
from survey.models import Item
from survey.selectors.scale_words import scale_words
from survey.selectors.translations import reviewed_translations

from .models import CachedResponse, EvaluationRun, Response

log = logging.getLogger(__name__)
_CLIENTS: dict[tuple, object] = {}
# Answers arriving within this window are written together (at most this much is re-asked
# when a worker dies).
FLUSH_SECONDS = 0.05
_CLIENTS_LOCK = threading.Lock()


def client_for(config):
    """One pooled client per (provider, model, base URL, key name, timeout) per process."""
    key = (
        config.provider,
        config.model_id,
        config.base_url,
        config.api_key_env,
        config.timeout_seconds,
    )
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = make_client(
                provider=config.provider,
                model_id=config.model_id,
                base_url=config.base_url,
                api_key_env=config.api_key_env,
                timeout=config.timeout_seconds,
                max_connections=max(config.max_concurrency, 8),
                threads=settings.EVALUATION_LOCAL_THREADS,
            )
        return _CLIENTS[key]


@dataclass
class Job:
    unit: Unit
    prompt: str
    option_order: tuple[str, ...]
    keys: list[str]  # cache key per attempt
    cached: dict[int, dict] = field(default_factory=dict)  # attempt -> cached payload

    @property
    def prompt_sha256(self) -> str:
        return hashlib.sha256(self.prompt.encode()).hexdigest()


@dataclass
class Outcome:
    job: Job
    row: Response | None  # None: only cache entries to store (a batch answer to re-ask)
    new_cache: list[CachedResponse]
    cache_hits: list[str]


def _limits(config) -> Limits:
    return Limits(
        requests_per_minute=config.requests_per_minute,
        tokens_per_minute=config.tokens_per_minute,
        max_concurrency=config.max_concurrency,
        lease_seconds=config.timeout_seconds + 10,
    )


def _limit_key(config) -> str:
    return f"{config.provider}:{config.model_id}:{config.base_url}"


def run_scale(run: EvaluationRun) -> parsing.LabelScale | None:
    """The labels and number words a run in another language reads its answers with (its
    language's message catalogue); ``None`` for English, read by the English rules."""
    if run.language == SOURCE_LANGUAGE:
        return None
    return parsing.LabelScale.of(scale_words(language=run.language))


def parse_answer(run: EvaluationRun, answer: ProviderAnswer, order) -> tuple:
    """``(parsed answer, option probabilities or None)``. In probability scoring an answer
    whose first token has too little mass on the digits is invalid, whatever its text."""
    words = run_scale(run)
    if run.scoring != EvaluationRun.Scoring.PROBABILITY:
        if words is None:
            return parsing.parse_phrase(answer.text), None
        return parsing.parse_label(answer.text, words), None
    parsed = parsing.parse_digit(answer.text, order, words.number_words if words else ())
    if not answer.first_token_logprobs:
        return parsed, None
    probabilities = parsing.option_probabilities(
        answer.first_token_logprobs, order, min_valid_probability=run.min_valid_probability
    )
    if probabilities is None:
        probabilities = parsing.OptionProbabilities(
            (0.0,) * 6, 0.0, None, "no probability on a digit"
        )
    if probabilities.expected_rating is None:
        parsed = replace(
            parsed, rating=None, label="", method=parsing.INVALID, reason=probabilities.reason
        )
    return parsed, probabilities


def answer_row(
    run: EvaluationRun,
    job: Job,
    answer: ProviderAnswer,
    parsed,
    probabilities,
    *,
    invalid_texts: list[str],
    attempts: int,
    input_tokens: int,
    output_tokens: int,
    latency_ms: int | None,
    cached: bool = False,
    batched: bool = False,
) -> Response:
    """The stored row of a unit's final answer (valid, or unreadable with no re-ask left):
    live and batch answers are stored through this one function."""
    item_id, variant, repetition, persona = job.unit
    return Response(
        run=run, item_id=item_id, variant=variant, repetition=repetition, persona=persona,
        state=Response.State.VALID if parsed.valid else Response.State.INVALID,
        rating=parsed.rating,
        label=parsed.label,
        parse_method=parsed.method,
        several_options=parsed.several_options,
        raw_text=answer.text,
        reasoning="\n".join(r for r in (answer.reasoning, parsed.reasoning) if r),
        invalid_answers=invalid_texts,
        error="" if parsed.valid else parsed.reason,
        option_probabilities=None if probabilities is None else probabilities.as_json(),
        expected_rating=None if probabilities is None else probabilities.expected_rating,
        valid_mass=None if probabilities is None else probabilities.valid_mass,
        attempts=attempts,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        cached=cached,
        request_params=answer.sent_params,
        model_snapshot=answer.model[:200],
        prompt_sha256=job.prompt_sha256,
        batched=batched,
    )  # fmt: skip


def failed_row(
    run: EvaluationRun,
    job: Job,
    *,
    error: str,
    invalid_texts: list[str],
    attempts: int,
    input_tokens: int,
    output_tokens: int,
    request_params: dict,
    batched: bool = False,
) -> Response:
    """The stored row of a unit whose request failed (shown, and asked again on resume)."""
    item_id, variant, repetition, persona = job.unit
    return Response(
        run=run, item_id=item_id, variant=variant, repetition=repetition, persona=persona,
        state=Response.State.FAILED,
        error=error[:2000],
        invalid_answers=invalid_texts,
        attempts=attempts,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        request_params=request_params,
        prompt_sha256=job.prompt_sha256,
        batched=batched,
    )  # fmt: skip


def reask_history(run: EvaluationRun, job: Job, invalid_texts: list[str]) -> tuple[dict, ...]:
    """The turns after the prompt when ``job`` is asked again after these unreadable answers:
    with follow-ups, each answer and a turn naming the allowed answers (the model sees what
    it said); without, none (the identical prompt again)."""
    if not run.reask_follow_up:
        return ()
    digits = run.scoring == EvaluationRun.Scoring.PROBABILITY
    words = run_scale(run)
    shown = dict(zip(SCALE_LABELS, words.labels, strict=True)) if words else None
    again = follow_up(
        job.option_order, digits=digits, shown=shown, wording=follow_up_wording(run.language)
    )
    turns: list[dict] = []
    for text in invalid_texts:
        turns += [
            {"role": "assistant", "content": text or "(no answer)"},
            {"role": "user", "content": again},
        ]
    return tuple(turns)


def cache_entry(run: EvaluationRun, key: str, answer: ProviderAnswer) -> CachedResponse:
    config = run.model_config
    return CachedResponse(
        key=key, provider=config.provider, model_id=config.model_id, base_url=config.base_url,
        payload=answer.to_json(),
    )  # fmt: skip


async def _generate(client, request: GenerationRequest) -> ProviderAnswer:
    """One call: awaited on the HTTP clients, in a thread for a client without coroutines
    (a local model computes in the worker)."""
    agenerate = getattr(client, "agenerate", None)
    if agenerate is not None:
        return await agenerate(request)
    return await asyncio.to_thread(client.generate, request)


async def _answer_job(
    run: EvaluationRun, job: Job, base_request: GenerationRequest, stop: threading.Event
) -> Outcome:
    """Ask (and re-ask while unparseable) one unit. On the event loop: no DB here."""
    config = run.model_config
    client = client_for(config)
    request = replace(base_request, prompt=job.prompt)
    limiter = async_limiter_for(settings.REDIS_URL)
    limits, limit_key = _limits(config), _limit_key(config)
    invalid_texts: list[str] = []
    new_cache, hits = [], []
    tokens_in = tokens_out = 0
    attempts_made = 0
    started = time.monotonic()
    for attempt, key in enumerate(job.keys):
        if stop.is_set():
            raise _Cancelled
        request = replace(request, history=reask_history(run, job, invalid_texts))
        cached = job.cached.get(attempt) if run.use_cache else None
        if cached is not None:
            answer, from_cache = ProviderAnswer.from_json(cached), True
            hits.append(key)
        else:
            try:
                estimate = estimate_tokens(job.prompt, request.max_tokens)

                async def one_call(estimate=estimate, request=request):
                    # The slot is held per HTTP attempt, never across a retry's wait.
                    async with async_slot(limiter, limit_key, limits, tokens=estimate):
                        return await _generate(client, request)

                answer, tries = await acall_with_retries(one_call, max_retries=config.max_retries)
                used = answer.input_tokens + answer.output_tokens
                await limiter.record_tokens(limit_key, limits, used - estimate)
            except Exception as exc:  # stored as a failed unit, shown and retried on resume
                message = (
                    str(exc) if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
                )
                if not isinstance(exc, ProviderError):
                    log.exception("unexpected error asking run %s unit %s", run.pk, job.unit)
                row = failed_row(
                    run, job, error=message, invalid_texts=invalid_texts,
                    attempts=attempts_made + 1, input_tokens=tokens_in, output_tokens=tokens_out,
                    request_params=client.sent_params(request),
                )  # fmt: skip
                return Outcome(job, row, new_cache, hits)
            from_cache = False
            attempts_made += tries
            if run.use_cache:
                new_cache.append(cache_entry(run, key, answer))
            tokens_in += answer.input_tokens
            tokens_out += answer.output_tokens
        parsed, probabilities = parse_answer(run, answer, job.option_order)
        if parsed.valid or attempt == len(job.keys) - 1:
            row = answer_row(
                run, job, answer, parsed, probabilities, invalid_texts=invalid_texts,
                attempts=max(attempts_made, 1) if not from_cache else attempt + 1,
                input_tokens=tokens_in, output_tokens=tokens_out,
                latency_ms=int((time.monotonic() - started) * 1000), cached=from_cache,
            )  # fmt: skip
            return Outcome(job, row, new_cache, hits)
        invalid_texts.append(answer.text)
    raise AssertionError("unreachable")  # pragma: no cover


class _Cancelled(Exception):
    pass


def build_jobs(run: EvaluationRun, units: list[Unit], base_request: GenerationRequest) -> list[Job]:
    items = {
        item.id: item
        for item in Item.objects.filter(id__in={u[0] for u in units}).select_related(
            "scenario__source"
        )
    }
    templates = {(t.variant, t.style): t for t in run.templates()}
    translated = reviewed_translations(item_ids=items, language=run.language)
    client = client_for(run.model_config)
    request_params = client.sent_params(base_request)
    config = run.model_config
    jobs = []
    for unit in units:
        item_id, variant, repetition, persona = unit
        item = items.get(item_id)
        if item is None:
            continue
        style = item.scenario.source.style
        template = templates[(variant, style)]
        text = (
            template.digit_text
            if run.scoring == EvaluationRun.Scoring.PROBABILITY
            else template.text
        )
        if item_id in translated:
            title, scenario, response = translated[item_id]
        elif item.scenario.language == run.language:
            title, scenario, response = item.scenario.title, item.scenario.text, item.text
        else:  # its translation was withdrawn after the run was created: never the source
            continue

        prompt = build_prompt(
            text,
            title=title,
            scenario=scenario,
            response=response,
            persona=parse_persona_key(persona),
        )
        keys = [
            cache_key(
                provider=config.provider,
                model_id=config.model_id,
                base_url=config.base_url,
                params=request_params,
                prompt=prompt,
                attempt=attempt,
                repetition=repetition,
                reask="follow_up" if run.reask_follow_up else "",
            )
            for attempt in range(run.invalid_retries + 1)
        ]
        jobs.append(Job(unit, prompt, tuple(template.option_order), keys))
    if run.use_cache:
        wanted = {key: job for job in jobs for key in job.keys}
        for key, payload in (
            CachedResponse.objects.fresh()
            .filter(key__in=list(wanted))
            .values_list("key", "payload")
        ):
            job = wanted[key]
            job.cached[job.keys.index(key)] = payload
    return jobs


def existing_units(run_id: int, units: list[Unit]) -> set[Unit]:
    rows = Response.objects.filter(run_id=run_id, item_id__in={u[0] for u in units}).values_list(
        "item_id", "variant", "repetition", "persona"
    )
    return set(rows)


def store_outcomes(outcomes: list[Outcome]) -> None:
    """Write answers (and new cache entries) that arrived together in one transaction each:
    a commit per answer would make the database, not the provider, the bottleneck."""
    # One entry per key: an upsert may not touch a row twice (two units, identical prompts).
    new_cache = list({e.key: e for outcome in outcomes for e in outcome.new_cache}.values())
    hits = [key for outcome in outcomes for key in outcome.cache_hits]
    if new_cache:
        # An expired entry with the same key is replaced by the new answer.
        CachedResponse.objects.bulk_create(
            new_cache,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["payload", "created_at"],
        )
    if hits:
        CachedResponse.objects.filter(key__in=hits).update(hits=F("hits") + 1)
    Response.objects.bulk_create(
        [o.row for o in outcomes if o.row is not None], ignore_conflicts=True
    )


async def _answer_all(
    run: EvaluationRun,
    jobs: list[Job],
    base_request: GenerationRequest,
    stop: threading.Event,
    deliver: Callable[[Outcome | BaseException | None], None],
) -> None:
    """Ask the jobs, at most the model's ``max_concurrency`` of them at a time (a unit
    waiting out a retry's backoff counts: its retries come before other units' first calls,
    as with a thread per unit); the shared slots bound what is in flight across tasks and
    processes. ``deliver`` gets exactly one item per job as it ends: its outcome, None when
    the run was cancelled first, or the exception that broke it."""
    in_progress = asyncio.Semaphore(max(run.model_config.max_concurrency, 1))

    async def one(job: Job) -> None:
        try:
            async with in_progress:
                outcome = await _answer_job(run, job, base_request, stop)
        except _Cancelled:
            outcome = None
        except Exception as exc:  # noqa: BLE001 - raised in the calling thread
            outcome = exc
        deliver(outcome)

    await asyncio.gather(*(one(job) for job in jobs))


def execute_units(*, run: EvaluationRun, units: list[Unit]) -> int:
    """Answer the units of ``run`` (loaded with its model configuration) that have no stored
    response yet; return rows written. Stops asking when the run stops answering
    (cancelled), checked about once a second."""
    run_id = run.pk
    existing = existing_units(run_id, units)
    todo = [u for u in units if u not in existing]
    if not todo:
        return 0
    # The request is built once; each job differs only by its prompt (and a re-ask's turns).
    base_request = run.generation_request()
    jobs = build_jobs(run, todo, base_request)
    stop = threading.Event()
    arrived: queue.SimpleQueue = queue.SimpleQueue()
    asking = event_loop.submit(_answer_all(run, jobs, base_request, stop, arrived.put))
    written = 0
    remaining = len(jobs)
    last_check = time.monotonic()
    try:
        while remaining:
            # Store together what arrives within FLUSH_SECONDS of the first.
            ended = _collect(arrived, FLUSH_SECONDS)
            if not ended and asking.done():
                asking.result()  # raises what stopped the loop's side early
                raise RuntimeError(f"{remaining} units of run {run_id} were never answered")
            remaining -= len(ended)
            outcomes = []
            for item in ended:
                if isinstance(item, BaseException):
                    raise item
                if item is not None:
                    outcomes.append(item)
            if outcomes:
                store_outcomes(outcomes)
                written += len(outcomes)
            if time.monotonic() - last_check > 1.0:
                last_check = time.monotonic()
                if not EvaluationRun.objects.answering().filter(pk=run_id).exists():
                    stop.set()
    finally:
        stop.set()
        # Only when storing failed is anything still asking: its answers would not be stored.
        asking.cancel()
    return written


def _collect(arrived: queue.SimpleQueue, window: float) -> list:
    """What arrives within ``window`` seconds of the first item (waiting up to ``window``
    for that one)."""
    try:
        ended = [arrived.get(timeout=window)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + window
    while (left := deadline - time.monotonic()) > 0:
        try:
            ended.append(arrived.get(timeout=left))
        except queue.Empty:
            break
    return ended
