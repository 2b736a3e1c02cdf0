"""Tables for spreadsheets, pandas and R: one list of records, written as CSV, JSON or
parquet (pure: no Django imports).

Every export (the API's renderers, the management commands) turns its table into records
with :func:`records` and writes those, so the three formats of one export always hold the
same rows and columns.

Text that a participant typed (country, first language) or that was imported can start with
``=``, ``+``, ``-`` or ``@``, which spreadsheet programs run as a formula when the file is
opened. Such text cells get a leading apostrophe in CSV (the OWASP recommendation); numbers
are left alone, so negative scores stay numbers. JSON and parquet keep the text as it is.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TABLE_FORMATS = ("csv", "json", "parquet")
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}

Table = pd.DataFrame | Iterable[Mapping[str, Any]]


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value):
    """A cell as JSON/CSV/parquet take it: NaN, NA and NaT are None, numpy scalars Python's."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, list | dict):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def records(table: Table) -> list[dict]:
    """The table as a list of flat dicts with plain Python values (missing = None)."""
    if isinstance(table, pd.DataFrame):
        rows = table.astype(object).to_dict(orient="records")
    else:
        rows = [dict(row) for row in table]
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def columns_of(rows: list[dict]) -> list[str]:
    """Every column seen, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def rows_to_csv(
    rows: Iterable[dict], columns: list[str] | None = None, *, header: bool = True
) -> str:
    """One header with ``columns`` (default: every column seen, in first-seen order; none
    when ``header`` is false, for a file written in chunks), then one line per row. Lists and
    dicts are written as JSON text."""
    rows = list(rows)
    columns = columns or columns_of(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(_cell_text(v)) for k, v in row.items()})
    return buffer.getvalue()


def _cell_text(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def rows_to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)


def rows_to_arrow(rows: list[dict], columns: list[str] | None = None) -> pa.Table:
    """The rows as an Arrow table, types inferred per column (a column of only None is of
    Arrow's null type)."""
    columns = columns or columns_of(rows)
    return pa.table({name: pa.array([row.get(name) for row in rows]) for name in columns})


def write_parquet(rows: list[dict], sink: str | BinaryIO, columns: list[str] | None = None) -> None:
    pq.write_table(rows_to_arrow(rows, columns), sink)


def rows_to_parquet(rows: list[dict], columns: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    write_parquet(rows, buffer, columns)
    return buffer.getvalue()


def render(table: Table, fmt: str) -> bytes:
    """The table in ``fmt`` (csv, json or parquet) as bytes."""
    rows = records(table)
    if fmt == "parquet":
        return rows_to_parquet(rows)
    text = rows_to_csv(rows) if fmt == "csv" else rows_to_json(rows)
    return text.encode("utf-8")


def format_from_path(path: str, known: Iterable[str]) -> str | None:
    """The format a file name's extension names (``ratings.parquet`` -> parquet), if known."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix if suffix in set(known) else None
