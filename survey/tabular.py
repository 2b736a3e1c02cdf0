"""CSV for spreadsheets and pandas (pure: no Django imports).

Text that a participant typed (country, first language) or that was imported can start with
``=``, ``+``, ``-`` or ``@``, which spreadsheet programs run as a formula when the file is
opened. Such text cells get a leading apostrophe (the OWASP recommendation); numbers are left
alone, so negative scores stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_to_csv(rows: Iterable[dict]) -> str:
    """One header with every column seen (in first-seen order), then one line per row."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buffer.getvalue()
