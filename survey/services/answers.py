"""Item answers: the request a study launch sends most, kept to a few short statements.

When a study goes live, hundreds of participants answer at once. One item answer costs:

1. one read: the participant (with its study's slug) and at most two of its assignment rows,
   the answered position and the next open one (which also tells where the participant goes
   next, so no redirect through ``/next/``);
2. one write: the rating's upsert, the assignment's first-answer time, and the
   participant's last-seen time when it is more than ``LAST_SEEN_RESOLUTION`` old — on
   PostgreSQL a single statement (atomic on its own), on SQLite three in one transaction.

The statements are plain SQL written once per database from the models' table and column
names, because building them with the ORM on every request was most of an answer's cost
(measured with ``perf/profile_answer.py``: the ORM version spent 6.5 ms of Python per answer
against 0.6 ms for a trivial view; this one about 2 ms). They are the portable subset that PostgreSQL and SQLite
(3.24+, for the upsert) share: the only databases the project runs on.

The guarantees are the flow's: the same answer twice stores one row (the rating's unique
constraint and the upsert), a changed rating replaces the value, an attention check's first
answer is final, and a bad request raises a ``survey.errors`` error before anything is written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from survey import scale
from survey.errors import ForgedToken, NotInStudy, NotYourTurn
from survey.models import Assignment, ItemRating, Participant, Study
from survey.services.ending import ensure_answerable, screen_out, time_out
from survey.services.responses import LAST_SEEN_RESOLUTION, parse_response_time, parse_value
from survey.sql import sql_names
from survey.tokens import read_token


@dataclass(frozen=True)
class AnswerResult:
    stored: bool  # True for the first answer at this position (False for a repeat or a change)
    screened_out: bool = False
    next_position: int | None = None  # the first open position after this answer, if any


@dataclass(frozen=True)
class Statements:
    read: str
    # The write as separate statements (run in one transaction), or on PostgreSQL as one
    # statement of data-modifying CTEs: atomic on its own, one round trip, one commit.
    writes: tuple[str, ...]


@functools.cache
def statements(vendor: str) -> Statements:
    """The hot path's SQL for one database vendor, from the models' names (built once)."""
    table, col = sql_names(vendor, used_by="answer path")
    P, S, A, R = Participant, Study, Assignment, ItemRating
    read = (
        f"SELECT p.{col(P, 'study')}, s.{col(S, 'slug')}, p.{col(P, 'status')}, "
        f"(p.{col(P, 'expires_at')} IS NOT NULL AND p.{col(P, 'expires_at')} <= %s), "
        f"a.{col(A, 'id')}, a.{col(A, 'position')}, a.{col(A, 'kind')}, a.{col(A, 'item')}, "
        f"a.{col(A, 'answered_at')} IS NULL, a.{col(A, 'given_value')} IS NULL "
        f"FROM {table(P)} p "
        f"JOIN {table(S)} s ON s.{col(S, 'id')} = p.{col(P, 'study')} "
        f"LEFT JOIN {table(A)} a ON a.{col(A, 'participant')} = p.{col(P, 'id')} "
        f"AND (a.{col(A, 'position')} = %s OR a.{col(A, 'answered_at')} IS NULL) "
        f"WHERE p.{col(P, 'id')} = %s "
        f"ORDER BY a.{col(A, 'position')} = %s DESC, a.{col(A, 'position')} LIMIT 2"
    )
    rating_columns = [col(R, name) for name in ("participant", "item", "rating", "created_at")]
    rating_columns.append(col(R, "response_time_ms"))
    upsert_rating = (
        f"INSERT INTO {table(R)} ({', '.join(rating_columns)}) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({col(R, 'participant')}, {col(R, 'item')}) "
        f"DO UPDATE SET {col(R, 'rating')} = excluded.{col(R, 'rating')}"
    )
    mark_answered = (
        f"UPDATE {table(A)} SET {col(A, 'answered_at')} = %s "
        f"WHERE {col(A, 'id')} = %s AND {col(A, 'answered_at')} IS NULL"
    )
    touch_last_seen = (
        f"UPDATE {table(P)} SET {col(P, 'last_seen_at')} = %s WHERE {col(P, 'id')} = %s "
        f"AND ({col(P, 'last_seen_at')} IS NULL OR {col(P, 'last_seen_at')} <= %s)"
    )
    if vendor == "postgresql":
        writes = (
            f"WITH rating AS ({upsert_rating}), answered AS ({mark_answered}) {touch_last_seen}",
        )
    else:
        writes = (upsert_rating, mark_answered, touch_last_seen)
    return Statements(read, writes)


def statement_cursor():
    """A cursor for the statements above. On PostgreSQL it binds parameters server-side, so
    that psycopg can keep the statements prepared on the connection (see the
    ``prepare_threshold`` option in ``config.settings.base``). It is still Django's cursor
    wrapper: errors become Django's (a lost connection gives the participant a 503 "try
    again") and execute wrappers see the statements. While queries are being logged (DEBUG,
    or a test capturing them) it is Django's usual cursor, whose log shows the values."""
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    return connection.make_cursor(ServerBindingCursor(connection.connection))


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    position: int
    kind: str
    item_id: int | None
    is_open: bool  # no answer stored yet
    check_unanswered: bool  # an attention check without its (final) answer


