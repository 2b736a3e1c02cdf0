"""Exports through the REST API: one table, three formats, chosen by DRF's content negotiation.

An export endpoint declares ``renderer_classes=EXPORT_RENDERERS`` and returns
:func:`table_response`. The format comes from ``?format=csv|json|parquet`` or the
``Accept`` header (``text/csv``, ``application/json``, ``application/vnd.apache.parquet``);
JSON is the default. CSV and parquet always hold the export's flat table; JSON holds the same
rows, or, for exports that have a published nested shape (the release's ``survey.json`` and
``value.json``, a correlation run with its metadata, an item set with its
``query-response-tagged`` list, the sensitivity metrics per model, the human portraits), that
shape. All three are written from the same records (:mod:`core.tabular`), so parquet read
back equals the CSV and JSON rows.

Errors (400, 401, 403, 404) are always JSON, whatever format was asked for.

Scripts authenticate with ``Authorization: Token <key>``; the role rules of each endpoint are
those of its page (``core.roles``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core import tabular


class CSVRenderer(BaseRenderer):
    """A table as CSV (spreadsheet-safe text cells; lists as JSON text)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return tabular.render(data, "csv")


class ParquetRenderer(BaseRenderer):
    """A table as one parquet file (column types from the values)."""

    media_type = tabular.MEDIA_TYPES["parquet"]
    format = "parquet"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return tabular.render(data, "parquet")


EXPORT_RENDERERS = [JSONRenderer, CSVRenderer, ParquetRenderer]


def table_response(
    request,
    table: tabular.Table | Callable[[], tabular.Table],
    *,
    filename: str,
    json_shape: Callable[[], Any] | None = None,
) -> Response:
    """The export in the negotiated format, as a download named ``filename.<format>``.

    ``table`` (a DataFrame or row dicts, or a function making it) is what CSV and parquet
    hold, and JSON too unless ``json_shape`` makes the export's nested JSON shape. Only the
    one needed is computed.
    """
    fmt = request.accepted_renderer.format
    if fmt == "json" and json_shape is not None:
        data = json_shape()
    else:
        data = tabular.records(table() if callable(table) else table)
    response = Response(data)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


class JSONErrorsMixin:
    """Anything but a table (a refusal, an error, the metadata answering OPTIONS) is JSON
    whatever format was asked for: CSV, parquet or JSON Lines cannot write
    ``{"detail": ...}``. The browsable page is left as it is."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        not_a_table = isinstance(response, Response) and not isinstance(response.data, list)
        if not_a_table and getattr(renderer, "format", "json") not in ("json", "api"):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def export_schema_responses() -> dict:
    """The OpenAPI responses of an export endpoint: the export in each format."""
    return {
        (200, JSONRenderer.media_type): OpenApiResponse(
            OpenApiTypes.ANY, description="JSON: the rows, or the export's documented shape."
        ),
        (200, CSVRenderer.media_type): OpenApiResponse(
            OpenApiTypes.STR, description="CSV: a header, then one line per row."
        ),
        (200, ParquetRenderer.media_type): OpenApiResponse(
            OpenApiTypes.BINARY, description="Parquet: one file, the same rows."
        ),
    }


LEGACY_RENDERERS = {"csv": CSVRenderer, "json": JSONRenderer, "parquet": ParquetRenderer}


def honour_legacy_format(request, parameter: str, renderers: dict | None = None) -> None:
    """Before ``?format=``, some downloads took their format from another parameter
    (``filetype``, ``as``); kept for one release: when given (and ``format`` is not), it
    chooses the renderer. An unknown value is a 400 naming the parameter."""
    value = request.query_params.get(parameter)
    if value is None or "format" in request.query_params:
        return
    renderers = renderers or LEGACY_RENDERERS
    renderer = renderers.get(value)
    if renderer is None:
        raise ValidationError(
            {parameter: [f"must be one of {', '.join(renderers)} (deprecated: use format)"]}
        )
    request.accepted_renderer = renderer()
    request.accepted_media_type = renderer.media_type


def extend_export(description: str, *, parameters=None):
    """Document an export method in the schema: ``description``, its query ``parameters``
    (serializers or ``OpenApiParameter``), the export in each format."""
    return extend_schema(
        description=description,
        parameters=parameters or [],
        responses=export_schema_responses(),
    )


class TableExportViewSet(JSONErrorsMixin, viewsets.ViewSet):
    """An export as an endpoint of its own (its ``list``, documented with
    :func:`extend_export`): the three formats, errors in JSON."""

    renderer_classes = EXPORT_RENDERERS


def export_action(description: str, *, parameters=None, **action_kwargs):
    """Decorate a viewset method as a GET export (detail by default; the URL is the method's
    name with dashes): the three formats, no pagination, documented in the schema with
    ``description`` and ``parameters`` (serializers or ``OpenApiParameter``)."""

    def decorate(method):
        options = {
            "detail": True,
            "methods": ["get"],
            "renderer_classes": EXPORT_RENDERERS,
            "pagination_class": None,
            "filter_backends": [],
            "url_path": method.__name__.replace("_", "-"),
            **action_kwargs,
        }
        return extend_export(description, parameters=parameters)(action(**options)(method))

    return decorate


def query_parameters(request, serializer_class) -> dict:
    """The request's query parameters validated by ``serializer_class`` (declared, so the
    schema lists them); an unknown or malformed value is a 400 naming the parameter."""
    parsed = serializer_class(data=request.query_params)
    parsed.is_valid(raise_exception=True)
    return parsed.validated_data


def filter_parameters(filterset_class) -> list[OpenApiParameter]:
    """The schema's query parameters of a FilterSet applied inside an action (drf-spectacular
    documents filter backends on list endpoints only): name, choices, help text."""
    parameters = []
    for name, declared in filterset_class.base_filters.items():
        choices = declared.extra.get("choices")
        parameters.append(
            OpenApiParameter(
                name,
                str,
                enum=[value for value, _ in choices] if choices else None,
                description=str(declared.extra.get("help_text", "") or declared.label or ""),
            )
        )
    return parameters


def filtered(request, filterset_class, queryset):
    """``queryset`` filtered by ``filterset_class`` from the query string (for actions,
    where DRF applies no filter backend); an unknown value is a 400 naming the filter."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs
