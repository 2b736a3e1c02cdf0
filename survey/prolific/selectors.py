"""Reads for the participant review page (never imports ``services``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from survey.models import BonusBatch, Participant, ProlificAction, ProlificSubmission, Study


@dataclass(frozen=True)
class ReviewFilters:
    """What the review table is narrowed to ("" = everything); read from the query by
    :class:`survey.prolific.forms.ReviewQuery`."""

    status: str = ""  # a Participant.Status value
    prolific_status: str = ""  # a Prolific submission status
    flagged: str = ""  # "yes" / "no"


def participant_row(participant: Participant, submission: ProlificSubmission | None) -> dict:
    metrics = participant.quality_flags or {}
    seconds = None
    if participant.consented_at and participant.completed_at:
        seconds = (participant.completed_at - participant.consented_at).total_seconds()
    return {
        "pk": participant.pk,
        "pseudonym": participant.pseudonym,
        "status": participant.status,
        "status_label": participant.get_status_display(),
        "submission_id": submission.submission_id if submission else "",
        "prolific_status": submission.status if submission else "",
        "reviewable": bool(submission and submission.is_reviewable),
        "return_requested": bool(submission and submission.return_requested_at),
        "seconds_taken": seconds,
        "prolific_seconds": submission.time_taken if submission else None,
        "median_item_seconds": metrics.get("median_item_page_seconds"),
        "item_pages_too_fast": metrics.get("item_pages_too_fast"),
        "attention_failures": metrics.get("attention_failures"),
        "attention_checks": metrics.get("attention_checks_answered"),
        "straightlining_share": metrics.get("straightlining_share"),
        "flags": participant.flags,
        "completed_at": participant.completed_at,
    }


def review_rows(*, study: Study, filters: ReviewFilters = ReviewFilters()) -> list[dict]:
    """One row per participant who consented (declines have nothing to review), with their
    Prolific submission when we know it, narrowed by ``filters``."""
    participants = Participant.objects.filter(study=study).exclude(
        status=Participant.Status.NO_CONSENT
    )
    if filters.status:
        participants = participants.filter(status=filters.status)
    if filters.flagged == "yes":
        participants = participants.flagged()
    elif filters.flagged == "no":
        participants = participants.unflagged()
    submissions = {
        s.participant_id: s
        for s in ProlificSubmission.objects.filter(study=study, participant__isnull=False).order_by(
            "started_at"
        )
    }
    rows = [participant_row(p, submissions.get(p.pk)) for p in participants.order_by("started_at")]
    if filters.prolific_status:
        rows = [r for r in rows if r["prolific_status"] == filters.prolific_status]
    return rows


def submission_ids_of(*, study: Study, participant_pks: Iterable) -> list[str]:
    """The Prolific submission ids of the chosen participants (those we know one for)."""
    pks = [int(pk) for pk in participant_pks if str(pk).isdigit()]
    return list(
        ProlificSubmission.objects.filter(study=study, participant__pk__in=pks).values_list(
            "submission_id", flat=True
        )
    )


def unmatched_submissions(*, study: Study) -> list[ProlificSubmission]:
    """Submissions on Prolific with no participant here (never reached our consent page)."""
    return list(ProlificSubmission.objects.filter(study=study, participant__isnull=True))


def review_summary(*, study: Study) -> dict:
    submissions = ProlificSubmission.objects.filter(study=study)
    return {
        "awaiting_review": submissions.reviewable().count(),
        "approvable_without_flags": submissions.approvable_without_flags().count(),
        "statuses": sorted(set(submissions.values_list("status", flat=True))),
    }


def action_log(*, study: Study, limit: int = 100) -> list[ProlificAction]:
    return list(ProlificAction.objects.filter(study=study).select_related("user")[:limit])


def bonus_batches(*, study: Study) -> list[dict]:
    """Each batch with whether a person must check Prolific before anything else happens."""
    batches = BonusBatch.objects.filter(study=study)
    stuck = set(batches.outcome_unknown().values_list("pk", flat=True))
    return [
        {"batch": batch, "needs_check": batch.pk in stuck, "total": batch.total}
        for batch in batches.select_related("created_by")
    ]
