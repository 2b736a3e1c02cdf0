"""Project-level pages: the home page and a health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from survey.models import Study


def home(request: HttpRequest) -> HttpResponse:
    studies = Study.objects.all() if request.user.is_authenticated else Study.objects.none()
    return render(request, "home.html", {"studies": studies})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip; used by docker-compose and load tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})
