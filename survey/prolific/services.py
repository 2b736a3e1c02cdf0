"""Every write that talks to Prolific. Each call is logged as a ``ProlificAction`` (who, when,
each request as sent, Prolific's answer), whether Prolific agreed or not.

No transaction is held across an HTTP call: state is claimed with a conditional UPDATE, the
call is made, and the outcome is written afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from survey.models import (
    BonusBatch,
    Participant,
    ProlificAction,
    ProlificStudy,
    ProlificSubmission,
    Study,
)
from survey.models.prolific import STALE_CLAIM
from survey.prolific import bonus_evidence as evidence
from survey.prolific import client as api
from survey.prolific.errors import (
    InvalidRequest,
    NotConfigured,
    ProlificRefused,
    StateConflict,
)

URL_PARAMETERS = (
    "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
)
K = ProlificAction.Kind
Outcome = ProlificAction.Outcome


# --- plumbing -------------------------------------------------------------------------------


def settings_of(study: Study) -> ProlificStudy:
    try:
        return study.prolific
    except ProlificStudy.DoesNotExist:
        raise NotConfigured("This study has no Prolific settings yet.") from None


def client_for(prolific: ProlificStudy) -> api.ProlificClient:
    """A client with the token read now from the variable the study names (never stored)."""
    token = os.environ.get(prolific.api_token_env, "")
    if not token:
        raise NotConfigured(
            f"The environment variable {prolific.api_token_env} (the study's Prolific token) "
            "is not set on this server."
        )
    return api.ProlificClient(
        token=token,
        base_url=settings.PROLIFIC_API_URL,
        backoff_seconds=settings.PROLIFIC_RETRY_BACKOFF_SECONDS,
    )


def record(
    *,
    study: Study,
    kind: str,
    outcome: str,
    client: api.ProlificClient | None,
    user=None,
    submission_ids: Iterable[str] = (),
    note: str = "",
) -> ProlificAction:
    exchanges = [e.as_json() for e in client.exchanges] if client else []
    if client:
        client.exchanges.clear()
    return ProlificAction.objects.create(
        study=study,
        user=user if getattr(user, "is_authenticated", False) else None,
        kind=kind,
        outcome=outcome,
        submission_ids=list(submission_ids),
        exchanges=exchanges,
        note=note,
    )


def outcome_of(error: api.ProlificError) -> str:
    if isinstance(error, api.OutcomeUnknown):
        return Outcome.UNKNOWN
    return Outcome.FAILED if isinstance(error, api.TemporaryError) else Outcome.REFUSED


def send(*, study, kind, user, submission_ids=(), call):
    """Run ``call(client)`` and log it; Prolific's refusal becomes ``ProlificRefused``."""
    prolific = settings_of(study)
    with client_for(prolific) as client:
        try:
            answer = call(client, prolific)
        except api.ProlificError as exc:
            record(
                study=study,
                kind=kind,
                outcome=outcome_of(exc),
                client=client,
                user=user,
                submission_ids=submission_ids,
                note=str(exc),
            )
            raise ProlificRefused(str(exc)) from exc
        record(
            study=study,
            kind=kind,
            outcome=Outcome.OK,
            client=client,
            user=user,
            submission_ids=submission_ids,
        )
    return answer


# --- the study ------------------------------------------------------------------------------

# What Prolific fixes once the study exists there: change it on Prolific, not here.
FIXED_ON_PROLIFIC = ("reward_cents", "places", "estimated_minutes")


def save_settings(*, study: Study, values: dict, user=None) -> ProlificStudy:
    """Create or change the study's Prolific settings (``values``: cleaned form data). The
    reward, places and time are refused once the study exists on Prolific."""
    prolific, _ = ProlificStudy.objects.get_or_create(study=study)
    changed = [n for n in FIXED_ON_PROLIFIC if n in values and values[n] != getattr(prolific, n)]
    if prolific.prolific_study_id and changed:
        raise StateConflict(
            "The study already exists on Prolific: change "
            + ", ".join(n.replace("_", " ") for n in changed)
            + " there."
        )
    for name, value in values.items():
        setattr(prolific, name, value)
    prolific.save()
    return prolific


