from django.urls import path

from . import views

app_name = "benchmark"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.study_detail, name="study"),
    path("<slug:slug>/recompute/", views.recompute, name="recompute"),
    path("<slug:slug>/item-sets/new/", views.create_set, name="create_item_set"),
    path("<slug:slug>/exclusions/new/", views.add_exclusion, name="add_exclusion"),
    path("<slug:slug>/raters-needed/", views.raters_needed, name="raters_needed"),
    path("<slug:slug>/languages/", views.languages, name="languages"),
    path("<slug:slug>/runs/<int:run_id>/", views.run_detail, name="run"),
    path(
        "<slug:slug>/runs/<int:run_id>/estimate-chance/",
        views.estimate_run_chance,
        name="estimate_chance",
    ),
    path(
        "<slug:slug>/runs/<int:run_id>/download.<str:fmt>",
        views.download_run,
        name="download_run",
    ),
    path("<slug:slug>/item-sets/<int:set_id>/", views.item_set_detail, name="item_set"),
    path(
        "<slug:slug>/item-sets/<int:set_id>/download.<str:fmt>",
        views.download_item_set,
        name="download_item_set",
    ),
]
