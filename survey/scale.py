"""The six-point similarity scale that participants and models rate items on (pure Python).

The one definition of the scale: the survey's item pages, its attention checks, the
``ItemRating`` constraint, the evaluation prompts and parser, the fake provider of the tests
and the load test all read it from here. Rating ``k`` (1-based) is ``LABELS[k - 1]``; the
labels are the English source text, which the participant pages translate (gettext).
No Django imports, so that ``evaluation.prompts`` (pure) and the load test's client can use it.

The labels and number words in another language are the message catalogue's translations
(:func:`words_in` reads the compiled catalogue the participant pages translate with), so the
item pages, the prompt templates and the answer parser of a language use one wording.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from survey.language_codes import SOURCE_LANGUAGE


def gettext_noop(message: str) -> str:
    """Marks a label for the message catalogues (``makemessages`` extracts the calls) without
    importing Django: the labels stay English here, the pages translate them when shown."""
    return message


LABELS: tuple[str, ...] = (
    gettext_noop("not like me at all"),
    gettext_noop("not like me"),
    gettext_noop("a little like me"),
    gettext_noop("somewhat like me"),
    gettext_noop("like me"),
    gettext_noop("very much like me"),
)
# The options' numbers as words, for reading a model's answer that names an option's number
# in words ("drei") where a digit was asked for.
NUMBER_WORDS: tuple[str, ...] = (
    # Translators: the number 1 as a word, as a model may answer "option one".
    gettext_noop("one"),
    # Translators: the number 2 as a word.
    gettext_noop("two"),
    # Translators: the number 3 as a word.
    gettext_noop("three"),
    # Translators: the number 4 as a word.
    gettext_noop("four"),
    # Translators: the number 5 as a word.
    gettext_noop("five"),
    # Translators: the number 6 as a word.
    gettext_noop("six"),
)
MIN = 1
MAX = len(LABELS)
VALUES: tuple[int, ...] = tuple(range(MIN, MAX + 1))
# Highest first: the order most prompts list the options in.
DESCENDING: tuple[str, ...] = tuple(reversed(LABELS))
# (value, label) pairs in ascending order, as the item page lists them.
CHOICES: tuple[tuple[int, str], ...] = tuple(zip(VALUES, LABELS, strict=True))
RATING_OF_LABEL: dict[str, int] = {label: value for value, label in CHOICES}


def label_of(value: int) -> str:
    """The label of rating ``value``; ``ValueError`` outside the scale."""
    if not MIN <= value <= MAX:
        raise ValueError(f"{value} is not on the {MIN}-{MAX} scale")
    return LABELS[value - MIN]


def value_of(label: str) -> int:
    """The rating whose label is ``label`` exactly; ``KeyError`` for any other text."""
    return RATING_OF_LABEL[label]


@dataclass(frozen=True)
class ScaleWords:
    """The scale's words in one language: ``labels`` (rating 1 first) and ``number_words``
    (1..6), as the participant pages of that language show them."""

    language: str
    labels: tuple[str, ...]
    number_words: tuple[str, ...]


def _locale_name(language: str) -> str:
    """Django's locale directory name of a language code: ``pt-br`` -> ``pt_BR``."""
    lang, _, region = language.partition("-")
    if not region:
        return lang
    return f"{lang}_{region.upper() if len(region) <= 2 else region.title()}"


@lru_cache(maxsize=64)
def _words_in(language: str, locale_dirs: tuple[str, ...]) -> ScaleWords:
    if language == SOURCE_LANGUAGE:
        return ScaleWords(language, LABELS, NUMBER_WORDS)
    for directory in locale_dirs:
        path = Path(directory) / _locale_name(language) / "LC_MESSAGES" / "django.mo"
        if path.is_file():
            with path.open("rb") as handle:
                catalogue = gettext.GNUTranslations(handle)
            return ScaleWords(
                language,
                tuple(catalogue.gettext(label) for label in LABELS),
                tuple(catalogue.gettext(word) for word in NUMBER_WORDS),
            )
    raise LookupError(
        f"no compiled message catalogue for {language!r} in {', '.join(locale_dirs) or '(none)'}"
        " (run `manage.py compilemessages`)"
    )


def words_in(language: str, locale_dirs: Iterable[str | Path]) -> ScaleWords:
    """The scale's labels and number words in ``language``: the source text in English, else
    the translations in ``<dir>/<language>/LC_MESSAGES/django.mo`` of the first of
    ``locale_dirs`` that has that catalogue (read with the standard library's gettext, as
    Django reads it; an untranslated entry reads as its English source, as on the pages).
    ``LookupError`` when no directory holds a compiled catalogue for the language."""
    return _words_in(language, tuple(str(d) for d in locale_dirs))
