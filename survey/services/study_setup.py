"""Researchers set studies up without the admin: settings, an item pool from a CSV file,
and previews (a throwaway copy of the study taken as a participant).

Writes only; the staff pages (``survey.staff_setup_views``) validate their forms and call
one function here per operation.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from survey.errors import ItemPoolRefused
from survey.item_csv import ItemRow, RowError, read_item_csv
from survey.models import Instrument, Item, Scenario, Source, Study


@dataclass
class PoolPlan:
    """What a valid file will write: rows and the sources they name (new ones by style)."""

    rows: list[ItemRow]
    sources: dict[str, Source | None] = field(default_factory=dict)  # lower name -> source
    new_source_styles: dict[str, str] = field(default_factory=dict)  # lower name -> style


@dataclass(frozen=True)
class PoolImport:
    items_added: int  # put into the pool now
    items_created: int  # new in the item bank
    scenarios_created: int
    sources_created: list[str]


def _known_sources() -> dict[str, Source]:
    known: dict[str, Source] = {}
    for source in Source.objects.all():
        known[source.slug.lower()] = source
        known.setdefault(source.name.lower(), source)
    return known


def plan_item_pool(data: bytes) -> PoolPlan:
    """Read and check a pool file against the item bank; ``ItemPoolRefused`` lists every
    problem by row (nothing is written here)."""
    rows, problems = read_item_csv(data)
    known = _known_sources()
    plan = PoolPlan(rows=rows)
    for row in rows:
        name = row.source.lower()
        if name in known:
            plan.sources[name] = known[name]
        elif row.style:
            style = plan.new_source_styles.setdefault(name, row.style.lower())
            if style != row.style.lower():
                problems.append(RowError(row.row, f"source {row.source!r} has two styles"))
        else:
            names = ", ".join(sorted({s.slug for s in known.values()})) or "none yet"
            problems.append(
                RowError(
                    row.row,
                    f"unknown source {row.source!r} (known: {names}); to add a new source, "
                    "give its style (titled or chat) in a 'style' column",
                )
            )
    ids = {row.scenario_id for row in rows if row.scenario_id}
    existing = {s.external_id: s for s in Scenario.objects.filter(external_id__in=ids)}
    for row in rows:
        scenario = existing.get(row.scenario_id)
        if scenario is not None and (scenario.text != row.scenario or scenario.title != row.title):
            problems.append(
                RowError(
                    row.row,
                    f"scenario_id {row.scenario_id!r} is already in the item bank with another "
                    "title or text",
                )
            )
    if problems:
        raise ItemPoolRefused(sorted(problems, key=lambda p: p.row))
    return plan


def _source_for(plan: PoolPlan, name: str, created: list[str]) -> Source:
    key = name.lower()
    if plan.sources.get(key) is None:
        slug = slugify(name)[:50] or f"source-{secrets.token_hex(3)}"
        source, made = Source.objects.get_or_create(
            slug=slug, defaults={"name": name, "style": plan.new_source_styles[key]}
        )
        if made:
            created.append(source.slug)
        plan.sources[key] = source
    return plan.sources[key]


def _scenario_for(row: ItemRow, source: Source) -> tuple[Scenario, bool]:
    if row.scenario_id:
        return Scenario.objects.get_or_create(
            external_id=row.scenario_id,
            defaults={"source": source, "title": row.title, "text": row.scenario},
        )
    found = Scenario.objects.filter(
        external_id="", source=source, title=row.title, text=row.scenario
    ).first()
    if found is not None:
        return found, False
    return Scenario.objects.create(source=source, title=row.title, text=row.scenario), True


def write_item_pool(*, study: Study, plan: PoolPlan) -> PoolImport:
    """Write a checked plan: each row's item (reused when the same response to the same
    scenario is already in the item bank) is added to ``study``'s pool."""
    sources_created: list[str] = []
    scenarios: dict[tuple, Scenario] = {}
    items: list[Item] = []
    n_scenarios = n_items = 0
    with transaction.atomic():
        for row in plan.rows:
            scenario = scenarios.get(row.scenario_key)
            if scenario is None:
                source = _source_for(plan, row.source, sources_created)
                scenario, made = _scenario_for(row, source)
                scenarios[row.scenario_key] = scenario
                n_scenarios += made
            item = Item.objects.filter(scenario=scenario, text=row.response).first()
            if item is None:
                last = scenario.items.aggregate(last=Max("option_id"))["last"] or 0
                item = Item.objects.create(scenario=scenario, option_id=last + 1, text=row.response)
                n_items += 1
            items.append(item)
        before = study.item_pool.count()
        study.item_pool.add(*items)
        added = study.item_pool.count() - before
    return PoolImport(added, n_items, n_scenarios, sources_created)


def save_study(
    *, study: Study, instruments: Iterable[Instrument], item_csv: bytes | None = None
) -> tuple[Study, PoolImport | None]:
    """Create or update ``study`` (already validated by its form) with its instruments and,
    given a file, the items it lists added to its pool. The file is checked before anything
    is written: ``ItemPoolRefused`` (with every problem by row) leaves the study and the item
    bank as they were."""
    plan = plan_item_pool(item_csv) if item_csv is not None else None
    with transaction.atomic():
        study.save()
        study.instruments.set(list(instruments))
        imported = write_item_pool(study=study, plan=plan) if plan is not None else None
    return study, imported


# --- preview as a participant -----------------------------------------------------------

COPIED_RELATIONS = ("item_pool", "instruments")
PREVIEW_SLUG_PREFIX = "preview-"


def start_preview(*, study: Study, user) -> Study:
    """A throwaway copy of ``study`` for ``user`` to take as a participant.

    The copy has the study's settings, pool and instruments, is open (even while the study
    is a draft, placeholder wording allowed) and sends nobody to Prolific at the end. Its
    participants, answers and leases belong to the copy alone, so nothing enters the
    study's counts, balance, exports or statistics, and the copy is left out of every list
    (``Study.objects.listed()``). The user's earlier previews of the study, and everyone's
    previews older than a day, are deleted first."""
    with transaction.atomic():
        end_previews(study=study, user=user)
        Study.objects.previews_expired().delete()
        copy = Study.objects.get(pk=study.pk)
        copy.pk = None
        copy._state.adding = True
        copy.slug = f"{PREVIEW_SLUG_PREFIX}{secrets.token_hex(6)}"
        copy.title = study.title
        copy.status = Study.Status.OPEN
        copy.allow_placeholder_wording = True
        copy.completion_redirect_url = ""
        copy.preview_of = study
        copy.preview_by = user
        copy.save()
        for relation in COPIED_RELATIONS:
            getattr(copy, relation).set(getattr(study, relation).all())
    return copy


def end_previews(*, study: Study, user) -> int:
    """Delete ``user``'s previews of ``study`` and everything answered in them."""
    previews = Study.objects.filter(preview_of=study, preview_by=user)
    count = previews.count()
    previews.delete()
    return count
