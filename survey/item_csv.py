"""Reading an item pool from a researcher's CSV file (pure: no Django).

One row per item: the scenario (a user's query) and one response to it, with the source the
scenario comes from. Columns (header row required, any order, names case-insensitive):

- ``scenario`` (required): the scenario's text;
- ``response`` (required): the response participants rate;
- ``source`` (required): a known source's slug or name, or a new source's name when
  ``style`` is given;
- ``title`` (optional): the scenario's title (advice-column and Reddit posts have one);
- ``scenario_id`` (optional): the scenario's id in the researcher's own data; rows sharing it
  are one scenario (otherwise rows with the same source, title and scenario text are);
- ``style`` (optional): ``titled`` or ``chat``, needed only for a source not yet known.

Every row is checked and every problem reported with its row number (the header is row 1);
the caller imports nothing unless there is no problem at all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

REQUIRED_COLUMNS = ("scenario", "response", "source")
OPTIONAL_COLUMNS = ("title", "scenario_id", "style")
STYLES = ("titled", "chat")
DELIMITERS = (",", ";", "\t")
MAX_ROWS = 5000
MAX_TEXT = 10_000
MAX_SHORT = 64  # scenario ids and source names


@dataclass(frozen=True)
class ItemRow:
    row: int
    scenario: str
    response: str
    source: str
    title: str = ""
    scenario_id: str = ""
    style: str = ""

    @property
    def scenario_key(self) -> tuple:
        """Rows with the same key are responses to one scenario."""
        if self.scenario_id:
            return ("id", self.scenario_id)
        return ("text", self.source.lower(), self.title, self.scenario)


@dataclass(frozen=True)
class RowError:
    row: int  # 0: the file as a whole
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}" if self.row else self.message


LONG_TEXTS = ("scenario", "response")  # may hold paragraphs: only trimmed


def _clean(column: str, value: str) -> str:
    if column in LONG_TEXTS:
        return value.replace("\r\n", "\n").strip()
    return " ".join(value.split())


def read_item_csv(data: bytes) -> tuple[list[ItemRow], list[RowError]]:
    """The rows of ``data`` and the problems found (an empty list when there are none)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [], [RowError(0, f"the file is not UTF-8 text (byte {error.start} cannot be read)")]
    if "\x00" in text:
        return [], [RowError(0, "the file is not a CSV text file (it holds NUL bytes)")]
    # The header holds only column names, so its commonest separator is the file's
    # (spreadsheets in some locales write ";", some exports a tab).
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(0, "the file is empty")]
    except csv.Error as error:
        return [], [RowError(1, f"cannot read the header: {error}")]
    columns = [c.strip().lower() for c in header]
    errors: list[RowError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        errors.append(RowError(1, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        known = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        errors.append(RowError(1, f"unknown column(s): {', '.join(unknown)} (known: {known})"))
    if len(set(columns)) != len(columns):
        errors.append(RowError(1, "a column is named twice"))
    if errors:
        return [], errors

    rows: list[ItemRow] = []
    seen_responses: dict[tuple, int] = {}
    scenario_texts: dict[str, tuple[int, tuple]] = {}
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # a blank line
            if len(rows) >= MAX_ROWS:
                errors.append(RowError(number, f"more than {MAX_ROWS} items in one file"))
                break
            if len(values) != len(columns):
                errors.append(
                    RowError(number, f"{len(values)} fields where the header has {len(columns)}")
                )
                continue
            record = {c: _clean(c, v) for c, v in zip(columns, values, strict=True)}
            row = ItemRow(
                row=number, **{c: record.get(c, "") for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
            )
            problems = _row_problems(row)
            if row.scenario_id and not problems:
                content = (row.source.lower(), row.title, row.scenario)
                first = scenario_texts.setdefault(row.scenario_id, (number, content))
                if first[1] != content:
                    problems.append(
                        f"scenario_id {row.scenario_id!r} has another source, title or text "
                        f"in row {first[0]}"
                    )
            if not problems:
                key = (row.scenario_key, row.response)
                if key in seen_responses:
                    problems.append(
                        f"the same response to the same scenario is in row {seen_responses[key]}"
                    )
                seen_responses.setdefault(key, number)
            errors.extend(RowError(number, p) for p in problems)
            if not problems:
                rows.append(row)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, f"cannot read the row: {error}"))
    if not rows and not errors:
        errors.append(RowError(0, "the file has a header but no items"))
    return rows, errors


def _row_problems(row: ItemRow) -> list[str]:
    problems = [f"{name} is empty" for name in REQUIRED_COLUMNS if not getattr(row, name)]
    for name in ("scenario", "response", "title"):
        if len(getattr(row, name)) > MAX_TEXT:
            problems.append(f"{name} is longer than {MAX_TEXT} characters")
    for name in ("source", "scenario_id"):
        if len(getattr(row, name)) > MAX_SHORT:
            problems.append(f"{name} is longer than {MAX_SHORT} characters")
    if row.style and row.style.lower() not in STYLES:
        problems.append(f"style {row.style!r} is not one of {', '.join(STYLES)}")
    return problems
