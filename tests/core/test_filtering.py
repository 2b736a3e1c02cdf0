"""Declared filters refuse text PostgreSQL cannot hold (NUL) with a 400 naming the filter."""

import pytest

from tests.api_exports import token_headers

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize(
    "url,name",
    [
        ("/api/v1/evaluation-runs/?template_set=a%00b", "template_set"),
        ("/api/v1/correlation-runs/?study=pilot%00", "study"),
        ("/api/v1/items/?study=%00", "study"),
        ("/api/v1/model-cards/?family=x%00", "family"),
    ],
)
def test_a_nul_character_is_a_400_naming_the_filter(client, url, name):
    response = client.get(url, **token_headers("researcher"))
    assert response.status_code == 400
    assert "NUL" in response.json()[name][0]
