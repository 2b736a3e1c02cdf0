"""Write an imported study's survey data: scenarios, items, the study, participants, ratings
and value scores, creating only what is missing and updating only what differs.

Called by the release import (``release.services``) inside its transaction; the records come
from ``release.reader`` (plain dataclasses), so this module depends on no other app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

from .instruments import ensure_instrument

if TYPE_CHECKING:  # the reader's dataclasses, for annotations only (no import at run time)
    from release.reader import Release

BATCH = 5000
SCORE_INSTRUMENT = {dims.SCHWARTZ: "pvq21", dims.HIGHER_ORDER: "pvq21", dims.BIG_FIVE: "bfi10"}


@dataclass
class ImportCounts:
    """Rows in the source, created and updated, per kind of row."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def _ensure_sources(source_rows: Iterable[tuple[str, str, str]]) -> dict[str, Source]:
    sources = {}
    for slug, name, style in source_rows:
        source, _ = Source.objects.get_or_create(slug=slug, defaults={"name": name, "style": style})
        sources[slug] = source
    return sources


def _sync_scenarios(
    release: Release, source_rows: Iterable[tuple[str, str, str]], counts: ImportCounts
) -> dict[str, Scenario]:
    sources = _ensure_sources(source_rows)
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
    counts.totals["scenarios"] = len(release.scenarios)
    counts.created["scenarios"], counts.updated["scenarios"] = len(new), len(changed)
    return {
        s.external_id: s
        for s in Scenario.objects.filter(external_id__in=[r.portrait_id for r in release.scenarios])
    }


def _sync_items(
    release: Release, scenarios: dict[str, Scenario], counts: ImportCounts
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
    counts.totals["items"] = sum(len(r.options) for r in release.scenarios)
    counts.created["items"], counts.updated["items"] = len(new), len(changed)
    return {
        (i.scenario.external_id, i.option_id): i.id
        for i in Item.objects.filter(scenario__in=list(scenarios.values())).select_related(
            "scenario"
        )
    }


def _sync_study(slug: str, item_ids: list[int], counts: ImportCounts) -> Study:
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
    counts.totals["studies"] = 1
    counts.created["studies"] = int(created)
    return study


def _sync_participants(release: Release, study: Study, counts: ImportCounts) -> dict[str, int]:
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
    counts.totals["participants"] = len(ids)
    counts.created["participants"], counts.updated["participants"] = len(new), len(changed)
    return dict(Participant.objects.filter(study=study).values_list("external_id", "id"))


def _sync_ratings(
    release: Release,
    participants: dict[str, int],
    items: dict[tuple[str, int], int],
    counts: ImportCounts,
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
    counts.totals["ratings"] = len(release.ratings)
    counts.created["ratings"], counts.updated["ratings"] = len(new), len(changed)


def _sync_scores(release: Release, participants: dict[str, int], counts: ImportCounts) -> None:
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
    counts.totals["participant scores"] = sum(
        len(v) for families in release.scores.values() for v in families.values()
    )
    counts.created["participant scores"], counts.updated["participant scores"] = (
        len(new),
        len(changed),
    )


def sync_imported_study(
    *,
    release: Release,
    source_rows: Iterable[tuple[str, str, str]],
    study_slug: str,
    counts: ImportCounts,
    tick: Callable[[str], None],
) -> tuple[Study, dict[tuple[str, int], int]]:
    """Write the release's survey data (call inside a transaction); return the study and the
    item ids by (portrait id, option id). ``tick(stage)`` is called after each stage."""
    scenarios = _sync_scenarios(release, source_rows, counts)
    tick("scenarios")
    items = _sync_items(release, scenarios, counts)
    tick("items")
    study = _sync_study(study_slug, list(items.values()), counts)
    participants = _sync_participants(release, study, counts)
    tick("participants")
    _sync_ratings(release, participants, items, counts)
    tick("ratings")
    _sync_scores(release, participants, counts)
    tick("scores")
    return study, items
