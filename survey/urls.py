"""Participant pages, mounted at ``/s/``: ``/s/<study-slug>/...``.

The step and ending pages are generated from the declared flow (``survey.steps``)."""

from django.urls import path

from . import item_views, steps, views

app_name = "survey"

urlpatterns = [
    path("<slug:slug>/", views.entry, name="entry"),
    path("<slug:slug>/consent/", views.consent, name="consent"),
    path("<slug:slug>/next/", views.next_step, name="next"),
    *(
        path(f"<slug:slug>/{step.route}", views.step_page, {"step_name": step.name}, step.url_name)
        for step in steps.PAGE_SEQUENCE
        if step.route
    ),
    path("<slug:slug>/answer/", item_views.answer, name="answer"),
    path("<slug:slug>/stop/", views.stop, name="stop"),
    *(
        path(f"<slug:slug>/{end.route}", views.ending_page, {"ending_name": end.name}, end.url_name)
        for end in steps.ENDINGS
    ),
]
