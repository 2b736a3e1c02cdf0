"""The first administrator of a fresh deployment, created from the environment.

``ensure_superuser`` is idempotent: docker compose runs it (``manage.py ensure_admin``) on
every ``up``, and only the first run creates anything. An existing account is never
changed: its password may have been changed since, and a name that belongs to an ordinary
user is refused rather than silently promoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction


class AdminAccountError(Exception):
    """The environment asks for an administrator that cannot be created as asked."""


@dataclass(frozen=True)
class AdminAccountOutcome:
    username: str
    created: bool


def ensure_superuser(*, username: str, password: str, email: str = "") -> AdminAccountOutcome:
    """Create superuser ``username`` unless it exists. The password must pass the project's
    password validators; an existing non-superuser of that name is an error."""
    if not username:
        raise AdminAccountError("no username given")
    user_model = get_user_model()
    with transaction.atomic():
        existing = (
            user_model.objects.select_for_update()
            .filter(**{user_model.USERNAME_FIELD: username})
            .first()
        )
        if existing is not None:
            if not existing.is_superuser:
                raise AdminAccountError(
                    f"user {username!r} exists and is not a superuser; it was left unchanged"
                )
            return AdminAccountOutcome(username=username, created=False)
        if not password:
            raise AdminAccountError(f"no password given for the new superuser {username!r}")
        candidate = user_model(**{user_model.USERNAME_FIELD: username}, email=email)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise AdminAccountError(
                f"password refused for {username!r}: {' '.join(exc.messages)}"
            ) from exc
        user_model.objects.create_superuser(
            **{user_model.USERNAME_FIELD: username}, email=email, password=password
        )
    return AdminAccountOutcome(username=username, created=True)