def study_payload(*, study: Study, prolific: ProlificStudy, entry_url: str) -> dict:
    """Prolific's draft study from ours: texts, our link with Prolific's placeholders, the
    completion codes with what each does, time, reward and places."""
    codes = [
        {
            "code": study.completion_code,
            "code_type": "COMPLETED",
            "actions": [{"action": "MANUALLY_REVIEW"}],
        }
    ]
    if study.screened_out_code:
        # Reviewed by hand: failing two fair attention checks is a ground for rejection.
        codes.append(
            {
                "code": study.screened_out_code,
                "code_type": "FAILED_ATTENTION_CHECK",
                "actions": [{"action": "MANUALLY_REVIEW"}],
            }
        )
    if study.no_consent_code:
        codes.append(
            {
                "code": study.no_consent_code,
                "code_type": "NO_CONSENT",
                "actions": [{"action": "REQUEST_RETURN", "return_reason": "Did not consent."}],
            }
        )
    return {
        "name": study.title,
        "internal_name": f"{study.title} ({study.slug})",
        "description": study.description or study.title,
        "external_study_url": f"{entry_url}?{URL_PARAMETERS}",
        "prolific_id_option": "url_parameters",
        "completion_codes": codes,
        "estimated_completion_time": prolific.estimated_minutes,
        "maximum_allowed_time": study.time_limit_minutes,
        "reward": prolific.reward_cents,
        "total_available_places": prolific.places,
        "device_compatibility": ["desktop", "tablet", "mobile"],
    }


def create_draft(*, study: Study, entry_url: str, user=None) -> ProlificStudy:
    """Create the study on Prolific as a draft (once: a second call is refused)."""
    prolific = settings_of(study)
    if not study.completion_code:
        raise InvalidRequest("The study needs a completion code before it goes to Prolific.")
    if prolific.reward_cents < 1 or prolific.places < 1:
        raise InvalidRequest("Set the reward and the number of places first.")
    now = timezone.now()
    claimed = (
        ProlificStudy.objects.filter(pk=prolific.pk, prolific_study_id="")
        .filter(Q(creating_since__isnull=True) | Q(creating_since__lt=now - STALE_CLAIM))
        .update(creating_since=now)
    )
    if not claimed:
        raise StateConflict("The study is already on Prolific (or being created there).")
    payload = study_payload(study=study, prolific=prolific, entry_url=entry_url)
    try:
        answer = send(
            study=study,
            kind=K.CREATE_DRAFT,
            user=user,
            call=lambda client, _: client.create_study(payload),
        )
    except (ProlificRefused, NotConfigured):
        ProlificStudy.objects.filter(pk=prolific.pk).update(creating_since=None)
        raise
    ProlificStudy.objects.filter(pk=prolific.pk).update(
        prolific_study_id=answer["id"],
        prolific_status=answer.get("status", "UNPUBLISHED"),
        creating_since=None,
    )
    prolific.refresh_from_db()
    return prolific


def transition_study(*, study: Study, action: str, user=None) -> str:
    """Publish, pause, restart or stop the study on Prolific; returns its new status."""
    if action not in api.STUDY_ACTIONS:
        raise InvalidRequest(f"Unknown action {action!r}.")
    prolific = settings_of(study)
    if not prolific.prolific_study_id:
        raise NotConfigured("Create the study on Prolific first.")
    answer = send(
        study=study,
        kind=K.TRANSITION,
        user=user,
        call=lambda client, p: client.transition_study(p.prolific_study_id, action),
    )
    status = (answer or {}).get("status", "") if isinstance(answer, dict) else ""
    ProlificStudy.objects.filter(pk=prolific.pk).update(prolific_status=status)
    return status


# --- submissions ----------------------------------------------------------------------------


def store_submission(*, study: Study, data: dict) -> ProlificSubmission:
    """Insert or update one submission from Prolific's JSON, matched to our participant by
    the Prolific id they arrived with (and the session id = submission id)."""
    submission_id = data["id"]
    pid = data.get("participant_id") or data.get("participant") or ""
    participant = (
        Participant.objects.filter(study=study)
        .filter(Q(prolific_session_id=submission_id) | Q(external_id=pid, origin="prolific"))
        .order_by("-started_at")
        .first()
    )
    values = {
        "study": study,
        "participant": participant,
        "prolific_participant_id": pid,
        "status": data.get("status", ""),
        "study_code": data.get("study_code") or data.get("entered_code") or "",
        "started_at": parse_datetime(data["started_at"]) if data.get("started_at") else None,
        "completed_at": parse_datetime(data["completed_at"]) if data.get("completed_at") else None,
        "time_taken": data.get("time_taken"),
    }
    submission, _ = ProlificSubmission.objects.update_or_create(
        submission_id=submission_id, defaults=values
    )
    return submission


