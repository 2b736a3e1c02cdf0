"""Reads for the staff's live monitor: participants by status, flags, item progress."""

from __future__ import annotations

from collections import Counter
from statistics import median

from django.db.models import Count, Q
from django.utils import timezone

from survey.models import Participant, Study


def item_progress(*, study: Study) -> list[dict]:
    """Per pool item: completed ratings, active leases and the target."""
    now = timezone.now()
    in_study = Q(assignments__participant__study=study)
    rows = (
        study.item_pool.select_related("scenario")
        .annotate(
            completed=Count(
                "assignments", filter=in_study & Q(assignments__completed_at__isnull=False)
            ),
            leased=Count(
                "assignments",
                filter=in_study
                & Q(
                    assignments__completed_at__isnull=True,
                    assignments__released_at__isnull=True,
                    assignments__expires_at__gt=now,
                ),
            ),
        )
        .order_by("scenario__external_id", "option_id")
    )
    target = study.target_ratings_per_item
    return [
        {
            "item_id": item.pk,
            "code": item.code,
            "completed": item.completed,
            "leased": item.leased,
            "target": target,
            "share": min(1.0, item.completed / target) if target else 1.0,
        }
        for item in rows
    ]


def monitor_data(*, study: Study) -> dict:
    """Everything the monitor page shows (also served as JSON for its auto-refresh)."""
    now = timezone.now()
    statuses = dict(
        study.participants.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    # In-progress participants whose lease ran out count as timed out (even before a sweep).
    stale = study.participants.stale(now=now).count()
    by_status = {s.value: statuses.get(s.value, 0) for s in Participant.Status}
    by_status[Participant.Status.IN_PROGRESS] -= stale
    by_status[Participant.Status.TIMED_OUT] += stale
    durations = [
        (done - began).total_seconds()
        for began, done in study.participants.filter(
            status=Participant.Status.COMPLETED, consented_at__isnull=False
        ).values_list("consented_at", "completed_at")
    ]
    flag_counts: Counter[str] = Counter()
    flagged = 0
    for flags in study.participants.finished().flagged().values_list("quality_flags", flat=True):
        flagged += 1
        flag_counts.update(flags["flags"])
    items = item_progress(study=study)
    completed_counts = [i["completed"] for i in items]
    return {
        "study": study.slug,
        "status": study.status,
        "generated_at": now.isoformat(),
        "participants": {"by_status": by_status, "total": sum(statuses.values())},
        "median_completion_seconds": median(durations) if durations else None,
        "flags": {"participants_flagged": flagged, "by_flag": dict(flag_counts)},
        "exclude_flagged": study.exclude_flagged_participants,
        "items": items,
        "ratings": {
            "target_per_item": study.target_ratings_per_item,
            "items_at_target": sum(c >= study.target_ratings_per_item for c in completed_counts),
            "n_items": len(items),
            "min": min(completed_counts, default=0),
            "max": max(completed_counts, default=0),
        },
    }
