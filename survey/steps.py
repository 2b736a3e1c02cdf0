"""The participant's path, declared: ``PAGE_SEQUENCE`` and the ``ENDINGS``.

Like oTree's ``page_sequence``: each step names its page (URL name, route, template), its
completion check (``pending``: where in the step the participant must answer next, ``None``
once it is complete), its guard (``reached``: may a participant at ``current`` open the page
at ``here``), what its page shows (``show``) and how a submission is stored (``submit``). The
participant's place is the first step not complete (``locate``), so reopening the link
resumes exactly where it left off. One generic view serves every step
(``survey.views.step_page``), the URLs are generated from the sequence, and the bots
(``survey.bots``) submit ``(step, data)`` to the same steps.

Steps speak no HTTP: refusals are ``survey.errors`` errors, which the views map to statuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from survey.errors import BadAnswer, NotInStudy
from survey.forms import DemographicsForm
from survey.models import Instrument, Participant, Study
from survey.selectors import item_page
from survey.selectors.progress import (
    Facts,
    Place,
    instrument_pages,
    needs_demographics,
    page_answers,
    question_texts,
)
from survey.services import ending, responses


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: ``complete`` (move on), or what to show again."""

    complete: bool
    context: dict = field(default_factory=dict)


class Step:
    """One page of the sequence (subclasses fill in the checks)."""

    name = ""
    page = ""  # the page's name in its HTML (``data-page``), as scripts and bots see it
    url_name = ""  # under the ``survey`` namespace
    route = ""  # under ``/s/<slug>/``; served by the generic view when set
    template = ""
    guard_post = True  # a submission is refused (redirected) unless the page is reached

    def pending(self, participant: Participant, facts: Facts) -> Place | None:
        raise NotImplementedError

    def url_args(self, place: Place) -> list:
        return []

    def url(self, slug: str, place: Place) -> str:
        return reverse(f"survey:{self.url_name}", args=[slug, *self.url_args(place)])

    def here(self, study: Study, **kwargs) -> Place:
        """The place a request's URL names (``NotInStudy`` if the study has no such page)."""
        return Place(self.name)

    def reached(self, study: Study, here: Place, current: Place) -> bool:
        return current.step == self.name

    def show(self, participant: Participant, here: Place, current: Place) -> dict | None:
        """What the page shows (``None``: nothing there, send the participant on)."""
        return {}

    def submit(self, participant: Participant, here: Place, data) -> Submitted:
        raise NotImplementedError


class Consent(Step):
    """Consent comes before the participant exists: its pages are ``entry`` and ``consent``."""

    name, page, url_name, template = "consent", "consent", "entry", "survey/consent.html"
    post_url_name = "consent"

    def pending(self, participant, facts):
        return Place(self.name) if participant.consented_at is None else None


class Demographics(Step):
    name, page, url_name = "demographics", "demographics", "demographics"
    route = "about-you/"
    template = "survey/demographics.html"

    def pending(self, participant, facts):
        return Place(self.name) if needs_demographics(participant=participant) else None

    def form(self, participant: Participant, data=None) -> DemographicsForm:
        return DemographicsForm(data, fields=participant.study.demographic_fields)

    def show(self, participant, here, current):
        responses.page_shown(participant=participant, page=self.name)
        return {"form": self.form(participant)}

    def submit(self, participant, here, data):
        form = self.form(participant, data)
        if not form.is_valid():
            return Submitted(False, {"form": form})
        responses.save_demographics(participant=participant, cleaned=form.cleaned_data)
        return Submitted(True)


class Items(Step):
    """The rated items and attention checks, one position per page. Answers take the hot
    path (``survey.services.answers``, by token), so ``submit`` is not used by the view."""

    name, page, url_name, template = "items", "item", "item", "survey/item.html"
    route = "item/<int:position>/"

    def pending(self, participant, facts):
        if facts.items.first_open is None:
            return None
        # Questionnaires come after every item, so none of their answers exist yet.
        return Place(
            self.name, position=facts.items.first_open, items=facts.items, questionnaire_answers=0
        )

    def url_args(self, place):
        return [place.position]

    def here(self, study, *, position: int) -> Place:
        return Place(self.name, position=position)

    def reached(self, study, here, current):
        return current.step == self.name and here.position <= current.position

    def show(self, participant, here, current):
        page = item_page.item_page(
            participant_id=participant.pk,
            study_id=participant.study_id,
            position=here.position,
            now=timezone.now(),
        )
        return self.page_context(page) if page is not None and page.found else None

    @staticmethod
    def page_context(page: item_page.ItemPage) -> dict:
        """The page's context; notes the position's first showing (for its answer time)."""
        if not page.shown:
            responses.item_shown(participant_id=page.participant_id, position=page.position)
        return page.context()


