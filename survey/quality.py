"""Quality metrics of a participant's answers (pure: no Django imports).

The metrics are stored with the participant, not hidden: the researcher sees them in the
monitor and the exports and decides what to exclude.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

ATTENTION = "attention_check_failed"
SPEEDER = "speeder"
STRAIGHTLINER = "straight_lining"
# A median needs a few completions before "faster than a fraction of it" means anything.
MIN_COMPLETIONS_FOR_SPEEDER = 5


def straightlining_share(ratings_in_order: Sequence[int]) -> float:
    """Share of consecutive answers that repeat the previous one (0 for fewer than 2)."""
    values = np.asarray(ratings_in_order)
    if values.size < 2:
        return 0.0
    return float(np.mean(values[1:] == values[:-1]))


@dataclass
class QualityReport:
    attention_failures: int
    attention_checks_answered: int
    total_seconds: float | None
    median_total_seconds: float | None
    straightlining_share: float
    page_seconds: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "attention_failures": self.attention_failures,
            "attention_checks_answered": self.attention_checks_answered,
            "total_seconds": self.total_seconds,
            "median_total_seconds": self.median_total_seconds,
            "straightlining_share": round(self.straightlining_share, 4),
            "page_seconds": self.page_seconds,
            "flags": self.flags,
        }


def assess(
    *,
    attention_failures: int,
    attention_checks_answered: int,
    ratings_in_order: Sequence[int],
    total_seconds: float | None,
    other_totals: Sequence[float],
    speeder_fraction: float,
    straightlining_threshold: float,
    page_seconds: dict[str, float] | None = None,
) -> QualityReport:
    """Compute the metrics and raise the flags.

    - ``attention_check_failed``: at least one instructed-response check answered wrongly;
    - ``speeder``: total time under ``speeder_fraction`` x the median total time of the
      other completed participants (only once at least 5 have completed);
    - ``straight_lining``: share of identical consecutive item answers >= the threshold
      (only with at least 5 ratings).
    """
    share = straightlining_share(ratings_in_order)
    median = float(np.median(other_totals)) if len(other_totals) else None
    flags: list[str] = []
    if attention_failures > 0:
        flags.append(ATTENTION)
    if (
        total_seconds is not None
        and median is not None
        and len(other_totals) >= MIN_COMPLETIONS_FOR_SPEEDER
        and total_seconds < speeder_fraction * median
    ):
        flags.append(SPEEDER)
    if len(ratings_in_order) >= 5 and share >= straightlining_threshold:
        flags.append(STRAIGHTLINER)
    return QualityReport(
        attention_failures=attention_failures,
        attention_checks_answered=attention_checks_answered,
        total_seconds=total_seconds,
        median_total_seconds=median,
        straightlining_share=share,
        page_seconds=dict(page_seconds or {}),
        flags=flags,
    )


def paginate(numbers: Sequence[int], per_page: int) -> list[list[int]]:
    """Split questionnaire item numbers into pages of ``per_page``."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    items = list(numbers)
    return [items[i : i + per_page] for i in range(0, len(items), per_page)]
