"""Top-level URLs. Each app mounts its own ``urls`` module below its prefix."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("dashboards/", include("dashboards.urls")),
    path("benchmark/", include("benchmark.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("s/", include("survey.urls")),
    path("studies/", include("survey.staff_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
