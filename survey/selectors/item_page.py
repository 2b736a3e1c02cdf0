"""The item page's read: one SQL statement for everything the page shows.

The item page is the request a launch serves most after the answer. Built with the ORM it
took five statements (the study, the participant, their item counts, the study's
instruments, the assignment with its item and scenario) and most of its Python time went
into compiling them. Here it is one statement, written once per database vendor from the
models' table and column names (as ``survey.services.answers`` does for the answer): the
participant joined with their study, their item counts, the assignment at the position with
its item, scenario, the item's reviewed translation into the participant's language and the
participant's rating of it, one row per instrument of the study.
Measured with ``perf/compare_item_page.py``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from survey import scale
from survey.instruments.keys import load_key
from survey.models import (
    Assignment,
    Instrument,
    Item,
    ItemRating,
    ItemTranslation,
    Participant,
    Scenario,
    Study,
)
from survey.models.studies import attention_check_instruction, scale_labels, translated_text
from survey.selectors.progress import Place
from survey.sql import sql_names


@dataclass(frozen=True)
class ItemPage:
    """What the item page at ``position`` needs to know, for one participant."""

    participant_id: int
    slug: str
    study_title: str  # in ``language``
    attention_check_wording: str
    study_translations: dict
    language: str  # the participant's (else the study's) language
    status: str
    lapsed: bool  # in progress, but the time limit has passed
    consented: bool
    needs_demographics: bool
    assigned: int
    answered: int
    first_open: int | None
    instrument_codes: tuple[str, ...]
    position: int
    found: bool  # an assignment exists at ``position``
    is_attention_check: bool = False
    expected_value: int | None = None
    given_value: int | None = None
    shown: bool = False  # served before (its first-shown time is set)
    item_text: str = ""
    scenario_title: str = ""
    scenario_text: str = ""
    stored_rating: int | None = None

    @property
    def answers_open(self) -> bool:
        """At the items step: in progress, consented, demographics given, items left."""
        return (
            self.status == Participant.Status.IN_PROGRESS
            and not self.lapsed
            and self.consented
            and not self.needs_demographics
            and self.first_open is not None
        )

    @property
    def place(self) -> Place:
        """The participant's place, when ``answers_open`` (the items step)."""
        return Place("items", position=self.first_open)

    def progress(self) -> tuple[int, int]:
        """(answered, total) for the progress bar: no questionnaire is answered yet."""
        questions = sum(load_key(code).n_items for code in self.instrument_codes)
        return self.answered, self.assigned + questions

    def context(self) -> dict:
        """The template's view of the page (the question, the scale, the answer so far)."""
        if self.is_attention_check:
            check_text = attention_check_instruction(
                wording=self.attention_check_wording,
                translations=self.study_translations,
                language=self.language,
                expected_value=self.expected_value,
            )
            current = self.given_value
        else:
            check_text, current = "", self.stored_rating
        # Numbers as text: the template would localise each of them (a third of its time).
        return {
            "position": self.position,
            "is_attention_check": self.is_attention_check,
            "expected_value": self.expected_value,  # not shown: what the check asks for
            "check_text": check_text,
            "item_text": self.item_text,
            "scenario_title": self.scenario_title.strip(),
            "scenario_text": self.scenario_text,
            # The labels in the active language (the view activates ``language``).
            "scale": list(
                zip(
                    (str(value) for value in scale.VALUES),
                    scale_labels(self.study_translations, self.language),
                    strict=True,
                )
            ),
            "current": None if current is None else str(current),
            "is_review": self.position < self.first_open,
        }


