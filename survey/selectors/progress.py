"""Where a participant is in the flow, and what they have answered (reads only).

``Facts`` gathers, lazily and at most once per request, the counts the steps' completion
checks ask for (``survey.steps.locate`` walks the declared sequence over them), so that the
progress bar needs no second look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from survey.errors import ForgedToken
from survey.models import Assignment, Instrument, Participant, Study
from survey.quality import paginate
from survey.tokens import read_token


@dataclass(frozen=True)
class ItemCounts:
    """The participant's item sequence in numbers (one aggregate query)."""

    assigned: int
    answered: int
    first_open: int | None  # the first position without an answer


@dataclass(frozen=True)
class Place:
    """Where a participant is: ``step`` names a step of ``survey.steps.PAGE_SEQUENCE`` or an
    ending; ``position`` (items) or ``instrument`` + ``page`` (questionnaires) say where in it.

    ``items`` and ``questionnaire_answers`` carry what was counted on the way (``None``: not
    counted), so that the progress bar needs no second look."""

    step: str
    position: int | None = None
    instrument: str | None = None
    page: int | None = None
    items: ItemCounts | None = field(default=None, compare=False)
    questionnaire_answers: int | None = field(default=None, compare=False)


def participant_from_token(*, token: str | None, study: Study) -> Participant:
    """The participant a token names; ``ForgedToken`` if missing, forged or for another study."""
    participant_id, study_id = read_token(token)
    if study_id != study.pk:
        raise ForgedToken(gettext_lazy("This session token belongs to another study."))
    participant = Participant.objects.filter(pk=participant_id, study_id=study.pk).first()
    if participant is None:
        raise ForgedToken(
            gettext_lazy("This session no longer exists. Please open the study link again.")
        )
    participant.study = study  # the caller's instance: no second fetch of the study
    return participant


def find_participant(*, study: Study, external_id: str) -> Participant | None:
    return Participant.objects.filter(study=study, external_id=external_id).first()


def has_lapsed(*, participant: Participant, now: datetime | None = None) -> bool:
    """True if the participant is in progress but their time limit has passed."""
    return (
        participant.status == Participant.Status.IN_PROGRESS
        and participant.expires_at is not None
        and participant.expires_at <= (now or timezone.now())
    )


def item_counts(*, participant: Participant) -> ItemCounts:
    open_ = Q(answered_at__isnull=True)
    totals = participant.assignments.aggregate(
        assigned=Count("pk"),
        answered=Count("pk", filter=~open_),
        first_open=Min("position", filter=open_),
    )
    return ItemCounts(**totals)


def instrument_pages(*, instrument: Instrument, study: Study) -> list[list[int]]:
    """The question numbers of each page of ``instrument`` in ``study``."""
    return paginate(instrument.key.item_numbers, study.questions_per_page)


def needs_demographics(*, participant: Participant) -> bool:
    return bool(participant.study.demographic_fields) and not participant.demographics


class Facts:
    """What the completion checks of the steps ask about one participant, each read once."""

    def __init__(self, participant: Participant):
        self.participant = participant

    @cached_property
    def items(self) -> ItemCounts:
        return item_counts(participant=self.participant)

    @cached_property
    def questionnaire_answers(self) -> dict[int, set[int]]:
        """Answered question numbers per instrument id."""
        answered: dict[int, set[int]] = {}
        for instrument_id, number in self.participant.instrument_responses.values_list(
            "instrument_id", "item_number"
        ):
            answered.setdefault(instrument_id, set()).add(number)
        return answered

    @property
    def n_questionnaire_answers(self) -> int:
        return sum(len(numbers) for numbers in self.questionnaire_answers.values())


def progress(*, participant: Participant, place: Place) -> tuple[int, int]:
    """(answered, total) questions for the progress bar."""
    items = place.items or item_counts(participant=participant)
    done = place.questionnaire_answers
    if done is None:
        done = participant.instrument_responses.count()
    n_instrument = sum(i.key.n_items for i in participant.instruments())
    return items.answered + done, items.assigned + n_instrument


def page_answers(
    *, participant: Participant, instrument: Instrument, numbers: list[int]
) -> dict[int, int]:
    """The participant's stored answers ``{number: value}`` among ``numbers``."""
    return dict(
        participant.instrument_responses.filter(
            instrument=instrument, item_number__in=numbers
        ).values_list("item_number", "value")
    )


def question_texts(
    *, participant: Participant, instrument: Instrument, numbers: list[int]
) -> dict[int, str]:
    """The wording of questions ``numbers`` in the form of ``instrument`` the participant answers."""
    form = participant.form_of(instrument)
    return dict(
        instrument.items.filter(form=form, number__in=numbers).values_list("number", "text")
    )


def has_open_items(*, participant: Participant) -> bool:
    return participant.assignments.filter(answered_at__isnull=True).exists()


def missing_answers(*, participant: Participant) -> list[str]:
    """What is still unanswered (empty when the participant may complete)."""
    missing = []
    if needs_demographics(participant=participant):
        missing.append("demographics")
    open_positions = list(
        participant.assignments.filter(answered_at__isnull=True).values_list("position", flat=True)
    )
    missing += [f"question {p}" for p in open_positions]
    rated = set(participant.ratings.values_list("item_id", flat=True))
    for item_id in participant.assignments.filter(kind=Assignment.Kind.ITEM).values_list(
        "item_id", flat=True
    ):
        if item_id not in rated:
            missing.append(f"rating of item {item_id}")
    counts = dict(
        participant.instrument_responses.values("instrument_id")
        .annotate(n=Count("id"))
        .values_list("instrument_id", "n")
    )
    for instrument in participant.instruments():
        if counts.get(instrument.pk, 0) < instrument.key.n_items:
            missing.append(f"{instrument.key.name} answers")
    return missing
