"""Project-level pages: the home page and a health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.roles import is_researcher
from survey.models import Study


def home(request: HttpRequest) -> HttpResponse:
    """Public introduction; researchers also see the studies and the way to the results."""
    researcher = is_researcher(request.user)
    studies = Study.objects.listed().order_by("-created_at") if researcher else Study.objects.none()
    return render(request, "home.html", {"studies": studies, "researcher": researcher})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip; used by docker-compose and load tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})
