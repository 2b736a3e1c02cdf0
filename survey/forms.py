"""Participant-facing forms: demographics (fields chosen per study)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

GENDER_CHOICES = [
    ("female", _("Woman")),
    ("male", _("Man")),
    ("non_binary", _("Non-binary")),
    ("self_described", _("I describe myself another way")),
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
    "country": lambda: forms.CharField(
        label=_("Country you live in"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "country-name"}),
    ),
    "education": lambda: forms.ChoiceField(
        label=_("Highest level of education completed"),
        choices=[("", _("Choose…"))] + EDUCATION_CHOICES,
    ),
    "first_language": lambda: forms.CharField(label=_("Your first language"), max_length=80),
}


class DemographicsForm(forms.Form):
    """Only the fields the study asks for, in the study's order."""

    def __init__(self, *args, fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in fields:
            if name in FIELD_BUILDERS:
                self.fields[name] = FIELD_BUILDERS[name]()

    def clean(self):
        cleaned = super().clean()
        for name in ("country", "first_language"):
            if name in cleaned and isinstance(cleaned[name], str):
                cleaned[name] = " ".join(cleaned[name].split())
        return cleaned
