"""Declared query filters shared by the apps' API endpoints.

A filter naming a study takes its slug; an unknown slug is a 400 that says so (never an
empty list that looks like "no data").
"""

from __future__ import annotations

from django_filters import rest_framework as filters

from survey.models import Study

UNKNOWN_STUDY = "No study with the slug %(value)s."


def study_filter(field_name: str = "study", **kwargs) -> filters.ModelChoiceFilter:
    """``?study=SLUG`` on ``field_name`` (a foreign key or many-to-many to Study)."""
    return filters.ModelChoiceFilter(
        field_name=field_name,
        queryset=Study.objects.all(),
        to_field_name="slug",
        help_text=kwargs.pop("help_text", "Study slug"),
        error_messages={"invalid_choice": UNKNOWN_STUDY},
        **kwargs,
    )
