"""HTTP helpers of the participant pages: the refusals' statuses, the error page, the
participant a request names (token in the form, else in the session), the language a page
is shown in (``use_language``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext_lazy

from survey import errors
from survey.models import Participant, Study
from survey.selectors.progress import participant_from_token
from survey.tokens import make_token

# The HTTP status of each refusal (the most specific class wins).
STATUS_OF: dict[type[errors.FlowError], int] = {
    errors.FlowError: 400,
    errors.BadAnswer: 400,
    errors.ForgedToken: 403,
    errors.NotInStudy: 404,
    errors.NotYourTurn: 409,
    errors.SessionEnded: 409,
    errors.StudyClosed: 409,
    errors.Incomplete: 409,
}


@dataclass(frozen=True)
class StudyHeading:
    """What a page's heading and links need of the study (the item page reads no more)."""

    slug: str
    title: str  # already in the page's language

    def text_in(self, name: str, language: str) -> str:
        return self.title if name == "title" else ""


def http_status(error: errors.FlowError) -> int:
    return next(STATUS_OF[c] for c in type(error).__mro__ if c in STATUS_OF)


def session_key(slug: str) -> str:
    return f"survey_token:{slug}"


def language_key(slug: str) -> str:
    """The session key of the language a newcomer chose for study ``slug`` (before consent)."""
    return f"survey_language:{slug}"


def use_language(
    request: HttpRequest,
    study: Study,
    participant: Participant | None = None,
    *,
    requested: str | None = None,
) -> str:
    """Activate the language of a participant page and return its code.

    A participant keeps the language recorded at consent; before that, the language a link
    asked for (``?lang=``, ``requested``) if the study offers it, else the one chosen earlier
    in this session, else the study's own language. The browser's Accept-Language (read by
    LocaleMiddleware) never decides a participant page: the researcher's study does."""
    if participant is not None:
        code = participant.study_language
    elif requested:
        code = study.language_for(requested)
        request.session[language_key(study.slug)] = code
    else:
        code = study.language_for(request.session.get(language_key(study.slug)))
    activate(request, code)
    return code


def activate(request: HttpRequest, code: str) -> None:
    """Switch this request (its rendering, its Content-Language) to language ``code``."""
    translation.activate(code)
    request.LANGUAGE_CODE = code
    request.survey_language = code


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, study: Study | None, error: errors.FlowError):
    status = http_status(error)
    if study is not None and not hasattr(request, "survey_language"):
        use_language(request, study)
    if wants_json(request):
        return JsonResponse({"ok": False, "error": str(error.message)}, status=status)
    context = {
        "study": study,
        "page_name": "message",
        "heading": gettext_lazy("We could not do that"),
        "message": error.message,
        # Only someone with a session can continue (a refused newcomer has none).
        "show_continue": study is not None
        and not isinstance(error, errors.ForgedToken)
        and session_key(study.slug) in request.session,
    }
    return TemplateResponse(request, "survey/message.html", context, status=status)


def message(request: HttpRequest, study: Study, text: str) -> HttpResponse:
    language = use_language(request, study)
    context = {
        "study": study,
        "page_name": "message",
        "heading": study.text_in("title", language),
        "message": text,
    }
    return TemplateResponse(request, "survey/message.html", context)


def participant_of(request: HttpRequest, study: Study) -> Participant:
    """The participant the request's token names (the form's, else the session's);
    ``ForgedToken`` without a valid one."""
    token = request.POST.get("token") if request.method == "POST" else None
    token = token or request.session.get(session_key(study.slug))
    return participant_from_token(token=token, study=study)


def remember(request: HttpRequest, participant: Participant) -> None:
    token = make_token(participant_id=participant.pk, study_id=participant.study_id)
    request.session[session_key(participant.study.slug)] = token


def for_participant(view):
    """Call ``view(request, study, participant, **kwargs)`` for the participant the request
    names (the one participant-or-error lookup of the pages); without a valid token the
    refusal's page answers instead."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
        study = get_object_or_404(Study, slug=slug)
        try:
            participant = participant_of(request, study)
        except errors.FlowError as error:
            return error_response(request, study, error)
        use_language(request, study, participant)
        return view(request, study, participant, **kwargs)

    return wrapper
