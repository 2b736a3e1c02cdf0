"""Participant pages (anonymous role): HTTP adapters over the declared flow (``survey.steps``).

One generic view serves every step of ``PAGE_SEQUENCE`` and one every ending; the entry and
consent pages come before the participant exists. The participant is identified by a signed
token kept in the session and repeated in a hidden field of every form (so two tabs or a
lost cookie still name the right person). The flow's refusals (``survey.errors``) become
HTTP statuses (``survey.http.STATUS_OF``); the item pages' hot paths are
``survey.item_views``. Every page works without JavaScript;
``static/survey/survey.js`` adds keys 1-6, instant saving of questionnaire answers and
double-submit protection.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from survey import errors, steps
from survey.http import (
    error_response,
    for_participant,
    message,
    remember,
    session_key,
    use_language,
    wants_json,
)
from survey.item_views import post_item_answer, show_item
from survey.models import Participant, Study
from survey.selectors.progress import Place, find_participant, participant_from_token, progress
from survey.services import ending, enrolment
from survey.tokens import make_token

ARRIVAL_SALT = "survey.arrival"
PANEL_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def page_context(
    participant: Participant, step: steps.Step, here: Place, place: Place, **extra
) -> dict:
    """A step page's context: ``here`` is the page's place, ``place`` the participant's."""
    answered, total = progress(participant=participant, place=place)
    return {
        "study": participant.study,
        "participant": participant,
        "step": step,
        "page_name": step.page,
        "here": here,
        "place": place,
        "token": make_token(participant_id=participant.pk, study_id=participant.study_id),
        "answered": answered,
        "total": total,
        "percent": round(100 * answered / total) if total else 0,
        **extra,
    }


