"""Insert many rows at once: PostgreSQL ``COPY`` where the connection speaks it, else one
``executemany``.

For hundreds of thousands of rows (a correlation run of a large study stores one row per item
× dimension) building model instances and many multi-row ``INSERT`` statements costs more
than the computation. ``COPY ... FROM STDIN`` (psycopg 3's ``cursor.copy``) streams the rows
to PostgreSQL; elsewhere (SQLite) the driver's ``executemany`` runs one prepared ``INSERT``
per row without Django compiling a statement per batch. Either way the same rows are stored
(psycopg writes floats with their shortest round-trip text, so every double is kept exactly).

Like ``bulk_create``: no ``save()``, no signals, values must already be what the column
stores (int, float, str, None; a foreign key's id). Runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections


def supports_copy(using: str = "default") -> bool:
    """True when the connection is PostgreSQL through psycopg 3 (``cursor.copy``)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    return hasattr(connection.connection.cursor(), "copy")


def insert_rows(
    *,
    model,
    fields: Sequence[str],
    rows: Iterable[Sequence],
    using: str = "default",
    method: str | None = None,
) -> int:
    """Insert ``rows`` (one value per name in ``fields``) into ``model``'s table.

    ``method``: ``"copy"`` or ``"executemany"``; by default COPY where supported. Returns the
    number of rows inserted.
    """
    connection = connections[using]
    method = method or ("copy" if supports_copy(using) else "executemany")
    if method not in ("copy", "executemany"):
        raise ValueError(f"method must be copy or executemany, not {method!r}")
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    count = 0
    with connection.cursor() as cursor:
        if method == "copy":
            if not supports_copy(using):
                raise ValueError("COPY needs PostgreSQL through psycopg 3")
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            rows = list(rows)
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
            count = len(rows)
    return count
