"""Batch mode of a run: its units go to the provider's batch API instead of live calls.

::

    dispatch (lifecycle) ─ submit_run: plan ProviderBatch rows (pending) within the
        provider's limits ─ advance_batch (task): write-ahead (submitting, committed) ─
        submit ─ submitted; an unconfirmed submission is first looked for at the provider
        by its key (adopted when found, sent again only when not)
    poll_batches (Celery beat) ─ advance_batch per due batch: poll ─ ended ─ ingest:
        answers parsed and stored exactly as live ones (execution.answer_row/store_outcomes),
        re-asks of unreadable answers and retries of failed/expired requests in a follow-up
        batch (round + 1) or live (run.batch_retry) ─ finish_if_complete

A batch is claimed by a conditional UPDATE of ``claimed_until`` (a lease: a poller that died
is replaced once it runs out), so a task delivered twice, or beat queueing a batch still being
handled, does nothing. No transaction is open across an HTTP call: the provider is asked
first, then the results are stored in one transaction that starts by moving the batch from
submitted to ingested (conditional: ingested once). Requests carry the custom id
``<submission_key>-u<index>`` into the batch row's ``requests``.

Paying twice: between the provider accepting a batch and our recording its id, a worker can
die (or the reply be lost, or time out). The batch is therefore moved to ``submitting`` in
its own committed UPDATE before the call; whoever next claims a ``submitting`` batch (the
same worker on a temporary error, another one once the lease ran out) lists the provider's
batches for its ``submission_key`` (:meth:`BatchAPI.find`) and adopts the one found. Only a
submission the provider does not have is sent again. This needs autocommit around
:func:`advance_batch` (as in a Celery task): inside an outer transaction the write-ahead
would not be visible to a recovering worker.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from evaluation.execution import (
    Job,
    Outcome,
    answer_row,
    build_jobs,
    cache_entry,
    failed_row,
    parse_answer,
    reask_history,
    store_outcomes,
)
from evaluation.providers import ProviderAnswer, ProviderError, TransientProviderError
from evaluation.providers.batch import (
    CLOCK_SKEW_SECONDS,
    ENDED,
    IN_PROGRESS,
    KEY_LENGTH,
    BatchAPI,
    BatchResult,
    BatchTooLarge,
    Submitted,
    encoded_size,
    make_batch_api,
    new_submission_key,
    plan_batches,
    request_id,
)
from evaluation.selectors import missing_units
from evaluation.units import Unit, as_unit, chunks

from .models import EvaluationRun, ProviderBatch

log = logging.getLogger(__name__)
BatchStatus = ProviderBatch.Status


def batch_api_for(config) -> BatchAPI:
    return make_batch_api(
        provider=config.provider, model_id=config.model_id, base_url=config.base_url,
        api_key_env=config.api_key_env, timeout=max(config.timeout_seconds, 120.0),
    )  # fmt: skip


def new_entry(unit: Unit) -> dict:
    """A unit's first request: attempt 0, nothing unreadable yet, no tokens, no failed round."""
    return {"unit": list(unit), "attempt": 0, "invalid": [], "tokens": [0, 0], "rounds": 0}


def custom_id(batch: ProviderBatch, index: int) -> str:
    return request_id(batch.submission_key, index)


# Custom ids are sized for the plan before the batches (and their keys) exist.
_SIZING_KEY = "k" * KEY_LENGTH


def _entry_request(run: EvaluationRun, job: Job, entry: dict, base_request):
    return replace(
        base_request, prompt=job.prompt, history=reask_history(run, job, entry["invalid"])
    )


def _jobs_by_unit(run: EvaluationRun, entries: list[dict], base_request) -> dict[Unit, Job]:
    units = list(dict.fromkeys(as_unit(e["unit"]) for e in entries))
    return {job.unit: job for job in build_jobs(run, units, base_request)}


