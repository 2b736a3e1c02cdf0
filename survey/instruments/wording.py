"""Questionnaire wording files: parse and check them against the shipped key.

The wording of the questionnaires belongs to their authors, so the project ships only its
own placeholder wording; researchers load the licensed wording with
``manage.py load_instrument FILE``. The file format (JSON, UTF-8)::

    {
      "instrument": "pvq_rr",            # pvq_rr | pvq21 | bfi10
      "language": "en",
      "version": "2021-official",        # free text, shown to staff
      "placeholder": false,              # true only for non-official stand-in wording
      "instructions": "Here we briefly describe different people ...",   # optional
      "response_labels": ["Not like me at all", ...],   # optional: the labels in this
                                         # language, lowest first (default: the key's)
      "forms": {                         # every form of the key: male+female, or neutral
        "male":   {"1": "...", "2": "...", ..., "57": "..."},
        "female": {"1": "...", ..., "57": "..."}
      }
    }

Checks: the instrument exists; the language is a language code; every form of the key is
present and no other; each form has exactly the items 1..n (no gaps, no extras, no empty
text); response labels, when given, are one non-empty text per scale point.
"""

from __future__ import annotations

from dataclasses import dataclass

from survey.language_codes import SOURCE_LANGUAGE, normalise_language

from .keys import InstrumentKey, load_key


class WordingError(ValueError):
    pass


@dataclass(frozen=True)
class Wording:
    instrument: str
    language: str
    version: str
    placeholder: bool
    instructions: str
    forms: dict[str, dict[int, str]]
    response_labels: tuple[str, ...] = ()


def parse_wording(raw: object) -> tuple[InstrumentKey, Wording]:
    """Validate a decoded wording file; return its key and the parsed wording."""
    if not isinstance(raw, dict):
        raise WordingError("the file must hold a JSON object")
    code = raw.get("instrument")
    try:
        key = load_key(str(code))
    except KeyError as exc:
        raise WordingError(str(exc.args[0])) from exc
    forms = raw.get("forms")
    if not isinstance(forms, dict):
        raise WordingError("'forms' must be an object of form name -> items")
    if set(forms) != set(key.forms):
        raise WordingError(
            f"{key.code} needs the forms {sorted(key.forms)}, the file has {sorted(forms)}"
        )
    parsed: dict[str, dict[int, str]] = {}
    for form, items in forms.items():
        if not isinstance(items, dict):
            raise WordingError(f"form {form!r}: items must be an object of number -> text")
        numbers: dict[int, str] = {}
        for number, text in items.items():
            try:
                n = int(number)
            except (TypeError, ValueError) as exc:
                raise WordingError(
                    f"form {form!r}: item number {number!r} is not a number"
                ) from exc
            if not isinstance(text, str) or not text.strip():
                raise WordingError(f"form {form!r}: item {n} has no text")
            numbers[n] = text.strip()
        expected = set(key.item_numbers)
        if set(numbers) != expected:
            missing = sorted(expected - set(numbers))
            extra = sorted(set(numbers) - expected)
            raise WordingError(
                f"form {form!r} of {key.code} must number its items 1..{key.n_items}"
                f" (missing {missing}, unexpected {extra})"
            )
        parsed[form] = dict(sorted(numbers.items()))
    placeholder = raw.get("placeholder", False)
    if not isinstance(placeholder, bool):
        raise WordingError("'placeholder' must be true or false")
    try:
        language = normalise_language(raw.get("language", SOURCE_LANGUAGE))
    except ValueError as exc:
        raise WordingError(str(exc)) from exc
    labels = raw.get("response_labels", [])
    points = key.scale_max - key.scale_min + 1
    if not isinstance(labels, list) or (
        labels
        and (len(labels) != points or not all(isinstance(x, str) and x.strip() for x in labels))
    ):
        raise WordingError(
            f"'response_labels' must list {points} non-empty labels, lowest first (or be left out)"
        )
    return key, Wording(
        instrument=key.code,
        language=language,
        response_labels=tuple(x.strip() for x in labels),
        version=str(raw.get("version", "")),
        placeholder=placeholder,
        instructions=str(raw.get("instructions", "")),
        forms=parsed,
    )
