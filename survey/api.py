"""Read-only REST endpoints of the survey app (registered under ``/api/v1/``).

- ``studies``: studies with their progress (participants per status, ratings collected
  against the target) — researchers.
- ``scenarios`` and ``items``: the item bank with each item's human rating summary —
  researchers.
- ``item-translations``: items' translations (scenario and response per language) with
  their review status; filters ``language`` (a language of the platform or of a stored
  translation), ``status``, ``servable``, ``item``, ``study`` — researchers.
- ``participants``: pseudonymous participant records (pseudonym, status, demographics,
  quality flags, scores) — admins only; the panel's raw ids are never served here.
- Exports of a study (researchers; CSV, JSON or parquet by ``?format=`` or ``Accept``, see
  :mod:`core.api_exports`): ``studies/<slug>/ratings/`` (one row per rating),
  ``studies/<slug>/participant-table/`` (one row per participant: demographics, scores,
  quality metrics, flags, by pseudonym), ``studies/<slug>/release-survey/`` and
  ``studies/<slug>/release-value/`` (the release's ``survey.json`` / ``value.json`` in JSON,
  one row per rating / score in CSV and parquet). Raw panel ids are in none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Avg, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter

from core.api_exports import (
    JSONErrorsMixin,
    export_action,
    query_parameters,
    table_response,
)
from core.filtering import FilterSet
from core.roles import IsAdmin, IsResearcher

from .filters import study_filter
from .models import (
    Item,
    ItemRating,
    ItemTranslation,
    Participant,
    ParticipantScore,
    Scenario,
    Study,
)
from .params import ReleaseExportParameters
from .selectors import exports

FILTER_BACKENDS = [filters.DjangoFilterBackend, OrderingFilter, SearchFilter]


def _count_subquery(queryset, outer_field: str) -> Coalesce:
    """COUNT(*) of ``queryset`` grouped by ``outer_field`` as a correlated subquery.

    Subqueries keep the study list to one query without the row explosion of joining
    participants, ratings and the item pool together.
    """
    counted = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- Studies -------------------------------------------------------------------------------


class StudyProgressSerializer(serializers.Serializer):
    participants = serializers.IntegerField()
    completed = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    ratings = serializers.IntegerField()
    item_pool = serializers.IntegerField()
    target_ratings = serializers.IntegerField()
    fraction = serializers.FloatField(help_text="Ratings collected / target, capped at 1.")


class StudySerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    instruments = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Study
        fields = [
            "id",
            "slug",
            "title",
            "description",
            "status",
            "is_imported",
            "items_per_participant",
            "target_ratings_per_item",
            "instruments",
            "pvq_form",
            "demographic_fields",
            "uses_prolific",
            "exclude_flagged_participants",
            "created_at",
            "updated_at",
            "progress",
        ]

    @extend_schema_field(StudyProgressSerializer)
    def get_progress(self, study: Study) -> dict:
        pool = study.n_pool
        target = pool * study.target_ratings_per_item
        fraction = min(1.0, study.n_ratings / target) if target else 0.0
        return {
            "participants": study.n_participants,
            "completed": study.n_completed,
            "in_progress": study.n_in_progress,
            "ratings": study.n_ratings,
            "item_pool": pool,
            "target_ratings": target,
            "fraction": round(fraction, 4),
        }


class StudyFilter(FilterSet):
    class Meta:
        model = Study
        fields = {"status": ["exact"], "is_imported": ["exact"], "slug": ["exact"]}


def studies_with_progress():
    """Studies annotated with the counts behind ``progress`` (one query)."""
    participants = Participant.objects.all()
    return (
        Study.objects.listed()
        .prefetch_related("instruments")
        .annotate(
            n_participants=_count_subquery(participants, "study"),
            n_completed=_count_subquery(participants.finished(), "study"),
            n_in_progress=_count_subquery(
                participants.filter(status=Participant.Status.IN_PROGRESS), "study"
            ),
            n_ratings=_count_subquery(ItemRating.objects.all(), "participant__study"),
            n_pool=_count_subquery(Study.item_pool.through.objects.all(), "study"),
        )
    )


class StudyViewSet(JSONErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Studies with their progress. Look up by slug."""

    serializer_class = StudySerializer
    permission_classes = [IsResearcher]
    lookup_field = "slug"
    filter_backends = FILTER_BACKENDS
    filterset_class = StudyFilter
    ordering_fields = ["created_at", "slug", "title"]
    search_fields = ["slug", "title"]

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return studies_with_progress().order_by("-created_at")
        return Study.objects.all()

    @export_action("One row per rating (every participant status), flags beside each row.")
    def ratings(self, request, slug=None):
        study = self.get_object()
        rows = exports.rating_rows(study=study)
        return table_response(request, rows, filename=f"{study.slug}-ratings")

    @export_action(
        "One row per participant by pseudonym: status, times, demographics, scores as "
        "family.dimension columns, quality metrics, flags."
    )
    def participant_table(self, request, slug=None):
        study = self.get_object()
        rows = exports.participant_rows(study=study)
        return table_response(request, rows, filename=f"{study.slug}-participants")

    @export_action(
        "The release's survey.json (JSON) or one row per rating with portrait_id, option_id, "
        "rating, participant (CSV, parquet): completed participants, flagged ones left out "
        "while the study excludes them.",
        parameters=[ReleaseExportParameters],
    )
    def release_survey(self, request, slug=None):
        study = self.get_object()
        include = query_parameters(request, ReleaseExportParameters)["include_flagged"]
        return table_response(
            request,
            lambda: exports.release_survey_rows(study=study, include_flagged=include),
            filename=f"{study.slug}-survey",
            json_shape=lambda: exports.release_survey_json(study=study, include_flagged=include),
        )

    @export_action(
        "The release's value.json (JSON) or one row per participant and dimension with "
        "participant, key, family, dimension, score (CSV, parquet).",
        parameters=[ReleaseExportParameters],
    )
    def release_value(self, request, slug=None):
        study = self.get_object()
        include = query_parameters(request, ReleaseExportParameters)["include_flagged"]
        return table_response(
            request,
            lambda: exports.release_value_rows(study=study, include_flagged=include),
            filename=f"{study.slug}-value",
            json_shape=lambda: exports.release_value_json(study=study, include_flagged=include),
        )