def _advance(
    run: EvaluationRun, job: Job, entry: dict, answer: ProviderAnswer, *, cached: bool
) -> Outcome | dict:
    """A unit's answer at its entry's attempt: the stored row when it is final (valid, or
    unreadable with no re-ask left), else the entry of its re-ask."""
    tokens_in, tokens_out = entry["tokens"]
    if not cached:
        tokens_in += answer.input_tokens
        tokens_out += answer.output_tokens
    attempt = entry["attempt"]
    parsed, probabilities = parse_answer(run, answer, job.option_order)
    if parsed.valid or attempt >= run.invalid_retries:
        row = answer_row(
            run, job, answer, parsed, probabilities, invalid_texts=list(entry["invalid"]),
            attempts=attempt + 1, input_tokens=tokens_in, output_tokens=tokens_out,
            latency_ms=None, cached=cached, batched=not cached,
        )  # fmt: skip
        return Outcome(job, row, [], [])
    return {
        **entry,
        "attempt": attempt + 1,
        "invalid": [*entry["invalid"], answer.text],
        "tokens": [tokens_in, tokens_out],
    }


def _from_cache(run: EvaluationRun, jobs: dict[Unit, Job], entries: list[dict]):
    """Answer what the cache holds (as the live path does): ``(outcomes, entries still to
    ask)``."""
    outcomes, to_ask = [], []
    for entry in entries:
        job = jobs.get(as_unit(entry["unit"]))
        if job is None:  # the item is gone
            continue
        while run.use_cache and entry["attempt"] in job.cached:
            key = job.keys[entry["attempt"]]
            step = _advance(
                run, job, entry, ProviderAnswer.from_json(job.cached[entry["attempt"]]),
                cached=True,
            )  # fmt: skip
            if isinstance(step, Outcome):
                step.cache_hits.append(key)
                outcomes.append(step)
                break
            entry = step
        else:
            to_ask.append(entry)
    return outcomes, to_ask


def _plan(run: EvaluationRun, entries: list[dict], *, round_: int) -> list[ProviderBatch]:
    """Store what the cache answers and the rest as pending batches within the provider's
    limits (in the caller's transaction); returns the new batches."""
    if not entries:
        return []
    base_request = run.generation_request()
    jobs = _jobs_by_unit(run, entries, base_request)
    outcomes, to_ask = _from_cache(run, jobs, entries)
    if outcomes:
        store_outcomes(outcomes)
    if not to_ask:
        return []
    api = batch_api_for(run.model_config)
    try:
        sizes = [
            encoded_size(
                api.request_line(request_id(_SIZING_KEY, i),
                                 _entry_request(run, jobs[as_unit(e["unit"])], e, base_request))
            )
            for i, e in enumerate(to_ask)
        ]  # fmt: skip
        plan = plan_batches(sizes, api.limits)
    finally:
        api.close()
    return ProviderBatch.objects.bulk_create(
        ProviderBatch(
            run=run,
            round=round_,
            provider=run.model_config.provider,
            requests=to_ask[start:stop],
            request_count=stop - start,
            submission_key=new_submission_key(),
        )  # fmt: skip
        for start, stop in plan
    )


def _enqueue(batches: list[ProviderBatch]) -> None:
    # Import cycle: the tasks call this module.
    from evaluation.tasks import advance_batch

    ids = [b.pk for b in batches]
    transaction.on_commit(lambda: [advance_batch.delay(pk) for pk in ids])


def submit_run(*, run: EvaluationRun) -> int:
    """Plan batches for the run's units that have no row and are in no open batch (a run
    resumed or dispatched twice does not ask them twice); they are submitted by
    :func:`advance_batch` tasks queued after commit. Returns the batches planned."""
    out = {
        as_unit(entry["unit"])
        for requests in run.batches.open().values_list("requests", flat=True)
        for entry in requests
    }
    entries = [new_entry(u) for u in missing_units(run=run) if u not in out]
    try:
        with transaction.atomic():
            batches = _plan(run, entries, round_=0)
            _enqueue(batches)
    except BatchTooLarge as exc:
        EvaluationRun.objects.filter(pk=run.pk).update(error=f"batch mode: {exc}")
        return 0
    return len(batches)


# --- the periodic task: claim, submit or poll, ingest ----------------------------------------
def due_batch_ids() -> list[int]:
    return list(ProviderBatch.objects.due().values_list("id", flat=True))


