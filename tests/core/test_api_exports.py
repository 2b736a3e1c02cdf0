"""The API's export mechanism: every export endpoint in the OpenAPI schema with its three
formats and declared parameters; the renderers write the same records."""

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest
from drf_spectacular.generators import SchemaGenerator

from core import tabular
from survey.models import Participant
from tests.api_exports import token_headers
from tests.factories import ItemFactory, ItemRatingFactory, ParticipantFactory, StudyFactory

EXPORTS = [
    "/api/v1/studies/{slug}/ratings/",
    "/api/v1/studies/{slug}/participant-table/",
    "/api/v1/studies/{slug}/release-survey/",
    "/api/v1/studies/{slug}/release-value/",
    "/api/v1/correlation-runs/{id}/download/",
    "/api/v1/item-sets/{id}/download/",
    "/api/v1/portraits/",
    "/api/v1/sensitivity/",
    "/api/v1/human-portraits/",
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _parameters(schema, path) -> dict:
    return {p["name"]: p for p in schema["paths"][path]["get"].get("parameters", [])}


@pytest.mark.parametrize("path", EXPORTS)
def test_every_export_is_documented_in_three_formats(schema, path):
    operation = schema["paths"][path]["get"]
    assert set(operation["responses"]["200"]["content"]) >= {
        "application/json",
        "text/csv",
        "application/vnd.apache.parquet",
    }
    assert _parameters(schema, path)["format"]["schema"]["enum"] == ["csv", "json", "parquet"]
    assert {"tokenAuth": []} in operation["security"]


def test_answers_and_filters_are_declared(schema):
    answers = schema["paths"]["/api/v1/evaluation-runs/{id}/answers/"]["get"]
    assert set(answers["responses"]["200"]["content"]) == {
        "application/jsonl",
        "text/csv",
        "application/vnd.apache.parquet",
    }
    runs = _parameters(schema, "/api/v1/evaluation-runs/")
    assert {"model", "item_set", "sweep", "status", "kind", "scoring"} <= set(runs)
    assert "done" in runs["status"]["schema"]["enum"]
    assert {"provider", "name"} <= set(_parameters(schema, "/api/v1/model-configurations/"))
    assert "study" in _parameters(schema, "/api/v1/correlation-runs/")
    rows = _parameters(schema, "/api/v1/correlation-runs/{id}/rows/")
    assert "Power" in rows["dimension"]["schema"]["enum"]
    responses = _parameters(schema, "/api/v1/evaluation-runs/{id}/responses/")
    assert responses["state"]["schema"]["enum"] == ["failed", "invalid", "valid"]
    assert _parameters(schema, "/api/v1/portraits/")["basis"]["schema"]["enum"] == [
        "answer",
        "probability",
    ]
    assert "include_flagged" in _parameters(schema, "/api/v1/studies/{slug}/release-value/")


def test_three_formats_hold_the_same_records():
    rows = [
        {"a": 1, "text": "=SUM(1)", "r": float("nan"), "when": None, "tags": ["x", "y"]},
        {"a": 2, "text": "plain", "r": -0.25, "when": "2025-01-01", "tags": []},
    ]
    plain = tabular.records(rows)
    assert plain[0]["r"] is None
    back = pq.read_table(io.BytesIO(tabular.render(rows, "parquet"))).to_pylist()
    assert back == plain
    csv_text = tabular.render(rows, "csv").decode()
    assert csv_text.splitlines()[1] == '1,\'=SUM(1),,,"[""x"", ""y""]"'
    assert tabular.format_from_path("out/ratings.parquet", tabular.TABLE_FORMATS) == "parquet"
    assert tabular.format_from_path("out.v2/ratings", tabular.TABLE_FORMATS) is None


@pytest.mark.django_db(transaction=True)
def test_pandas_reads_an_export_over_http_with_the_token_header(live_server):
    """The README's recipe, against a real server: pandas sends ``storage_options`` as HTTP
    headers for parquet and CSV."""
    items = ItemFactory.create_batch(2)
    study = StudyFactory(slug="live", items=items)
    person = ParticipantFactory(study=study, status=Participant.Status.COMPLETED)
    for item, rating in zip(items, (3, 6), strict=True):
        ItemRatingFactory(participant=person, item=item, rating=rating)
    token = token_headers("researcher")["HTTP_AUTHORIZATION"]
    url = f"{live_server.url}/api/v1/studies/live/ratings/"
    auth = {"Authorization": token}
    ratings = pd.read_parquet(f"{url}?format=parquet", storage_options=auth)
    assert list(ratings["rating"]) == [3, 6] and set(ratings["participant"]) == {person.pseudonym}
    as_csv = pd.read_csv(f"{url}?format=csv", storage_options=auth)
    assert list(as_csv["rating"]) == [3, 6]
    with pytest.raises(Exception, match="403"):
        pd.read_parquet(f"{url}?format=parquet")
