import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from core.roles import (
    admin_required,
    grant_admin_group_permissions,
    is_admin,
    is_researcher,
    researcher_required,
)

pytestmark = pytest.mark.django_db


def _user(name, group=None, **flags):
    user = User.objects.create_user(name, password="x", **flags)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)


def test_role_checks():
    researcher = _user("r", "researchers")
    admin = _user("a", "admins")
    superuser = _user("s", is_superuser=True)
    nobody = _user("n", is_staff=True)  # staff alone is no role
    inactive = _user("i", "admins", is_active=False)
    assert [is_researcher(u) for u in (researcher, admin, superuser, nobody, inactive)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert [is_admin(u) for u in (researcher, admin, superuser, nobody, inactive)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert not is_researcher(AnonymousUser())


def test_view_decorators_redirect_anonymous_and_refuse_wrong_role():
    view = researcher_required(lambda request: "ok")
    admin_view = admin_required(lambda request: "ok")
    request = RequestFactory().get("/x")
    request.user = AnonymousUser()
    assert view(request).status_code == 302  # to the login page
    request.user = _user("r", "researchers")
    assert view(request) == "ok"
    with pytest.raises(PermissionDenied):
        admin_view(request)
    assert view.required_role == "researcher" and admin_view.required_role == "admin"


def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content


def test_admins_group_members_are_staff_with_model_permissions_but_no_raw_ids():
    grant_admin_group_permissions()
    user = _user("g", "admins")
    assert user.is_staff
    assert user.has_perm("survey.change_study") and user.has_perm(
        "evaluation.add_modelconfiguration"
    )
    # Raw panel ids need an explicit grant to a person, never the group.
    assert not user.has_perm("survey.view_raw_participant_ids")
    user.groups.remove(Group.objects.get(name="admins"))
    user = User.objects.get(pk=user.pk)
    assert not user.is_staff and not user.has_perm("survey.change_study")
    researcher = _user("r2", "researchers")
    assert not researcher.is_staff
    assert not researcher.has_perm("survey.view_raw_participant_ids")


def test_group_admin_can_open_the_admin_site(client):
    grant_admin_group_permissions()
    client.force_login(_user("g2", "admins"))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/survey/study/").status_code == 200
