"""The versioned REST API at ``/api/v1/``.

Each app registers its viewsets in ``<app>/api.py`` with a ``register(router)`` function;
this module collects them, and adds the OpenAPI schema (``/api/schema/``) and its browsable
UI (``/api/docs/``).
"""

import importlib

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

API_MODULES = ("survey.api", "benchmark.api", "evaluation.api")

router = DefaultRouter()
for module_name in API_MODULES:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue
    module.register(router)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
