"""Item translations as CSV, one file per language (pure: no Django imports).

Export writes one row per item: its key (``portrait_id``, ``option_id``), the source text for
the translator (``source_title``, ``source_text``, ``source_response``: read, never
imported) and the translation (``scenario_title``, ``scenario_text``, ``response``) with its
``status`` and ``reviewed_by`` (a username). Import reads the same columns and checks every
row before anything is stored (``parse_translation_csv`` here for the file's own shape, the
service for what needs the database); one bad row and nothing is imported. A row whose
translated fields are all empty is an item not yet translated and is skipped, not an error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.tabular import FORMULA_STARTS

KEY_COLUMNS = ("portrait_id", "option_id")
TRANSLATION_COLUMNS = ("scenario_title", "scenario_text", "response")
REVIEW_COLUMNS = ("status", "reviewed_by")
SOURCE_COLUMNS = ("source_title", "source_text", "source_response")
REQUIRED_COLUMNS = KEY_COLUMNS + TRANSLATION_COLUMNS + REVIEW_COLUMNS
EXPORT_COLUMNS = KEY_COLUMNS + SOURCE_COLUMNS + TRANSLATION_COLUMNS + REVIEW_COLUMNS
STATUSES = ("machine_draft", "reviewed", "back_translated")


@dataclass(frozen=True)
class TranslationRow:
    """One translated item as read from the file (``line``: its line number, for errors)."""

    line: int
    portrait_id: str
    option_id: int
    scenario_title: str
    scenario_text: str
    response: str
    status: str
    reviewed_by: str


@dataclass(frozen=True)
class ParsedTranslations:
    rows: list[TranslationRow]
    errors: list[str]  # "line N: ..." for every row that cannot be read
    skipped: int  # rows with no translated text (items not translated yet)


def unescape(value: str) -> str:
    """Undo ``core.tabular.spreadsheet_safe``: an apostrophe put before a formula start."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def parse_translation_csv(text: str) -> ParsedTranslations:
    """Read a translation file; every problem is reported with its line, none is guessed."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return ParsedTranslations([], [f"the header lacks the columns {', '.join(missing)}"], 0)
    rows: list[TranslationRow] = []
    errors: list[str] = []
    skipped = 0
    seen: dict[tuple[str, int], int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:  # more cells than the header names
            errors.append(f"line {line}: more cells than columns")
            continue
        cell = {k: unescape((record.get(k) or "").strip()) for k in REQUIRED_COLUMNS}
        if not any(cell[c] for c in TRANSLATION_COLUMNS):
            skipped += 1
            continue
        problems = []
        if not cell["portrait_id"]:
            problems.append("portrait_id is empty")
        try:
            option_id = int(cell["option_id"])
        except ValueError:
            option_id = -1
            problems.append(f"option_id {cell['option_id']!r} is not a whole number")
        for column in ("scenario_text", "response"):
            if not cell[column]:
                problems.append(f"{column} is empty")
        if cell["status"] not in STATUSES:
            problems.append(f"status {cell['status']!r} is not one of {', '.join(STATUSES)}")
        key = (cell["portrait_id"], option_id)
        if not problems and key in seen:
            problems.append(f"item {key[0]}/{key[1]} is already on line {seen[key]}")
        if problems:
            errors.append(f"line {line}: " + "; ".join(problems))
            continue
        seen[key] = line
        rows.append(
            TranslationRow(
                line=line,
                portrait_id=cell["portrait_id"],
                option_id=option_id,
                scenario_title=cell["scenario_title"],
                scenario_text=cell["scenario_text"],
                response=cell["response"],
                status=cell["status"],
                reviewed_by=cell["reviewed_by"],
            )
        )
    return ParsedTranslations(rows, errors, skipped)