# --- Item bank -----------------------------------------------------------------------------


class ItemSummarySerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)

    class Meta:
        model = Item
        fields = ["id", "code", "option_id", "text"]


class ScenarioSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(read_only=True, slug_field="slug")
    items = ItemSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Scenario
        fields = ["id", "external_id", "source", "title", "text", "metadata", "items"]


class ScenarioFilter(FilterSet):
    source = filters.CharFilter(field_name="source__slug")
    study = study_filter("items__studies", distinct=True)

    class Meta:
        model = Scenario
        fields = ["source", "external_id", "study"]


class ScenarioViewSet(viewsets.ReadOnlyModelViewSet):
    """Scenarios (a user's query) with their responses (items)."""

    serializer_class = ScenarioSerializer
    permission_classes = [IsResearcher]
    filter_backends = FILTER_BACKENDS
    filterset_class = ScenarioFilter
    ordering_fields = ["external_id", "id"]
    search_fields = ["external_id", "title", "text"]

    def get_queryset(self):
        return (
            Scenario.objects.select_related("source")
            .prefetch_related(Prefetch("items", queryset=Item.objects.order_by("option_id")))
            .order_by("external_id", "id")
        )


class ItemSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    scenario = serializers.PrimaryKeyRelatedField(read_only=True)
    scenario_external_id = serializers.CharField(source="scenario.external_id", read_only=True)
    source = serializers.CharField(source="scenario.source.slug", read_only=True)
    n_ratings = serializers.IntegerField(read_only=True, help_text="Human ratings of the item.")
    mean_rating = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "code",
            "scenario",
            "scenario_external_id",
            "source",
            "option_id",
            "text",
            "n_ratings",
            "mean_rating",
        ]


class ItemFilter(FilterSet):
    source = filters.CharFilter(field_name="scenario__source__slug")
    scenario = filters.CharFilter(field_name="scenario__external_id", help_text="portrait id")
    study = study_filter("studies", help_text="Study slug (item pool)")
    item_set = filters.NumberFilter(
        field_name="validated_entries__item_set", distinct=True, help_text="Validated item set id"
    )
    dimension = filters.CharFilter(
        field_name="validated_entries__dimension",
        distinct=True,
        help_text="Items that measure this dimension in some validated item set",
    )

    class Meta:
        model = Item
        fields = ["source", "scenario", "option_id", "study", "item_set", "dimension"]


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Items (one response to a scenario) with their human rating count and mean."""

    serializer_class = ItemSerializer
    permission_classes = [IsResearcher]
    filter_backends = FILTER_BACKENDS
    filterset_class = ItemFilter
    ordering_fields = ["id", "n_ratings", "mean_rating"]
    search_fields = ["text", "scenario__external_id"]

    def get_queryset(self):
        return (
            Item.objects.select_related("scenario__source")
            .annotate(
                n_ratings=_count_subquery(ItemRating.objects.all(), "item"),
                mean_rating=Subquery(
                    ItemRating.objects.filter(item=OuterRef("pk"))
                    .order_by()
                    .values("item")
                    .annotate(m=Avg("rating"))
                    .values("m")
                ),
            )
            .order_by("scenario__external_id", "scenario_id", "option_id")
        )


# --- Item translations ---------------------------------------------------------------------


class ItemTranslationSerializer(serializers.ModelSerializer):
    portrait_id = serializers.CharField(source="item.scenario.external_id", read_only=True)
    option_id = serializers.IntegerField(source="item.option_id", read_only=True)
    source_language = serializers.CharField(
        source="item.scenario.language",
        read_only=True,
        help_text="The language the item's source text is written in.",
    )
    servable = serializers.BooleanField(
        source="is_servable",
        read_only=True,
        help_text="Reviewed or back-translated: participants reading the language may be "
        "shown it (a machine draft never).",
    )
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ItemTranslation
        fields = [
            "id", "item", "portrait_id", "option_id", "source_language", "language", "status",
            "servable", "scenario_title", "scenario_text", "response", "reviewed_by",
            "reviewed_at", "created_at", "updated_at",
        ]  # fmt: skip


def translation_languages() -> list[tuple[str, str]]:
    """The languages a translation filter accepts: the platform's and any stored one."""
    stored = ItemTranslation.objects.order_by().values_list("language", flat=True).distinct()
    codes = {code for code, _ in settings.LANGUAGES} | set(stored)
    return [(code, code) for code in sorted(codes)]


