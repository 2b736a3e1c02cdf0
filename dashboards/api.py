"""REST endpoints of the dashboards (registered under ``/api/v1/``): the same numbers the
pages show, for scripts.

- ``human-distributions``: per dimension, the distribution of a study's participants'
  questionnaire scores (the questionnaire's scale; not compared with models).
- ``humans-vs-models``: each model's centred score against the participants' portrait on the
  same items, and its percentile among the participants' own scores.
- ``persona-comparisons``: a persona run against the matching participants, with intervals.
- ``human-portraits``: the participants (all, and per demographic group) scored like a model
  on a validated item set, with a bootstrap interval over participants.
- ``model-cards``: model family, size, open weights and release date (admins write).
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import pandas as pd
from django_filters import rest_framework as filtersets
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from benchmark.minimums import api_fields
from benchmark.models import ValidatedItemSet
from core.api_exports import TableExportViewSet, export_schema_responses, table_response
from core.api_fields import NameLookupField
from core.filtering import FilterSet
from core.roles import IsResearcher, ResearcherReadAdminWrite
from survey.models import Study

from . import human_selectors, selectors, stats
from .models import ModelCard
from .params import MODEL_FILTERS, DashboardQuery, ManyOf, OneOf, model_filter_choices


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


def _query(params, **options) -> DashboardQuery:
    """The declared ``study``/``family`` parameters (:class:`DashboardQuery`); an unknown
    value is a 400 naming the parameter and the values it takes."""
    query = DashboardQuery(params, **options)
    if not query.is_valid():
        raise ValidationError({name: list(errors) for name, errors in query.errors.items()})
    return query


def _all_studies() -> list[Study]:
    return list(Study.objects.order_by("slug"))


def _item_set_ids() -> list[str]:
    return [str(pk) for pk in ValidatedItemSet.objects.order_by("pk").values_list("pk", flat=True)]


def _persona_run_ids() -> list[str]:
    return [str(run.pk) for run in selectors.persona_runs()]


def documented(
    *names: str, required: tuple[str, ...] = (), **descriptions: str
) -> list[OpenApiParameter]:
    """The OpenAPI parameters of the declared query parameters ``names`` (type, values and
    default from :class:`DashboardQuery`'s fields); ``descriptions`` replace a field's help
    where an endpoint's default differs; ``required``: the names without a default."""
    fields = DashboardQuery.base_fields
    parameters = []
    for name in names:
        field = fields[name]
        many = isinstance(field, ManyOf)
        kind = getattr(field, "schema_type", str)
        enum = field.values() if isinstance(field, OneOf) and field.static else None
        description = descriptions.get(name, field.help_text)
        description += " An unknown or malformed value is a 400."
        parameters.append(
            OpenApiParameter(name, OpenApiTypes.DATE if kind is dt.date else kind, enum=enum,
                             many=many or None, description=description,
                             required=name in required)
        )  # fmt: skip
    return parameters


def _model_filter_choices() -> dict:
    """The filter values the database knows, looked up only for a parameter given."""
    choices = functools.cache(selectors.model_choices)
    return {
        **{
            name: (lambda name=name: model_filter_choices(choices())[name])
            for name in ("provider", "model_family", "item_set", "sweep")
        },
        "model": selectors.model_names,
    }


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
    """The distribution of the participants' questionnaire scores (PVQ, BFI) per dimension
    (counted participants), as stored: values centred on the person's mean, Big Five traits
    raw. The questionnaire's scale: not comparable with model portraits (see
    ``humans-vs-models`` and ``human-portraits`` for the items' scale)."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=documented(
            "study", "family", study="Study slug (default: the first with participant scores)."
        ),
        responses=HumanDistributionSerializer(many=True),
    )
    def list(self, request):
        query = _query(request.query_params, studies=selectors.scored_studies(),
                       study_what="study with participant scores")  # fmt: skip
        if query.chosen_study is None:
            raise NotFound("No study has participant scores yet.")
        study, family = query.chosen_study, query.chosen_family
        humans = selectors.human_scores(study=study, family=family)
        summary = stats.box_summary(humans).rename_axis("dimension").reset_index()
        return Response(_rows(summary))


class ModelPointSerializer(serializers.Serializer):
    model = serializers.CharField()
    run_id = serializers.IntegerField()
    item_set = serializers.IntegerField()
    dimension = serializers.CharField()
    centred = serializers.FloatField(allow_null=True)
    human_centred = serializers.FloatField(
        allow_null=True, help_text="The participants' portrait on the same items"
    )
    human_centred_reason = serializers.CharField(allow_null=True)
    human_ci_low = serializers.FloatField(allow_null=True)
    human_ci_high = serializers.FloatField(allow_null=True)
    difference = serializers.FloatField(allow_null=True, help_text="Model minus humans")
    percentile_among_humans = serializers.FloatField(
        allow_null=True, help_text="Among the participants' own scores on the items"
    )
    percentile_among_humans_reason = serializers.CharField(allow_null=True)
    humans_with_a_score = serializers.IntegerField()


class HumansVsModelsViewSet(viewsets.ViewSet):
    """Each model's latest portrait against the participants' portrait on the same validated
    items (same rule; the humans' interval is a bootstrap over participants), and its
    percentile among the participants' own scores on those items. The study's
    questionnaire scores are a different scale and are not used here."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=documented(
            "study",
            "family",
            *MODEL_FILTERS,
            study="Humans' study (default: the item set's study).",
        ),
        responses=ModelPointSerializer(many=True),
    )
    def list(self, request):
        studies = human_selectors.studies_with_item_sets()
        query = _query(
            request.query_params, studies=studies, study_what="study with a validated item set",
            takes=MODEL_FILTERS, choices=_model_filter_choices(),
        )  # fmt: skip
        family, filters = query.chosen_family, query.model_filters()
        slug = query.chosen_study.slug if query.study_given else None
        found = human_selectors.humans_against_models(
            family=family, filters=filters, study_slug=slug, studies=studies
        )
        if found.everyone is None or found.points.empty:
            return Response([])
        human, persons = found.human, found.persons
        counts = persons.count()
        run_of = found.latest.drop_duplicates("model").set_index("model")["run_id"]
        rows = []
        for model, scores in found.points.iterrows():
            for dim, value in scores.items():
                human_score = human.at[dim, "centred"]
                rows.append(
                    {
                        "model": model,
                        "run_id": int(run_of[model]),
                        "item_set": found.item_set.pk,
                        "dimension": dim,
                        "centred": _clean(value),
                        "human_centred": _clean(human_score),
                        "human_centred_reason": human.at[dim, "reason"],
                        "human_ci_low": _clean(human.at[dim, "ci_low"]),
                        "human_ci_high": _clean(human.at[dim, "ci_high"]),
                        "difference": _clean(value - human_score),
                        **{
                            k: _clean(v)
                            for k, v in api_fields(
                                "percentile_among_humans", found.percentiles.at[model, dim]
                            ).items()
                        },
                        "humans_with_a_score": int(counts[dim]),
                    }
                )
        return Response(rows)


