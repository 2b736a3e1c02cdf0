"""Researcher pages that set a study up: create, edit (with an item pool CSV) and preview.

Thin adapters: the form validates, ``survey.services.study_setup`` writes. Researchers (and
admins) may use them; opening, pausing and closing stay with admins (``staff_views``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.roles import researcher_required
from survey.errors import ItemPoolRefused
from survey.models import Study
from survey.services import study_setup
from survey.staff_forms import StudySetupForm


def _setup_page(request: HttpRequest, study: Study | None) -> HttpResponse:
    form = StudySetupForm(request.POST or None, request.FILES or None, instance=study)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        try:
            saved, imported = study_setup.save_study(
                study=form.save(commit=False),
                instruments=form.cleaned_data["instruments"],
                item_csv=form.cleaned_data["item_csv"],
            )
        except ItemPoolRefused as refused:
            problems = refused.problems
        else:
            note = "Study saved."
            if imported is not None:
                note += (
                    f" {imported.items_added} item(s) added to the pool "
                    f"({imported.items_created} new in the item bank, "
                    f"{imported.scenarios_created} new scenario(s)"
                    + (
                        f", new sources: {', '.join(imported.sources_created)}"
                        if imported.sources_created
                        else ""
                    )
                    + ")."
                )
            messages.success(request, note)
            return redirect("studies:detail", slug=saved.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "survey/staff/study_form.html",
        {"form": form, "study": study, "problems": problems},
        status=status,
    )


@researcher_required
@require_http_methods(["GET", "POST"])
def study_new(request: HttpRequest) -> HttpResponse:
    return _setup_page(request, None)


@researcher_required
@require_http_methods(["GET", "POST"])
def study_edit(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study.objects.listed(), slug=slug)
    return _setup_page(request, study)


@researcher_required
@require_POST
def preview_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Open a throwaway copy of the study as a participant (a plain link, no Prolific)."""
    study = get_object_or_404(Study.objects.listed(), slug=slug)
    copy = study_setup.start_preview(study=study, user=request.user)
    return redirect(reverse("survey:entry", args=[copy.slug]))


@researcher_required
@require_POST
def preview_end(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study.objects.listed(), slug=slug)
    n = study_setup.end_previews(study=study, user=request.user)
    messages.success(request, f"Preview ended; {n} preview copy(ies) and their answers deleted.")
    return redirect("studies:detail", slug=study.slug)
