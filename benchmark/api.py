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
- ``language-comparisons/<study slug>/``: the cross-language comparison of the study's
  newest finished run restricted to each language (``/benchmark/<slug>/languages/``): per
  pair (item × dimension) r, n and the selection verdict per language, whether the
  selection differs, and Fisher's z test of ``a`` against ``b`` with BH-adjusted p. Below
  the study's raters minimum a language's r is null with ``r_reason``, and the test is null
  with ``test_reason``. Query parameters are declared (an unknown value is a 400).
"""

from __future__ import annotations

import math

from django.shortcuts import get_object_or_404
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
    query_parameters,
    table_response,
)
from core.api_fields import NameLookupField
from core.filtering import FilterSet
from core.roles import IsAdmin, IsResearcher, ResearcherReadAdminWrite
from survey.filters import study_filter
from survey.instruments import dimensions as dims
from survey.models import Study

from . import exports
from .language_comparison import TOO_FEW
from .minimums import PAIR_STATISTICS, api_json, thin_pairs, too_few
from .models import Correlation, CorrelationRun, ValidatedItem, ValidatedItemSet
from .selection import MODES, PRESETS, SelectionRule
from .selectors import language_comparison, languages_with_runs, minimums_for
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


# --- Cross-language comparison ---------------------------------------------------------------
ALL_DIMENSIONS = sorted({d for names in dims.FAMILIES.values() for d in names})
UNDEFINED_R = "r is undefined: the ratings or the scores do not vary"
COMPARED_METHODS = [CorrelationRun.Method.SPEARMAN, CorrelationRun.Method.PEARSON]


class LanguageComparisonParameters(serializers.Serializer):
    """Query parameters of the language comparison."""

    a = serializers.CharField(
        required=False,
        max_length=16,
        help_text="Language tested against b (default: the first language with a run).",
    )
    b = serializers.CharField(
        required=False, max_length=16, help_text="The other language (default: the second)."
    )
    method = serializers.ChoiceField(choices=COMPARED_METHODS, default="spearman")
    family = serializers.ChoiceField(choices=list(dims.FAMILIES), required=False)
    dimension = serializers.ChoiceField(choices=ALL_DIMENSIONS, required=False)
    threshold = serializers.FloatField(
        min_value=0, max_value=0.99, default=SelectionRule.threshold, help_text="Selection rule."
    )
    mode = serializers.ChoiceField(choices=list(MODES), default=SelectionRule.mode)
    differing = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only the pairs whose selection differs between languages.",
    )


class LanguageCellSerializer(serializers.Serializer):
    language = serializers.CharField()
    r = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="Raters of the pair in this language.")
    selection = serializers.ChoiceField(choices=["selected", "not_selected", "too_few"])
    r_reason = serializers.CharField(
        allow_null=True, help_text="Why r is null: fewer raters than the study's minimum."
    )


class LanguageComparisonRowSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    portrait_id = serializers.CharField()
    option_id = serializers.IntegerField()
    family = serializers.CharField()
    dimension = serializers.CharField()
    languages = LanguageCellSerializer(many=True)
    selection_differs = serializers.BooleanField()
    z = serializers.FloatField(allow_null=True)
    p = serializers.FloatField(allow_null=True)
    p_bh = serializers.FloatField(allow_null=True)
    test_reason = serializers.CharField(
        allow_null=True, help_text="Why z and p are null: too few raters in a or b."
    )


class LanguageComparisonSerializer(serializers.Serializer):
    study = serializers.CharField()
    method = serializers.CharField()
    languages = serializers.ListField(
        child=serializers.CharField(), help_text="Languages with a finished restricted run."
    )
    pair = serializers.ListField(child=serializers.CharField(), allow_null=True)
    runs = serializers.DictField(child=serializers.IntegerField(), help_text="Language -> run id.")
    required_raters_per_pair = serializers.IntegerField(allow_null=True)
    rule = serializers.DictField()
    tested = serializers.IntegerField(help_text="Pairs with enough raters in a and b.")
    significant = serializers.IntegerField(help_text="Tested pairs with BH-adjusted p < 0.05.")
    reason = serializers.CharField(
        allow_null=True, help_text="Why there is nothing to compare (fewer than two languages)."
    )
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = LanguageComparisonRowSerializer(many=True)


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def comparison_records(table, *, languages, required: int, pair) -> list[dict]:
    """The API rows of a comparison table: numbers or null with the minimum's reason."""
    rows = []
    for record in table.to_dict("records"):
        cells = []
        for language in languages:
            n, state = int(record[f"n_{language}"]), record[f"state_{language}"]
            thin = state == TOO_FEW
            r = None if thin else _number(float(record[f"r_{language}"]))
            reason = too_few(n, required, "raters_per_pair").reason if thin else None
            cells.append(
                {
                    "language": language,
                    "r": r,
                    "n": n,
                    "selection": state,
                    "r_reason": reason if thin or r is not None else UNDEFINED_R,
                }
            )
        fewest = min(int(record[f"n_{pair[0]}"]), int(record[f"n_{pair[1]}"]))
        withheld = fewest < required
        z = None if withheld else _number(float(record["z"]))
        rows.append(
            {
                "item": int(record["item_id"]),
                "portrait_id": record["scenario_external_id"],
                "option_id": int(record["option_id"]),
                "family": record["family"],
                "dimension": record["dimension"],
                "languages": cells,
                "selection_differs": bool(record["selection_differs"]),
                "z": z,
                "p": None if z is None else _number(float(record["p"])),
                "p_bh": None if z is None else _number(float(record["p_bh"])),
                "test_reason": too_few(fewest, required, "raters_per_pair").reason
                if withheld
                else None
                if z is not None
                else UNDEFINED_R,
            }
        )
    return rows


