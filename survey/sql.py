"""Names for the survey's hand-written SQL (the hot paths: the answer, the item page).

The statements are written from the models' table and column names, quoted for the
database, so that a renamed field changes them too. They use the portable subset that
PostgreSQL and SQLite (3.24+) share: the only databases the project runs on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

SUPPORTED_VENDORS = ("postgresql", "sqlite")


def sql_names(vendor: str, *, used_by: str) -> tuple[Callable, Callable]:
    """``(table, col)``: ``table(Model)`` and ``col(Model, field_name)`` quoted for the
    database; ``ImproperlyConfigured`` for a vendor the statements were not written for."""
    if vendor not in SUPPORTED_VENDORS:
        raise ImproperlyConfigured(
            f"The survey's {used_by} supports {', '.join(SUPPORTED_VENDORS)}, not {vendor}."
        )
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def col(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    return table, col
