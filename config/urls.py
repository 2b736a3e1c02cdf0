"""Top-level URLs. Each app mounts its own ``urls`` module below its prefix.

The versioned REST API at ``/api/v1/`` is one router to which every app adds its viewsets
through ``<app>.api.register(router)``; the OpenAPI schema is at ``/api/schema/`` and its
browsable UI at ``/api/docs/``. Every app is required: a missing one is an import error,
never a silently shorter API.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

import benchmark.api
import core.api
import dashboards.api
import evaluation.api
import survey.api
from core import views as core_views
from survey.prolific import views as prolific_views

api_router = DefaultRouter()
for app_api in (core.api, survey.api, benchmark.api, evaluation.api, dashboards.api):
    app_api.register(api_router)

api_urlpatterns = [
    path("v1/", include(api_router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    path("dashboards/", include("dashboards.urls")),
    path("benchmark/", include("benchmark.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("s/", include("survey.urls")),
    path("studies/", include("survey.staff_urls")),
    path("prolific/webhook/", prolific_views.webhook, name="prolific_webhook"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
