"""Participant pages (anonymous role): a thin layer over ``survey.services.flow``.

The participant is identified by a signed token kept in the session and repeated in a
hidden field of every form (so two tabs or a lost cookie still name the right person).
Every page works without JavaScript; ``static/survey/survey.js`` adds keys 1-6, instant
saving of questionnaire answers and double-submit protection.
"""

from __future__ import annotations

import re
import secrets

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from survey import scale
from survey.forms import DemographicsForm
from survey.instruments.keys import INSTRUMENT_CODES
from survey.models import Instrument, Participant, Study
from survey.services import answers, flow

ARRIVAL_SALT = "survey.arrival"
PANEL_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def session_key(study: Study) -> str:
    return slug_session_key(study.slug)


def slug_session_key(slug: str) -> str:
    return f"survey_token:{slug}"


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, study: Study | None, error: flow.FlowError):
    if wants_json(request):
        return JsonResponse({"ok": False, "error": error.message}, status=error.status)
    return render(
        request,
        "survey/message.html",
        {
            "study": study,
            "heading": "We could not do that",
            "message": error.message,
            # Only someone with a session can continue (a refused newcomer has none).
            "show_continue": study is not None
            and error.status != 403
            and session_key(study) in request.session,
        },
        status=error.status,
    )


def get_participant(request: HttpRequest, study: Study) -> Participant:
    token = request.POST.get("token") if request.method == "POST" else None
    token = token or request.session.get(session_key(study))
    return flow.participant_from_token(token=token, study=study)


def remember(request: HttpRequest, participant: Participant) -> str:
    token = flow.make_token(participant)
    request.session[session_key(participant.study)] = token
    return token


def step_url(study: Study, step: flow.Step) -> str:
    if step.kind == "item":
        return reverse("survey:item", args=[study.slug, step.position])
    if step.kind == "questionnaire":
        return reverse("survey:questionnaire", args=[study.slug, step.instrument, step.page])
    names = {
        "consent": "survey:entry",
        "demographics": "survey:demographics",
        "done": "survey:done",
        "finish": "survey:next",
        "screened_out": "survey:screened_out",
        "ended": "survey:ended",
    }
    return reverse(names[step.kind], args=[study.slug])


def page_context(participant: Participant, step: flow.Step, **extra) -> dict:
    answered, total = flow.progress(participant, step)
    return {
        "study": participant.study,
        "participant": participant,
        "token": flow.make_token(participant),
        "answered": answered,
        "total": total,
        "percent": round(100 * answered / total) if total else 0,
        **extra,
    }


# --- entry and consent ------------------------------------------------------------------


@require_GET
def entry(request: HttpRequest, slug: str) -> HttpResponse:
    """``/s/<slug>/?PROLIFIC_PID=…&STUDY_ID=…&SESSION_ID=…`` (or a plain link)."""
    study = get_object_or_404(Study, slug=slug)
    pid = request.GET.get("PROLIFIC_PID", "").strip()
    panel_id = request.GET.get("participant_id", "").strip()
    for value in (
        pid,
        panel_id,
        request.GET.get("SESSION_ID", ""),
        request.GET.get("STUDY_ID", ""),
    ):
        if value and not PANEL_ID.match(value):
            return error_response(
                request, None, flow.FlowError("The link's participant or session id is malformed.")
            )
    session_id = request.GET.get("SESSION_ID", "").strip()
    external_id = pid or panel_id
    if external_id:
        existing = flow.find_participant(study=study, external_id=external_id)
        if existing is not None:
            flow.record_attempt(participant=existing, session_id=session_id)
            existing.study = study
            remember(request, existing)
            return redirect("survey:next", slug=study.slug)
    else:
        token = request.session.get(session_key(study))
        if token:
            try:
                flow.participant_from_token(token=token, study=study)
                return redirect("survey:next", slug=study.slug)
            except flow.InvalidToken:
                request.session.pop(session_key(study), None)
        external_id = "L-" + secrets.token_hex(8).upper()
    reason = study.refusal_reason()
    if reason:
        return render(
            request,
            "survey/message.html",
            {"study": study, "heading": study.title, "message": reason},
        )
    if not study.has_room():
        return render(
            request,
            "survey/message.html",
            {
                "study": study,
                "heading": study.title,
                "message": "This study is full: every item has all the ratings it needs. "
                "Thank you for your interest." + (" Please return it on Prolific." if pid else ""),
            },
        )
    arrival = signing.dumps(
        {
            "id": external_id,
            "origin": Participant.Origin.PROLIFIC if pid else Participant.Origin.LINK,
            "study": request.GET.get("STUDY_ID", "").strip(),
            "session": session_id,
        },
        salt=ARRIVAL_SALT,
    )
    instruments = study.instruments_in_order()
    return render(
        request,
        "survey/consent.html",
        {
            "study": study,
            "arrival": arrival,
            "n_items": min(study.items_per_participant, study.item_pool.count()),
            "instruments": instruments,
            "placeholder": any(i.is_placeholder for i in instruments),
        },
    )