def go_on(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    """Redirect to the participant's place, completing the study when all is answered."""
    try:
        place = steps.locate(participant)
        if place.step == steps.COMPLETION.name:
            ending.complete(participant=participant)
            return redirect(steps.DONE.url(study.slug))
    except errors.FlowError as error:
        return error_response(request, study, error)
    return redirect(steps.url_of(study.slug, place))


# --- before the participant exists: entry and consent ---------------------------------------


def languages_offered(request: HttpRequest, study: Study) -> list[tuple[str, str, str]]:
    """(code, name in its own language, this link in that language) of the study's
    languages, for the consent page's language choice (empty when there is nothing to
    choose). The links keep the arrival's other parameters (e.g. Prolific's)."""
    offered = study.offered_languages()
    if len(offered) < 2:
        return []
    names = dict(settings.LANGUAGES)
    choices = []
    for code in offered:
        query = request.GET.copy()
        query["lang"] = code
        choices.append((code, names.get(code, code), f"{request.path}?{query.urlencode()}"))
    return choices


@require_GET
def entry(request: HttpRequest, slug: str) -> HttpResponse:
    """``/s/<slug>/?PROLIFIC_PID=…&STUDY_ID=…&SESSION_ID=…`` (or a plain link); ``&lang=xx``
    chooses among the study's languages (until consent)."""
    study = get_object_or_404(Study, slug=slug)
    language = use_language(request, study, requested=request.GET.get("lang", "").strip())
    pid = request.GET.get("PROLIFIC_PID", "").strip()
    panel_id = request.GET.get("participant_id", "").strip()
    session_id = request.GET.get("SESSION_ID", "").strip()
    for value in (
        pid,
        panel_id,
        request.GET.get("SESSION_ID", ""),
        request.GET.get("STUDY_ID", ""),
    ):
        if value and not PANEL_ID.match(value):
            malformed = errors.BadAnswer(
                gettext_lazy("The link's participant or session id is malformed.")
            )
            return error_response(request, None, malformed)
    external_id = pid or panel_id
    if external_id:
        existing = find_participant(study=study, external_id=external_id)
        if existing is not None:
            enrolment.record_attempt(participant=existing, session_id=session_id)
            existing.study = study
            remember(request, existing)
            return redirect("survey:next", slug=study.slug)
    else:
        token = request.session.get(session_key(study.slug))
        if token:
            try:
                participant_from_token(token=token, study=study)
                return redirect("survey:next", slug=study.slug)
            except errors.ForgedToken:
                request.session.pop(session_key(study.slug), None)
        external_id = "L-" + secrets.token_hex(8).upper()
    reason = study.refusal_reason()
    if reason:
        return message(request, study, reason)
    if not study.has_room():
        full = gettext(
            "This study is full: every item has all the ratings it needs. "
            "Thank you for your interest."
        )
        if pid:
            full += " " + gettext("Please return it on Prolific.")
        return message(request, study, full)
    arrival = signing.dumps(
        {
            "id": external_id,
            "origin": Participant.Origin.PROLIFIC if pid else Participant.Origin.LINK,
            "study": request.GET.get("STUDY_ID", "").strip(),
            "session": session_id,
            "lang": language,
        },
        salt=ARRIVAL_SALT,
    )
    instruments = study.instruments_in_order()
    context = {
        "study": study,
        "step": steps.CONSENT,
        "page_name": steps.CONSENT.page,
        "arrival": arrival,
        "n_items": min(study.items_per_participant, study.item_pool.count()),
        "instruments": instruments,
        "placeholder": any(i.is_placeholder for i in instruments),
        "language": language,
        "languages": languages_offered(request, study),
    }
    return TemplateResponse(request, steps.CONSENT.template, context)


@require_POST
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        data = signing.loads(request.POST.get("arrival", ""), salt=ARRIVAL_SALT)
        arrival = enrolment.Arrival(
            external_id=str(data["id"]),
            origin=str(data["origin"]),
            prolific_study_id=str(data.get("study", "")),
            session_id=str(data.get("session", "")),
            language=str(data.get("lang", "")),
        )
    except (signing.BadSignature, KeyError, TypeError):
        use_language(request, study)
        forged = errors.ForgedToken(
            gettext_lazy("This consent form is not valid. Please open the study link again.")
        )
        return error_response(request, None, forged)
    use_language(request, study, requested=arrival.language)
    choice = request.POST.get("choice")
    try:
        if choice not in ("agree", "decline"):
            raise errors.BadAnswer(gettext_lazy("Please choose whether you agree to take part."))
        participant = enrolment.consent(study=study, arrival=arrival, agreed=choice == "agree")
    except errors.FlowError as error:
        return error_response(request, study, error)
    participant.study = study
    remember(request, participant)
    return redirect("survey:next", slug=study.slug)


# --- the declared steps ----------------------------------------------------------------------


@require_GET
@for_participant
def next_step(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    """Send the participant to their place; complete the study when all is answered."""
    return go_on(request, study, participant)


@require_http_methods(["GET", "POST"])
def step_page(request: HttpRequest, slug: str, step_name: str, **where) -> HttpResponse:
    """The page of one step of ``PAGE_SEQUENCE`` at the place ``where`` names (URL kwargs)."""
    step = steps.BY_NAME[step_name]
    if step is steps.ITEMS:  # the launch's hot paths: by token, the study not loaded
        if request.method == "POST":
            return post_item_answer(request, slug, where["position"], json=wants_json(request))
        shown = show_item(request, slug, where["position"])
        if shown is not None:
            return shown
    return generic_step_page(request, slug, step=step, where=where)


@for_participant
def generic_step_page(
    request: HttpRequest, study: Study, participant: Participant, *, step: steps.Step, where
) -> HttpResponse:
    slug = study.slug
    status, submitted = 200, None
    try:
        here = step.here(study, **where)
        current = steps.locate(participant)
        if request.method == "POST":
            if step.guard_post and not step.reached(study, here, current):
                return redirect(steps.url_of(slug, current))
            submitted = step.submit(participant, here, request.POST)
            if submitted.complete:
                return go_on(request, study, participant)
            status, current = 400, steps.locate(participant)
        if not step.reached(study, here, current):
            return redirect(steps.url_of(slug, current))
        shown = step.show(participant, here, current)
    except errors.FlowError as error:
        return error_response(request, study, error)
    if shown is None:
        return redirect(steps.url_of(slug, current))
    if submitted is not None:
        shown.update(submitted.context)
    context = page_context(participant, step, here, current, **shown)
    return TemplateResponse(request, step.template, context, status=status)


# --- endings ---------------------------------------------------------------------------------


@require_POST
@for_participant
def stop(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    """The participant stops: their items go back to the pool."""
    ending.return_study(participant=participant)
    return redirect(steps.ENDED.url(study.slug))


@require_GET
@for_participant
def ending_page(
    request: HttpRequest, study: Study, participant: Participant, *, ending_name: str
) -> HttpResponse:
    """The page of one of the ``ENDINGS``; anyone elsewhere is sent to their place."""
    end = steps.BY_NAME[ending_name]
    try:
        place = steps.locate(participant)
    except errors.FlowError as error:
        return error_response(request, study, error)
    if place.step != end.name:
        return redirect(steps.url_of(study.slug, place))
    context = {
        "study": study,
        "participant": participant,
        "page_name": end.page,
        "place": place,
        **end.context(study, participant),
    }
    return TemplateResponse(request, end.template, context)