class ItemTranslationFilter(FilterSet):
    language = filters.ChoiceFilter(
        choices=translation_languages,
        help_text="Language code (one of the platform's languages or of a stored translation)",
    )
    study = study_filter("item__studies", distinct=True, help_text="Study slug (item pool)")
    # A choice, not a BooleanFilter: django-filter reads an unknown boolean as "no filter".
    servable = filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        field_name="status",  # what the method filters on (the schema reads its type)
        method="filter_servable",
        help_text="Reviewed or back-translated (true) or not (false)",
    )

    class Meta:
        model = ItemTranslation
        fields = ["language", "status", "item", "study", "servable"]

    def filter_servable(self, queryset, name, value):
        servable = Q(status__in=ItemTranslation.SERVABLE)
        return queryset.filter(servable) if value else queryset.exclude(servable)


class ItemTranslationViewSet(viewsets.ReadOnlyModelViewSet):
    """Items' translations per language with their review status (researchers)."""

    serializer_class = ItemTranslationSerializer
    permission_classes = [IsResearcher]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ItemTranslationFilter
    ordering_fields = ["language", "item", "updated_at", "reviewed_at"]

    def get_queryset(self):
        return ItemTranslation.objects.select_related("item__scenario", "reviewed_by").order_by(
            "language", "item__scenario__external_id", "item__option_id", "id"
        )


# --- Participants (admins) -----------------------------------------------------------------


class ParticipantScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = ParticipantScore
        fields = ["family", "dimension", "score", "raw_score", "instrument_code", "origin"]


class ParticipantSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(read_only=True, slug_field="slug")
    flags = serializers.ListField(child=serializers.CharField(), read_only=True)
    scores = ParticipantScoreSerializer(many=True, read_only=True)

    class Meta:
        model = Participant
        # Pseudonymous on purpose: no external_id / Prolific ids / session ids.
        fields = [
            "pseudonym",
            "study",
            "status",
            "origin",
            "pvq_form",
            "demographics",
            "flags",
            "started_at",
            "consented_at",
            "completed_at",
            "scores",
        ]


class ParticipantFilter(FilterSet):
    study = study_filter()
    flagged = filters.BooleanFilter(method="filter_flagged", help_text="Has quality flags")

    class Meta:
        model = Participant
        fields = ["study", "status", "origin", "flagged"]

    def filter_flagged(self, queryset, name, value):
        unflagged = ~Q(quality_flags__has_key="flags") | Q(quality_flags__flags=[])
        return queryset.exclude(unflagged) if value else queryset.filter(unflagged)


class ParticipantViewSet(viewsets.ReadOnlyModelViewSet):
    """Participants by pseudonym with demographics, flags and scores (admins only)."""

    serializer_class = ParticipantSerializer
    permission_classes = [IsAdmin]
    lookup_field = "pseudonym"
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ParticipantFilter
    ordering_fields = ["started_at", "completed_at", "pseudonym"]

    def get_queryset(self):
        return (
            Participant.objects.select_related("study")
            .prefetch_related("scores")
            .order_by("study_id", "started_at", "id")
        )


def register(router) -> None:
    router.register("studies", StudyViewSet, basename="study")
    router.register("scenarios", ScenarioViewSet, basename="scenario")
    router.register("items", ItemViewSet, basename="item")
    router.register("item-translations", ItemTranslationViewSet, basename="item-translation")
    router.register("participants", ParticipantViewSet, basename="participant")
