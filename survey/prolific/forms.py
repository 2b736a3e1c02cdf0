"""The study's Prolific settings as researchers edit them on the review page, and the
review table's declared filters."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms

from survey.models import Participant, ProlificStudy, ProlificSubmission
from survey.prolific.selectors import ReviewFilters

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class ProlificSettingsForm(forms.ModelForm):
    class Meta:
        model = ProlificStudy
        fields = ["api_token_env", "reward_cents", "places", "estimated_minutes"]
        labels = {
            "api_token_env": "Environment variable holding the API token",
            "reward_cents": "Reward per participant (cents/pence)",
        }

    def clean_api_token_env(self) -> str:
        name = self.cleaned_data["api_token_env"].strip()
        if not ENV_NAME.match(name):
            raise forms.ValidationError(
                "The *name* of an environment variable (capitals, digits, underscores), "
                "e.g. PROLIFIC_API_TOKEN — never the token itself."
            )
        return name

    def clean(self):
        cleaned = super().clean()
        for name in ("reward_cents", "places"):
            if cleaned.get(name) is not None and cleaned[name] < 1:
                self.add_error(name, "Must be at least 1.")
        return cleaned


class ReviewQuery(forms.Form):
    """The review table's filters, declared: ``status`` (a participant status),
    ``prolific_status`` (a Prolific submission status, or one a stored submission has) and
    ``flagged`` (``yes``/``no``); empty is "any". An unknown value is refused with the values
    it takes (the page answers 400) instead of narrowing the table to nothing, or, for
    ``flagged``, being ignored."""

    status = forms.ChoiceField(required=False, choices=[("", "any"), *Participant.Status.choices])
    prolific_status = forms.ChoiceField(required=False)
    flagged = forms.ChoiceField(
        required=False, choices=[("", "any"), ("yes", "flagged"), ("no", "no flags")]
    )

    def __init__(self, data, *, stored_statuses: Iterable[str] = ()):
        super().__init__(data)
        known = sorted({*ProlificSubmission.Status.values, *stored_statuses})
        self.fields["prolific_status"].choices = [("", "any"), *((s, s) for s in known)]
        for name, field in self.fields.items():
            values = ", ".join(value for value, _ in field.choices if value)
            field.error_messages["invalid_choice"] = (
                f"Unknown {name.replace('_', ' ')} %(value)r: choose one of {values}."
            )

    def filters(self) -> ReviewFilters:
        return ReviewFilters(**{name: self.cleaned_data[name] for name in self.fields})

    def messages(self) -> list[str]:
        return [f"{name}: {message}" for name, errors in self.errors.items() for message in errors]
