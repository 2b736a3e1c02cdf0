"""Participant-facing forms: demographics (fields chosen per study)."""

from __future__ import annotations

from django import forms

from survey.demographic_options import (
    SELF_DESCRIBED,
    SELF_DESCRIPTION_FIELD,
    country_choices,
    language_choices,
)

GENDER_CHOICES = [
    ("female", "Woman"),
    ("male", "Man"),
    ("non_binary", "Non-binary"),
    (SELF_DESCRIBED, "I describe myself another way"),
    ("undisclosed", "Prefer not to say"),
]
EDUCATION_CHOICES = [
    ("none", "No formal qualification"),
    ("secondary", "Secondary school / high school"),
    ("vocational", "Vocational or technical qualification"),
    ("undergraduate", "Undergraduate degree (e.g. BA, BSc)"),
    ("graduate", "Graduate degree (e.g. MA, MSc)"),
    ("doctorate", "Doctorate (e.g. PhD)"),
    ("undisclosed", "Prefer not to say"),
]

FIELD_BUILDERS = {
    "age": lambda: forms.IntegerField(
        label="Your age in years",
        min_value=18,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    ),
    "gender": lambda: forms.ChoiceField(
        label="Your gender", choices=GENDER_CHOICES, widget=forms.RadioSelect
    ),
    "country": lambda: forms.ChoiceField(
        label="Country you live in",
        choices=[("", "Choose…")] + country_choices(),
        widget=forms.Select(attrs={"autocomplete": "country-name"}),
    ),
    "education": lambda: forms.ChoiceField(
        label="Highest level of education completed",
        choices=[("", "Choose…")] + EDUCATION_CHOICES,
    ),
    "first_language": lambda: forms.ChoiceField(
        label="Your first language", choices=[("", "Choose…")] + language_choices()
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
                        label="If you describe yourself another way: how? (optional otherwise)",
                        max_length=80,
                        required=False,
                    )

    def clean(self):
        """The self-description is required with "another way" and dropped otherwise."""
        cleaned = super().clean()
        text = " ".join(str(cleaned.get(SELF_DESCRIPTION_FIELD) or "").split())
        if cleaned.get("gender") == SELF_DESCRIBED:
            if not text:
                self.add_error(SELF_DESCRIPTION_FIELD, "Please say how you describe yourself.")
            cleaned[SELF_DESCRIPTION_FIELD] = text
        else:
            cleaned.pop(SELF_DESCRIPTION_FIELD, None)
        return cleaned
