"""Import the Value Portrait public data release into the database.

Reads and checks the whole release first (``release.reader``), then writes everything in one
transaction through the owning apps' services: the survey's data
(``survey.services.study_import``) and the published correlations
(``benchmark.services.store_published_correlations``). Only what is missing is created and
only what differs updated, so a second import changes nothing and a malformed file imports
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from benchmark.services import store_published_correlations
from release.reader import SOURCES, read_release
from survey.services.study_import import ImportCounts, sync_imported_study

DEFAULT_STUDY_SLUG = "valueportrait-2025"
PUBLISHED_LABEL = "Published correlations (Value Portrait release)"


@dataclass
class ImportSummary(ImportCounts):
    id_collisions: dict[str, list[int]] = field(default_factory=dict)
    scored_without_ratings: list[str] = field(default_factory=list)
    raters_without_scores: list[str] = field(default_factory=list)
    study_id: int | None = None
    correlation_run_id: int | None = None

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def lines(self) -> list[str]:
        out = []
        for name, total in self.totals.items():
            out.append(
                f"{name:<24} {total:>7} in release, {self.created.get(name, 0):>7} created, "
                f"{self.updated.get(name, 0):>5} updated"
            )
        if self.scored_without_ratings:
            out.append(
                f"{len(self.scored_without_ratings)} participant(s) have value scores but rated no "
                f"item (value.json only): {', '.join(self.scored_without_ratings)}"
            )
        if self.raters_without_scores:
            out.append(
                f"{len(self.raters_without_scores)} participant(s) rated items but have no value "
                f"scores (survey.json only): {', '.join(self.raters_without_scores)}"
            )
        for pid, groups in self.id_collisions.items():
            out.append(
                f"id collision: {pid} rated items in survey groups {groups} but value.json holds "
                "one profile for it; see the benchmark's collision rule."
            )
        return out


def import_release(
    *,
    directory: str | Path,
    study_slug: str = DEFAULT_STUDY_SLUG,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import the release in ``directory``; idempotent and all-or-nothing.

    ``progress(stage)`` is called after each of ``IMPORT_STAGES`` stages (for a progress bar). Raises
    ``release.reader.ReleaseFormatError`` before writing anything if a file is malformed.
    """

    def tick(stage: str) -> None:
        if progress:
            progress(stage)

    summary = ImportSummary()
    release = read_release(directory)
    tick("read release")
    summary.id_collisions = release.id_collisions
    summary.scored_without_ratings = release.scored_without_ratings
    summary.raters_without_scores = release.raters_without_scores
    with transaction.atomic():
        study, items = sync_imported_study(
            release=release,
            source_rows=SOURCES.values(),
            study_slug=study_slug,
            counts=summary,
            tick=tick,
        )
        summary.study_id = study.id
        run, created, updated = store_published_correlations(
            study=study,
            label=PUBLISHED_LABEL,
            rows=[
                (items[(c.portrait_id, c.option_id)], c.family, c.dimension, c.r, c.p)
                for c in release.correlations
            ],
        )
        summary.correlation_run_id = run.id
        summary.totals["published correlations"] = len(release.correlations)
        summary.created["published correlations"] = created
        summary.updated["published correlations"] = updated
        tick("correlations")
    return summary


IMPORT_STAGES = 7  # calls of tick() in import_release, for a progress bar's total
