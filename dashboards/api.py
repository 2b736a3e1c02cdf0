"""REST endpoints of the dashboards (registered under ``/api/v1/``): the same numbers the
pages show, for scripts.

- ``human-distributions``: per dimension, the distribution of a study's participants.
- ``humans-vs-models``: each model's centred score and percentile among the humans.
- ``persona-comparisons``: a persona run against the matching participants, with intervals.
- ``model-cards``: model family, size, open weights and release date (admins write).
"""

from __future__ import annotations

import math

import pandas as pd
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.api_fields import NameLookupField
from core.roles import IsResearcher, ResearcherReadAdminWrite
from survey.models import Study

from . import demographics as demo
from . import selectors, stats
from .models import ModelCard


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _rows(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _study(params) -> Study:
    slug = params.get("study")
    studies = selectors.scored_studies()
    if slug and not any(s.slug == slug for s in studies):
        raise NotFound(f"No study {slug!r} with participant scores.")
    study = selectors.pick_study(slug, studies)
    if study is None:
        raise NotFound("No study has participant scores yet.")
    return study


def _family(params) -> str:
    family = params.get("family", selectors.DASHBOARD_FAMILIES[0])
    if family not in selectors.DASHBOARD_FAMILIES:
        raise ValidationError(
            {"family": f"Must be one of: {', '.join(selectors.DASHBOARD_FAMILIES)}."}
        )
    return family


STUDY_PARAM = OpenApiParameter("study", str, description="Study slug (default: the release)")
FAMILY_PARAM = OpenApiParameter(
    "family", str, enum=list(selectors.DASHBOARD_FAMILIES), description="Dimension family"
)
MODEL_FILTER_PARAMS = [
    OpenApiParameter("provider", str),
    OpenApiParameter("model_family", str, description="Model card family"),
    OpenApiParameter("size_min", float, description="Billions of parameters"),
    OpenApiParameter("size_max", float),
    OpenApiParameter("open", str, enum=["open", "closed"]),
    OpenApiParameter("date_from", str, description="Run finished on or after (YYYY-MM-DD)"),
    OpenApiParameter("date_to", str),
    OpenApiParameter("released_from", str, description="Model released on or after (YYYY-MM-DD)"),
    OpenApiParameter("released_to", str),
    OpenApiParameter(
        "item_set", int, description="Validated item set (default: the one most models ran on)"
    ),
    OpenApiParameter("kind", str, enum=["live", "reference"]),
    OpenApiParameter("model", str, many=True, description="Model names (repeatable)"),
]


def _filters(params: QueryDict) -> selectors.ModelFilters:
    filters = selectors.ModelFilters.from_query(params)
    if filters.errors:
        raise ValidationError({"filters": list(filters.errors)})
    return filters


class HumanDistributionSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    n = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    q1 = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    q3 = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    lower_fence = serializers.FloatField(allow_null=True)
    upper_fence = serializers.FloatField(allow_null=True)


class HumanDistributionViewSet(viewsets.ViewSet):
    """The distribution of the participants' scores per dimension (completed, unflagged),
    as stored: values centred on the person's mean, Big Five traits raw."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[STUDY_PARAM, FAMILY_PARAM],
        responses=HumanDistributionSerializer(many=True),
    )
    def list(self, request):
        study, family = _study(request.query_params), _family(request.query_params)
        humans = selectors.human_scores(study=study, family=family)
        summary = stats.box_summary(humans).rename_axis("dimension").reset_index()
        return Response(_rows(summary))


class ModelPointSerializer(serializers.Serializer):
    model = serializers.CharField()
    run_id = serializers.IntegerField()
    dimension = serializers.CharField()
    centred = serializers.FloatField(allow_null=True)
    percentile_among_humans = serializers.FloatField(allow_null=True)
    human_median = serializers.FloatField(allow_null=True)


class HumansVsModelsViewSet(viewsets.ViewSet):
    """Each model's latest portrait, value by value, placed among the study's participants
    (Big Five: human traits centred on the person's mean, like the model's centred scores)."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[STUDY_PARAM, FAMILY_PARAM, *MODEL_FILTER_PARAMS],
        responses=ModelPointSerializer(many=True),
    )
    def list(self, request):
        params = request.query_params
        study, family, filters = _study(params), _family(params), _filters(params)
        humans = selectors.comparable_human_scores(study=study, family=family)
        scores, _ = selectors.comparable_portraits(
            selectors.portrait_scores(family=family, filters=filters), item_set=filters.item_set
        )
        latest = selectors.latest_portraits(scores)
        points = selectors.model_matrix(latest, family=family).reindex(columns=humans.columns)
        if filters.models:
            points = points[points.index.isin(filters.models)]
        if points.empty or humans.empty:
            return Response([])
        pct = stats.percentile_among(humans.to_numpy(), points.to_numpy())
        medians = humans.median()
        run_of = latest.drop_duplicates("model").set_index("model")["run_id"]
        rows = [
            {
                "model": model,
                "run_id": int(run_of[model]),
                "dimension": dim,
                "centred": _clean(points.iat[i, j]),
                "percentile_among_humans": _clean(pct[i, j]),
                "human_median": _clean(medians[dim]),
            }
            for i, model in enumerate(points.index)
            for j, dim in enumerate(points.columns)
        ]
        return Response(rows)