@require_POST
def consent_view(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        data = signing.loads(request.POST.get("arrival", ""), salt=ARRIVAL_SALT)
        arrival = flow.Arrival(
            external_id=str(data["id"]),
            origin=str(data["origin"]),
            prolific_study_id=str(data.get("study", "")),
            session_id=str(data.get("session", "")),
        )
    except (signing.BadSignature, KeyError, TypeError):
        return error_response(
            request,
            None,
            flow.InvalidToken("This consent form is not valid. Please open the study link again."),
        )
    choice = request.POST.get("choice")
    if choice not in ("agree", "decline"):
        return error_response(
            request, study, flow.FlowError("Please choose whether you agree to take part.")
        )
    try:
        participant = flow.consent(study=study, arrival=arrival, agreed=choice == "agree")
    except flow.FlowError as error:
        return error_response(request, study, error)
    participant.study = study
    remember(request, participant)
    return redirect("survey:next", slug=study.slug)


@require_GET
def next_step(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the participant to the first unanswered step; complete when all is answered."""
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = get_participant(request, study)
    except flow.FlowError as error:
        return error_response(request, study, error)
    return go_to_current_step(request, study, participant)


def go_to_current_step(request: HttpRequest, study: Study, participant: Participant):
    """Redirect to the first unanswered step, completing the study when all is answered
    (pages that store answers redirect here directly, not through ``/next/``)."""
    try:
        step = flow.current_step(participant)
        if step.kind == "finish":
            flow.complete(participant=participant)
            return redirect("survey:done", slug=study.slug)
    except flow.FlowError as error:
        return error_response(request, study, error)
    return redirect(step_url(study, step))


def guard(request: HttpRequest, study: Study):
    """(participant, current step, None), or (None, None, error response) without a valid token."""
    try:
        participant = get_participant(request, study)
    except flow.FlowError as error:
        return None, None, error_response(request, study, error)
    return participant, flow.current_step(participant), None


def step_order(study: Study, step: flow.Step) -> tuple[int, int]:
    """Comparable place of a questionnaire step (instrument order, page)."""
    codes = [i.code for i in study.instruments_in_order()]
    return (codes.index(step.instrument) if step.instrument in codes else 99, step.page or 0)


# --- demographics -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def demographics(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    participant, step, response = guard(request, study)
    if response:
        return response
    if step.kind != "demographics":
        return redirect(step_url(study, step))
    form = DemographicsForm(
        request.POST if request.method == "POST" else None, fields=study.demographic_fields
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                flow.save_demographics(participant=participant, cleaned=form.cleaned_data)
            except flow.FlowError as error:
                return error_response(request, study, error)
            return go_to_current_step(request, study, participant)
        status = 400
    else:
        flow.page_shown(participant=participant, page="demographics")
        status = 200
    return render(
        request,
        "survey/demographics.html",
        page_context(participant, step, form=form),
        status=status,
    )


# --- items ------------------------------------------------------------------------------


def post_item_answer(request: HttpRequest, slug: str, position, *, json: bool) -> HttpResponse:
    """Store one item answer (the launch's hot path, ``survey.services.answers``) and send the
    participant straight to their next open question (with ``json``: say where, as JSON)."""
    token = request.POST.get("token") or request.session.get(slug_session_key(slug))
    try:
        try:
            position = int(position)
        except (TypeError, ValueError):
            raise flow.FlowError("Missing question position.") from None
        result = answers.answer_item(
            token=token,
            slug=slug,
            position=position,
            raw_value=request.POST.get("value"),
            response_time_ms=request.POST.get("elapsed_ms"),
        )
    except flow.FlowError as error:
        # Errors are rare: only now is the study needed (a 404, or the page's heading).
        study = get_object_or_404(Study, slug=slug)
        if json:
            return JsonResponse({"ok": False, "error": error.message}, status=error.status)
        return error_response(request, study, error)
    if result.screened_out:
        target = reverse("survey:screened_out", args=[slug])
    elif result.next_position is not None:
        target = reverse("survey:item", args=[slug, result.next_position])
    else:  # the items are done: the questionnaires (or completion) come next
        target = reverse("survey:next", args=[slug])
    if json:
        return JsonResponse({"ok": True, "stored": result.stored, "next": target})
    return redirect(target)


@require_http_methods(["GET", "POST"])
def item(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    if request.method == "POST":
        return post_item_answer(request, slug, position, json=wants_json(request))
    study = get_object_or_404(Study, slug=slug)
    participant, step, response = guard(request, study)
    if response:
        return response
    if step.kind != "item" or position > step.position:
        return redirect(step_url(study, step))
    assignment = flow.assignment_for_page(participant=participant, position=position)
    if assignment is None:
        return redirect(step_url(study, step))
    if assignment.shown_at is None:
        flow.item_shown(participant=participant, position=position)
    if assignment.is_attention_check:
        current = assignment.given_value
        check_text = study.attention_check_text(assignment.expected_value)
    else:
        current = assignment.stored_rating
        check_text = ""
    return render(
        request,
        "survey/item.html",
        page_context(
            participant,
            step,
            assignment=assignment,
            scenario=assignment.item.scenario if assignment.item else None,
            check_text=check_text,
            scale=scale.CHOICES,
            current=current,
            position=position,
            is_review=position < step.position,
        ),
    )


# --- questionnaires ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, slug: str, code: str, page: int) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    instrument = next((i for i in study.instruments_in_order() if i.code == code), None)
    if instrument is None:
        return error_response(
            request, study, flow.FlowError("This questionnaire is not part of the study.", 404)
        )
    pages = flow.instrument_pages(instrument, study)
    if not 1 <= page <= len(pages):
        return error_response(
            request, study, flow.FlowError("This questionnaire page does not exist.", 404)
        )
    numbers = pages[page - 1]
    page_name = f"{code}:{page}"
    if request.method == "POST":
        try:
            participant = get_participant(request, study)
            answers = {n: request.POST[f"q{n}"] for n in numbers if request.POST.get(f"q{n}")}
            extra = [
                k
                for k in request.POST
                if k.startswith("q") and k[1:].isdigit() and int(k[1:]) not in numbers
            ]
            if extra:
                raise flow.FlowError("Answers were sent for questions that are not on this page.")
            if answers:
                flow.answer_questionnaire(
                    participant=participant,
                    instrument=instrument,
                    answers=answers,
                    response_time_ms=request.POST.get("elapsed_ms"),
                )
        except flow.FlowError as error:
            return error_response(request, study, error)
        if len(answers) == len(numbers) or set(numbers) <= set(
            participant.instrument_responses.filter(instrument=instrument).values_list(
                "item_number", flat=True
            )
        ):
            flow.page_answered(participant=participant, page=page_name)
            return go_to_current_step(request, study, participant)
        missing_note = "Please answer every question on this page before continuing."
    else:
        missing_note = ""
    participant, step, response = guard(request, study)
    if response:
        return response
    here = flow.Step("questionnaire", instrument=code, page=page)
    if step.kind not in ("questionnaire", "finish") or (
        step.kind == "questionnaire" and step_order(study, here) > step_order(study, step)
    ):
        return redirect(step_url(study, step))
    flow.page_shown(participant=participant, page=page_name)
    form = participant.form_of(instrument)
    texts = dict(
        instrument.items.filter(form=form, number__in=numbers).values_list("number", "text")
    )
    given = dict(
        participant.instrument_responses.filter(
            instrument=instrument, item_number__in=numbers
        ).values_list("item_number", "value")
    )
    key = instrument.key
    options = [(key.scale_min + i, label) for i, label in enumerate(key.response_labels)]
    questions = [
        {"number": n, "text": texts.get(n, f"Question {n}"), "value": given.get(n)} for n in numbers
    ]
    return render(
        request,
        "survey/questionnaire.html",
        page_context(
            participant,
            step,
            instrument=instrument,
            instructions=instrument.instructions,
            questions=questions,
            scale=options,
            page=page,
            n_pages=len(pages),
            missing_note=missing_note,
        ),
        status=400 if missing_note else 200,
    )


# --- single-answer endpoint (progressive enhancement) ------------------------------------


@require_POST
def answer(request: HttpRequest, slug: str) -> HttpResponse:
    """Save one answer at once: ``position``+``value`` (item) or ``instrument``+``number``+``value``."""
    if not request.POST.get("instrument"):
        return post_item_answer(request, slug, request.POST.get("position"), json=True)
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = get_participant(request, study)
        code = request.POST["instrument"]
        instrument = (
            Instrument.objects.filter(code=code).first() if code in INSTRUMENT_CODES else None
        )
        if instrument is None:
            raise flow.FlowError("Unknown questionnaire.", status=404)
        changed = flow.answer_questionnaire(
            participant=participant,
            instrument=instrument,
            answers={request.POST.get("number", ""): request.POST.get("value")},
            response_time_ms=request.POST.get("elapsed_ms"),
        )
    except flow.FlowError as error:
        return JsonResponse({"ok": False, "error": error.message}, status=error.status)
    return JsonResponse({"ok": True, "stored": bool(changed)})


# --- endings ----------------------------------------------------------------------------


@require_POST
def stop(request: HttpRequest, slug: str) -> HttpResponse:
    """The participant stops: their items go back to the pool."""
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = get_participant(request, study)
    except flow.FlowError as error:
        return error_response(request, study, error)
    flow.return_study(participant=participant)
    return redirect("survey:ended", slug=slug)


@require_GET
def done(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    participant, step, response = guard(request, study)
    if response:
        return response
    if step.kind != "done":
        return redirect(step_url(study, step))
    code = study.completion_code
    redirect_url = study.completion_url(code) if study.uses_prolific and code else ""
    return render(
        request,
        "survey/done.html",
        {"study": study, "code": code, "redirect_url": redirect_url, "participant": participant},
    )


@require_GET
def screened_out(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = get_participant(request, study)
    except flow.FlowError as error:
        return error_response(request, study, error)
    if participant.status != Participant.Status.SCREENED_OUT:
        return redirect("survey:next", slug=slug)
    code = study.screened_out_code
    return render(
        request,
        "survey/screened_out.html",
        {
            "study": study,
            "code": code,
            "return_url": study.completion_url(code) if code and study.uses_prolific else "",
        },
    )


@require_GET
def ended(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        participant = get_participant(request, study)
    except flow.FlowError as error:
        return error_response(request, study, error)
    flow.expire_if_due(participant)
    status = participant.status
    if status == Participant.Status.IN_PROGRESS:
        return redirect("survey:next", slug=slug)
    if status == Participant.Status.COMPLETED:
        return redirect("survey:done", slug=slug)
    if status == Participant.Status.SCREENED_OUT:
        return redirect("survey:screened_out", slug=slug)
    messages = {
        Participant.Status.NO_CONSENT: "You chose not to take part. Thank you for your time.",
        Participant.Status.TIMED_OUT: "The time limit for this study has passed, so the session "
        "has ended. Please return the study.",
        Participant.Status.RETURNED: "You stopped the study. Thank you for your time; please "
        "return it on Prolific if you came from there.",
    }
    code = study.no_consent_code if status == Participant.Status.NO_CONSENT else ""
    return render(
        request,
        "survey/ended.html",
        {
            "study": study,
            "message": messages.get(status, "This session has ended."),
            "code": code,
            "return_url": study.completion_url(code) if code and study.uses_prolific else "",
        },
    )
