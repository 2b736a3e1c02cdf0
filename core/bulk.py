"""Read and insert many rows at once: one ``fetchall`` to read; PostgreSQL ``COPY`` where the
connection speaks it, else one ``executemany``, to insert.

For hundreds of thousands of rows (a correlation run of a large study stores one row per item
× dimension) building model instances and many multi-row ``INSERT`` statements costs more
than the computation. The rows come as a DataFrame, one column per field, and are encoded a
column at a time: on PostgreSQL into the text that ``COPY ... FROM STDIN`` reads (psycopg 3's
``cursor.copy``, written in a few large chunks rather than a Python call per row); elsewhere
(SQLite) into the tuples of the driver's ``executemany`` (one prepared ``INSERT`` per row
without Django compiling a statement per batch). Either way the same rows are stored: floats
are written as their shortest round-trip text (numpy's repr), so every double is kept exactly.

Reading (``read_frame``) stays one ``fetchall``: ``COPY ... TO STDOUT`` was measured slower
for the narrow rows read here (psycopg hands COPY data to Python a row at a time).

Foreign keys declared with ``db_constraint=False`` (a bulk table whose per-row constraint
triggers would cost more than the insert: PostgreSQL checks each row's reference with its own
query) are checked here instead, set-wise: every distinct id the frame refers to must exist,
and on PostgreSQL the referenced rows are locked ``FOR KEY SHARE`` until the caller's
transaction ends, so nobody can delete them before the rows are committed — the guarantee a
database constraint gives an insert, at one lookup per distinct id instead of one per row.
(Deletes still cascade: Django, not the database, carries out ``on_delete``.)

Like ``bulk_create``: no ``save()``, no signals, values must already be what the column
stores; runs inside the caller's transaction. Column rules: float columns store NaN (and ±inf)
as NULL; integer columns (numpy ints, or pandas' nullable ``Int64`` with NA for NULL) as
integers; object columns hold ``str`` or ``None``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connections

# Rows per COPY write, encoded just before it is sent: large enough that Python's per-call
# cost vanishes, small enough that PostgreSQL parses one chunk while the next is encoded
# (encoding everything first left the server idle until the end: slower by a third).
COPY_CHUNK_ROWS = 5_000


def supports_copy(using: str = "default") -> bool:
    """True when the connection is PostgreSQL through psycopg 3 (``cursor.copy``)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    return hasattr(connection.connection.cursor(), "copy")


def _copy_text_column(column: pd.Series) -> list[str]:
    """One column as COPY's text format: ``\\N`` for NULL, backslash escapes in text."""
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float)
        # repr of a float is its shortest round-trip text ('0.30000000000000004', '-0.0',
        # '5e-324'): every double is read back exactly.
        text = list(map(repr, values.tolist()))
        for k in np.flatnonzero(~np.isfinite(values)).tolist():
            text[k] = r"\N"
        return text
    if pd.api.types.is_integer_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        missing = column.isna().to_numpy()
        text = list(map(str, column.astype(object).tolist()))
        for k in np.flatnonzero(missing).tolist():
            text[k] = r"\N"
        return text
    # Text columns repeat few values (family, dimension): escape each distinct value once.
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    escaped = [
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        for value in uniques
    ]
    return np.asarray([*escaped, r"\N"], dtype=object)[codes].tolist()  # code -1: NULL


class MissingReference(ValueError):
    """Rows refer to ids that do not exist (in a foreign key checked by ``insert_frame``)."""


# Distinct ids per lookup: under SQLite's limit on bound parameters.
REFERENCE_CHUNK = 10_000


def check_references(*, model, frame: pd.DataFrame, using: str = "default") -> None:
    """For every foreign key of ``model`` in ``frame`` without a database constraint: raise
    ``MissingReference`` unless each distinct id exists; on PostgreSQL lock those rows
    ``FOR KEY SHARE`` for the rest of the transaction (see the module docstring)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    for name in frame.columns:
        field = model._meta.get_field(name)
        if not field.is_relation or not field.many_to_one or field.db_constraint:
            continue
        target = field.target_field
        table, column = quote(target.model._meta.db_table), quote(target.column)
        wanted = pd.unique(frame[name].dropna().to_numpy()).tolist()
        found: set = set()
        lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            for start in range(0, len(wanted), REFERENCE_CHUNK):
                chunk = wanted[start : start + REFERENCE_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT {column} FROM {table} WHERE {column} IN ({marks}){lock}", chunk
                )
                found.update(value for (value,) in cursor.fetchall())
        missing = [value for value in wanted if value not in found]
        if missing:
            raise MissingReference(
                f"{model._meta.label}.{name}: {len(missing)} id(s) do not exist in "
                f"{target.model._meta.label}, e.g. {missing[:5]}"
            )


def _python_column(column: pd.Series) -> list:
    """One column as the Python values a DB-API driver binds (None for NULL)."""
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    if pd.api.types.is_integer_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return [None if pd.isna(v) else int(v) for v in column.astype(object)]
    return [None if pd.isna(v) else v for v in column.to_numpy(dtype=object)]


def insert_frame(
    *,
    model,
    frame: pd.DataFrame,
    using: str = "default",
    method: str | None = None,
) -> int:
    """Insert the rows of ``frame`` (its columns are field names of ``model``; a foreign key
    by its field name, holding the id) into ``model``'s table.

    ``method``: ``"copy"`` or ``"executemany"``; by default COPY where supported. Returns the
    number of rows inserted. Foreign keys without a database constraint are checked first
    (``check_references``); must run inside a transaction for their lock to last.
    """
    connection = connections[using]
    method = method or ("copy" if supports_copy(using) else "executemany")
    if method not in ("copy", "executemany"):
        raise ValueError(f"method must be copy or executemany, not {method!r}")
    if method == "copy" and not supports_copy(using):
        raise ValueError("COPY needs PostgreSQL through psycopg 3")
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = list(frame.columns)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    if frame.empty:
        return 0
    check_references(model=model, frame=frame, using=using)
    with connection.cursor() as cursor:
        if method == "copy":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in range(0, len(frame), COPY_CHUNK_ROWS):
                    part = frame.iloc[start : start + COPY_CHUNK_ROWS]
                    chunk = [_copy_text_column(part[name]) for name in fields]
                    lines = map("\t".join, zip(*chunk, strict=True))
                    copy.write("".join(f"{line}\n" for line in lines))
        else:
            rows = list(zip(*[_python_column(frame[name]) for name in fields], strict=True))
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
    return len(frame)


def read_rows(queryset, columns: list[str], *, using: str = "default") -> list[tuple]:
    """``queryset.values_list(*columns)`` read with the queryset's own SQL in one ``fetchall``
    (no ORM row objects, no field converters): for columns the database returns as they are
    stored (ids, numbers, codes). NULL is None. Row order is the queryset's."""
    sql, params = queryset.values_list(*columns).query.sql_with_params()
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def read_frame(queryset, columns: list[str], *, using: str = "default") -> pd.DataFrame:
    """``read_rows`` as a DataFrame with those column names."""
    return pd.DataFrame.from_records(read_rows(queryset, columns, using=using), columns=columns)