class LanguageComparisonViewSet(JSONErrorsMixin, viewsets.GenericViewSet):
    """Item validation compared across a study's languages (researchers)."""

    permission_classes = [IsResearcher]
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    serializer_class = LanguageComparisonSerializer

    def get_queryset(self):
        return Study.objects.listed()

    @extend_schema(
        parameters=[LanguageComparisonParameters], responses=LanguageComparisonSerializer
    )
    def retrieve(self, request, slug=None):
        study = get_object_or_404(self.get_queryset(), slug=slug)
        params = query_parameters(request, LanguageComparisonParameters)
        method = params["method"]
        available = languages_with_runs(study=study, method=method)
        rule = SelectionRule(threshold=params["threshold"], mode=params["mode"])
        meta = {
            "study": study.slug,
            "method": method,
            "languages": available,
            "rule": {"threshold": rule.threshold, "mode": rule.mode},
        }
        if len(available) < 2:
            have = ", ".join(available) or "none"
            return Response(
                {
                    **meta,
                    "pair": None,
                    "runs": {},
                    "required_raters_per_pair": None,
                    "tested": 0,
                    "significant": 0,
                    "count": 0,
                    "next": None,
                    "previous": None,
                    "results": [],
                    "reason": f"a comparison needs finished {method} runs restricted to two "
                    f"languages; {have} has one (recompute per language first)",
                }  # fmt: skip
            )
        pair = (params.get("a") or available[0], params.get("b") or available[1])
        for name, language in zip(("a", "b"), pair, strict=True):
            if language not in available:
                raise serializers.ValidationError(
                    {name: [f"{language!r} has no finished {method} run restricted to it; "
                            f"languages with one: {', '.join(available)}"]}
                )  # fmt: skip
        if pair[0] == pair[1]:
            raise serializers.ValidationError({"b": ["Choose two different languages."]})
        compared = language_comparison(
            study=study, languages=available, rule=rule, pair=pair, method=method
        )
        table = compared["table"]
        if "family" in params:
            table = table[table["family"] == params["family"]]
        if "dimension" in params:
            table = table[table["dimension"] == params["dimension"]]
        if params["differing"] is not None:
            table = table[table["selection_differs"] == params["differing"]]
        rows = comparison_records(
            table, languages=available, required=compared["required"], pair=pair
        )
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response(page)
        response.data = {
            **meta,
            "pair": list(pair),
            "runs": {language: run.pk for language, run in compared["runs"].items()},
            "required_raters_per_pair": compared["required"],
            "tested": int(compared["table"]["p"].notna().sum()),
            "significant": int((compared["table"]["p_bh"] < 0.05).sum()),
            "reason": None,
            **response.data,
        }
        return response


def register(router) -> None:
    router.register("correlation-runs", CorrelationRunViewSet, basename="correlation-run")
    router.register("item-sets", ItemSetViewSet, basename="item-set")
    router.register(
        "language-comparisons", LanguageComparisonViewSet, basename="language-comparison"
    )
