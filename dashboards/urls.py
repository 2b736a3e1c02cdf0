"""Dashboard pages under ``/dashboards/`` (researchers)."""

from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("models/", views.compare, name="compare"),
    path("runs/<int:run_id>/", views.model_portrait, name="model-portrait"),
    path("humans/", views.humans_vs_models, name="humans"),
    path("bias/", views.bias, name="bias"),
    path("items/", views.items, name="items"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
]
