"""The answer lists of the demographic questions (pure: no Django).

Countries are ISO 3166-1 and languages the ISO 639-1 languages, both from ``pycountry``,
by their English names (the common name where ISO's official one is a mouthful: "Bolivia"
rather than "Bolivia, Plurinational State of"). Participants pick from a list rather than
typing, so "UK", "U.K." and "England" are one answer ("United Kingdom") and every stored
answer is one the dashboards can group (``dashboards.demographics``).
"""

from __future__ import annotations

import re

import pycountry

SELF_DESCRIBED = "self_described"  # the gender answer "I describe myself another way"
SELF_DESCRIPTION_FIELD = "gender_self_described"  # its text, stored beside "gender"
PREFER_NOT_TO_SAY = ("undisclosed", "Prefer not to say")
ANOTHER_LANGUAGE = ("another", "Another language")
_QUALIFIER = re.compile(r"\s*\((macrolanguage|\d{4}-)\)\s*$")


def _display_name(record) -> str:
    name = getattr(record, "common_name", None) or record.name
    return _QUALIFIER.sub("", name)


COUNTRY_NAMES: tuple[str, ...] = tuple(sorted(_display_name(c) for c in pycountry.countries))
LANGUAGE_NAMES: tuple[str, ...] = tuple(
    sorted({_display_name(lang) for lang in pycountry.languages if hasattr(lang, "alpha_2")})
)


def country_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in COUNTRY_NAMES] + [PREFER_NOT_TO_SAY]


def language_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in LANGUAGE_NAMES] + [ANOTHER_LANGUAGE, PREFER_NOT_TO_SAY]
