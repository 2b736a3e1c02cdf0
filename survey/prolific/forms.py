"""The study's Prolific settings as researchers edit them on the review page."""

from __future__ import annotations

import re

from django import forms

from survey.models import ProlificStudy

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
