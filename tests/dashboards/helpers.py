"""Users with each role, for the dashboards', API and permission tests."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from core.roles import ADMINS_GROUP, RESEARCHERS_GROUP


def make_user(role: str, username: str | None = None) -> User | None:
    """``anonymous`` -> None; ``participant`` -> None (participants have no account);
    ``nobody`` -> a logged-in account without a role; ``researcher``; ``admin``."""
    if role in ("anonymous", "participant"):
        return None
    user = User.objects.create_user(username or f"{role}-user", password="pw-for-tests-123")
    group = {"researcher": RESEARCHERS_GROUP, "admin": ADMINS_GROUP}.get(role)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def client_as(client, role: str):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return client
