"""Participant pages, mounted at ``/s/``: ``/s/<study-slug>/...``."""

from django.urls import path

from . import views

app_name = "survey"

urlpatterns = [
    path("<slug:slug>/", views.entry, name="entry"),
    path("<slug:slug>/consent/", views.consent_view, name="consent"),
    path("<slug:slug>/next/", views.next_step, name="next"),
    path("<slug:slug>/about-you/", views.demographics, name="demographics"),
    path("<slug:slug>/item/<int:position>/", views.item, name="item"),
    path(
        "<slug:slug>/questionnaire/<str:code>/<int:page>/",
        views.questionnaire,
        name="questionnaire",
    ),
    path("<slug:slug>/answer/", views.answer, name="answer"),
    path("<slug:slug>/stop/", views.stop, name="stop"),
    path("<slug:slug>/done/", views.done, name="done"),
    path("<slug:slug>/return/", views.screened_out, name="screened_out"),
    path("<slug:slug>/ended/", views.ended, name="ended"),
]
