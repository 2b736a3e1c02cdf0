"""Write operations of the evaluation app: prompt templates. A run's life (create, start,
execute, score, cancel, resume) is in :mod:`evaluation.lifecycle`."""

from __future__ import annotations

import logging

from django.db import transaction

from evaluation.prompts import TemplateSpec, load_release_layout
from evaluation.prompts.builtin import (
    BUILTIN_LANGUAGES,
    SET_NAME,
    SET_VERSION,
    builtin_templates,
)
from survey.selectors.scale_words import scale_words

from .models import PromptTemplate

log = logging.getLogger(__name__)


# --- prompt templates ---------------------------------------------------------------------
def store_templates(
    *,
    specs: list[TemplateSpec],
    set_name: str,
    set_version: int,
    origin: str,
    language: str = "en",
) -> tuple[int, int]:
    """Create or update templates of ``set_name`` v``set_version`` in ``language``;
    ``(created, updated)``."""
    created = updated = 0
    with transaction.atomic():
        for spec in specs:
            _, was_created = PromptTemplate.objects.update_or_create(
                set_name=set_name,
                set_version=set_version,
                language=language,
                variant=spec.variant,
                style=spec.style,
                defaults={
                    "text": spec.text,
                    "digit_text": spec.digit_text,
                    "option_order": list(spec.option_order),
                    "origin": origin,
                },
            )
            created += was_created
            updated += not was_created
    return created, updated


def ensure_builtin_templates() -> None:
    """The project's own 12 templates in each of its languages (idempotent), showing each
    language's labels from its message catalogue. A language whose catalogue is not compiled
    is left out (logged): its templates are stored once it is."""
    stored = PromptTemplate.objects.filter(set_name=SET_NAME, set_version=SET_VERSION)
    for language in BUILTIN_LANGUAGES:
        if stored.filter(language=language).count() != 12:
            try:
                labels = scale_words(language=language).labels
            except LookupError as exc:
                log.warning("built-in templates in %r not stored: %s", language, exc)
                continue
            store_templates(
                specs=builtin_templates(language, labels=labels),
                set_name=SET_NAME,
                set_version=SET_VERSION,
                origin="builtin",
                language=language,
            )


def load_prompt_templates(
    *, directory: str, set_name: str, set_version: int = 1
) -> tuple[int, int]:
    """Load a directory in the release's layout (raises ``TemplateError`` with the file).
    The release's templates are English (their answer options are the English labels)."""
    specs = load_release_layout(directory)
    return store_templates(
        specs=specs, set_name=set_name, set_version=set_version, origin=str(directory)
    )
