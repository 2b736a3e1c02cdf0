"""Writes of item translations: a language's CSV file imported at once, or a review noted.

Import is all or nothing: the file's own shape is checked first
(``survey.translation_csv``), then what needs the database (the item exists, the reviewer is
a user, a titled scenario gets a translated title, the language is not the item's own), and
only a file without a single problem is written, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from survey.language_codes import normalise_language
from survey.models import Item, ItemTranslation
from survey.translation_csv import TranslationRow, parse_translation_csv


class TranslationImportError(ValueError):
    """The file was refused; ``errors`` lists every problem with its line. Nothing was stored."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(
            f"nothing imported: {len(self.errors)} problem(s): " + " | ".join(self.errors[:20])
        )


@dataclass(frozen=True)
class TranslationImport:
    language: str
    created: int
    updated: int
    unchanged: int
    skipped: int  # rows without translated text


UPDATED_FIELDS = (
    "scenario_title",
    "scenario_text",
    "response",
    "status",
    "reviewed_by",
    "reviewed_at",
    "updated_at",
)


def _fields(row: TranslationRow) -> dict:
    return {
        "scenario_title": row.scenario_title,
        "scenario_text": row.scenario_text,
        "response": row.response,
        "status": row.status,
    }


def import_translations(
    *, language: str, csv_text: str, default_reviewer: str = ""
) -> TranslationImport:
    """Store the translations of one language from a CSV file (``survey.translation_csv``).

    A reviewed or back-translated row needs a reviewer: its ``reviewed_by`` username, or
    ``default_reviewer`` when the cell is empty. A row that changes a translation's text,
    status or reviewer stamps ``reviewed_at`` anew (when it is servable); an identical row
    changes nothing. Raises ``TranslationImportError`` (nothing stored) on any problem.
    """
    try:
        language = normalise_language(language)
    except ValueError as exc:
        raise TranslationImportError([str(exc)]) from exc
    parsed = parse_translation_csv(csv_text)
    errors = list(parsed.errors)
    rows = parsed.rows
    items = {
        (ext, opt): (pk, source_language, title)
        for pk, ext, opt, source_language, title in Item.objects.filter(
            scenario__external_id__in={r.portrait_id for r in rows}
        ).values_list(
            "pk", "scenario__external_id", "option_id", "scenario__language", "scenario__title"
        )
    }
    usernames = {r.reviewed_by or default_reviewer for r in rows} - {""}
    User = get_user_model()
    users = {
        getattr(u, User.USERNAME_FIELD): u
        for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": usernames})
    }
    resolved: list[tuple[TranslationRow, int, object]] = []
    for row in rows:
        problems = []
        found = items.get((row.portrait_id, row.option_id))
        if found is None:
            problems.append(f"no item {row.portrait_id}/{row.option_id} in the item bank")
        else:
            _pk, source_language, source_title = found
            if source_language == language:
                problems.append(f"the item's own text is already in {language!r}")
            if source_title.strip() and not row.scenario_title:
                problems.append("the scenario has a title, so scenario_title is needed")
        reviewer_name = row.reviewed_by or default_reviewer
        reviewer = users.get(reviewer_name)
        if reviewer_name and reviewer is None:
            problems.append(f"reviewed_by {reviewer_name!r} is not a user")
        if row.status in ItemTranslation.SERVABLE and not reviewer_name:
            problems.append(f"a {row.status} translation needs reviewed_by")
        if problems:
            errors.append(f"line {row.line}: " + "; ".join(problems))
        else:
            resolved.append((row, found[0], reviewer))
    if errors:
        raise TranslationImportError(errors)
    return _store(language=language, resolved=resolved, skipped=parsed.skipped)


@transaction.atomic
def _store(*, language: str, resolved, skipped: int) -> TranslationImport:
    now = timezone.now()
    existing = {
        t.item_id: t
        for t in ItemTranslation.objects.select_for_update().filter(
            language=language, item_id__in=[item_id for _, item_id, _ in resolved]
        )
    }
    created, changed, unchanged = [], [], 0
    for row, item_id, reviewer in resolved:
        fields = _fields(row)
        reviewer_id = reviewer.pk if reviewer is not None else None
        old = existing.get(item_id)
        if old is None:
            created.append(
                ItemTranslation(
                    item_id=item_id,
                    language=language,
                    reviewed_by_id=reviewer_id,
                    reviewed_at=now if row.status in ItemTranslation.SERVABLE else None,
                    **fields,
                )
            )
            continue
        same = all(getattr(old, k) == v for k, v in fields.items())
        if same and old.reviewed_by_id == reviewer_id:
            unchanged += 1
            continue
        for name, value in fields.items():
            setattr(old, name, value)
        old.reviewed_by_id = reviewer_id
        old.reviewed_at = now if row.status in ItemTranslation.SERVABLE else None
        old.updated_at = now
        changed.append(old)
    ItemTranslation.objects.bulk_create(created, batch_size=1000)
    if changed:
        ItemTranslation.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=1000)
    return TranslationImport(language, len(created), len(changed), unchanged, skipped)


def mark_reviewed(*, translations, reviewer, status: str = ItemTranslation.Status.REVIEWED) -> int:
    """Record that ``reviewer`` reviewed (or back-translated) ``translations`` (a queryset)
    now; returns how many rows changed."""
    if status not in ItemTranslation.SERVABLE:
        raise ValueError(f"{status!r} is not a reviewed status")
    return translations.update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now(), updated_at=timezone.now()
    )