def answer_item(
    *, token: str | None, slug: str, position: int, raw_value, response_time_ms=None
) -> AnswerResult:
    """Store the answer at ``position`` (an item rating or an attention check) for the
    participant that ``token`` names in study ``slug``.

    A rating may be changed while the session is in progress (one row, updated); an
    attention check's first answer is final. A missing or forged token, a token of another
    study, answering past the first unanswered position, a position not assigned, a value
    outside 1-6 or a finished session raise ``survey.errors`` errors; nothing is written then.
    """
    participant_id, study_id = read_token(token)
    value = parse_value(raw_value, low=scale.MIN, high=scale.MAX)
    now = timezone.now()
    sql = statements(connection.vendor)
    db_now = connection.ops.adapt_datetimefield_value(now)
    with statement_cursor() as cursor:
        # The participant's columns, joined with the assignment at ``position`` (first, if
        # there is one) and then the first other open one: before ``position``, an earlier
        # question is unanswered; after it, that is where to go next.
        cursor.execute(sql.read, [db_now, position, participant_id, position])
        rows = cursor.fetchall()
    if not rows:
        raise ForgedToken(
            gettext_lazy("This session no longer exists. Please open the study link again.")
        )
    actual_study_id, actual_slug, status, expired = rows[0][:4]
    if actual_study_id != study_id or actual_slug != slug:
        raise ForgedToken(gettext_lazy("This session token belongs to another study."))
    timed_out = status == Participant.Status.IN_PROGRESS and bool(expired)
    if timed_out:
        time_out(participant_id=participant_id)
    ensure_answerable(status=status, timed_out=timed_out)
    assignments = [
        AssignmentRow(row[4], row[5], row[6], row[7], bool(row[8]), bool(row[9]))
        for row in rows
        if row[4] is not None
    ]
    if not assignments or assignments[0].position != position:
        raise NotInStudy(gettext_lazy("This question is not part of your study."))
    target, first_other_open = assignments[0], assignments[1] if len(assignments) > 1 else None
    if first_other_open is not None and first_other_open.position < position:
        raise NotYourTurn(gettext_lazy("Please answer the earlier questions first."))
    next_position = first_other_open.position if first_other_open else None
    if target.kind == Assignment.Kind.ATTENTION:
        return answer_attention_check(
            participant_id=participant_id,
            assignment=target,
            value=value,
            next_position=next_position,
            now=now,
        )
    # The rating's upsert: a repeated answer (double click, two tabs, back button) lands on
    # the same row, a changed one replaces the value. Then the position's first-answer time
    # (only if it has none) and the last-seen time (only if older than the resolution).
    seen_before = connection.ops.adapt_datetimefield_value(now - LAST_SEEN_RESOLUTION)
    params = [
        [participant_id, target.item_id, value, db_now, parse_response_time(response_time_ms)],
        [db_now, target.id],
        [db_now, participant_id, seen_before],
    ]
    if len(sql.writes) == 1:  # one statement: atomic on its own, no BEGIN/COMMIT round trips
        with statement_cursor() as cursor:
            cursor.execute(sql.writes[0], [value for group in params for value in group])
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement, statement_params in zip(sql.writes, params, strict=True):
                cursor.execute(statement, statement_params)
    return AnswerResult(stored=target.is_open, next_position=next_position)


def answer_attention_check(
    *,
    participant_id: int,
    assignment: AssignmentRow,
    value: int,
    next_position: int | None,
    now: datetime,
) -> AnswerResult:
    """The first answer is final; too many failed checks screen the participant out.

    Two checks per participant: the ORM's cost does not matter here."""
    if not assignment.check_unanswered:
        return AnswerResult(stored=False, next_position=next_position)
    with transaction.atomic():
        updated = Assignment.objects.filter(pk=assignment.id, given_value__isnull=True).update(
            given_value=value, answered_at=now
        )
        Participant.objects.filter(pk=participant_id).update(last_seen_at=now)
        if not updated:
            return AnswerResult(stored=False, next_position=next_position)
        failures = (
            Assignment.objects.filter(
                participant_id=participant_id,
                kind=Assignment.Kind.ATTENTION,
                given_value__isnull=False,
            )
            .exclude(given_value=F("expected_value"))
            .count()
        )
        if failures:
            participant = Participant.objects.select_related("study").get(pk=participant_id)
            if failures >= participant.study.screen_out_after:
                screen_out(participant=participant)
                return AnswerResult(stored=True, screened_out=True)
    return AnswerResult(stored=True, next_position=next_position)
