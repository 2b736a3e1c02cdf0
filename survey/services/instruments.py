"""Instrument rows and their wording: placeholder wording and ``load_instrument`` files."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from survey.instruments.keys import DATA_DIR, INSTRUMENT_CODES, load_key
from survey.instruments.wording import Wording, WordingError, parse_wording
from survey.models import Instrument, InstrumentItem

PLACEHOLDER_DIR = DATA_DIR / "placeholder"


def read_wording_file(path: str | Path) -> Wording:
    """Read and check a wording file; raise ``WordingError`` with a clear message."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        raise WordingError(f"{path}: file not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WordingError(f"{path}: not valid UTF-8 JSON ({exc})") from exc
    _key, wording = parse_wording(raw)
    return wording


@transaction.atomic
def store_wording(*, wording: Wording) -> Instrument:
    """Replace an instrument's wording (all forms at once) with a checked wording."""
    key = load_key(wording.instrument)
    instrument, _ = Instrument.objects.select_for_update().get_or_create(
        code=key.code, defaults={"name": key.name}
    )
    instrument.name = key.name
    instrument.language = wording.language
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


def ensure_instrument(code: str) -> Instrument:
    """Return the instrument, creating it with the project's placeholder wording if absent."""
    instrument = Instrument.objects.filter(code=code).first()
    if instrument is not None and instrument.items.exists():
        return instrument
    return store_wording(wording=read_wording_file(PLACEHOLDER_DIR / f"{code}.json"))


def ensure_all_instruments() -> list[Instrument]:
    return [ensure_instrument(code) for code in INSTRUMENT_CODES]
