"""Helpers for the tests of the API's exports: a token per role, and one export fetched in
every format and checked to hold the same rows."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from rest_framework.authtoken.models import Token

from core.tabular import spreadsheet_safe
from tests.dashboards.helpers import make_user


def token_headers(role: str, username: str | None = None) -> dict:
    """``Authorization: Token …`` of a new account with ``role`` (none for anonymous)."""
    user = make_user(role, username)
    if user is None:
        return {}
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return spreadsheet_safe(json.dumps(value, ensure_ascii=False))
    return str(spreadsheet_safe(value))


def _same_cell(text: str, value) -> bool:
    """A CSV cell against the parquet value (a column mixing 4 and 0.5 is all doubles in
    parquet, so 4 comes back as 4.0: numbers are compared as numbers)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and text:
        return float(text) == float(value)
    return text == _csv_cell(value)


def fetch_every_format(client, url: str, headers: dict, *, json_is_rows: bool = True) -> dict:
    """The export at ``url`` as CSV, JSON and parquet (by ``?format=`` and, for CSV, also by
    the ``Accept`` header), each checked to be a 200 download; asserts parquet read back with
    pyarrow equals the CSV rows (and the JSON rows when ``json_is_rows``). Returns
    ``{"rows": parquet rows, "json": parsed JSON, "csv": csv text}``."""
    join = "&" if "?" in url else "?"
    fetched = {}
    for fmt in ("csv", "json", "parquet"):
        response = client.get(f"{url}{join}format={fmt}", **headers)
        assert response.status_code == 200, (fmt, response.content[:300])
        assert f'.{fmt}"' in response["Content-Disposition"]
        fetched[fmt] = response.content
    by_accept = client.get(url, HTTP_ACCEPT="text/csv", **headers)
    assert by_accept.status_code == 200 and by_accept["Content-Type"].startswith("text/csv")
    assert by_accept.content == fetched["csv"]

    rows = pq.read_table(io.BytesIO(fetched["parquet"])).to_pylist()
    text = fetched["csv"].decode("utf-8")
    csv_rows = list(csv.DictReader(io.StringIO(text)))
    assert len(csv_rows) == len(rows)
    for csv_row, row in zip(csv_rows, rows, strict=True):
        assert list(csv_row) == list(row)
        assert all(_same_cell(csv_row[k], v) for k, v in row.items()), (csv_row, row)
    parsed = json.loads(fetched["json"])
    if json_is_rows:
        assert parsed == rows
    return {"rows": rows, "json": parsed, "csv": text}
