"""Start a sweep: every run of a sweep file, in one place (the command and the API call it).

All or nothing: the file is checked (:mod:`evaluation.sweep_spec`), its names resolved and
every run created as a draft inside one transaction; any refusal raises
:class:`~evaluation.errors.InvalidSweep` and leaves nothing behind. Only then are the new runs
started (outside the transaction, as :func:`evaluation.lifecycle.start_run` requires).

A combination whose parameters (:meth:`EvaluationRun.compute_fingerprint`) match a run that
is done is skipped and that run linked to the sweep; one matching a queued or running run is
linked and not started twice; one matching a draft (left when the queue was down) starts that
draft. Every other combination gets a new run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from benchmark.models import ValidatedItemSet
from evaluation import lifecycle
from evaluation.errors import (
    InvalidRunSettings,
    InvalidSweep,
    QueueUnavailable,
    RunStateConflict,
)
from evaluation.models import EvaluationRun, ModelConfiguration, Sweep
from evaluation.sweep_spec import SweepSpecError, parse_sweep

Status = EvaluationRun.Status


@dataclass
class SweepOutcome:
    """What :func:`start_sweep` did, run ids per outcome."""

    sweep: Sweep
    started: list[int] = field(default_factory=list)
    skipped_done: list[int] = field(default_factory=list)
    already_active: list[int] = field(default_factory=list)
    not_started: list[int] = field(default_factory=list)  # created, the queue was unavailable
    queue_error: str = ""

    def as_dict(self) -> dict:
        return {
            "sweep": self.sweep.pk,
            "started": self.started,
            "skipped_done": self.skipped_done,
            "already_active": self.already_active,
            "not_started": self.not_started,
            "queue_error": self.queue_error,
        }


def _resolve(names: list, model, *, key: str, lookup: str) -> dict:
    found = {getattr(obj, lookup): obj for obj in model.objects.filter(**{f"{lookup}__in": names})}
    for i, name in enumerate(names):
        if name not in found:
            raise InvalidSweep(f"{key}[{i}]: no {model._meta.verbose_name} {name!r}")
    return found


def start_sweep(*, spec: dict, created_by=None) -> SweepOutcome:
    """Create the sweep and its runs, start the new ones; raise :class:`InvalidSweep` (and
    create nothing) when the file or any combination is invalid."""
    try:
        parsed = parse_sweep(spec)
    except SweepSpecError as exc:
        raise InvalidSweep(str(exc)) from None
    models = _resolve(
        list(dict.fromkeys(r.model for r in parsed.runs)),
        ModelConfiguration,
        key="models",
        lookup="name",
    )
    item_sets = _resolve(
        list(dict.fromkeys(r.item_set for r in parsed.runs)),
        ValidatedItemSet,
        key="item_sets",
        lookup="pk",
    )
    pending: list[int] = []
    with transaction.atomic():
        sweep = Sweep.objects.create(name=parsed.name, spec=spec, created_by=created_by)
        outcome = SweepOutcome(sweep=sweep)
        linked: list[int] = []
        for request in parsed.runs:
            try:
                draft = lifecycle.create_run(
                    model_config=models[request.model],
                    item_set=item_sets[request.item_set],
                    variants=list(request.variants) if request.variants else None,
                    personas=list(request.personas),
                    repetitions=request.repetitions,
                    template_set=request.template_set,
                    template_set_version=request.template_set_version,
                    label=f"{parsed.name} (sweep #{sweep.pk})"[:200],
                    created_by=created_by,
                    **parsed.options,
                )
            except InvalidRunSettings as exc:
                raise InvalidSweep(f"{request.describe()}: {exc}") from None
            same = EvaluationRun.objects.with_parameters(draft.parameters_fingerprint).exclude(
                pk=draft.pk
            )
            done = same.done().order_by("-finished_at", "-id").first()
            active = None if done else same.active().order_by("-id").first()
            # A draft left by an earlier call (the queue was down) is started, not duplicated.
            unstarted = (
                None if done or active else same.filter(status=Status.DRAFT).order_by("-id").first()
            )
            if done or active:
                draft.delete()
                existing = done or active
                (outcome.skipped_done if done else outcome.already_active).append(existing.pk)
                linked.append(existing.pk)
            else:
                if unstarted is not None:
                    draft.delete()
                    draft = unstarted
                if draft.pk not in pending:  # the file named this combination twice
                    pending.append(draft.pk)
                linked.append(draft.pk)
        sweep.runs.add(*linked)
    for position, run_id in enumerate(pending):
        try:
            lifecycle.start_run(run_id=run_id)
        except RunStateConflict:
            # Someone started the same draft meanwhile: it runs, once.
            outcome.already_active.append(run_id)
            continue
        except QueueUnavailable as exc:
            # The runs stay drafts in the sweep: starting the sweep again starts them.
            outcome.not_started = pending[position:]
            outcome.queue_error = str(exc)
            break
        outcome.started.append(run_id)
    return outcome
