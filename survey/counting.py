"""Who enters a study's statistics (pure Python: the analysis modules use it without Django).

A participant counts when they finished (completed here, or imported from a release) and,
if the study leaves flagged participants out, raised no quality flag. The database side of
the same rule is ``Participant.objects.counted(study)``, built from these constants.
"""

from __future__ import annotations

from collections.abc import Iterable

COMPLETED = "completed"
IMPORTED = "imported"
FINISHED_STATUSES: tuple[str, ...] = (COMPLETED, IMPORTED)


def exclusion_reason(*, status: str, flags: Iterable[str], exclude_flagged: bool) -> str | None:
    """Why a participant is left out of the statistics, or ``None`` when they count."""
    if status not in FINISHED_STATUSES:
        return f"not completed (status {status})"
    flags = sorted(flags)
    if exclude_flagged and flags:
        return "quality flags: " + ", ".join(flags)
    return None
