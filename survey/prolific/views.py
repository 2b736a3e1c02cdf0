"""The participant review page (researchers) and Prolific's signed webhook: thin adapters over
``survey.prolific.services`` and ``selectors``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.roles import researcher_required
from survey.models import BonusBatch, Participant, ProlificStudy, Study
from survey.prolific import client as api
from survey.prolific import selectors, services
from survey.prolific.errors import InvalidRequest, ProlificOperationError, ProlificRefused
from survey.prolific.forms import ProlificSettingsForm, ReviewQuery

# A signed webhook older than this is refused (a replayed capture).
WEBHOOK_MAX_AGE_SECONDS = 300

REJECTION_HELP = (
    "Prolific allows rejecting only for a clear reason it lists: failed attention checks "
    "(two fair instructed-response checks, not memory tests), no or a wrong completion code, "
    "no data, or exceptionally low effort. Being fast or giving unusual answers is not one: "
    "for those, approve (and exclude the data here) or ask the participant to return. The "
    "message goes to the participant and must be at least 100 characters."
)


@researcher_required
@require_GET
def review(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    prolific = ProlificStudy.objects.filter(study=study).first()
    summary = selectors.review_summary(study=study)
    query = ReviewQuery(request.GET, stored_statuses=summary["statuses"])
    if not query.is_valid():
        context = {"study": study, "query_errors": query.messages()}
        return render(request, "survey/staff/bad_query.html", context, status=400)
    filters = query.filters()
    entry = request.build_absolute_uri(reverse("survey:entry", args=[study.slug]))
    return render(
        request,
        "survey/staff/review.html",
        {
            "study": study,
            "prolific": prolific,
            "study_url": f"{entry}?{services.URL_PARAMETERS}",
            "rows": selectors.review_rows(study=study, filters=filters),
            "filters": filters,
            "summary": summary,
            "unmatched": selectors.unmatched_submissions(study=study),
            "actions": selectors.action_log(study=study),
            "batches": selectors.bonus_batches(study=study),
            "statuses": Participant.Status.choices,
            "categories": api.REJECTION_CATEGORIES,
            "rejection_help": REJECTION_HELP,
            "bonus_key": uuid.uuid4().hex,
            "settle_minutes": settings.PROLIFIC_BONUS_SETTLE_MINUTES,
            "settings_form": ProlificSettingsForm(instance=prolific),
        },
    )


def perform(request: HttpRequest, study: Study) -> str:
    """Run the posted action through its service; returns what to tell the researcher."""
    post, user = request.POST, request.user
    action = post.get("action", "")
    chosen = selectors.submission_ids_of(study=study, participant_pks=post.getlist("selected"))
    if action == "settings":
        form = ProlificSettingsForm(post, instance=ProlificStudy(study=study))
        if not form.is_valid():
            raise InvalidRequest(
                " ".join(
                    f"{getattr(form.fields.get(f), 'label', None) or f}: {' '.join(e)}"
                    for f, e in form.errors.items()
                )
            )
        services.save_settings(study=study, values=form.cleaned_data, user=user)
        return "Prolific settings saved."
    if action == "create_draft":
        entry = request.build_absolute_uri(reverse("survey:entry", args=[study.slug]))
        prolific = services.create_draft(study=study, entry_url=entry, user=user)
        return f"Draft study {prolific.prolific_study_id} created on Prolific."
    if action in ("PUBLISH", "PAUSE", "START", "STOP"):
        status = services.transition_study(study=study, action=action, user=user)
        return f"Prolific says the study is now {status or 'changing'}."
    if action == "sync":
        return (
            f"{services.sync_submissions(study=study, user=user)} submissions read from Prolific."
        )
    if action == "approve_clean":
        return f"{services.approve_clean(study=study, user=user)} submissions approved."
    if action == "approve":
        return f"{services.approve(study=study, submission_ids=chosen, user=user)} approved."
    if action == "reject":
        n = services.reject(
            study=study,
            submission_ids=chosen,
            category=post.get("category", ""),
            message=post.get("message", ""),
            user=user,
        )
        return f"{n} submissions rejected."
    if action == "request_return":
        reasons = [post.get("reason", "")]
        n = services.request_return(study=study, submission_ids=chosen, reasons=reasons, user=user)
        return f"Return requested from {n} participants."
    if action == "bonus":
        batch = services.record_bonus_batch(
            study=study,
            bonuses={sid: post.get("amount", "") for sid in chosen},
            request_key=post.get("bonus_key", ""),
            user=user,
        )
        return pay_and_tell(batch_id=batch.pk, user=user)
    if action == "pay_batch":
        return pay_and_tell(batch_id=int(post.get("batch", 0)), user=user)
    if action == "check_batch":
        batch = services.check_bonus_batch(batch_id=int(post.get("batch", 0)), user=user)
        return f"Bonus batch {batch.pk}: {batch.get_state_display().lower()}. {batch.check_note}"
    if action in ("confirm_paid", "confirm_unpaid"):
        batch = services.confirm_bonus_outcome(
            batch_id=int(post.get("batch", 0)), paid=action == "confirm_paid", user=user
        )
        return f"Bonus batch {batch.pk}: {batch.get_state_display().lower()}."
    raise InvalidRequest(f"Unknown action {action!r}.")


def pay_and_tell(*, batch_id: int, user) -> str:
    """Pay the batch; a pay call without a clear answer is said to be exactly that."""
    try:
        batch = services.pay_bonus_batch(batch_id=batch_id, user=user)
    except ProlificRefused as exc:
        if not BonusBatch.objects.outcome_unknown().filter(pk=batch_id).exists():
            raise
        raise ProlificRefused(
            f"Bonus batch {batch_id}: outcome unknown — check on Prolific. {exc.message} "
            "Prolific may have paid it, so it is not paid again: it is checked on Prolific "
            "automatically (or use “Check on Prolific now” below)."
        ) from exc
    return f"Bonus batch {batch.pk}: {batch.get_state_display().lower()}."


@researcher_required
@require_POST
def review_action(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        messages.success(request, perform(request, study))
    except ProlificOperationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("studies:review", args=[slug]) + "?" + request.GET.urlencode())


def signature_is_valid(*, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Prolific's scheme: base64(HMAC-SHA256(secret, timestamp + body))."""
    expected = base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    )
    return hmac.compare_digest(expected, signature.encode())


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """``submission.status.change`` events, signed with the workspace's secret (the variable
    named by ``PROLIFIC_WEBHOOK_SECRET_ENV``); unsigned, stale or forged requests get a 403."""
    secret = os.environ.get(settings.PROLIFIC_WEBHOOK_SECRET_ENV, "")
    timestamp = request.headers.get("X-Prolific-Request-Timestamp", "")
    signature = request.headers.get("X-Prolific-Request-Signature", "")
    try:
        fresh = abs(time.time() - float(timestamp)) <= WEBHOOK_MAX_AGE_SECONDS
    except ValueError:
        fresh = False
    if not (secret and fresh and signature) or not signature_is_valid(
        secret=secret, timestamp=timestamp, body=request.body, signature=signature
    ):
        return HttpResponse("Signature missing, stale or wrong.", status=403)
    try:
        event = json.loads(request.body)
    except ValueError:
        return HttpResponse("Not JSON.", status=400)
    submission = services.apply_webhook_event(event=event if isinstance(event, dict) else {})
    return JsonResponse({"stored": submission is not None})
