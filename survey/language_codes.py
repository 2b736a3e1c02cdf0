"""Language codes of item texts, instrument wordings and correlation runs (pure: no Django).

A code is a lower-case BCP 47 tag as Django spells its language codes: a two- or
three-letter language, optionally followed by subtags (``de``, ``pt-br``, ``zh-hans``).
Spreadsheets and panels write ``pt_BR`` or ``DE``; ``normalise_language`` turns those into
the stored form, so the same language is never stored under two spellings.
"""

from __future__ import annotations

import re

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
SOURCE_LANGUAGE = "en"  # the language item texts are written in unless a scenario says otherwise


def normalise_language(code: str) -> str:
    """``code`` lower-cased with ``_`` as ``-``; ``ValueError`` when it is not a language tag."""
    normal = str(code or "").strip().lower().replace("_", "-")
    if not LANGUAGE_CODE.match(normal):
        raise ValueError(f"{code!r} is not a language code (use a tag like 'de', 'ko' or 'pt-br')")
    return normal
