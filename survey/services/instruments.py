"""Instrument rows and their wording: placeholder wording and ``load_instrument`` files.

An instrument row is one instrument in one language: loading a wording replaces the row of
its (instrument, language) and leaves the other languages alone."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from survey.instruments.keys import DATA_DIR, INSTRUMENT_CODES, load_key
from survey.instruments.wording import Wording, WordingError, parse_wording
from survey.language_codes import SOURCE_LANGUAGE, normalise_language
from survey.models import Instrument, InstrumentItem

PLACEHOLDER_DIR = DATA_DIR / "placeholder"


def read_wording_file(path: str | Path, *, language: str = "") -> Wording:
    """Read and check a wording file; raise ``WordingError`` with a clear message.

    ``language`` (optional) is the language the caller means to load: a file that states
    another one is refused, so a German file is never stored as Korean; a file that states
    none takes it."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        raise WordingError(f"{path}: file not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WordingError(f"{path}: not valid UTF-8 JSON ({exc})") from exc
    if language and isinstance(raw, dict):
        try:
            language = normalise_language(language)
        except ValueError as exc:
            raise WordingError(str(exc)) from exc
        stated = raw.get("language")
        if stated and normalise_language_or_none(stated) != language:
            raise WordingError(f"{path}: the file's language is {stated!r}, not {language!r}")
        raw = {**raw, "language": language}
    _key, wording = parse_wording(raw)
    return wording


def normalise_language_or_none(code) -> str | None:
    try:
        return normalise_language(code)
    except ValueError:
        return None


@transaction.atomic
def store_wording(*, wording: Wording) -> Instrument:
    """Replace an instrument's wording (all forms at once) with a checked wording."""
    key = load_key(wording.instrument)
    instrument, _ = Instrument.objects.select_for_update().get_or_create(
        code=key.code, language=wording.language, defaults={"name": key.name}
    )
    instrument.name = key.name
    instrument.response_labels = list(wording.response_labels)
    instrument.wording_version = wording.version
    instrument.is_placeholder = wording.placeholder
    instrument.instructions = wording.instructions
    instrument.loaded_at = timezone.now()
    instrument.save()
    instrument.items.all().delete()
    InstrumentItem.objects.bulk_create(
        InstrumentItem(instrument=instrument, form=form, number=number, text=text)
        for form, items in wording.forms.items()
        for number, text in items.items()
    )
    return instrument


def placeholder_path(code: str, language: str = SOURCE_LANGUAGE) -> Path:
    """The project's placeholder wording file of ``code`` in ``language`` (English files sit
    at the top of ``placeholder/``, other languages in a folder named by their code)."""
    if language == SOURCE_LANGUAGE:
        return PLACEHOLDER_DIR / f"{code}.json"
    return PLACEHOLDER_DIR / language / f"{code}.json"


def ensure_instrument(code: str, language: str = SOURCE_LANGUAGE) -> Instrument:
    """Return the instrument in ``language``, creating it with the project's placeholder
    wording if absent (``WordingError`` when the project has none in that language)."""
    instrument = Instrument.objects.filter(code=code, language=language).first()
    if instrument is not None and instrument.items.exists():
        return instrument
    path = placeholder_path(code, language)
    if not path.is_file():
        raise WordingError(
            f"no {code} wording in {language!r}: load one with "
            f"'manage.py load_instrument FILE --language {language}'"
        )
    return store_wording(wording=read_wording_file(path, language=language))


def ensure_all_instruments() -> list[Instrument]:
    return [ensure_instrument(code) for code in INSTRUMENT_CODES]
