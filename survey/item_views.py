"""The item pages: the launch's hot paths, by token, without loading the study.

``show_item`` serves the page from one read while the participant is at the items step;
``post_item_answer`` stores an answer (``survey.services.answers``) and sends the participant
straight to their next open question. Anything else falls back to the generic step page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from survey import errors, steps
from survey.http import (
    StudyHeading,
    activate,
    error_response,
    http_status,
    participant_of,
    session_key,
    use_language,
)
from survey.models import Study
from survey.selectors.item_page import item_page
from survey.selectors.progress import Place
from survey.services import answers, responses
from survey.tokens import read_token


def show_item(request: HttpRequest, slug: str, position: int) -> HttpResponse | None:
    """The item page from one read (``survey.selectors.item_page``) while the participant is
    at the items step and may see ``position``; ``None`` otherwise (a refusal, a redirect
    elsewhere: the generic step page decides, with the whole flow at hand)."""
    token = request.session.get(session_key(slug))
    try:
        participant_id, study_id = read_token(token)
    except errors.ForgedToken:
        return None
    page = item_page(
        participant_id=participant_id, study_id=study_id, position=position, now=timezone.now()
    )
    if (
        page is None
        or page.slug != slug
        or not page.answers_open
        or not page.found
        or position > page.first_open
    ):
        return None
    activate(request, page.language)
    answered, total = page.progress()
    context = {
        "study": StudyHeading(slug=slug, title=page.study_title),
        "step": steps.ITEMS,
        "page_name": steps.ITEMS.page,
        "here": Place(steps.ITEMS.name, position=position),
        "place": page.place,
        "token": token,
        # Numbers as text: the template would localise each of them.
        "answered": str(answered),
        "total": str(total),
        "percent": str(round(100 * answered / total)),
        **steps.ITEMS.page_context(page),
    }
    return TemplateResponse(request, steps.ITEMS.template, context)


def post_item_answer(request: HttpRequest, slug: str, position, *, json: bool) -> HttpResponse:
    """Store one item answer (the launch's hot path, ``survey.services.answers``) and send the
    participant straight to their next open question (with ``json``: say where, as JSON)."""
    token = request.POST.get("token") or request.session.get(session_key(slug))
    try:
        try:
            position = int(position)
        except (TypeError, ValueError):
            raise errors.BadAnswer(gettext_lazy("Missing question position.")) from None
        result = answers.answer_item(
            token=token,
            slug=slug,
            position=position,
            raw_value=request.POST.get("value"),
            response_time_ms=request.POST.get("elapsed_ms"),
        )
    except errors.FlowError as error:
        # Errors are rare: only now is the study needed (a 404, or the page's heading).
        study = get_object_or_404(Study, slug=slug)
        use_language(request, study)
        if json:
            message = str(error.message)
            return JsonResponse({"ok": False, "error": message}, status=http_status(error))
        return error_response(request, study, error)
    if result.screened_out:
        target = steps.SCREENED_OUT.url(slug)
    elif result.next_position is not None:
        target = steps.ITEMS.url(slug, Place(steps.ITEMS.name, position=result.next_position))
    else:  # the items are done: the questionnaires (or completion) come next
        target = reverse("survey:next", args=[slug])
    if json:
        return JsonResponse({"ok": True, "stored": result.stored, "next": target})
    return redirect(target)


@require_POST
def answer(request: HttpRequest, slug: str) -> HttpResponse:
    """Save one answer at once: ``position``+``value`` (item) or ``instrument``+``number``+``value``."""
    if not request.POST.get("instrument"):
        return post_item_answer(request, slug, request.POST.get("position"), json=True)
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = participant_of(request, study)
        use_language(request, study, participant)
        code = request.POST["instrument"]
        instrument = next((i for i in participant.instruments() if i.code == code), None)
        if instrument is None:
            raise errors.NotInStudy(gettext_lazy("Unknown questionnaire."))
        changed = responses.answer_questionnaire(
            participant=participant,
            instrument=instrument,
            answers={request.POST.get("number", ""): request.POST.get("value")},
            response_time_ms=request.POST.get("elapsed_ms"),
        )
    except errors.FlowError as error:
        if not hasattr(request, "survey_language"):
            use_language(request, study)
        message = str(error.message)
        return JsonResponse({"ok": False, "error": message}, status=http_status(error))
    return JsonResponse({"ok": True, "stored": bool(changed)})
