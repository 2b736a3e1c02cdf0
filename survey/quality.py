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
TOO_FAST = "too_fast"
STRAIGHTLINER = "straight_lining"
# A median needs a few completions before "faster than a fraction of it" means anything.
MIN_COMPLETIONS_FOR_SPEEDER = 5

# --- the absolute pace rule (defaults of the study's fields; derivation in the README) -------
# Average silent reading of English non-fiction is about 238 words per minute (Brysbaert 2019,
# meta-analysis of 190 studies); 600 wpm is two and a half times that, the pace of skimming,
# beyond which comprehension of a text is not plausible. An item page read faster was not read.
FAST_READING_WORDS_PER_MINUTE = 600
# Huang et al. (2012, "Detecting and deterring insufficient effort responding to surveys")
# found 2 seconds per questionnaire item the cut-off below which answers are careless; the
# same floor applies to an item page whose text is short.
MIN_SECONDS_PER_QUESTION = 2.0
MIN_SECONDS_PER_ITEM = 2.0


def straightlining_share(ratings_in_order: Sequence[int]) -> float:
    """Share of consecutive answers that repeat the previous one (0 for fewer than 2)."""
    values = np.asarray(ratings_in_order)
    if values.size < 2:
        return 0.0
    return float(np.mean(values[1:] == values[:-1]))


def word_count(text: str) -> int:
    return len(text.split())


def reading_minimum(*, words: int, floor_seconds: float, words_per_minute: int) -> float:
    """Least plausible seconds for a page of ``words`` words: reading it at the skimming pace,
    and never less than ``floor_seconds`` (the time to choose an answer)."""
    return max(float(floor_seconds), 60.0 * words / max(words_per_minute, 1))


@dataclass
class Pace:
    """Seconds spent on each page of one kind and each page's least plausible seconds."""

    seconds: Sequence[float]
    minimums: Sequence[float]

    def fast_share(self) -> float | None:
        """Share of pages answered faster than their minimum (None without pages)."""
        seconds = np.asarray(self.seconds, dtype=float)
        if seconds.size == 0:
            return None
        return float(np.mean(seconds < np.asarray(self.minimums, dtype=float)))

    def median_seconds(self) -> float | None:
        return float(np.median(self.seconds)) if len(self.seconds) else None

    def is_too_fast(self) -> bool:
        """More than half of the pages faster than their minimum: one quick click on a page
        the participant had already read does not flag them, a whole session of it does."""
        share = self.fast_share()
        return share is not None and share > 0.5


@dataclass
class QualityReport:
    attention_failures: int
    attention_checks_answered: int
    total_seconds: float | None
    median_total_seconds: float | None
    straightlining_share: float
    page_seconds: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    item_pace: Pace | None = None
    questionnaire_pace: Pace | None = None

    def as_json(self) -> dict:
        paces = {}
        for name, pace in (("item", self.item_pace), ("questionnaire", self.questionnaire_pace)):
            if pace is not None and len(pace.seconds):
                paces[f"{name}_pages_too_fast"] = round(pace.fast_share(), 4)
                paces[f"median_{name}_page_seconds"] = round(pace.median_seconds(), 3)
                paces[f"median_{name}_page_minimum"] = round(float(np.median(pace.minimums)), 3)
        return {
            **paces,
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
    item_pace: Pace | None = None,
    questionnaire_pace: Pace | None = None,
) -> QualityReport:
    """Compute the metrics and raise the flags.

    - ``attention_check_failed``: at least one instructed-response check answered wrongly;
    - ``speeder``: total time under ``speeder_fraction`` x the median total time of the
      other completed participants (only once at least 5 have completed);
    - ``too_fast``: more than half of the item pages, or more than half of the questionnaire
      pages, answered faster than their least plausible time (``Pace``; absolute, needs no
      other participant);
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
    if any(pace is not None and pace.is_too_fast() for pace in (item_pace, questionnaire_pace)):
        flags.append(TOO_FAST)
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
        item_pace=item_pace,
        questionnaire_pace=questionnaire_pace,
    )


def paginate(numbers: Sequence[int], per_page: int) -> list[list[int]]:
    """Split questionnaire item numbers into pages of ``per_page``."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    items = list(numbers)
    return [items[i : i + per_page] for i in range(0, len(items), per_page)]
