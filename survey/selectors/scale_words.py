"""The item scale's words in a language, from the site's message catalogues."""

from __future__ import annotations

from django.conf import settings

from survey.scale import ScaleWords, words_in


def scale_words(*, language: str) -> ScaleWords:
    """The six labels and number words of ``language`` as the participant pages show them
    (``settings.LOCALE_PATHS``' compiled catalogues); ``LookupError`` without a catalogue."""
    return words_in(language, settings.LOCALE_PATHS)