class Questionnaires(Step):
    """The study's instruments, in order, ``questions_per_page`` questions a page. A page may
    be submitted in part (answers are saved as they come); it is complete when all its
    questions have a stored answer."""

    name, page, url_name = "questionnaires", "questionnaire", "questionnaire"
    route = "questionnaire/<str:code>/<int:page>/"
    template = "survey/questionnaire.html"
    guard_post = False  # answering an earlier or later page is allowed once the items are done
    MISSING = gettext_lazy("Please answer every question on this page before continuing.")

    def pending(self, participant, facts):
        answered = facts.questionnaire_answers
        counted = dict(items=facts.items, questionnaire_answers=facts.n_questionnaire_answers)
        for instrument in participant.instruments():
            for page, numbers in enumerate(
                instrument_pages(instrument=instrument, study=participant.study), 1
            ):
                if not set(numbers) <= answered.get(instrument.pk, set()):
                    return Place(self.name, instrument=instrument.code, page=page, **counted)
        return None

    def url_args(self, place):
        return [place.instrument, place.page]

    def here(self, study, *, code: str, page: int) -> Place:
        instrument = self.instrument(study, code)
        if not 1 <= page <= len(instrument_pages(instrument=instrument, study=study)):
            raise NotInStudy(gettext_lazy("This questionnaire page does not exist."))
        return Place(self.name, instrument=code, page=page)

    @staticmethod
    def instrument(study: Study, code: str, language: str | None = None) -> Instrument:
        """The study's instrument ``code`` in ``language`` (default: the study's own; the
        page structure is the same in every language)."""
        for instrument in study.instruments_in_order(language):
            if instrument.code == code:
                return instrument
        raise NotInStudy(gettext_lazy("This questionnaire is not part of the study."))

    def order(self, study: Study, place: Place) -> tuple[int, int]:
        codes = [i.code for i in study.instruments_in_order()]
        return (codes.index(place.instrument), place.page)

    def reached(self, study, here, current):
        return current.step == Completion.name or (
            current.step == self.name and self.order(study, here) <= self.order(study, current)
        )

    def numbers(self, study: Study, place: Place, language: str | None = None):
        """The instrument (in ``language``), its questions on the page and its page count."""
        instrument = self.instrument(study, place.instrument, language)
        pages = instrument_pages(instrument=instrument, study=study)
        return instrument, pages[place.page - 1], len(pages)

    def show(self, participant, here, current):
        study = participant.study
        instrument, numbers, n_pages = self.numbers(study, here, participant.study_language)
        responses.page_shown(participant=participant, page=f"{here.instrument}:{here.page}")
        texts = question_texts(participant=participant, instrument=instrument, numbers=numbers)
        given = page_answers(participant=participant, instrument=instrument, numbers=numbers)
        key = instrument.key
        return {
            "instrument": instrument,
            # The questionnaire's name is the shipped key's English text, in the message
            # catalogues (survey.instruments.messages); the wording is loaded per language.
            "instrument_name": gettext(key.name),
            "instructions": instrument.instructions,
            "questions": [
                {
                    "number": n,
                    "text": texts.get(n)
                    or format_lazy(gettext_lazy("Question {number}"), number=n),
                    "value": given.get(n),
                }
                for n in numbers
            ],
            "scale": [(key.scale_min + i, label) for i, label in enumerate(instrument.labels)],
            "page": here.page,
            "n_pages": n_pages,
            "missing_note": "",
        }

    def submit(self, participant, here, data):
        instrument, numbers, _ = self.numbers(participant.study, here, participant.study_language)
        answers = {n: data[f"q{n}"] for n in numbers if data.get(f"q{n}")}
        if any(k.startswith("q") and k[1:].isdigit() and int(k[1:]) not in numbers for k in data):
            raise BadAnswer(
                gettext_lazy("Answers were sent for questions that are not on this page.")
            )
        if answers:
            responses.answer_questionnaire(
                participant=participant,
                instrument=instrument,
                answers=answers,
                response_time_ms=data.get("elapsed_ms"),
            )
        stored = page_answers(participant=participant, instrument=instrument, numbers=numbers)
        if len(answers) == len(numbers) or set(numbers) <= set(stored):
            responses.page_answered(participant=participant, page=f"{here.instrument}:{here.page}")
            return Submitted(True)
        return Submitted(False, {"missing_note": self.MISSING})


