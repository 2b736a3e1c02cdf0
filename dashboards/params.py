"""The dashboards' ``study`` and ``family`` query parameters, declared once for the pages and
the API (a Django form, checked in Python: no value reaches the database).

An unknown value is refused — the pages answer 400 with the form's message, the API a 400
``{"study": [...]}`` — instead of falling back to a default (which showed another study's
numbers under the one asked for) or failing in the database (a slug with a NUL byte). An
absent or empty value takes the default: the family ``schwartz``; the view's first study.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from survey.instruments import dimensions as dims
from survey.models import Study

from .selectors import DASHBOARD_FAMILIES

# The slugs an error message lists at most (a deployment may hold many studies).
LISTED_CHOICES = 20


def _one_of(values: Sequence[str]) -> str:
    shown = ", ".join(values[:LISTED_CHOICES])
    more = f" and {len(values) - LISTED_CHOICES} more" if len(values) > LISTED_CHOICES else ""
    return f"{shown}{more}" if values else "none"


class DashboardQuery(forms.Form):
    """``family`` (one of :data:`DASHBOARD_FAMILIES`) and, when the view passes the
    ``studies`` it can show, ``study`` (a slug among them; ``study_required``: no default).
    After :meth:`is_valid`, :attr:`chosen_family` and :attr:`chosen_study` are the values to
    use."""

    family = forms.ChoiceField(
        required=False, choices=[(f, dims.FAMILY_LABELS[f]) for f in DASHBOARD_FAMILIES]
    )
    study = forms.ChoiceField(required=False)

    def __init__(
        self, data, *, studies: Sequence[Study] | None = None, study_required: bool = False,
        study_what: str = "study",
    ):  # fmt: skip
        super().__init__(data)
        self.studies = list(studies) if studies is not None else None
        family = self.fields["family"]
        family.error_messages["invalid_choice"] = (
            f"Unknown family %(value)r: choose one of {_one_of(DASHBOARD_FAMILIES)}."
        )
        if self.studies is None:
            del self.fields["study"]
            return
        field = self.fields["study"]
        slugs = [s.slug for s in self.studies]
        field.choices = [(s.slug, s.title) for s in self.studies]
        field.required = study_required
        field.error_messages["invalid_choice"] = (
            f"Unknown {study_what} %(value)r: choose one of {_one_of(slugs)}."
        )
        field.error_messages["required"] = f"Give the study's slug (one of {_one_of(slugs)})."

    @property
    def chosen_family(self) -> str:
        return self.cleaned_data.get("family") or dims.SCHWARTZ

    @property
    def chosen_study(self) -> Study | None:
        """The study asked for, else the view's first (None when it has none)."""
        slug = self.cleaned_data.get("study")
        for study in self.studies or []:
            if study.slug == slug:
                return study
        return self.studies[0] if self.studies else None

    @property
    def study_given(self) -> bool:
        return bool(self.cleaned_data.get("study"))

    def messages(self) -> list[str]:
        """The errors as ``"name: message"`` lines (the pages' 400)."""
        return [f"{name}: {message}" for name, errors in self.errors.items() for message in errors]
