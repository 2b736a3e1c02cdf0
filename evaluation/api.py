"""REST endpoints of the evaluation app (registered under ``/api/v1/``).

- ``model-configurations``: read (researchers; filters ``provider``, ``name``,
  ``model_id``). Never exposes keys: only the *name* of the environment variable.
- ``evaluation-runs``: read with ``progress`` (researchers; filters ``model``, ``item_set``,
  ``sweep``, ``status``, ``kind``, ``scoring``, ``template_set``); researchers POST a run to
  create and start it (201; 503 with a clear message when the task queue is unavailable),
  ``POST .../cancel/`` and ``POST .../resume/``; ``GET .../responses/`` (paged answers) and
  ``GET .../portrait/`` (scores, summary), ``GET .../responses/`` (filters ``state``,
  ``variant``, ``persona``), ``GET .../answers/?format=jsonl|csv|parquet`` (every stored
  answer, one row each, streamed: :mod:`evaluation.answer_logs`; ``as=`` is the deprecated
  spelling).
- ``portraits`` and ``sensitivity``: the exports of ``manage.py export_portraits`` and
  ``export_sensitivity`` in CSV, JSON or parquet (researchers; :mod:`core.api_exports`).
- ``sweeps``: researchers POST a sweep file as JSON (the keys of ``run_sweep``'s TOML) to
  create and start its runs (201 with what was started and skipped; 400 naming the bad key,
  nothing created); GET lists sweeps with their progress.
"""

from __future__ import annotations

import tempfile

from django.http import FileResponse, Http404, StreamingHttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response as ApiResponse

from benchmark.models import ValidatedItemSet
from core.api_exports import (
    CSVRenderer,
    JSONErrorsMixin,
    ParquetRenderer,
    TableExportViewSet,
    extend_export,
    filter_parameters,
    filtered,
    honour_legacy_format,
    query_parameters,
    table_response,
)
from core.api_fields import NameLookupField
from core.roles import IsResearcher

from . import answer_logs, exports, lifecycle, selectors, sweeps
from .errors import (
    EvaluationError,
    InvalidRunSettings,
    InvalidSweep,
    QueueUnavailable,
    RunNotFound,
    RunStateConflict,
)
from .filters import EvaluationRunFilter, ModelConfigurationFilter, ResponseFilter
from .models import EvaluationRun, ModelConfiguration, PortraitScore, Response, Sweep

# How each refusal of the run lifecycle is answered.
ERROR_STATUS = {
    InvalidRunSettings: status.HTTP_400_BAD_REQUEST,
    InvalidSweep: status.HTTP_400_BAD_REQUEST,
    RunNotFound: status.HTTP_404_NOT_FOUND,
    RunStateConflict: status.HTTP_409_CONFLICT,
    QueueUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def _refused(exc: EvaluationError, run_id: int | None = None) -> ApiResponse:
    body: dict = {"detail": str(exc)}
    if isinstance(exc, QueueUnavailable) and run_id is not None:
        # The run was created (or kept) but not queued: say in which state it is.
        run = EvaluationRun.objects.select_related("model_config").filter(pk=run_id).first()
        if run is not None:
            body["run"] = RunSerializer(run).data
    return ApiResponse(body, status=ERROR_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST))


# A parquet file is written whole before it is sent (its footer comes last): in memory up to
# this size, beyond it in a temporary file.
PARQUET_SPOOL_BYTES = 32 * 1024 * 1024


class JSONLinesRenderer(JSONRenderer):
    """JSON Lines: the answer log's own format (the log is streamed; a refusal is one line)."""

    media_type = "application/jsonl"
    format = "jsonl"


ANSWER_LOG_RENDERERS = [JSONLinesRenderer, CSVRenderer, ParquetRenderer]
ANSWER_LOG_LEGACY = {"jsonl": JSONLinesRenderer, "parquet": ParquetRenderer}


