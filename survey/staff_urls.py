"""Researcher pages, mounted at ``/studies/``."""

from django.urls import path

from . import staff_setup_views as setup
from . import staff_views as views
from .prolific import views as prolific_views

app_name = "studies"

urlpatterns = [
    path("", views.study_list, name="list"),
    path("new/", setup.study_new, name="new"),
    path("<slug:slug>/", views.study_detail, name="detail"),
    path("<slug:slug>/status/", views.change_status, name="status"),
    path("<slug:slug>/edit/", setup.study_edit, name="edit"),
    path("<slug:slug>/preview/", setup.preview_start, name="preview"),
    path("<slug:slug>/preview/end/", setup.preview_end, name="preview_end"),
    path("<slug:slug>/monitor/", views.monitor, name="monitor"),
    path("<slug:slug>/review/", prolific_views.review, name="review"),
    path("<slug:slug>/review/act/", prolific_views.review_action, name="review_action"),
    path("<slug:slug>/monitor.json", views.monitor_json, name="monitor_json"),
    path("<slug:slug>/recompute-flags/", views.recompute_flags, name="recompute_flags"),
    path("<slug:slug>/export/ratings.<str:fmt>", views.export_ratings, name="export_ratings"),
    path(
        "<slug:slug>/export/participants.<str:fmt>",
        views.export_participants,
        name="export_participants",
    ),
    path(
        "<slug:slug>/export/participants-raw.<str:fmt>",
        views.export_participants_raw,
        name="export_participants_raw",
    ),
    path("<slug:slug>/export/survey.json", views.export_release_survey, name="export_survey"),
    path("<slug:slug>/export/value.json", views.export_release_value, name="export_value"),
]
