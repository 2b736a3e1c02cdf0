"""Query parameters shared by the survey's staff downloads and its API (declared once: the
API's schema lists them, and a malformed value is a 400 on both)."""

from __future__ import annotations

from rest_framework import serializers


class ReleaseExportParameters(serializers.Serializer):
    """Query parameters of the release-shaped exports."""

    include_flagged = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: keep flagged participants even when the study excludes them; "
        "false: never; absent: as the study says.",
    )
