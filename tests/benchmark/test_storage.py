"""Correlation rows are stored the same by PostgreSQL COPY, executemany and bulk_create."""

import numpy as np
import pytest
from django.db import connections

from benchmark.models import Correlation, CorrelationRun
from benchmark.services import CORRELATION_ROW_FIELDS, compute_correlations, recompute_now
from core.bulk import insert_rows, supports_copy
from tests.factories import ItemFactory, StudyFactory

AWKWARD_FLOATS = [0.1 + 0.2, 5e-324, -1e-300, 1.7976931348623157e308, -0.0, 1 / 3, None]


def _rows(run_id, items):
    """Values that text formats can get wrong: shortest-repr floats, subnormals, None, and
    strings with COPY's special characters."""
    dimensions = ["Power", "tab\there", "back\\slash", "new\nline", "ünïcode", "\\N", "Care"]
    return [
        (run_id, item.pk, "schwartz", dimension, value, value, k, value, None, value, -k / 7)
        for k, (item, dimension, value) in enumerate(
            zip(items * 7, dimensions, AWKWARD_FLOATS, strict=False)
        )
    ]


def _stored(run):
    return list(
        run.rows.order_by("id").values_list(*[f for f in CORRELATION_ROW_FIELDS if f != "run"])
    )


@pytest.mark.django_db
def test_insert_rows_stores_exactly_what_bulk_create_stores():
    items = [ItemFactory()]
    study = StudyFactory(items=items)
    methods = ["copy"] if supports_copy() else ["executemany"]  # what each database uses
    stored = {}
    for method in ["bulk_create", *methods]:
        run = CorrelationRun.objects.create(study=study, label=method)
        rows = _rows(run.pk, items)
        if method == "bulk_create":
            Correlation.objects.bulk_create(
                [
                    Correlation(
                        run=run,
                        item_id=row[1],
                        **dict(zip(CORRELATION_ROW_FIELDS[2:], row[2:], strict=True)),
                    )
                    for row in rows
                ]
            )
        else:
            assert insert_rows(
                model=Correlation, fields=CORRELATION_ROW_FIELDS, rows=iter(rows), method=method
            ) == len(rows)
        stored[method] = _stored(run)
    reference = stored.pop("bulk_create")
    assert len(reference) == 7
    assert [row[3] for row in reference][:6] == AWKWARD_FLOATS[:6]  # r as given, bit for bit
    for method, rows in stored.items():
        assert rows == reference, method
        # == treats -0.0 as 0.0: compare the exact bits too
        assert [repr(row[3]) for row in rows] == [repr(row[3]) for row in reference], method


@pytest.fixture
def sqlite_alias(django_db_blocker):
    """An in-memory SQLite connection beside the test database (whatever that is), so the
    refusal is tested on every run, PostgreSQL CI included. It holds no test data, so
    pytest-django's guard is lifted for it alone."""
    alias = "copy_refusal_sqlite"
    connections.settings[alias] = {
        **connections.settings["default"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {},
    }
    with django_db_blocker.unblock():
        yield alias
    connections[alias].close()
    del connections[alias]
    del connections.settings[alias]


def test_copy_is_refused_where_the_database_cannot_do_it(sqlite_alias):
    assert not supports_copy(sqlite_alias)
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        insert_rows(
            model=Correlation,
            fields=CORRELATION_ROW_FIELDS,
            rows=[],
            using=sqlite_alias,
            method="copy",
        )


def test_stored_run_holds_the_computed_arrays(small_study):
    run = recompute_now(study=small_study)
    inputs, result, extras = compute_correlations(
        study=small_study,
        method="spearman",
        bootstrap_resamples=run.parameters["bootstrap_resamples"],
        seed=run.parameters["bootstrap_seed"],
    )
    assert run.parameters["bootstrap_resamples"] >= 2
    rows = {
        (item_id, dimension): values
        for item_id, dimension, *values in run.rows.values_list(
            "item_id", "dimension", "r", "p", "n", "p_bh", "p_by", "ci_low", "ci_high"
        )
    }
    assert len(rows) == len(inputs.item_ids) * len(inputs.dimensions)
    arrays = [result.r, result.p, result.n, extras["p_bh"], extras["p_by"]]
    arrays += [extras["ci_low"], extras["ci_high"]]
    for i, item_id in enumerate(inputs.item_ids.tolist()):
        for j, (_, dimension) in enumerate(inputs.dimensions):
            expected = [a[i, j] for a in arrays]
            got = rows[(item_id, dimension)]
            for value, want in zip(got, expected, strict=True):
                if np.isfinite(want):
                    assert value == want
                else:
                    assert value is None
