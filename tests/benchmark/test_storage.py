"""Correlation rows are stored the same by PostgreSQL COPY, executemany and bulk_create."""

import numpy as np
import pandas as pd
import pytest
from django.db import connections, transaction

from benchmark.models import Correlation, CorrelationRun
from benchmark.services import CORRELATION_ROW_FIELDS, compute_correlations, recompute_now
from core.bulk import MissingReference, insert_frame, read_frame, supports_copy
from survey.models import Item
from tests.factories import ItemFactory, StudyFactory

AWKWARD_FLOATS = [0.1 + 0.2, 5e-324, -1e-300, 1.7976931348623157e308, -0.0, 1 / 3, None]


def _rows(run_id, items):
    """Values that text formats can get wrong: shortest-repr floats, subnormals, None, and
    strings with COPY's special characters (and an empty one, which is not NULL)."""
    dimensions = ["Power", "tab\there", "back\\slash", "new\nline", "ünïcode", "\\N", ""]
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
def test_insert_frame_stores_exactly_what_bulk_create_stores():
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
            frame = pd.DataFrame(rows, columns=list(CORRELATION_ROW_FIELDS))
            assert insert_frame(model=Correlation, frame=frame, method=method) == len(rows)
        stored[method] = _stored(run)
    reference = stored.pop("bulk_create")
    assert len(reference) == 7
    assert [row[3] for row in reference][:6] == AWKWARD_FLOATS[:6]  # r as given, bit for bit
    for method, rows in stored.items():
        assert rows == reference, method
        # == treats -0.0 as 0.0: compare the exact bits too
        assert [repr(row[3]) for row in rows] == [repr(row[3]) for row in reference], method


@pytest.mark.django_db
def test_read_frame_reads_back_every_value_exactly():
    items = [ItemFactory()]
    study = StudyFactory(items=items)
    run = CorrelationRun.objects.create(study=study, label="read")
    rows = _rows(run.pk, items)
    rows[0] = (*rows[0][:3], "NA", *rows[0][4:])  # text that CSV readers like to call missing
    insert_frame(model=Correlation, frame=pd.DataFrame(rows, columns=list(CORRELATION_ROW_FIELDS)))
    columns = ["id", "dimension", "r", "p_by", "n"]
    frame = read_frame(run.rows.order_by("id"), columns)
    assert list(frame.columns) == columns
    assert frame["dimension"].tolist()[:6] == [row[3] for row in rows][:6]
    read_r = frame["r"].tolist()
    assert read_r[:6] == AWKWARD_FLOATS[:6]
    assert np.isnan(read_r[6])  # NULL
    assert frame["p_by"].isna().all()  # a column NULL in every row
    assert frame["n"].tolist() == list(range(7))
    # What the ORM reads, bit for bit (-0.0 included where the database keeps it).
    orm = list(run.rows.order_by("id").values_list("r", flat=True))
    assert [repr(None if np.isnan(v) else v) for v in read_r] == [repr(v) for v in orm]
    assert read_frame(run.rows.filter(n__gt=99), columns).empty


@pytest.mark.django_db(transaction=True)
def test_rows_refer_only_to_existing_runs_and_items():
    """The keys have no database constraint (see the model): the writer refuses an unknown
    run or item before storing anything, and deletes still cascade to the rows."""
    items = [ItemFactory(), ItemFactory()]
    study = StudyFactory(items=items)
    run = CorrelationRun.objects.create(study=study, label="refs")
    good = (run.pk, items[0].pk, "schwartz", "Power", 0.5, 0.1)
    columns = ["run", "item", "family", "dimension", "r", "p"]
    unknown_item = max(Item.objects.values_list("pk", flat=True)) + 1000
    for bad, message in [
        ((run.pk, unknown_item, "schwartz", "Care", 0.1, 0.2), "survey.Item"),
        ((run.pk + 1000, items[1].pk, "schwartz", "Care", 0.1, 0.2), "benchmark.CorrelationRun"),
    ]:
        with pytest.raises(MissingReference, match=message), transaction.atomic():
            insert_frame(model=Correlation, frame=pd.DataFrame([good, bad], columns=columns))
        assert not run.rows.exists()  # nothing stored, not even the good row
    with transaction.atomic():
        insert_frame(
            model=Correlation,
            frame=pd.DataFrame(
                [good, (run.pk, items[1].pk, "schwartz", "Care", 0.1, 0.2)], columns=columns
            ),
        )
    assert run.rows.count() == 2
    items[1].delete()
    assert list(run.rows.values_list("item_id", flat=True)) == [items[0].pk]
    run.delete()
    assert not Correlation.objects.filter(run_id=run.pk).exists()


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
        insert_frame(
            model=Correlation,
            frame=pd.DataFrame(columns=list(CORRELATION_ROW_FIELDS)),
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
