"""The study exports through the API with a token: ratings, participants and the
release-shaped survey/value, in CSV, JSON and parquet; roles; no raw panel ids."""

import pytest

from survey.models import Participant, ParticipantScore
from tests.api_exports import fetch_every_format, token_headers
from tests.factories import ItemFactory, ItemRatingFactory, ParticipantFactory, StudyFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def study():
    items = ItemFactory.create_batch(3)
    study = StudyFactory(slug="pilot", items=items, demographic_fields=["country"])
    done = ParticipantFactory(
        study=study,
        status=Participant.Status.COMPLETED,
        demographics={"country": "=HYPERLINK(1)"},
        external_id="PROLIFIC-RAW-1",
    )
    ParticipantFactory(study=study, status=Participant.Status.IN_PROGRESS, external_id="RAW-2")
    for item, rating in zip(items, (5, 2, 6), strict=True):
        ItemRatingFactory(participant=done, item=item, rating=rating)
    for dimension, score in (("Power", -0.5), ("Benevolence", 1.25)):
        ParticipantScore.objects.create(
            participant=done, family="schwartz", dimension=dimension, score=score
        )
    return study


def test_ratings_by_token_in_every_format(client, study):
    headers = token_headers("researcher")
    got = fetch_every_format(client, "/api/v1/studies/pilot/ratings/", headers)
    assert [row["rating"] for row in got["rows"]] == [5, 2, 6]
    assert {row["participant"] for row in got["rows"]} == {
        Participant.objects.get(external_id="PROLIFIC-RAW-1").pseudonym
    }
    assert "PROLIFIC-RAW-1" not in got["csv"]


def test_participant_table_is_pseudonymous_and_spreadsheet_safe(client, study):
    got = fetch_every_format(
        client, "/api/v1/studies/pilot/participant-table/", token_headers("researcher")
    )
    assert len(got["rows"]) == 2
    completed = next(row for row in got["rows"] if row["status"] == "completed")
    assert completed["schwartz.Power"] == -0.5 and completed["country"] == "=HYPERLINK(1)"
    assert "'=HYPERLINK(1)" in got["csv"]  # CSV only: a spreadsheet would run it
    for raw in ("PROLIFIC-RAW-1", "RAW-2"):
        assert raw not in got["csv"] and raw not in str(got["json"])
    assert not {"external_id", "prolific_session_id"} & set(completed)


def test_release_shapes_in_json_and_rows_in_csv_and_parquet(client, study):
    headers = token_headers("researcher")
    pseudonym = Participant.objects.get(external_id="PROLIFIC-RAW-1").pseudonym
    survey = fetch_every_format(
        client, "/api/v1/studies/pilot/release-survey/", headers, json_is_rows=False
    )
    assert len(survey["rows"]) == 3 and {r["participant"] for r in survey["rows"]} == {pseudonym}
    # JSON is the release's survey.json: one group, the same ratings.
    [group] = survey["json"]
    assert sorted(pair[0] for options in group.values() for o in options for pair in o["data"]) == [
        2,
        5,
        6,
    ]
    value = fetch_every_format(
        client, "/api/v1/studies/pilot/release-value/", headers, json_is_rows=False
    )
    assert value["json"] == {pseudonym: {"pvq": {"Power": -0.5, "Benevolence": 1.25}}}
    assert sorted((r["dimension"], r["score"]) for r in value["rows"]) == [
        ("Benevolence", 1.25),
        ("Power", -0.5),
    ]


def test_release_export_flag_parameter_is_declared(client, study):
    headers = token_headers("researcher")
    flagged = Participant.objects.get(external_id="PROLIFIC-RAW-1")
    flagged.quality_flags = {"flags": ["speeder"]}
    flagged.save()
    url = "/api/v1/studies/pilot/release-value/"
    study.exclude_flagged_participants = True
    study.save()
    assert client.get(url, **headers).json() == {}
    assert client.get(f"{url}?include_flagged=true", **headers).json() != {}
    refused = client.get(f"{url}?include_flagged=perhaps&format=csv", **headers)
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/json")  # errors are JSON
    assert "include_flagged" in refused.json()


@pytest.mark.parametrize("role,expected", [("anonymous", 403), ("nobody", 403)])
def test_exports_refused_without_the_researcher_role(client, study, role, expected):
    headers = token_headers(role)
    for name in ("ratings", "participant-table", "release-survey", "release-value"):
        response = client.get(f"/api/v1/studies/pilot/{name}/?format=parquet", **headers)
        assert response.status_code == expected
        assert response["Content-Type"].startswith("application/json")


def test_unknown_study_is_a_404(client, study):
    response = client.get("/api/v1/studies/nope/ratings/?format=csv", **token_headers("researcher"))
    assert response.status_code == 404