def sync_submissions(*, study: Study, user=None) -> int:
    """Read every submission of the study from Prolific and store it; returns how many."""
    results = send(
        study=study,
        kind=K.SYNC,
        user=user,
        call=lambda client, p: client.list_submissions(p.prolific_study_id),
    )
    with transaction.atomic():
        for data in results:
            store_submission(study=study, data=data)
        ProlificStudy.objects.filter(study=study).update(synced_at=timezone.now())
    return len(results)


def reviewable(*, study: Study, submission_ids: Iterable[str]) -> list[str]:
    ids = list(
        ProlificSubmission.objects.filter(study=study, submission_id__in=list(submission_ids))
        .reviewable()
        .values_list("submission_id", flat=True)
    )
    if not ids:
        raise InvalidRequest("None of these submissions is awaiting review on Prolific.")
    return ids


def approve(*, study: Study, submission_ids: Iterable[str], user=None) -> int:
    """Approve the reviewable ones among ``submission_ids`` (one bulk call)."""
    ids = reviewable(study=study, submission_ids=submission_ids)
    send(
        study=study,
        kind=K.APPROVE,
        user=user,
        submission_ids=ids,
        call=lambda client, _: client.bulk_approve(ids),
    )
    ProlificSubmission.objects.filter(submission_id__in=ids).update(
        status=ProlificSubmission.Status.APPROVED
    )
    return len(ids)


def approve_clean(*, study: Study, user=None) -> int:
    """Approve every reviewable submission of a participant who completed without a flag."""
    ids = list(
        ProlificSubmission.objects.filter(study=study)
        .approvable_without_flags()
        .values_list("submission_id", flat=True)
    )
    if not ids:
        raise InvalidRequest("No completed, unflagged submission is awaiting review.")
    return approve(study=study, submission_ids=ids, user=user)


def reject(
    *, study: Study, submission_ids: Iterable[str], category: str, message: str, user=None
) -> int:
    """Reject each submission with Prolific's category and a message to the participant (at
    least 100 characters, Prolific's rule). One call per submission, each logged."""
    if category not in api.REJECTION_CATEGORIES:
        raise InvalidRequest(f"Unknown rejection category {category!r}.")
    message = message.strip()
    if len(message) < api.MIN_REJECTION_MESSAGE:
        raise InvalidRequest(
            f"Prolific needs a message of at least {api.MIN_REJECTION_MESSAGE} characters "
            f"explaining the rejection ({len(message)} given)."
        )
    done = 0
    for sid in reviewable(study=study, submission_ids=submission_ids):
        send(
            study=study,
            kind=K.REJECT,
            user=user,
            submission_ids=[sid],
            call=lambda client, _, sid=sid: client.reject(sid, category=category, message=message),
        )
        ProlificSubmission.objects.filter(submission_id=sid).update(
            status=ProlificSubmission.Status.REJECTED
        )
        done += 1
    return done


def request_return(
    *, study: Study, submission_ids: Iterable[str], reasons: list[str], user=None
) -> int:
    """Ask each participant to return their submission (e.g. withdrew, could not finish)."""
    reasons = [r.strip() for r in reasons if r.strip()]
    if not reasons:
        raise InvalidRequest("Give the participant a reason for the return request.")
    done = 0
    for sid in reviewable(study=study, submission_ids=submission_ids):
        send(
            study=study,
            kind=K.REQUEST_RETURN,
            user=user,
            submission_ids=[sid],
            call=lambda client, _, sid=sid: client.request_return(sid, reasons=reasons),
        )
        ProlificSubmission.objects.filter(submission_id=sid).update(
            return_requested_at=timezone.now()
        )
        done += 1
    return done


