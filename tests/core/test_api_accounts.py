"""Account endpoints of the API: users with roles, token issue/revoke, token authentication."""

import pytest
from rest_framework.authtoken.models import Token

from tests.dashboards.helpers import client_as, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_admin_issues_a_token_that_a_script_can_use_then_revokes_it(client):
    researcher = make_user("researcher", "alice")
    client_as(client, "admin")
    response = client.post(
        "/api/v1/tokens/", {"username": "alice"}, content_type="application/json"
    )
    assert response.status_code == 201
    key = response.json()["key"]
    assert Token.objects.get(user=researcher).key == key
    listing = client.get("/api/v1/tokens/").json()["results"]
    assert listing == [
        {"username": "alice", "created": listing[0]["created"], "key_prefix": key[:6]}
    ]
    client.logout()

    # A script: no session, only the token.
    assert client.get("/api/v1/studies/").status_code == 403
    assert client.get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    client.force_login(make_user("admin", "second-admin"))
    assert client.delete("/api/v1/tokens/alice/").status_code == 204
    client.logout()
    revoked = client.get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Token {key}")
    # DRF answers 403 (not 401) because session authentication is listed first.
    assert revoked.status_code == 403 and revoked.json()["detail"] == "Invalid token."


def test_reissuing_replaces_the_old_key(client):
    make_user("researcher", "bob")
    client_as(client, "admin")
    first = client.post("/api/v1/tokens/", {"username": "bob"}).json()["key"]
    second = client.post("/api/v1/tokens/", {"username": "bob"}).json()["key"]
    assert first != second
    assert list(Token.objects.values_list("key", flat=True)) == [second]


def test_token_requests_with_bad_input_are_refused_with_a_message(client):
    make_user("nobody", "carol")
    client_as(client, "admin")
    unknown = client.post("/api/v1/tokens/", {"username": "ghost"})
    assert unknown.status_code == 400 and "username" in unknown.json()
    no_role = client.post("/api/v1/tokens/", {"username": "carol"})
    assert no_role.status_code == 400
    assert "researchers" in no_role.json()["username"][0]
    assert client.post("/api/v1/tokens/", {}).status_code == 400
    assert client.delete("/api/v1/tokens/ghost/").status_code == 404


def test_users_endpoint_shows_roles_to_admins_only(client):
    make_user("researcher", "dana")
    client_as(client, "researcher")
    assert client.get("/api/v1/users/").status_code == 403
    assert client.post("/api/v1/tokens/", {"username": "dana"}).status_code == 403
    client.logout()
    client_as(client, "admin")
    roles = {row["username"]: row["role"] for row in client.get("/api/v1/users/").json()["results"]}
    assert roles == {"dana": "researcher", "researcher-user": "researcher", "admin-user": "admin"}


def test_schema_validates_against_openapi_3():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_browsable_api_docs_load_swagger_ui_from_our_static_files(client):
    from django.contrib.staticfiles import finders

    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
