"""Template helpers of the participant pages: the study's own texts in the page's language."""

from django import template
from django.utils.translation import get_language, gettext

register = template.Library()


@register.simple_tag
def study_text(study, name: str) -> str:
    """The study's text ``name`` (``Study.TRANSLATABLE_TEXTS``) in the active language; empty
    without a study (a refusal before the study is known)."""
    if study is None:
        return ""
    return study.text_in(name, get_language())


@register.filter
def translate_message(message: str) -> str:
    """A shipped English text held in data (e.g. a questionnaire key's name), translated by
    the message catalogue (marked in ``survey.instruments.messages``)."""
    return gettext(message) if message else ""
