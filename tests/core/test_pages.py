import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_home_health_and_login_pages(client):
    assert client.get("/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
    assert b"Log in" in client.get("/accounts/login/").content


def test_plotly_js_is_served_from_our_static_files(client):
    assert finders.find("plotly/plotly.min.js")