class PersonaComparisonRowSerializer(serializers.Serializer):
    group = serializers.CharField()
    dimension = serializers.CharField()
    mean_model = serializers.FloatField(allow_null=True)
    model_ci_low = serializers.FloatField(allow_null=True)
    model_ci_high = serializers.FloatField(allow_null=True)
    n_model = serializers.IntegerField(help_text="Replicates: prompt variants × repetitions")
    mean_human = serializers.FloatField(allow_null=True)
    human_ci_low = serializers.FloatField(allow_null=True)
    human_ci_high = serializers.FloatField(allow_null=True)
    n_human = serializers.IntegerField(help_text="Participants of the group who rated the items")
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
    groups = serializers.DictField(
        child=serializers.IntegerField(), help_text="Participants per group who rated the items"
    )
    groups_too_few = serializers.DictField(
        child=serializers.CharField(), help_text="Groups below the study's minimum, and why"
    )
    not_compared = serializers.ListField(
        child=serializers.DictField(), help_text="(group, dimension) pairs left out, and why"
    )
    rows = PersonaComparisonRowSerializer(many=True)
    departures = PersonaComparisonRowSerializer(many=True)


ROW_FIELDS = list(PersonaComparisonRowSerializer().fields)


class PersonaComparisonViewSet(viewsets.ViewSet):
    """A persona run's portraits against the portrait of the participants of each
    demographic group, both on the run's validated items (the same rule); the model's
    interval is over prompt variants and repetitions, the humans' a bootstrap over
    participants. Humans: ``study`` (default: the study of the run's item set)."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[
            *documented(
                "run",
                "study",
                "family",
                "field",
                required=("run",),
                run="A finished run with personas.",
                study="Humans' study (default: the run's item set's study).",
            ),
        ],
        responses=PersonaComparisonSerializer,
    )
    def list(self, request):
        query = _query(
            request.query_params, studies=_all_studies(), takes=["run", "field"],
            required=["run"], choices={"run": _persona_run_ids},
        )  # fmt: skip
        run = selectors.run_with_context(run_id=int(query.cleaned_data["run"]))
        family, field = query.chosen_family, query.chosen_field
        study = query.chosen_study if query.study_given else run.item_set.study
        result = human_selectors.persona_comparison(
            run=run, study=study, family=family, field=field
        )
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
                "groups_too_few": {g: t.reason for g, t in result["too_few"].items()},
                "not_compared": [
                    {"group": w["group"], "dimension": w["dimension"], "reason": w["reason"]}
                    for w in result["withheld"].to_dict("records")
                ],
                "rows": _rows(comparison[ROW_FIELDS]) if not comparison.empty else [],
                "departures": _rows(departures[ROW_FIELDS]) if not departures.empty else [],
            }
        )


class HumanPortraitDimensionSerializer(serializers.Serializer):
    family = serializers.CharField()
    dimension = serializers.CharField()
    key = serializers.CharField(help_text="The dimension's key in ``portraits``")
    centred = serializers.FloatField(allow_null=True, help_text="Raw minus the family mean")
    centred_reason = serializers.CharField(
        allow_null=True, help_text="Why there is no score (too few participants rated it)"
    )
    raw = serializers.FloatField(allow_null=True)
    family_mean = serializers.FloatField(allow_null=True)
    n_items = serializers.IntegerField(help_text="Selected items the group rated")
    n_raters = serializers.IntegerField(help_text="Participants who rated one of them")
    se = serializers.FloatField(allow_null=True, help_text="Bootstrap SD over participants")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class HumanPortraitGroupSerializer(serializers.Serializer):
    label = serializers.CharField()
    n_participants = serializers.IntegerField()
    reason = serializers.CharField(allow_null=True)
    dimensions = HumanPortraitDimensionSerializer(many=True)


class HumanPortraitsSerializer(serializers.Serializer):
    study = serializers.CharField()
    item_set = serializers.IntegerField()
    item_set_name = serializers.CharField()
    group_by = serializers.CharField(allow_null=True)
    min_participants_per_group = serializers.IntegerField()
    resamples = serializers.IntegerField()
    seed = serializers.IntegerField()
    portraits = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
        help_text='{group: {dimension: centred score}}, "all" for everyone counted',
    )
    groups = HumanPortraitGroupSerializer(many=True)


class HumanPortraitViewSet(TableExportViewSet):
    """The study's participants scored exactly like a model: each item's mean rating in the
    group, then the portrait rule of the validated item set (the items' scale, comparable
    with model portraits; not the questionnaire's). ``"all"`` is everyone counted (flagged
    participants left out when the study says so); ``group_by`` adds one portrait per
    demographic group. A score resting on fewer participants than the study's minimum per
    group is null with its reason. CSV and parquet: one row per group and dimension (as
    ``manage.py export_human_portraits --output FILE.csv``)."""

    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=documented(
            "study",
            "item_set",
            "group_by",
            required=("study",),
            study="Study slug.",
            item_set="Validated item set (default: the study's newest).",
        ),  # fmt: skip
        responses={
            **export_schema_responses(),
            (200, "application/json"): HumanPortraitsSerializer,
        },
    )
    def list(self, request):
        query = _query(
            request.query_params, studies=_all_studies(), study_required=True,
            takes=["item_set", "group_by"], choices={"item_set": _item_set_ids},
        )  # fmt: skip
        study = query.chosen_study
        set_id = query.cleaned_data["item_set"]
        item_set = ValidatedItemSet.objects.get(pk=int(set_id)) if set_id else None
        field = query.cleaned_data["group_by"] or None
        try:
            portraits = human_selectors.human_portraits(study=study, item_set=item_set, field=field)
        except human_selectors.HumanPortraitError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return table_response(
            request,
            lambda: human_selectors.as_rows(portraits),
            filename=f"{study.slug}-human-portraits",
            json_shape=lambda: self._document(study, field, portraits),
        )

    @staticmethod
    def _document(study: Study, field: str | None, portraits) -> dict:
        groups = []
        for group in portraits.groups:
            dimensions = []
            for record in group.table.to_dict("records"):
                reason = record.pop("reason")
                record.pop("withheld")  # the page's short form of the reason
                record = {k: _clean(v) for k, v in record.items()}
                key = human_selectors.dimension_key(record["family"], record["dimension"])
                dimensions.append({**record, "key": key, "centred_reason": reason})
            groups.append(
                {
                    "label": group.label,
                    "n_participants": group.n_participants,
                    "reason": group.too_few.reason if group.too_few else None,
                    "dimensions": dimensions,
                }
            )
        return {
            "study": study.slug,
            "item_set": portraits.item_set.pk,
            "item_set_name": str(portraits.item_set),
            "group_by": field,
            "min_participants_per_group": portraits.minimums.group_participants,
            "resamples": portraits.resamples,
            "seed": portraits.seed,
            "portraits": human_selectors.as_json(portraits),
            "groups": groups,
        }


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


class ModelCardFilter(FilterSet):
    family = filtersets.CharFilter(lookup_expr="iexact", help_text="Model family (any case)")

    class Meta:
        model = ModelCard
        fields = ["family", "developer", "open_weights"]


class ModelCardViewSet(viewsets.ModelViewSet):
    """Model metadata used by the comparison filters. Researchers read; admins write."""

    serializer_class = ModelCardSerializer
    permission_classes = [ResearcherReadAdminWrite]
    queryset = ModelCard.objects.select_related("model_config").order_by("model_config__name")
    filter_backends = [filtersets.DjangoFilterBackend]
    filterset_class = ModelCardFilter


def register(router) -> None:
    router.register("human-distributions", HumanDistributionViewSet, basename="human-distribution")
    router.register("humans-vs-models", HumansVsModelsViewSet, basename="humans-vs-models")
    router.register("persona-comparisons", PersonaComparisonViewSet, basename="persona-comparison")
    router.register("human-portraits", HumanPortraitViewSet, basename="human-portrait")
    router.register("model-cards", ModelCardViewSet, basename="model-card")
