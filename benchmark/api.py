"""REST endpoints of the benchmark app (registered under ``/api/v1/``).

- ``correlation-runs``: runs of every study (filters ``study``, ``kind``, ``method``,
  ``status``), their ``rows`` (paged, filters ``family`` and ``dimension``; a pair with fewer
  raters than the study's minimum has null r, p and CI and an ``r_reason``) and, for admins,
  ``download?format=csv|json|parquet`` (the export table; JSON adds the run's metadata and
  item profiles; ``filetype=`` is the deprecated spelling); admins POST ``{"study", "method"}`` to queue
  a recomputation (202, the run is computed by a Celery worker).
- ``item-sets``: frozen validated item sets (filters ``study``, ``name``), their ``entries``
  and (admins) ``download?format=csv|json|parquet``;
  admins POST ``{"run", "preset"}`` or ``{"run", "threshold", "mode", "name"}`` (optionally
  ``fdr_alpha``, ``ci_bound``, ``max_chance_share``) to freeze a new version (400 with the
  reason when the rule would select a pair below the minimum raters). Runs and sets carry
  ``chance``: the expected chance selections and split-half replication
  (``benchmark.estimates``). Reliability below the minimum respondents is null with a
  ``<name>_reason``.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api_exports import (
    JSONErrorsMixin,
    export_action,
    filter_parameters,
    filtered,
    honour_legacy_format,
    table_response,
)
from core.api_fields import NameLookupField
from core.filtering import FilterSet
from core.roles import IsAdmin, ResearcherReadAdminWrite
from survey.filters import study_filter
from survey.instruments import dimensions as dims
from survey.models import Study

from . import exports
from .minimums import PAIR_STATISTICS, api_json, thin_pairs, too_few
from .models import Correlation, CorrelationRun, ValidatedItem, ValidatedItemSet
from .selection import MODES, PRESETS, SelectionRule
from .selectors import minimums_for
from .services import freeze_item_set, request_recomputation


class CorrelationRunSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CorrelationRun
        fields = [
            "id", "study", "kind", "method", "status", "label", "parameters", "exclusions",
            "n_participants", "duration_seconds", "error", "created_at", "finished_at", "chance",
            "stale_since", "stale_reason",
        ]  # fmt: skip
        # Set only by an erasure (benchmark.services.mark_runs_stale_after_erasure).
        read_only_fields = ["stale_since", "stale_reason"]
        extra_kwargs = {
            "stale_reason": {
                "help_text": "Which erasure made the run stale (its number; no personal "
                "data); empty while the run is current."
            }
        }


class RecomputeSerializer(serializers.Serializer):
    study = NameLookupField(slug_field="slug", queryset=Study.objects.listed())
    method = serializers.ChoiceField(choices=CorrelationRun.Method.values, default="spearman")


class CorrelationSerializer(serializers.ModelSerializer):
    """One pair; below the study's minimum raters (``context["minimums"]``) its r, p and CI
    are null and ``r_reason`` says why."""

    portrait_id = serializers.CharField(source="item.scenario.external_id")
    option_id = serializers.IntegerField(source="item.option_id")

    class Meta:
        model = Correlation
        fields = [
            "item", "portrait_id", "option_id", "family", "dimension", "r", "p", "n",
            "p_bh", "p_by", "ci_low", "ci_high",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        required = self.context["minimums"].raters_per_pair
        data["r_reason"] = None
        if thin_pairs([instance.n], required)[0]:
            for name in PAIR_STATISTICS:
                data[name] = None
            data["r_reason"] = too_few(instance.n, required, "raters_per_pair").reason
        return data


class ItemSetSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.StringRelatedField()
    pairs = serializers.IntegerField(source="entries.count", read_only=True)

    class Meta:
        model = ValidatedItemSet
        fields = [
            "id", "name", "version", "study", "correlation_run", "preset", "rule",
            "excluded_pairs", "participants", "reliability", "created_by", "created_at", "pairs",
            "chance",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["reliability"] = api_json(data["reliability"])  # too few: null + *_reason
        return data


class CreateItemSetSerializer(serializers.Serializer):
    run = serializers.PrimaryKeyRelatedField(
        queryset=CorrelationRun.objects.filter(status=CorrelationRun.Status.DONE)
    )
    preset = serializers.ChoiceField(choices=sorted(PRESETS), required=False)
    threshold = serializers.FloatField(min_value=0, max_value=0.99, required=False)
    mode = serializers.ChoiceField(choices=MODES, default="pos")
    families = serializers.ListField(
        child=serializers.ChoiceField(choices=list(dims.FAMILIES)), required=False
    )
    fdr_alpha = serializers.FloatField(min_value=0.0001, max_value=0.5, required=False)
    fdr_method = serializers.ChoiceField(choices=["bh", "by"], default=SelectionRule.fdr_method)
    ci_bound = serializers.FloatField(min_value=-0.99, max_value=0.99, required=False)
    max_chance_share = serializers.FloatField(min_value=0.01, max_value=0.5, required=False)
    name = serializers.SlugField(max_length=100, required=False)

    def validate(self, data):
        if ("preset" in data) == ("threshold" in data):
            raise serializers.ValidationError("Give either a preset or a threshold.")
        return data


class ValidatedItemSerializer(serializers.ModelSerializer):
    portrait_id = serializers.CharField(source="item.scenario.external_id")
    option_id = serializers.IntegerField(source="item.option_id")
    text = serializers.CharField(source="item.text")

    class Meta:
        model = ValidatedItem
        fields = ["item", "portrait_id", "option_id", "family", "dimension", "r", "p", "text"]


class CorrelationRunFilter(FilterSet):
    study = study_filter()

    class Meta:
        model = CorrelationRun
        fields = ["study", "kind", "method", "status"]


class CorrelationRowFilter(FilterSet):
    family = filters.ChoiceFilter(choices=[(f, f) for f in dims.FAMILIES])
    dimension = filters.ChoiceFilter(
        choices=sorted({(d, d) for names in dims.FAMILIES.values() for d in names}),
        help_text="A dimension of any family (e.g. Power, Openness_to_Change, Extraversion)",
    )

    class Meta:
        model = Correlation
        fields = ["family", "dimension"]


class ItemSetFilter(FilterSet):
    study = study_filter()

    class Meta:
        model = ValidatedItemSet
        fields = ["study", "name"]


class CorrelationRunViewSet(
    JSONErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ResearcherReadAdminWrite]
    serializer_class = CorrelationRunSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = CorrelationRunFilter

    def get_queryset(self):
        return CorrelationRun.objects.select_related("study").order_by("-created_at", "-id")

    def get_serializer_class(self):
        return RecomputeSerializer if self.action == "create" else CorrelationRunSerializer

    def create(self, request, *args, **kwargs):
        form = RecomputeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = request_recomputation(
            study=form.validated_data["study"],
            method=form.validated_data["method"],
            created_by=request.user,
            trigger="api",
        )
        return Response(CorrelationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=filter_parameters(CorrelationRowFilter),
        responses=CorrelationSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def rows(self, request, pk=None):
        run = self.get_object()
        rows = filtered(
            request,
            CorrelationRowFilter,
            run.rows.select_related("item__scenario").order_by("item_id", "family", "dimension"),
        )
        page = self.paginate_queryset(rows)
        context = {"minimums": minimums_for(study=run.study)}
        return self.get_paginated_response(
            CorrelationSerializer(page, many=True, context=context).data
        )

    @export_action(
        "The run's correlations, one row per (item, dimension) as `manage.py "
        "export_correlations` writes them; JSON adds the run's metadata and per item its "
        "best-matching value (`correlations`, `run`, `items`). Admins.",
        permission_classes=[IsAdmin],
    )
    def download(self, request, pk=None):
        honour_legacy_format(request, "filetype")
        run = self.get_object()
        return table_response(
            request,
            lambda: exports.correlation_table(run=run),
            filename=f"{run.study.slug}-correlations-run{run.pk}",
            json_shape=lambda: exports.correlations_document(run=run),
        )


class ItemSetViewSet(
    JSONErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ResearcherReadAdminWrite]
    serializer_class = ItemSetSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ItemSetFilter

    def get_queryset(self):
        return ValidatedItemSet.objects.select_related("study", "created_by").order_by(
            "name", "-version"
        )

    def get_serializer_class(self):
        return CreateItemSetSerializer if self.action == "create" else ItemSetSerializer

    def create(self, request, *args, **kwargs):
        form = CreateItemSetSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            item_set = freeze_item_set(created_by=request.user, **data)
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response(ItemSetSerializer(item_set).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None):
        item_set = self.get_object()
        rows = item_set.entries.select_related("item__scenario").order_by(
            "family", "dimension", "item_id"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ValidatedItemSerializer(page, many=True).data)

    @export_action(
        "The set's pairs, one row per selected (item, dimension) with texts and r, as "
        "`manage.py export_items` writes them; JSON adds the set's metadata, chance estimate "
        "and the release's query-response-tagged list. Admins.",
        permission_classes=[IsAdmin],
    )
    def download(self, request, pk=None):
        honour_legacy_format(request, "filetype")
        item_set = self.get_object()
        return table_response(
            request,
            lambda: exports.item_set_table(item_set=item_set),
            filename=f"{item_set.name}-v{item_set.version}",
            json_shape=lambda: exports.item_set_document(item_set=item_set),
        )


def register(router) -> None:
    router.register("correlation-runs", CorrelationRunViewSet, basename="correlation-run")
    router.register("item-sets", ItemSetViewSet, basename="item-set")
