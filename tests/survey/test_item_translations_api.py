"""The item translations' REST endpoint: token auth, declared filters, the schema."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from survey.models import ItemTranslation
from tests.api_exports import token_headers
from tests.factories import ItemFactory, StudyFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/item-translations/"


@pytest.fixture
def translations():
    reviewer = User.objects.create_user("kim")
    items = [ItemFactory() for _ in range(3)]
    study = StudyFactory(items=items[:2])
    now = timezone.now()
    rows = {
        ("de", 0): ItemTranslation.objects.create(
            item=items[0], language="de", scenario_text="Szenario", response="Antwort",
            status="reviewed", reviewed_by=reviewer, reviewed_at=now,
        ),
        ("de", 2): ItemTranslation.objects.create(
            item=items[2], language="de", scenario_text="Szenario", response="Entwurf",
        ),
        ("ko", 1): ItemTranslation.objects.create(
            item=items[1], language="ko", scenario_text="시나리오", response="답변",
            status="back_translated", reviewed_by=reviewer, reviewed_at=now,
        ),
    }  # fmt: skip
    return study, items, rows


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_researchers_list_translations_with_their_review(client, translations):
    _, items, rows = translations
    assert client.get(URL).status_code in (401, 403)
    assert client.get(URL, **token_headers("nobody")).status_code == 403
    auth = token_headers("researcher")
    listed = client.get(URL, **auth)
    assert ids(listed) == {row.pk for row in rows.values()}
    german = next(r for r in listed.json()["results"] if r["id"] == rows["de", 0].pk)
    assert german == {
        **german,
        "item": items[0].pk, "portrait_id": items[0].scenario.external_id,
        "option_id": items[0].option_id, "source_language": "en", "language": "de",
        "status": "reviewed", "servable": True, "response": "Antwort", "reviewed_by": "kim",
    }  # fmt: skip
    assert client.get(f"{URL}{rows['ko', 1].pk}/", **auth).json()["servable"] is True


def test_filters_by_language_status_servable_item_and_study(client, translations):
    study, items, rows = translations
    auth = token_headers("researcher")
    get = lambda **query: client.get(URL, query, **auth)  # noqa: E731
    assert ids(get(language="de")) == {rows["de", 0].pk, rows["de", 2].pk}
    assert ids(get(language="ko", status="back_translated")) == {rows["ko", 1].pk}
    assert ids(get(language="de", servable="true")) == {rows["de", 0].pk}
    assert ids(get(servable="false")) == {rows["de", 2].pk}
    assert ids(get(item=items[2].pk)) == {rows["de", 2].pk}
    assert ids(get(study=study.slug)) == {rows["de", 0].pk, rows["ko", 1].pk}
    # a platform language without translations: an empty list, not an error
    assert ids(get(language="en")) == set()


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"language": "fr"}, "language"),
        ({"language": "de\x00"}, "language"),
        ({"status": "approved"}, "status"),
        ({"servable": "maybe"}, "servable"),
        ({"study": "no-such-study"}, "study"),
        ({"item": "x"}, "item"),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_it(client, translations, query, parameter):
    response = client.get(URL, query, **token_headers("researcher"))
    assert response.status_code == 400
    assert parameter in response.json()


def test_the_schema_declares_the_endpoint_and_its_filters(client):
    schema = client.get("/api/schema/?format=json", **token_headers("researcher")).json()
    operation = schema["paths"]["/api/v1/item-translations/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"language", "status", "servable", "item", "study"} <= set(parameters)
    assert set(parameters["status"]["schema"]["enum"]) == {
        "machine_draft", "reviewed", "back_translated"
    }  # fmt: skip
    assert "/api/v1/item-translations/{id}/" in schema["paths"]
