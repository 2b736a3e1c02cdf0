"""The survey app's read-only API: studies with progress, item bank, participants (admins)."""

import pytest

from survey.models import Participant, ParticipantScore
from tests.dashboards.helpers import client_as
from tests.factories import ItemFactory, ItemRatingFactory, ParticipantFactory, StudyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def study():
    items = ItemFactory.create_batch(3)
    study = StudyFactory(slug="pilot", items=items, target_ratings_per_item=2)
    done = ParticipantFactory(study=study, status=Participant.Status.COMPLETED)
    ParticipantFactory(study=study, status=Participant.Status.IN_PROGRESS)
    for item in items[:2]:
        ItemRatingFactory(participant=done, item=item, rating=5)
    ItemRatingFactory(participant=done, item=items[2], rating=2)
    ParticipantScore.objects.create(
        participant=done, family="schwartz", dimension="Power", score=-0.5
    )
    return study


def test_study_progress_counts_in_one_query(client, study, django_assert_max_num_queries):
    StudyFactory(slug="other")
    client_as(client, "researcher")
    with django_assert_max_num_queries(6):  # session, user, groups, count, studies, instruments
        response = client.get("/api/v1/studies/?status=open")
    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert rows["pilot"]["progress"] == {
        "participants": 2,
        "completed": 1,
        "in_progress": 1,
        "ratings": 3,
        "item_pool": 3,
        "target_ratings": 6,
        "fraction": 0.5,
    }
    assert rows["other"]["progress"]["ratings"] == 0
    detail = client.get("/api/v1/studies/pilot/").json()
    assert detail["progress"]["fraction"] == 0.5


def test_items_carry_rating_summary_and_filter_by_study(client, study):
    ItemFactory()  # not in the study
    client_as(client, "researcher")
    body = client.get("/api/v1/items/?study=pilot&ordering=-mean_rating").json()
    assert body["count"] == 3
    assert [row["mean_rating"] for row in body["results"]] == [5.0, 5.0, 2.0]
    assert all(row["n_ratings"] == 1 for row in body["results"])
    scenario = client.get(f"/api/v1/scenarios/{body['results'][0]['scenario']}/").json()
    assert scenario["items"][0]["code"].endswith(f"/{scenario['items'][0]['option_id']}")


def test_participants_are_pseudonymous_and_admin_only(client, study):
    client_as(client, "researcher")
    assert client.get("/api/v1/participants/").status_code == 403
    client.logout()
    client_as(client, "admin")
    body = client.get("/api/v1/participants/?study=pilot&status=completed").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["pseudonym"].startswith("P-")
    assert "external_id" not in row and "prolific_session_id" not in row
    assert row["scores"] == [
        {
            "family": "schwartz",
            "dimension": "Power",
            "score": -0.5,
            "raw_score": None,
            "instrument_code": "",
            "origin": "computed",
        }
    ]
    raw_id = Participant.objects.get(pseudonym=row["pseudonym"]).external_id
    assert raw_id not in client.get("/api/v1/participants/").content.decode()


def test_flagged_filter(client, study):
    flagged = ParticipantFactory(study=study, quality_flags={"flags": ["straightlining"]})
    client_as(client, "admin")
    body = client.get("/api/v1/participants/?flagged=true").json()
    assert [row["pseudonym"] for row in body["results"]] == [flagged.pseudonym]
    assert client.get("/api/v1/participants/?flagged=false").json()["count"] == 2


def test_bad_filter_value_is_a_400_not_a_500(client, study):
    client_as(client, "researcher")
    response = client.get("/api/v1/studies/?status=nonsense")
    assert response.status_code == 400
    assert "status" in response.json()
