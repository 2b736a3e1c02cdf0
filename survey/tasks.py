"""Background work of the survey app."""

from __future__ import annotations

from celery import shared_task

from survey.services import ending


@shared_task(name="survey.expire_stale_sessions")
def expire_stale_sessions() -> int:
    """Mark in-progress participants whose item lease ran out as timed out.

    Item loads never depend on this (an expired lease stops counting at its ``expires_at``);
    the sweep keeps participant statuses current for the monitor and exports. Safe to run
    twice or concurrently (one conditional UPDATE). Schedule it with celery beat if wanted.
    """
    return ending.expire_stale()
