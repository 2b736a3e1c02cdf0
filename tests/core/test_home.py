import pytest

from tests.dashboards.helpers import client_as
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_home_links_researchers_to_the_dashboards_and_hides_studies_from_others(client):
    StudyFactory(title="Secret pilot")
    anonymous = client.get("/").content.decode()
    assert "/dashboards/" not in anonymous and "Secret pilot" not in anonymous
    client_as(client, "nobody")
    no_role = client.get("/").content.decode()
    assert "no role yet" in no_role and "Secret pilot" not in no_role
    client.logout()
    client_as(client, "researcher")
    page = client.get("/").content.decode()
    assert 'href="/dashboards/"' in page and 'href="/dashboards/models/"' in page
    assert "Secret pilot" in page and 'href="/api/docs/"' in page
