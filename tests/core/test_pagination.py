"""API pagination: limit and offset within what the database takes, refused clearly otherwise.

Before, ``?offset=`` beyond a 64-bit integer reached PostgreSQL and came back as a 500
("bigint out of range", found by random schemathesis runs).
"""

import pytest
from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.pagination import MAX_OFFSET, BoundedLimitOffsetPagination
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("pager", "p@example.org", "pw-123-tests"))
    StudyFactory.create_batch(3)
    return client


@pytest.mark.parametrize(
    "params",
    [
        {"offset": str(2**63)},
        {"offset": "9" * 400},
        {"offset": "-1"},
        {"offset": "ten"},
        {"limit": str(2**63)},
        {"limit": "0"},
        {"limit": "1.5"},
    ],
)
def test_out_of_range_or_malformed_bounds_are_refused_naming_the_parameter(staff_client, params):
    response = staff_client.get("/api/v1/studies/", params)
    assert response.status_code == 400
    (name,) = params
    assert name in response.json()
    assert "whole number" in response.json()[name][0]


def test_the_largest_offset_gives_an_empty_page(staff_client):
    response = staff_client.get("/api/v1/studies/", {"offset": str(MAX_OFFSET)})
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert response.json()["results"] == []


def test_a_page_is_cut_where_asked(staff_client):
    response = staff_client.get("/api/v1/studies/", {"limit": "2", "offset": "1"})
    assert [len(response.json()["results"]), response.json()["count"]] == [2, 3]
    assert response.json()["previous"] is not None


@pytest.mark.parametrize(("asked", "used"), [(None, 100), ("7", 7), (str(10**12), 1000)])
def test_the_limit_defaults_and_is_capped(asked, used):
    query = {} if asked is None else {"limit": asked}
    request = Request(APIRequestFactory().get("/api/v1/studies/", query))
    assert BoundedLimitOffsetPagination().get_limit(request) == used


def test_the_schema_states_the_bounds(staff_client):
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    listed = schema["paths"]["/api/v1/studies/"]["get"]["parameters"]
    parameters = {p["name"]: p["schema"] for p in listed}
    assert parameters["offset"]["minimum"] == 0
    assert parameters["offset"]["maximum"] == MAX_OFFSET
    assert parameters["limit"]["minimum"] == 1
