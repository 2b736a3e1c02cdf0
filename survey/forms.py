"""Participant-facing forms: demographics (fields chosen per study), labelled in the
active language. Countries and languages are stored by their English names
(``survey.demographic_options``) and shown by their names in the participant's language,
from the ISO catalogues pycountry ships (``iso3166-1``, ``iso639-3``)."""

from __future__ import annotations

import functools
import gettext as gnu_gettext

import pycountry
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from survey.demographic_options import (
    ANOTHER_LANGUAGE,
    PREFER_NOT_TO_SAY,
    SELF_DESCRIBED,
    SELF_DESCRIPTION_FIELD,
    country_choices,
    language_choices,
)

# The answers the ISO lists do not hold, through our own catalogue.
OWN_LABELS = {
    PREFER_NOT_TO_SAY[0]: _(_("Prefer not to say")),
    ANOTHER_LANGUAGE[0]: _("Another language"),
}


@functools.cache
def iso_names(domain: str, language: str) -> gnu_gettext.NullTranslations:
    """pycountry's catalogue of ISO names (``domain``) in ``language`` (English if none)."""
    return gnu_gettext.translation(
        domain, pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def localised(choices: list[tuple[str, str]], domain: str) -> list[tuple[str, str]]:
    """``choices`` (English names as values) labelled and ordered in the active language,
    the answers that are not names (``OWN_LABELS``) last as given."""
    names = iso_names(domain, get_language() or "en")
    named = [(value, names.gettext(label)) for value, label in choices if value not in OWN_LABELS]
    named.sort(key=lambda choice: choice[1].casefold())
    return named + [(value, OWN_LABELS[value]) for value, _label in choices if value in OWN_LABELS]


GENDER_CHOICES = [
    ("female", _("Woman")),
    ("male", _("Man")),
    ("non_binary", _("Non-binary")),
    (SELF_DESCRIBED, _("I describe myself another way")),
    ("undisclosed", _("Prefer not to say")),
]
EDUCATION_CHOICES = [
    ("none", _("No formal qualification")),
    ("secondary", _("Secondary school / high school")),
    ("vocational", _("Vocational or technical qualification")),
    ("undergraduate", _("Undergraduate degree (e.g. BA, BSc)")),
    ("graduate", _("Graduate degree (e.g. MA, MSc)")),
    ("doctorate", _("Doctorate (e.g. PhD)")),
    ("undisclosed", _("Prefer not to say")),
]

FIELD_BUILDERS = {
    "age": lambda: forms.IntegerField(
        label=_("Your age in years"),
        min_value=18,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    ),
    "gender": lambda: forms.ChoiceField(
        label=_("Your gender"), choices=GENDER_CHOICES, widget=forms.RadioSelect
    ),
    "country": lambda: forms.ChoiceField(
        label=_("Country you live in"),
        choices=[("", _("Choose…"))] + localised(country_choices(), "iso3166-1"),
        widget=forms.Select(attrs={"autocomplete": "country-name"}),
    ),
    "education": lambda: forms.ChoiceField(
        label=_("Highest level of education completed"),
        choices=[("", _("Choose…"))] + EDUCATION_CHOICES,
    ),
    "first_language": lambda: forms.ChoiceField(
        label=_("Your first language"),
        choices=[("", _("Choose…"))] + localised(language_choices(), "iso639-3"),
    ),
}
# The questions a study may ask, in the order they are asked (researchers tick them).
DEMOGRAPHIC_QUESTIONS = {
    "age": "Age",
    "gender": "Gender (with “I describe myself another way” and a text box)",
    "country": "Country of residence (a list)",
    "education": "Highest education",
    "first_language": "First language (a list)",
}


class DemographicsForm(forms.Form):
    """Only the fields the study asks for, in the study's order."""

    def __init__(self, *args, fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in fields:
            if name in FIELD_BUILDERS:
                self.fields[name] = FIELD_BUILDERS[name]()
                if name == "gender":
                    self.fields[SELF_DESCRIPTION_FIELD] = forms.CharField(
                        label=_("If you describe yourself another way: how? (optional otherwise)"),
                        max_length=80,
                        required=False,
                    )

    def clean(self):
        """The self-description is required with "another way" and dropped otherwise."""
        cleaned = super().clean()
        text = " ".join(str(cleaned.get(SELF_DESCRIPTION_FIELD) or "").split())
        if cleaned.get("gender") == SELF_DESCRIBED:
            if not text:
                self.add_error(SELF_DESCRIPTION_FIELD, _("Please say how you describe yourself."))
            cleaned[SELF_DESCRIPTION_FIELD] = text
        else:
            cleaned.pop(SELF_DESCRIPTION_FIELD, None)
        return cleaned
