"""Declared query filters of the evaluation endpoints (an unknown value is a 400)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from benchmark.models import ValidatedItemSet
from core.filtering import FilterSet

from .models import EvaluationRun, ModelConfiguration, Response, Sweep


class ModelConfigurationFilter(FilterSet):
    class Meta:
        model = ModelConfiguration
        fields = ["provider", "name", "model_id"]


class EvaluationRunFilter(FilterSet):
    model = filters.ModelChoiceFilter(
        field_name="model_config",
        to_field_name="name",
        queryset=ModelConfiguration.objects.all(),
        help_text="Model configuration name",
        error_messages={"invalid_choice": "No model configuration named %(value)s."},
    )
    item_set = filters.ModelChoiceFilter(
        queryset=ValidatedItemSet.objects.all(),
        help_text="Validated item set id",
        error_messages={"invalid_choice": "No validated item set %(value)s."},
    )
    sweep = filters.ModelChoiceFilter(
        field_name="sweeps",
        queryset=Sweep.objects.all(),
        help_text="Only the runs of this sweep",
        error_messages={"invalid_choice": "No sweep %(value)s."},
    )

    class Meta:
        model = EvaluationRun
        fields = ["model", "item_set", "sweep", "status", "kind", "scoring", "template_set"]


class ResponseFilter(FilterSet):
    class Meta:
        model = Response
        fields = ["state", "variant", "persona"]
