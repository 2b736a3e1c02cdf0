"""Researcher pages: study list and settings summary, live monitor, exports.

Every view carries a role decorator (``core.roles``). Raw panel ids (PROLIFIC_PID) appear
only in the admin-only raw export, which also needs ``survey.view_raw_participant_ids``.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core import tabular
from core.roles import admin_required, is_admin, researcher_required
from survey.models import Participant, Study
from survey.params import ReleaseExportParameters
from survey.selectors import exports
from survey.selectors.monitor import monitor_data
from survey.selectors.translations import study_coverage
from survey.services import ending

FORMATS = ("csv", "json")


@researcher_required
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    studies = (
        Study.objects.listed()
        .annotate(
            n_participants=Count("participants", distinct=True),
            n_items=Count("item_pool", distinct=True),
        )
        .order_by("-created_at")
    )
    return render(request, "survey/staff/study_list.html", {"studies": studies})


@researcher_required
@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study.objects.listed(), slug=slug)
    entry = request.build_absolute_uri(reverse("survey:entry", args=[study.slug]))
    return render(
        request,
        "survey/staff/study_detail.html",
        {
            "study": study,
            "entry_url": entry,
            "prolific_url": entry
            + "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
            "instruments": [
                instrument
                for language in study.offered_languages()
                for instrument in study.instruments_in_order(language)
            ],
            "pool_size": study.item_pool.count(),
            "coverage": study_coverage(study=study, languages=study.offered_languages()),
            "refusal": study.refusal_reason() if study.status == Study.Status.OPEN else None,
            "can_manage": is_admin(request.user),
            "statuses": Study.Status.choices,
            "has_previews": study.previews.filter(preview_by=request.user).exists(),
        },
    )


@admin_required
@require_POST
def change_status(request: HttpRequest, slug: str) -> HttpResponse:
    """Open, pause or close a study (opening is refused while it is not ready)."""
    study = get_object_or_404(Study, slug=slug)
    status = request.POST.get("status")
    if status not in Study.Status.values:
        return HttpResponse("Unknown status.", status=400, content_type="text/plain")
    study.status = status
    reason = study.refusal_reason() if status == Study.Status.OPEN else None
    if reason:
        messages.error(request, f"Not opened: {reason}")
        return redirect("studies:detail", slug=slug)
    study.save(update_fields=["status", "updated_at"])
    messages.success(request, f"Study is now {study.get_status_display().lower()}.")
    return redirect("studies:detail", slug=slug)


@researcher_required
@require_GET
def monitor(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    data = monitor_data(study=study)
    by_status = data["participants"]["by_status"]
    median = data["median_completion_seconds"]
    return render(
        request,
        "survey/staff/monitor.html",
        {
            "study": study,
            "data": data,
            "status_tiles": [(v, label, by_status[v]) for v, label in Participant.Status.choices],
            "median_minutes": median / 60 if median else None,
        },
    )


@researcher_required
@require_GET
def monitor_json(request: HttpRequest, slug: str) -> JsonResponse:
    study = get_object_or_404(Study, slug=slug)
    return JsonResponse(monitor_data(study=study))


@researcher_required
@require_POST
def recompute_flags(request: HttpRequest, slug: str) -> HttpResponse:
    """Mark expired sessions timed out and recompute every finished participant's flags."""
    study = get_object_or_404(Study, slug=slug)
    expired = ending.expire_stale(study=study)
    n = ending.recompute_quality(study=study)
    messages.success(
        request, f"Flags recomputed for {n} participants; {expired} sessions timed out."
    )
    return redirect("studies:monitor", slug=slug)


def table_response(rows: list[dict], *, fmt: str, filename: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("Export formats: csv, json.")
    content_type = f"{tabular.MEDIA_TYPES[fmt]}; charset=utf-8"
    response = HttpResponse(tabular.render(rows, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@researcher_required
@require_GET
def export_ratings(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    return table_response(
        exports.rating_rows(study=study), fmt=fmt, filename=f"{study.slug}-ratings"
    )


@researcher_required
@require_GET
def export_participants(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    return table_response(
        exports.participant_rows(study=study), fmt=fmt, filename=f"{study.slug}-participants"
    )


@admin_required
@require_GET
def export_participants_raw(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """Participants with raw panel ids: admins holding ``survey.view_raw_participant_ids``."""
    if not request.user.has_perm("survey.view_raw_participant_ids"):
        raise PermissionDenied("Raw participant ids need the view_raw_participant_ids permission.")
    study = get_object_or_404(Study, slug=slug)
    return table_response(
        exports.participant_rows(study=study, raw_ids=True),
        fmt=fmt,
        filename=f"{study.slug}-participants-raw",
    )


def _release_parameters(request: HttpRequest) -> dict | JsonResponse:
    """``include_flagged`` as the API declares it (``true``/``1``/``yes``, ``false``/``0``/
    ``no``; empty or absent: as the study says); another value is a 400 naming it."""
    parsed = ReleaseExportParameters(data=request.GET)
    if not parsed.is_valid():
        return JsonResponse(parsed.errors, status=400)
    return parsed.validated_data


@researcher_required
@require_GET
def export_release_survey(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    params = _release_parameters(request)
    if isinstance(params, JsonResponse):
        return params
    data = exports.release_survey_json(study=study, include_flagged=params["include_flagged"])
    response = HttpResponse(json.dumps(data), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="survey.json"'
    return response


@researcher_required
@require_GET
def export_release_value(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    params = _release_parameters(request)
    if isinstance(params, JsonResponse):
        return params
    data = exports.release_value_json(study=study, include_flagged=params["include_flagged"])
    response = HttpResponse(json.dumps(data), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="value.json"'
    return response