class PersonaComparisonRowSerializer(serializers.Serializer):
    group = serializers.CharField()
    dimension = serializers.CharField()
    mean_model = serializers.FloatField(allow_null=True)
    model_ci_low = serializers.FloatField(allow_null=True)
    model_ci_high = serializers.FloatField(allow_null=True)
    n_model = serializers.IntegerField(help_text="Prompt variants (× repetitions) averaged")
    mean_human = serializers.FloatField(allow_null=True)
    human_ci_low = serializers.FloatField(allow_null=True)
    human_ci_high = serializers.FloatField(allow_null=True)
    n_human = serializers.IntegerField()
    difference = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    excludes_zero = serializers.BooleanField()


class PersonaComparisonSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    model = serializers.CharField()
    study = serializers.CharField()
    family = serializers.CharField()
    field = serializers.CharField()
    groups = serializers.DictField(child=serializers.IntegerField())
    rows = PersonaComparisonRowSerializer(many=True)
    departures = PersonaComparisonRowSerializer(many=True)


ROW_FIELDS = list(PersonaComparisonRowSerializer().fields)


class PersonaComparisonViewSet(viewsets.ViewSet):
    """A persona run's portraits against the participants of each demographic group."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[
            OpenApiParameter("run", int, required=True, description="A finished persona run"),
            OpenApiParameter("field", str, enum=list(demo.FIELDS), description="Group by"),
            STUDY_PARAM,
            FAMILY_PARAM,
        ],
        responses=PersonaComparisonSerializer,
    )
    def list(self, request):
        params = request.query_params
        run_id = params.get("run", "")
        if not run_id.isdigit():
            raise ValidationError({"run": "Give the id of a finished run with personas."})
        run = selectors.run_with_context(run_id=int(run_id))
        if run is None or run.status != "done" or not run.personas:
            raise NotFound(f"Run {run_id} is not a finished run with personas.")
        field = params.get("field", "gender")
        if field not in demo.FIELDS:
            raise ValidationError({"field": f"Must be one of: {', '.join(demo.FIELDS)}."})
        study, family = _study(params), _family(params)
        result = selectors.persona_comparison(run=run, study=study, family=family, field=field)
        comparison = result["comparison"]
        departures = result["departures"]
        return Response(
            {
                "run": run.pk,
                "model": run.model_config.name,
                "study": study.slug,
                "family": family,
                "field": field,
                "groups": result["groups"],
                "rows": _rows(comparison[ROW_FIELDS]) if not comparison.empty else [],
                "departures": _rows(departures[ROW_FIELDS]) if not departures.empty else [],
            }
        )


class ModelCardSerializer(serializers.ModelSerializer):
    model = NameLookupField(
        source="model_config",
        slug_field="name",
        queryset=ModelCard._meta.get_field("model_config").related_model.objects.all(),
    )

    class Meta:
        model = ModelCard
        fields = [
            "id",
            "model",
            "family",
            "developer",
            "parameters_billion",
            "open_weights",
            "release_date",
            "notes",
        ]


class ModelCardViewSet(viewsets.ModelViewSet):
    """Model metadata used by the comparison filters. Researchers read; admins write."""

    serializer_class = ModelCardSerializer
    permission_classes = [ResearcherReadAdminWrite]
    queryset = ModelCard.objects.select_related("model_config").order_by("model_config__name")

    def get_queryset(self):
        queryset = super().get_queryset()
        family = self.request.query_params.get("family")
        if family:
            queryset = queryset.filter(family__iexact=family)
        return queryset


def register(router) -> None:
    router.register("human-distributions", HumanDistributionViewSet, basename="human-distribution")
    router.register("humans-vs-models", HumansVsModelsViewSet, basename="humans-vs-models")
    router.register("persona-comparisons", PersonaComparisonViewSet, basename="persona-comparison")
    router.register("model-cards", ModelCardViewSet, basename="model-card")