def _answer_log_response(run: EvaluationRun, kind: str):
    """The run's answer log as a download: JSON Lines and CSV streamed chunk by chunk,
    parquet written (a row group per chunk) to a spooled file and streamed from it."""
    frames = selectors.answer_log_frames(run=run)
    filename = f"run-{run.pk}-answers.{kind}"
    if kind in ("jsonl", "csv"):
        chunks = answer_logs.jsonl_chunks if kind == "jsonl" else answer_logs.csv_chunks
        renderer = JSONLinesRenderer if kind == "jsonl" else CSVRenderer
        response = StreamingHttpResponse(
            chunks(frames), content_type=f"{renderer.media_type}; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    spool = tempfile.SpooledTemporaryFile(max_size=PARQUET_SPOOL_BYTES)
    answer_logs.write_parquet(frames, spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=filename, content_type=ParquetRenderer.media_type
    )


class ModelConfigurationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelConfiguration
        fields = [
            "id", "name", "provider", "model_id", "base_url", "api_key_env", "temperature",
            "max_tokens", "length_parameter", "seed", "reasoning_effort", "top_logprobs",
            "requests_per_minute", "tokens_per_minute", "max_concurrency", "timeout_seconds",
            "max_retries", "input_cost_per_million", "output_cost_per_million", "notes",
        ]  # fmt: skip


class RunSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(source="model_config", slug_field="name", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationRun
        fields = [
            "id", "label", "kind", "model", "item_set", "template_set", "template_set_version",
            "language", "variants", "personas", "repetitions", "scoring", "use_cache", "invalid_retries",
            "reask_follow_up", "min_valid_probability", "mode", "batch_retry",
            "status", "params", "error", "created_at", "started_at", "finished_at", "progress",
        ]  # fmt: skip

    def get_progress(self, run) -> dict:
        return selectors.progress(run=run)


class RunCreateSerializer(serializers.Serializer):
    model = NameLookupField(slug_field="name", queryset=ModelConfiguration.objects.all())
    item_set = serializers.PrimaryKeyRelatedField(queryset=ValidatedItemSet.objects.all())
    variants = serializers.ListField(child=serializers.CharField(), required=False)
    personas = serializers.ListField(child=serializers.DictField(), required=False)
    repetitions = serializers.IntegerField(min_value=1, max_value=20, default=1)
    scoring = serializers.ChoiceField(choices=EvaluationRun.Scoring.values, default="phrase")
    use_cache = serializers.BooleanField(default=True)
    invalid_retries = serializers.IntegerField(min_value=0, max_value=10, default=2)
    reask_follow_up = serializers.BooleanField(default=True)
    min_valid_probability = serializers.FloatField(min_value=0, max_value=1, default=0.5)
    mode = serializers.ChoiceField(choices=EvaluationRun.Mode.choices, default="live")
    batch_retry = serializers.ChoiceField(choices=EvaluationRun.BatchRetry.choices, default="batch")
    template_set = serializers.CharField(default="valueportrait-own")
    template_set_version = serializers.IntegerField(default=1)
    language = serializers.CharField(default="en", max_length=16)
    label = serializers.CharField(required=False, default="", allow_blank=True)


class ResponseSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)

    class Meta:
        model = Response
        fields = [
            "id", "item", "item_code", "variant", "repetition", "persona", "state", "rating",
            "label", "parse_method", "several_options", "raw_text", "reasoning",
            "invalid_answers", "error",
            "option_probabilities", "expected_rating", "valid_mass", "attempts",
            "input_tokens", "output_tokens", "latency_ms", "cached", "request_params",
            "model_snapshot", "prompt_sha256", "reference_rating", "reference_label",
            "created_at",
        ]  # fmt: skip


class PortraitScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortraitScore
        fields = [
            "persona",
            "basis",
            "family",
            "dimension",
            "raw",
            "sd",
            "n",
            "family_mean",
            "centred",
        ]


class ModelConfigurationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ModelConfiguration.objects.order_by("name")
    serializer_class = ModelConfigurationSerializer
    permission_classes = [IsResearcher]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ModelConfigurationFilter


class EvaluationRunViewSet(
    JSONErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = EvaluationRun.objects.select_related("model_config", "item_set").order_by("-id")
    serializer_class = RunSerializer
    permission_classes = [IsResearcher]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = EvaluationRunFilter

    def get_serializer_class(self):
        return RunCreateSerializer if self.action == "create" else RunSerializer

    def create(self, request, *args, **kwargs):
        incoming = RunCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        try:
            run = lifecycle.create_run(
                model_config=data.pop("model"), created_by=request.user, **data
            )
        except EvaluationError as exc:
            return _refused(exc)
        return self._operate(lifecycle.start_run, run.pk, status.HTTP_201_CREATED)

    def _operate(self, operation, run_id: int, ok_status: int) -> ApiResponse:
        """A lifecycle operation on a run, its refusals mapped to their status codes."""
        try:
            run = operation(run_id=run_id)
        except EvaluationError as exc:
            return _refused(exc, run_id)
        run.refresh_from_db()
        return ApiResponse(RunSerializer(run).data, status=ok_status)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._operate(lifecycle.cancel_run, _run_id(pk), status.HTTP_200_OK)

    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._operate(lifecycle.resume_run, _run_id(pk), status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=filter_parameters(ResponseFilter))
    @action(detail=True, methods=["get"], serializer_class=ResponseSerializer)
    def responses(self, request, pk=None):
        run = self.get_object()
        rows = filtered(
            request, ResponseFilter, run.responses.select_related("item__scenario").order_by("id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ResponseSerializer(page, many=True).data)

    @extend_schema(
        responses={
            (200, JSONLinesRenderer.media_type): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per line and answer (default)."
            ),
            (200, CSVRenderer.media_type): OpenApiResponse(
                OpenApiTypes.STR, description="A header, then one line per answer."
            ),
            (200, ParquetRenderer.media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="One parquet file."
            ),
        },
        description="Every stored answer of the run (valid, invalid and failed), one row each: "
        "prompt, raw text, parse, rating, probabilities, model snapshot, tokens, latency, "
        "cost. The columns are listed in the dataset card of `manage.py export_answers "
        "--format hf`. `?format=jsonl|csv|parquet` or the Accept header; `as=` is the "
        "deprecated spelling.",
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=ANSWER_LOG_RENDERERS,
        filter_backends=[],
        pagination_class=None,
    )
    def answers(self, request, pk=None):
        honour_legacy_format(request, "as", ANSWER_LOG_LEGACY)
        return _answer_log_response(self.get_object(), request.accepted_renderer.format)

    @action(detail=True, methods=["get"], serializer_class=PortraitScoreSerializer)
    def portrait(self, request, pk=None):
        run = self.get_object()
        return ApiResponse(
            {
                "run": run.pk,
                "model": run.model_config.name,
                "item_set": run.item_set_id,
                "status": run.status,
                "scores": PortraitScoreSerializer(run.scores.all(), many=True).data,
                "summary": run.summary,
            }
        )


class PortraitExportParameters(serializers.Serializer):
    basis = serializers.ChoiceField(
        choices=["answer", "probability"],
        default="answer",
        help_text="answer: ratings read from the answers; probability: expected ratings",
    )


class SensitivityExportParameters(serializers.Serializer):
    run = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=EvaluationRun.objects.all()),
        required=False,
        help_text="Run ids (repeatable; default: the newest finished run of each model)",
    )


class PortraitExportViewSet(TableExportViewSet):
    """The model portraits as ``manage.py export_portraits`` writes them (researchers)."""

    permission_classes = [IsResearcher]

    @extend_export(
        "One row per finished run and dimension (no persona): model, run_id, run_kind, "
        "item_set, basis, family, dimension, raw, sd, n, family_mean, centred.",
        parameters=[PortraitExportParameters],
    )
    def list(self, request):
        basis = query_parameters(request, PortraitExportParameters)["basis"]
        return table_response(
            request, lambda: exports.portrait_rows(basis=basis), filename=f"portraits-{basis}"
        )


class SensitivityExportViewSet(TableExportViewSet):
    """The paper's prompt-sensitivity metrics as ``manage.py export_sensitivity`` writes
    them (researchers)."""

    permission_classes = [IsResearcher]

    @extend_export(
        "JSON: {model: {prompt_metrics, order_metrics, consistency_metrics, details}} in the "
        "release's key names; CSV and parquet: one row per model and metric (model, metric "
        "as its path in the JSON, value).",
        parameters=[SensitivityExportParameters],
    )
    def list(self, request):
        chosen = query_parameters(request, SensitivityExportParameters).get("run")
        runs = list(chosen) if chosen else None
        return table_response(
            request,
            lambda: exports.sensitivity_rows(runs=runs),
            filename="sensitivity",
            json_shape=lambda: exports.sensitivity_by_model(runs=runs),
        )


class SweepSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Sweep
        fields = ["id", "name", "spec", "created_by", "created_at", "progress"]

    def get_progress(self, sweep) -> dict:
        return selectors.sweep_progress(sweep=sweep)


class SweepViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Sweeps: many runs from one file (see ``evaluation.sweep_spec`` for the keys)."""

    queryset = Sweep.objects.select_related("created_by")
    serializer_class = SweepSerializer
    permission_classes = [IsResearcher]

    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            return ApiResponse(
                {"detail": "send the sweep as a JSON object"}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            outcome = sweeps.start_sweep(spec=dict(request.data), created_by=request.user)
        except EvaluationError as exc:
            return _refused(exc)
        body = SweepSerializer(outcome.sweep).data
        body["outcome"] = outcome.as_dict()
        return ApiResponse(body, status=status.HTTP_201_CREATED)


def _run_id(pk: str) -> int:
    """The URL's run id; one that is not a number names no run."""
    if not str(pk).isdigit():
        raise Http404("no such evaluation run")
    return int(pk)


def register(router) -> None:
    router.register(
        "model-configurations", ModelConfigurationViewSet, basename="model-configuration"
    )
    router.register("evaluation-runs", EvaluationRunViewSet, basename="evaluation-run")
    router.register("sweeps", SweepViewSet, basename="sweep")
    router.register("portraits", PortraitExportViewSet, basename="portrait-export")
    router.register("sensitivity", SensitivityExportViewSet, basename="sensitivity-export")