def apply_webhook_event(*, event: dict) -> ProlificSubmission | None:
    """A ``submission.status.change`` event: the submission's new status (None when the
    submission or its study is not ours)."""
    submission_id, status = event.get("resource_id"), event.get("status")
    if event.get("event_type") != "submission.status.change" or not submission_id or not status:
        return None
    updated = ProlificSubmission.objects.filter(submission_id=submission_id).update(status=status)
    if updated:
        return ProlificSubmission.objects.get(submission_id=submission_id)
    prolific = ProlificStudy.objects.filter(prolific_study_id=event.get("study_id", "")).first()
    if prolific is None or not event.get("participant_id"):
        return None
    return store_submission(
        study=prolific.study,
        data={"id": submission_id, "participant_id": event["participant_id"], "status": status},
    )


# --- bonuses --------------------------------------------------------------------------------


def record_bonus_batch(
    *, study: Study, bonuses: dict[str, str | Decimal], request_key: str, user=None
) -> BonusBatch:
    """Record the bonuses to pay before anything is sent. The same ``request_key`` (one per
    form shown) returns the batch already recorded: a double submission records it once."""
    existing = BonusBatch.objects.filter(request_key=request_key).first()
    if existing is not None:
        return existing
    if not request_key:
        raise InvalidRequest("The bonus form has no key; reload the page.")
    cleaned = []
    known = set(
        ProlificSubmission.objects.filter(study=study, submission_id__in=list(bonuses)).values_list(
            "submission_id", flat=True
        )
    )
    for sid, raw in bonuses.items():
        if sid not in known:
            raise InvalidRequest(f"Submission {sid} is not one of this study's.")
        try:
            amount = Decimal(str(raw)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise InvalidRequest(f"{raw!r} is not an amount.") from None
        if amount <= 0:
            raise InvalidRequest("A bonus must be more than 0.")
        cleaned.append([sid, str(amount)])
    if not cleaned:
        raise InvalidRequest("Choose at least one submission for the bonus.")
    try:
        with transaction.atomic():
            return BonusBatch.objects.create(
                study=study,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                request_key=request_key,
                bonuses=cleaned,
            )
    except IntegrityError:  # the same form, submitted twice at the same moment
        return BonusBatch.objects.get(request_key=request_key)


def claim(batch_id: int, *, source: str, target: str, **extra) -> bool:
    """Move the batch from ``source`` to ``target`` if it is still there (one winner)."""
    return bool(
        BonusBatch.objects.filter(pk=batch_id, state=source).update(
            state=target, claimed_at=timezone.now(), **extra
        )
    )


def set_up_bonus_batch(*, batch_id: int, user=None) -> None:
    """Register the batch's bonuses with Prolific (pays nothing) and keep its bulk id."""
    S = BonusBatch.State
    # A set-up claimed by a process that died mid-call: Prolific may hold an unpaid set-up
    # we never heard of, which costs nothing; set the batch up again.
    BonusBatch.objects.stale_set_up().filter(pk=batch_id).update(state=S.RECORDED)
    if not claim(batch_id, source=S.RECORDED, target=S.SETTING_UP):
        return
    batch = BonusBatch.objects.select_related("study__prolific").get(pk=batch_id)
    ids = [sid for sid, _ in batch.bonuses]
    try:
        answer = send(
            study=batch.study,
            kind=K.BONUS_SET_UP,
            user=user,
            submission_ids=ids,
            call=lambda client, p: client.set_up_bonuses(p.prolific_study_id, batch.csv()),
        )
    except ProlificRefused as exc:
        temporary = isinstance(exc.__cause__, api.TemporaryError)
        BonusBatch.objects.filter(pk=batch_id, state=S.SETTING_UP).update(
            state=S.RECORDED if temporary else S.REFUSED, error=exc.message
        )
        raise
    except NotConfigured:
        BonusBatch.objects.filter(pk=batch_id, state=S.SETTING_UP).update(state=S.RECORDED)
        raise
    BonusBatch.objects.filter(pk=batch_id, state=S.SETTING_UP).update(
        state=S.SET_UP,
        prolific_bulk_id=answer["id"],
        total_charged={k: answer.get(k) for k in ("amount", "fees", "vat", "total_amount")},
        error="",
    )


def pay_set_up_batch(*, batch_id: int, user=None) -> None:
    """Pay a set-up batch, once. Only the request that moves it from set_up to paying sends
    the (non-idempotent) pay call; an unclear answer leaves it ``unknown`` until
    :func:`check_bonus_batch` (or a person) learns what happened."""
    S = BonusBatch.State
    if not claim(batch_id, source=S.SET_UP, target=S.PAYING, pay_sent_at=timezone.now()):
        return
    batch = BonusBatch.objects.select_related("study").get(pk=batch_id)
    try:
        send(
            study=batch.study,
            kind=K.BONUS_PAY,
            user=user,
            submission_ids=[sid for sid, _ in batch.bonuses],
            call=lambda client, _: client.pay_bonuses(batch.prolific_bulk_id),
        )
    except ProlificRefused as exc:
        cause = exc.__cause__
        if isinstance(cause, api.OutcomeUnknown):
            state = S.UNKNOWN
        elif isinstance(cause, api.TemporaryError):  # 429 or never sent: surely not paid
            state = S.SET_UP
        else:
            state = S.REFUSED
        BonusBatch.objects.filter(pk=batch_id, state=S.PAYING).update(
            state=state, error=exc.message
        )
        raise
    except NotConfigured:
        BonusBatch.objects.filter(pk=batch_id, state=S.PAYING).update(state=S.SET_UP)
        raise
    BonusBatch.objects.filter(pk=batch_id, state=S.PAYING).update(
        state=S.PAID, paid_at=timezone.now(), error=""
    )


def pay_bonus_batch(*, batch_id: int, user=None) -> BonusBatch:
    """Take a recorded batch as far as it can go: set up on Prolific, then paid. Safe to
    call any number of times, concurrently or after a crash: each step is claimed first."""
    set_up_bonus_batch(batch_id=batch_id, user=user)
    pay_set_up_batch(batch_id=batch_id, user=user)
    return BonusBatch.objects.get(pk=batch_id)


def resumable_batch_ids() -> list[int]:
    """Batches a crash or a temporary failure left part-way that may safely go on: recorded,
    set up but unpaid, or a set-up whose claimer died. Never ``paying`` or ``unknown``."""
    S = BonusBatch.State
    stale = BonusBatch.objects.stale_set_up().values_list("pk", flat=True)
    waiting = BonusBatch.objects.filter(state__in=[S.RECORDED, S.SET_UP]).values_list(
        "pk", flat=True
    )
    return sorted({*stale, *waiting})


def unknown_batch_ids() -> list[int]:
    """Batches whose payment may or may not have happened, for :func:`check_bonus_batch`."""
    return sorted(BonusBatch.objects.outcome_unknown().values_list("pk", flat=True))


def settled(batch: BonusBatch) -> bool:
    """Whether Prolific has had time to pay the batch since the pay call was sent (it pays
    asynchronously, "in the following minutes")."""
    wait = timedelta(minutes=settings.PROLIFIC_BONUS_SETTLE_MINUTES)
    return batch.pay_sent_at is None or batch.pay_sent_at <= timezone.now() - wait


def check_bonus_batch(*, batch_id: int, user=None) -> BonusBatch:
    """Learn from Prolific whether a batch whose payment is unknown was paid, and act on it:

    - every bonus of the batch listed on its submission (``bonus_payments``): **paid**, and
      nothing is sent;
    - none listed, and the pay call older than ``PROLIFIC_BONUS_SETTLE_MINUTES``: not paid,
      so it goes back to ``set_up`` and is paid (once: :func:`pay_set_up_batch` claims it);
    - none listed yet, some listed, or counts another open batch could explain: ``unknown``
      again, with what was found in ``check_note`` (checked again later, or by a person).

    Each check is claimed (``checking``), so two checks never both decide to pay; a check
    that dies mid-way is taken over after ``STALE_CLAIM``. Logged with every request sent."""
    S = BonusBatch.State
    now = timezone.now()
    claimed = (
        BonusBatch.objects.outcome_unknown(now=now)
        .filter(pk=batch_id)
        .update(state=S.CHECKING, claimed_at=now)
    )
    batch = BonusBatch.objects.select_related("study").filter(pk=batch_id).first()
    if batch is None:
        raise InvalidRequest("No such bonus batch.")
    if not claimed:
        return batch
    ids = [sid for sid, _ in batch.bonuses]
    try:
        with client_for(settings_of(batch.study)) as client:
            try:
                listed = {
                    sid: (client.get_submission(sid) or {}).get("bonus_payments") or []
                    for sid in ids
                }
            except api.ProlificError as exc:
                record(
                    study=batch.study,
                    kind=K.BONUS_CHECK,
                    outcome=outcome_of(exc),
                    client=client,
                    user=user,
                    submission_ids=ids,
                    note=f"Batch {batch_id}: could not read the submissions ({exc}).",
                )
                raise ProlificRefused(str(exc)) from exc
            found = evidence.verdict(
                bonuses=batch.bonuses, listed=listed, **other_batches(batch=batch)
            )
            if found == evidence.Verdict.PAID:
                target, note = (
                    {"state": S.PAID, "paid_at": timezone.now()},
                    "Prolific lists every bonus of the batch on its submission: paid.",
                )
            elif found == evidence.Verdict.NOT_PAID and settled(batch):
                target, note = (
                    {"state": S.SET_UP},
                    "Prolific lists none of the batch's bonuses "
                    f"{settings.PROLIFIC_BONUS_SETTLE_MINUTES} minutes or more after the pay "
                    "call: not paid, so it is paid again (once).",
                )
            elif found == evidence.Verdict.NOT_PAID:
                target, note = (
                    {"state": S.UNKNOWN},
                    "Prolific lists none of the batch's bonuses yet; it pays asynchronously, "
                    "so this is checked again once "
                    f"{settings.PROLIFIC_BONUS_SETTLE_MINUTES} minutes have passed.",
                )
            else:
                target, note = (
                    {"state": S.UNKNOWN},
                    "Prolific lists some of the batch's bonuses but not all, or amounts another "
                    "open batch could explain: check the submissions on Prolific and confirm.",
                )
            record(
                study=batch.study,
                kind=K.BONUS_CHECK,
                outcome=Outcome.OK,
                client=client,
                user=user,
                submission_ids=ids,
                note=f"Batch {batch_id}: {note}",
            )
    except (ProlificRefused, NotConfigured) as exc:
        BonusBatch.objects.filter(pk=batch_id, state=S.CHECKING).update(
            state=S.UNKNOWN, checked_at=timezone.now(), check_note=f"Check failed: {exc.message}"
        )
        raise
    BonusBatch.objects.filter(pk=batch_id, state=S.CHECKING).update(
        checked_at=timezone.now(), check_note=note, **target
    )
    if target["state"] == S.SET_UP:
        pay_set_up_batch(batch_id=batch_id, user=user)
    return BonusBatch.objects.get(pk=batch_id)


def other_batches(*, batch: BonusBatch) -> dict:
    """The study's other batches' bonuses: those paid, and those whose payment is open."""
    S = BonusBatch.State
    others = BonusBatch.objects.filter(study=batch.study).exclude(pk=batch.pk)
    return {
        "known_paid": evidence.count_bonuses(
            others.filter(state=S.PAID).values_list("bonuses", flat=True)
        ),
        "maybe_paid": evidence.count_bonuses(
            others.filter(state__in=[S.PAYING, S.UNKNOWN, S.CHECKING]).values_list(
                "bonuses", flat=True
            )
        ),
    }


def confirm_bonus_outcome(*, batch_id: int, paid: bool, user=None) -> BonusBatch:
    """After a person checked Prolific: a batch whose payment is unknown (or whose payer
    died mid-call) was paid, or was not and may be paid again."""
    S = BonusBatch.State
    batch = BonusBatch.objects.filter(pk=batch_id).select_related("study").first()
    if batch is None:
        raise InvalidRequest("No such bonus batch.")
    target = {"state": S.PAID, "paid_at": timezone.now()} if paid else {"state": S.SET_UP}
    if not BonusBatch.objects.outcome_unknown().filter(pk=batch_id).update(**target):
        raise StateConflict("Only a batch whose payment is unknown can be confirmed by hand.")
    record(
        study=batch.study,
        kind=K.BONUS_RECONCILE,
        outcome=Outcome.OK,
        client=None,
        user=user,
        submission_ids=[sid for sid, _ in batch.bonuses],
        note=f"Batch {batch_id} confirmed {'paid' if paid else 'not paid'} on Prolific.",
    )
    return BonusBatch.objects.get(pk=batch_id)