class Completion(Step):
    """Everything is answered: reaching this step completes the study (``/next/``)."""

    name, page, url_name = "completion", "", "next"

    def pending(self, participant, facts):
        return Place(
            self.name, items=facts.items, questionnaire_answers=facts.n_questionnaire_answers
        )


CONSENT, DEMOGRAPHICS, ITEMS, QUESTIONNAIRES, COMPLETION = (
    Consent(),
    Demographics(),
    Items(),
    Questionnaires(),
    Completion(),
)
PAGE_SEQUENCE: tuple[Step, ...] = (CONSENT, DEMOGRAPHICS, ITEMS, QUESTIONNAIRES, COMPLETION)


# --- endings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """A page a finished session lands on, for the participant statuses it covers."""

    name: str
    page: str
    url_name: str
    route: str
    template: str
    statuses: tuple[str, ...]

    def url(self, slug: str, place: Place | None = None) -> str:
        return reverse(f"survey:{self.url_name}", args=[slug])

    def context(self, study: Study, participant: Participant) -> dict:
        status = participant.status
        code = {
            Participant.Status.COMPLETED: study.completion_code,
            Participant.Status.SCREENED_OUT: study.screened_out_code,
            Participant.Status.NO_CONSENT: study.no_consent_code,
        }.get(status, "")
        url = study.completion_url(code) if code and study.uses_prolific else ""
        return {
            "code": code,
            "redirect_url": url,
            "return_url": url,
            "message": ENDED_MESSAGES.get(status, gettext_lazy("This session has ended.")),
            # The participant's own code: quoting it later asks for their data to be erased
            # (``manage.py erase_participant``), also for plain-link participants.
            "participant_code": participant.pseudonym,
        }


ENDED_MESSAGES = {
    Participant.Status.NO_CONSENT: gettext_lazy(
        "You chose not to take part. Thank you for your time."
    ),
    Participant.Status.TIMED_OUT: gettext_lazy(
        "The time limit for this study has passed, so the session has ended. "
        "Please return the study."
    ),
    Participant.Status.RETURNED: gettext_lazy(
        "You stopped the study. Thank you for your time; please return it on Prolific if "
        "you came from there."
    ),
}
S = Participant.Status
DONE = Ending("done", "done", "done", "done/", "survey/done.html", (S.COMPLETED,))
SCREENED_OUT = Ending(
    "screened_out",
    "screened-out",
    "screened_out",
    "return/",
    "survey/screened_out.html",
    (S.SCREENED_OUT,),
)
ENDED = Ending(
    "ended",
    "ended",
    "ended",
    "ended/",
    "survey/ended.html",
    (S.NO_CONSENT, S.TIMED_OUT, S.RETURNED, S.IMPORTED),
)
ENDINGS: tuple[Ending, ...] = (DONE, SCREENED_OUT, ENDED)
BY_NAME: dict[str, Step | Ending] = {s.name: s for s in (*PAGE_SEQUENCE, *ENDINGS)}


def ending_for(status: str) -> Ending | None:
    return next((e for e in ENDINGS if status in e.statuses), None)


def locate(participant: Participant) -> Place:
    """The participant's place: their ending, or the first step not complete.

    A participant whose time limit has passed is marked timed out on the way."""
    ending.expire_if_due(participant=participant)
    finished = ending_for(participant.status)
    if finished is not None:
        return Place(finished.name)
    facts = Facts(participant)
    for step in PAGE_SEQUENCE:
        place = step.pending(participant, facts)
        if place is not None:
            return place
    raise AssertionError("the completion step is never complete")  # pragma: no cover


def url_of(slug: str, place: Place) -> str:
    return BY_NAME[place.step].url(slug, place)