@functools.cache
def statement(vendor: str) -> str:
    """The page's SQL for one database vendor, from the models' names (built once)."""
    table, col = sql_names(vendor, used_by="item page")
    P, S, A, It, C, R = Participant, Study, Assignment, Item, Scenario, ItemRating
    T = ItemTranslation
    servable = ", ".join(f"'{status}'" for status in ItemTranslation.SERVABLE)  # constants
    links = Study.instruments.through
    link_study = col(links, "study")
    link_instrument = col(links, "instrument")
    return (
        f"SELECT s.{col(S, 'slug')}, s.{col(S, 'title')}, s.{col(S, 'attention_check_wording')}, "
        f"CAST(s.{col(S, 'demographic_fields')} AS TEXT), "
        f"CAST(s.{col(S, 'translations')} AS TEXT), s.{col(S, 'language')}, "
        f"p.{col(P, 'language')}, "
        f"p.{col(P, 'status')}, "
        f"(p.{col(P, 'expires_at')} IS NOT NULL AND p.{col(P, 'expires_at')} <= %s), "
        f"p.{col(P, 'consented_at')} IS NOT NULL, CAST(p.{col(P, 'demographics')} AS TEXT), "
        f"c.assigned, c.answered, c.first_open, "
        f"a.{col(A, 'id')}, a.{col(A, 'kind')}, a.{col(A, 'expected_value')}, "
        f"a.{col(A, 'given_value')}, a.{col(A, 'shown_at')} IS NOT NULL, "
        # The participant's language's reviewed translation when there is one, else the
        # source text (an item is only assigned in a language it may be served in).
        f"COALESCE(t.{col(T, 'response')}, i.{col(It, 'text')}), "
        f"COALESCE(t.{col(T, 'scenario_title')}, sc.{col(C, 'title')}), "
        f"COALESCE(t.{col(T, 'scenario_text')}, sc.{col(C, 'text')}), "
        f"(SELECT r.{col(R, 'rating')} FROM {table(R)} r "
        f"WHERE r.{col(R, 'participant')} = p.{col(P, 'id')} "
        f"AND r.{col(R, 'item')} = a.{col(A, 'item')}), "
        f"ins.{col(Instrument, 'code')} "
        f"FROM {table(P)} p "
        f"JOIN {table(S)} s ON s.{col(S, 'id')} = p.{col(P, 'study')} "
        f"CROSS JOIN (SELECT COUNT(*) AS assigned, COUNT({col(A, 'answered_at')}) AS answered, "
        f"MIN(CASE WHEN {col(A, 'answered_at')} IS NULL THEN {col(A, 'position')} END) "
        f"AS first_open FROM {table(A)} WHERE {col(A, 'participant')} = %s) c "
        f"LEFT JOIN {table(A)} a ON a.{col(A, 'participant')} = p.{col(P, 'id')} "
        f"AND a.{col(A, 'position')} = %s "
        f"LEFT JOIN {table(It)} i ON i.{col(It, 'id')} = a.{col(A, 'item')} "
        f"LEFT JOIN {table(C)} sc ON sc.{col(C, 'id')} = i.{col(It, 'scenario')} "
        f"LEFT JOIN {table(T)} t ON t.{col(T, 'item')} = a.{col(A, 'item')} "
        f"AND t.{col(T, 'language')} = COALESCE(NULLIF(p.{col(P, 'language')}, ''), "
        f"s.{col(S, 'language')}) AND t.{col(T, 'status')} IN ({servable}) "
        f"LEFT JOIN {table(links)} si ON si.{link_study} = s.{col(S, 'id')} "
        f"LEFT JOIN {table(Instrument)} ins ON ins.{col(Instrument, 'id')} = si.{link_instrument} "
        f"WHERE p.{col(P, 'id')} = %s AND p.{col(P, 'study')} = %s"
    )


def item_page(
    *, participant_id: int, study_id: int, position: int, now: datetime
) -> ItemPage | None:
    """The item page at ``position`` for the participant, read in one statement; ``None``
    if no such participant is in that study."""
    db_now = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            statement(connection.vendor),
            [db_now, participant_id, position, participant_id, study_id],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    (slug, title, wording, fields, translations, study_language, participant_language) = first[:7]
    (status, lapsed, consented, demographics) = first[7:11]
    assigned, answered, first_open, assignment_id, kind, expected, given, shown = first[11:19]
    item_text, scenario_title, scenario_text, stored_rating = first[19:23]
    translations = json.loads(translations or "{}")
    language = participant_language or study_language
    return ItemPage(
        participant_id=participant_id,
        slug=slug,
        study_title=translated_text(translations, "title", language, title),
        attention_check_wording=wording,
        study_translations=translations,
        language=language,
        status=status,
        lapsed=bool(lapsed),
        consented=bool(consented),
        needs_demographics=bool(json.loads(fields or "[]"))
        and not json.loads(demographics or "{}"),
        assigned=assigned,
        answered=answered,
        first_open=first_open,
        instrument_codes=tuple(sorted({row[23] for row in rows if row[23] is not None})),
        position=position,
        found=assignment_id is not None,
        is_attention_check=kind == Assignment.Kind.ATTENTION,
        expected_value=expected,
        given_value=given,
        shown=bool(shown),
        item_text=item_text or "",
        scenario_title=scenario_title or "",
        scenario_text=scenario_text or "",
        stored_rating=stored_rating,
    )