def _claim(batch_id: int) -> bool:
    now = timezone.now()
    lease = timedelta(seconds=settings.EVALUATION_BATCH_CLAIM_SECONDS)
    return bool(
        ProviderBatch.objects.due(now=now).filter(pk=batch_id).update(claimed_until=now + lease)
    )


def _release(batch_id: int, **fields) -> None:
    ProviderBatch.objects.filter(pk=batch_id).update(
        claimed_until=None, polled_at=timezone.now(), **fields
    )


def advance_batch(*, batch_id: int) -> tuple[str, EvaluationRun | None]:
    """Move one batch on: submit it when pending, otherwise poll it and, once the provider
    has ended it, store its results. Claimed first (nothing happens when another worker holds
    it or it is not due); exits quietly when it is gone. Returns what happened and the run
    (for the lifecycle to close when complete)."""
    if not _claim(batch_id):
        return "not due", None
    batch = (
        ProviderBatch.objects.select_related("run__model_config", "run__item_set")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        return "gone", None
    run = batch.run
    if not run.is_answering:
        return _cancel(batch), run
    api = batch_api_for(run.model_config)
    try:
        if batch.status in (BatchStatus.PENDING, BatchStatus.SUBMITTING):
            return _submit(batch, run, api), run
        return _poll(batch, run, api), run
    finally:
        api.close()


def _cancel(batch: ProviderBatch) -> str:
    """The run stopped asking: the provider is told to stop (best effort) and the batch is
    closed; its units stay without rows (resume asks them again)."""
    if batch.status in (BatchStatus.SUBMITTED, BatchStatus.SUBMITTING):
        api = batch_api_for(batch.run.model_config)
        try:
            provider_id = batch.provider_batch_id
            if batch.status == BatchStatus.SUBMITTING:  # it may have arrived all the same
                found = _find(batch, api, _request_lines(batch, batch.run, api))
                provider_id = found.batch_id if found else ""
            if provider_id:
                api.cancel(provider_id)
        except ProviderError as exc:
            log.warning("cancelling batch %s at the provider: %s", batch.pk, exc)
        finally:
            api.close()
    _release(batch.pk, status=BatchStatus.CANCELLED)
    return "cancelled"


def _request_lines(batch: ProviderBatch, run: EvaluationRun, api: BatchAPI) -> list[dict]:
    """The batch's requests in the provider's input format (units whose item is gone are
    left out)."""
    base_request = run.generation_request()
    jobs = _jobs_by_unit(run, batch.requests, base_request)
    return [
        api.request_line(custom_id(batch, i), _entry_request(run, jobs[as_unit(e["unit"])], e,
                                                             base_request))
        for i, e in enumerate(batch.requests)
        if as_unit(e["unit"]) in jobs
    ]  # fmt: skip


def _find(batch: ProviderBatch, api: BatchAPI, lines: list[dict]) -> Submitted | None:
    """The provider's batch of an unconfirmed submission, if it arrived (provider ids that
    other rows recorded are never adopted)."""
    started = batch.submit_started_at or batch.created_at
    lease = settings.EVALUATION_BATCH_CLAIM_SECONDS
    window = timedelta(seconds=lease + CLOCK_SKEW_SECONDS)
    taken = frozenset(
        ProviderBatch.objects.filter(provider=batch.provider, submitted_at__gte=started - window)
        .exclude(pk=batch.pk)
        .exclude(provider_batch_id="")
        .values_list("provider_batch_id", flat=True)
    )
    since = started.timestamp()
    return api.find(
        key=batch.submission_key, since=since, until=since + lease,
        request_count=len(lines), taken=taken,
    )  # fmt: skip


def _record_submitted(batch: ProviderBatch, submitted: Submitted) -> bool:
    """Submitting to submitted with the provider's ids (conditional: once)."""
    return bool(
        ProviderBatch.objects.filter(pk=batch.pk, status=BatchStatus.SUBMITTING).update(
            status=BatchStatus.SUBMITTED,
            provider_batch_id=submitted.batch_id,
            input_file_id=submitted.input_file_id,
            provider_state=submitted.provider_state,
            submitted_at=timezone.now(),
            error="",
            claimed_until=None,
            polled_at=timezone.now(),
        )  # fmt: skip
    )


def _submit(batch: ProviderBatch, run: EvaluationRun, api: BatchAPI) -> str:
    """Write-ahead submission: an unconfirmed earlier attempt is looked for at the provider
    first (adopted when found); otherwise the batch is marked ``submitting`` (committed)
    and then sent."""
    lines = _request_lines(batch, run, api)
    if batch.status == BatchStatus.SUBMITTING and batch.submission_key:
        try:
            found = _find(batch, api, lines)
        except TransientProviderError as exc:
            _release(batch.pk, error=f"looking for the submitted batch: {exc}"[:2000])
            return "retry"
        except ProviderError as exc:
            # The provider will not list its batches (a compatible server without the list
            # endpoint): sending again is the only way forward; say so.
            log.warning("batch %s: cannot list the provider's batches (%s); submitting again",
                        batch.pk, exc)  # fmt: skip
            found = None
        if found is not None:
            _record_submitted(batch, found)
            log.info("batch %s: adopted %s, submitted earlier", batch.pk, found.batch_id)
            return "adopted"
    # The write-ahead record, committed before the call (autocommit: no transaction here).
    if not ProviderBatch.objects.filter(
        pk=batch.pk, status__in=(BatchStatus.PENDING, BatchStatus.SUBMITTING)
    ).update(status=BatchStatus.SUBMITTING, submit_started_at=timezone.now()):
        return "already handled"
    try:
        submitted = api.submit(
            lines, name=f"valueportrait-run{run.pk}-batch{batch.pk}", key=batch.submission_key
        )
    except TransientProviderError as exc:
        # The provider may have accepted it all the same (a lost reply, a timeout): it stays
        # submitting, and the next attempt looks for it before sending.
        _release(batch.pk, error=f"submitting: {exc}"[:2000])
        return "retry"
    except ProviderError as exc:
        # The provider refused the batch itself: its units fail as a refused live call does.
        base_request = run.generation_request()
        jobs = _jobs_by_unit(run, batch.requests, base_request)
        with transaction.atomic():
            if not ProviderBatch.objects.filter(pk=batch.pk, status=BatchStatus.SUBMITTING).update(
                status=BatchStatus.FAILED, error=str(exc)[:2000], claimed_until=None
            ):
                return "already handled"
            store_outcomes([
                Outcome(job, _failed(run, job, e, f"batch refused: {exc}", api, base_request),
                        [], [])
                for e in batch.requests if (job := jobs.get(as_unit(e["unit"])))
            ])  # fmt: skip
        return "refused"
    return "submitted" if _record_submitted(batch, submitted) else "already handled"


def _failed(run, job, entry, error: str, api: BatchAPI, base_request):
    tokens_in, tokens_out = entry["tokens"]
    return failed_row(
        run, job, error=error, invalid_texts=list(entry["invalid"]),
        attempts=entry["attempt"] + entry["rounds"] + 1, input_tokens=tokens_in,
        output_tokens=tokens_out,
        request_params=api.sent_params(_entry_request(run, job, entry, base_request)),
        batched=True,
    )  # fmt: skip


def _poll(batch: ProviderBatch, run: EvaluationRun, api: BatchAPI) -> str:
    try:
        status = api.status(batch.provider_batch_id)
        results: list[BatchResult] = []
        if status.state == ENDED:
            ids = [custom_id(batch, i) for i in range(len(batch.requests))]
            results = list(api.results(status, ids))
            if results and not set(ids) & {r.custom_id for r in results}:
                # An adopted batch that was another submission's (Anthropic's list cannot
                # show custom ids): nothing matches, so its units are asked again.
                log.warning("batch %s: the provider's batch %s holds none of its requests",
                            batch.pk, batch.provider_batch_id)  # fmt: skip
    except TransientProviderError as exc:
        _release(batch.pk, error=f"polling: {exc}"[:2000])
        return "retry"
    except ProviderError as exc:
        # A batch the provider no longer knows (or refuses to show): its units are retried.
        log.warning("batch %s of run %s: %s", batch.pk, run.pk, exc)
        ingest(batch=batch, run=run, results=[], whole_batch_error=f"batch lost: {exc}")
        return "lost"
    if status.state == IN_PROGRESS:
        _release(batch.pk, provider_state=status.provider_state, counts=status.counts, error="")
        return "in progress"
    ProviderBatch.objects.filter(pk=batch.pk).update(
        provider_state=status.provider_state, counts=status.counts
    )
    whole = "" if status.state == ENDED else f"batch {status.state}: {status.error}".strip(": ")
    ingest(batch=batch, run=run, results=results, whole_batch_error=whole)
    return "ingested"


def ingest(
    *, batch: ProviderBatch, run: EvaluationRun, results: list[BatchResult],
    whole_batch_error: str = "",
) -> int:  # fmt: skip
    """Store an ended batch's results (one transaction, no HTTP): each answer parsed and
    stored as a live one; an unreadable answer with re-asks left, and a request that failed
    for a temporary reason (expired, cancelled, 429/5xx, no result line), go to the next round
    — a follow-up batch, or live calls for the failures when ``run.batch_retry`` says so —
    until ``max_retries`` rounds failed; a refused request is stored as failed. Ingested once
    (the batch moves from submitted to ingested first). Returns the rows written."""
    config = run.model_config
    base_request = run.generation_request()
    by_id = {r.custom_id: r for r in results}
    api = batch_api_for(config)
    written = 0
    try:
        with transaction.atomic():
            if not ProviderBatch.objects.filter(pk=batch.pk, status=BatchStatus.SUBMITTED).update(
                status=BatchStatus.INGESTED, ended_at=timezone.now(), claimed_until=None,
                polled_at=timezone.now(), error=whole_batch_error[:2000],
            ):  # fmt: skip
                return 0
            jobs = _jobs_by_unit(run, batch.requests, base_request)
            outcomes, follow_ups, live = [], [], []
            for index, entry in enumerate(batch.requests):
                job = jobs.get(as_unit(entry["unit"]))
                if job is None:
                    continue
                result = by_id.get(custom_id(batch, index)) or BatchResult(
                    custom_id(batch, index), error=whole_batch_error or "no result for this request",
                    retryable=True,
                )  # fmt: skip
                if result.answer is not None:
                    answer = result.answer
                    request = _entry_request(run, job, entry, base_request)
                    answer.sent_params = api.sent_params(request)
                    step = _advance(run, job, entry, answer, cached=False)
                    if run.use_cache:
                        new = cache_entry(run, job.keys[entry["attempt"]], answer)
                        if isinstance(step, Outcome):
                            step.new_cache.append(new)
                        else:
                            outcomes.append(Outcome(job, None, [new], []))
                    if isinstance(step, Outcome):
                        outcomes.append(step)
                    else:
                        follow_ups.append(step)
                    continue
                retry = result.retryable and entry["rounds"] < config.max_retries
                if not retry:
                    error = result.error + (" (after batch retries)" if result.retryable else "")
                    outcomes.append(
                        Outcome(job, _failed(run, job, entry, error, api, base_request), [], [])
                    )
                elif run.batch_retry == EvaluationRun.BatchRetry.LIVE:
                    live.append(job.unit)
                else:
                    follow_ups.append({**entry, "rounds": entry["rounds"] + 1})
            rows = [o for o in outcomes if o.row is not None]
            store_outcomes(outcomes)
            written = len(rows)
            new_batches = _plan(run, follow_ups, round_=batch.round + 1)
            _enqueue(new_batches)
            _enqueue_live(run, live)
    finally:
        api.close()
    return written


def _enqueue_live(run: EvaluationRun, units: list[Unit]) -> None:
    """Retry these units with live calls (the live path's own retries and re-asks)."""
    from evaluation.tasks import evaluate_batch  # import cycle: the tasks call this module

    groups = [[list(u) for u in group] for group in chunks(units, run.batch_size)]
    run_id = run.pk
    transaction.on_commit(lambda: [evaluate_batch.delay(run_id, g) for g in groups])
