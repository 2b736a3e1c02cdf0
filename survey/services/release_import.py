"""Import the Value Portrait public data release into the database.

Reads and checks the whole release first (``survey.release``), then writes everything in
one transaction with bulk inserts, creating only what is missing and updating only what
differs, so a second import changes nothing and a malformed file imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from survey.instruments import dimensions as dims
from survey.models import (
    Item,
    ItemRating,
    Participant,
    ParticipantScore,
    Scenario,
    Source,
    Study,
)
from survey.release import SOURCES, Release, read_release

from .instruments import ensure_instrument

DEFAULT_STUDY_SLUG = "valueportrait-2025"
PUBLISHED_LABEL = "Published correlations (Value Portrait release)"
BATCH = 5000
SCORE_INSTRUMENT = {dims.SCHWARTZ: "pvq21", dims.HIGHER_ORDER: "pvq21", dims.BIG_FIVE: "bfi10"}


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
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


def _ensure_sources() -> dict[str, Source]:
    sources = {}
    for slug, name, style in SOURCES.values():
        source, _ = Source.objects.get_or_create(slug=slug, defaults={"name": name, "style": style})
        sources[slug] = source
    return sources


def _sync_scenarios(release: Release, summary: ImportSummary) -> dict[str, Scenario]:
    sources = _ensure_sources()
    existing = {
        s.external_id: s
        for s in Scenario.objects.filter(external_id__in=[r.portrait_id for r in release.scenarios])
    }
    new, changed = [], []
    for record in release.scenarios:
        metadata = {"release_group": release.scenario_groups.get(record.portrait_id)}
        wanted = dict(source=sources[record.source_slug], title=record.title, text=record.text)
        scenario = existing.get(record.portrait_id)
        if scenario is None:
            new.append(Scenario(external_id=record.portrait_id, metadata=metadata, **wanted))
            continue
        merged = {**scenario.metadata, **metadata}
        if (
            scenario.source_id != wanted["source"].id
            or scenario.title != record.title
            or scenario.text != record.text
            or merged != scenario.metadata
        ):
            scenario.source, scenario.title, scenario.text = (
                wanted["source"],
                record.title,
                record.text,
            )
            scenario.metadata = merged
            changed.append(scenario)
    Scenario.objects.bulk_create(new, batch_size=BATCH)
    Scenario.objects.bulk_update(changed, ["source", "title", "text", "metadata"], batch_size=BATCH)
    summary.totals["scenarios"] = len(release.scenarios)
    summary.created["scenarios"], summary.updated["scenarios"] = len(new), len(changed)
    return {
        s.external_id: s
        for s in Scenario.objects.filter(external_id__in=[r.portrait_id for r in release.scenarios])
    }


def _sync_items(
    release: Release, scenarios: dict[str, Scenario], summary: ImportSummary
) -> dict[tuple[str, int], int]:
    existing = {
        (i.scenario_id, i.option_id): i
        for i in Item.objects.filter(scenario__in=list(scenarios.values()))
    }
    new, changed = [], []
    for record in release.scenarios:
        scenario = scenarios[record.portrait_id]
        for option_id, text in record.options:
            item = existing.get((scenario.id, option_id))
            if item is None:
                new.append(Item(scenario=scenario, option_id=option_id, text=text))
            elif item.text != text:
                item.text = text
                changed.append(item)
    Item.objects.bulk_create(new, batch_size=BATCH)
    Item.objects.bulk_update(changed, ["text"], batch_size=BATCH)
    summary.totals["items"] = sum(len(r.options) for r in release.scenarios)
    summary.created["items"], summary.updated["items"] = len(new), len(changed)
    return {
        (i.scenario.external_id, i.option_id): i.id
        for i in Item.objects.filter(scenario__in=list(scenarios.values())).select_related(
            "scenario"
        )
    }


def _sync_study(slug: str, item_ids: list[int], summary: ImportSummary) -> Study:
    study, created = Study.objects.get_or_create(
        slug=slug,
        defaults={
            "title": "Value Portrait 2025 (imported release)",
            "description": "Human ratings and value profiles of the Value Portrait paper "
            "(arXiv 2505.01015), imported from its public data release.",
            "status": Study.Status.CLOSED,
            "is_imported": True,
            "uses_prolific": True,
            "items_per_participant": 40,
            "completion_redirect_url": "",
        },
    )
    study.instruments.add(ensure_instrument("pvq21"), ensure_instrument("bfi10"))
    have = set(study.item_pool.values_list("id", flat=True))
    missing = [i for i in item_ids if i not in have]
    study.item_pool.add(*missing)
    summary.totals["studies"] = 1
    summary.created["studies"] = int(created)
    summary.study_id = study.id
    return study


def _sync_participants(release: Release, study: Study, summary: ImportSummary) -> dict[str, int]:
    ids = sorted(release.rater_ids | set(release.scores))
    existing = {p.external_id: p for p in Participant.objects.filter(study=study)}
    new, changed = [], []
    for pid in ids:
        groups = release.groups_by_participant.get(pid, [])
        metadata = {"release_groups": groups}
        if len(groups) > 1:
            metadata["id_collision"] = True
        participant = existing.get(pid)
        if participant is None:
            new.append(
                Participant(
                    study=study,
                    external_id=pid,
                    origin=Participant.Origin.IMPORTED,
                    status=Participant.Status.IMPORTED,
                    metadata=metadata,
                )
            )
        elif {**participant.metadata, **metadata} != participant.metadata:
            participant.metadata = {**participant.metadata, **metadata}
            changed.append(participant)
    Participant.objects.bulk_create(new, batch_size=BATCH)
    Participant.objects.bulk_update(changed, ["metadata"], batch_size=BATCH)
    summary.totals["participants"] = len(ids)
    summary.created["participants"], summary.updated["participants"] = len(new), len(changed)
    return dict(Participant.objects.filter(study=study).values_list("external_id", "id"))


def _sync_ratings(
    release: Release,
    participants: dict[str, int],
    items: dict[tuple[str, int], int],
    summary: ImportSummary,
) -> None:
    existing = {
        (p, i): (pk, r)
        for pk, p, i, r in ItemRating.objects.filter(
            participant_id__in=list(participants.values())
        ).values_list("id", "participant_id", "item_id", "rating")
    }
    new, changed = [], []
    for record in release.ratings:
        key = (participants[record.participant_id], items[(record.portrait_id, record.option_id)])
        have = existing.get(key)
        if have is None:
            new.append(ItemRating(participant_id=key[0], item_id=key[1], rating=record.rating))
        elif have[1] != record.rating:
            changed.append(ItemRating(id=have[0], rating=record.rating))
    ItemRating.objects.bulk_create(new, batch_size=BATCH)
    ItemRating.objects.bulk_update(changed, ["rating"], batch_size=BATCH)
    summary.totals["ratings"] = len(release.ratings)
    summary.created["ratings"], summary.updated["ratings"] = len(new), len(changed)


def _sync_scores(release: Release, participants: dict[str, int], summary: ImportSummary) -> None:
    existing = {
        (p, f, d): (pk, s)
        for pk, p, f, d, s in ParticipantScore.objects.filter(
            participant_id__in=list(participants.values())
        ).values_list("id", "participant_id", "family", "dimension", "score")
    }
    new, changed = [], []
    for pid, families in release.scores.items():
        participant_id = participants[pid]
        for family, values in families.items():
            for dimension, score in values.items():
                have = existing.get((participant_id, family, dimension))
                if have is None:
                    new.append(
                        ParticipantScore(
                            participant_id=participant_id,
                            family=family,
                            dimension=dimension,
                            score=score,
                            raw_score=score if family == dims.BIG_FIVE else None,
                            instrument_code=SCORE_INSTRUMENT[family],
                            origin=ParticipantScore.Origin.IMPORTED,
                        )
                    )
                elif have[1] != score:
                    changed.append(ParticipantScore(id=have[0], score=score))
    ParticipantScore.objects.bulk_create(new, batch_size=BATCH)
    ParticipantScore.objects.bulk_update(changed, ["score"], batch_size=BATCH)
    summary.totals["participant scores"] = sum(
        len(v) for families in release.scores.values() for v in families.values()
    )
    summary.created["participant scores"], summary.updated["participant scores"] = (
        len(new),
        len(changed),
    )


def import_release(
    *,
    directory: str | Path,
    study_slug: str = DEFAULT_STUDY_SLUG,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import the release in ``directory``; idempotent and all-or-nothing.

    ``progress(stage)`` is called after each of ``IMPORT_STAGES`` stages (for a progress bar). Raises
    ``survey.release.ReleaseFormatError`` before writing anything if a file is malformed.
    """
    from benchmark.services import store_published_correlations

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
        scenarios = _sync_scenarios(release, summary)
        tick("scenarios")
        items = _sync_items(release, scenarios, summary)
        tick("items")
        study = _sync_study(study_slug, list(items.values()), summary)
        participants = _sync_participants(release, study, summary)
        tick("participants")
        _sync_ratings(release, participants, items, summary)
        tick("ratings")
        _sync_scores(release, participants, summary)
        tick("scores")
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
