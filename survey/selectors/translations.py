"""Reads of item translations: a language's export table and a study's coverage."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from survey.models import Item, ItemTranslation, Study
from survey.translation_csv import EXPORT_COLUMNS


def translation_table(*, language: str, study: Study | None = None) -> list[dict]:
    """One row per item (of ``study``'s pool, else the whole bank) in ``EXPORT_COLUMNS``
    order: the source text, and the ``language`` translation with its status and reviewer
    (empty cells where the item has none yet), ready for ``core.tabular.rows_to_csv``."""
    items = (study.item_pool if study is not None else Item.objects).exclude(
        scenario__language=language
    )
    rows = items.order_by("scenario__external_id", "option_id").values_list(
        "pk", "scenario__external_id", "option_id", "scenario__title", "scenario__text", "text"
    )
    username = get_user_model().USERNAME_FIELD
    translated = {
        item_id: values
        for item_id, *values in ItemTranslation.objects.filter(language=language).values_list(
            "item_id",
            "scenario_title",
            "scenario_text",
            "response",
            "status",
            f"reviewed_by__{username}",
        )
    }
    table = []
    for pk, external_id, option_id, title, text, response in rows:
        values = translated.get(pk) or ["", "", "", "", ""]
        cells = [external_id, option_id, title, text, response, *values[:4], values[4] or ""]
        table.append(dict(zip(EXPORT_COLUMNS, cells, strict=True)))
    return table


def study_coverage(*, study: Study, languages: list[str]) -> dict[str, dict]:
    """Per language: the study's pool size, the items servable in it (source text or a
    reviewed translation) and the items with only a draft translation."""
    pool = study.item_pool.all()
    out = {}
    for language in languages:
        drafts = pool.exclude(scenario__language=language).filter(
            Q(translations__language=language)
            & ~Q(translations__status__in=ItemTranslation.SERVABLE)
        )
        out[language] = {
            "pool": pool.count(),
            "servable": pool.servable_in(language).count(),
            "drafts": drafts.aggregate(n=Count("pk", distinct=True))["n"],
        }
    return out


def reviewed_translations(*, item_ids, language: str) -> dict[int, tuple[str, str, str]]:
    """Item id -> (scenario title, scenario text, response) of its reviewed (servable)
    translation into ``language``; items without one are absent (their source text is what
    a reader of ``language`` gets when it is written in it)."""
    rows = ItemTranslation.objects.filter(
        item_id__in=list(item_ids), language=language, status__in=ItemTranslation.SERVABLE
    ).values_list("item_id", "scenario_title", "scenario_text", "response")
    return {item_id: (title, text, response) for item_id, title, text, response in rows}
