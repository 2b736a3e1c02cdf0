"""Read operations of the benchmark app."""

from __future__ import annotations

import pandas as pd

from .models import CorrelationRun, ValidatedItemSet


def correlation_frame(*, run: CorrelationRun) -> pd.DataFrame:
    """All rows of a correlation run as a DataFrame (one row per item × dimension)."""
    rows = run.rows.values_list(
        "item_id",
        "item__scenario__external_id",
        "item__option_id",
        "family",
        "dimension",
        "r",
        "p",
        "n",
    )
    return pd.DataFrame.from_records(
        list(rows),
        columns=[
            "item_id",
            "scenario_external_id",
            "option_id",
            "family",
            "dimension",
            "r",
            "p",
            "n",
        ],
    )


def published_run(*, study) -> CorrelationRun | None:
    return (
        study.correlation_runs.filter(kind=CorrelationRun.Kind.PUBLISHED)
        .order_by("created_at")
        .first()
    )


def item_set_entries(*, item_set: ValidatedItemSet) -> pd.DataFrame:
    """The selected pairs of an item set: item_id, portrait/option ids, family, dimension, r, p."""
    rows = item_set.entries.values_list(
        "item_id", "item__scenario__external_id", "item__option_id", "family", "dimension", "r", "p"
    )
    return pd.DataFrame.from_records(
        list(rows),
        columns=["item_id", "scenario_external_id", "option_id", "family", "dimension", "r", "p"],
    )
