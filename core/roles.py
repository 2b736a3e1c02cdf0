"""The three roles of the project and the checks every view and API endpoint uses.

- **participant**: anonymous; sees only their own survey session (token in the session).
- **researcher**: logged-in member of the ``researchers`` group (or an admin): reads
  dashboards and results, starts runs, triggers recomputations.
- **admin**: superuser or member of the ``admins`` group: manages studies, instruments,
  users and tokens, and exports raw participant data.

Use ``researcher_required`` / ``admin_required`` on views and ``IsResearcher`` /
``IsAdmin`` on API views; never check ``is_staff`` directly.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

RESEARCHERS_GROUP = "researchers"
ADMINS_GROUP = "admins"


def _in_group(user, name: str) -> bool:
    cache_name = "_vp_groups"
    groups = getattr(user, cache_name, None)
    if groups is None:
        groups = set(user.groups.values_list("name", flat=True))
        setattr(user, cache_name, groups)
    return name in groups


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and (
        user.is_superuser or _in_group(user, ADMINS_GROUP)
    )


def is_researcher(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and (
        is_admin(user) or _in_group(user, RESEARCHERS_GROUP)
    )


def _role_required(check, view_func):
    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        if not check(request.user):
            raise PermissionDenied("Your account does not have the role this page needs.")
        return view_func(request, *args, **kwargs)

    wrapper.required_role = check.__name__.removeprefix("is_")  # read by the permission table test
    return wrapper


def researcher_required(view_func):
    """Login required, then the researcher (or admin) role; 403 otherwise."""
    return _role_required(is_researcher, view_func)


def admin_required(view_func):
    """Login required, then the admin role; 403 otherwise."""
    return _role_required(is_admin, view_func)


class IsResearcher(BasePermission):
    message = "This endpoint needs the researcher role."

    def has_permission(self, request, view) -> bool:
        return is_researcher(request.user)


class IsAdmin(BasePermission):
    message = "This endpoint needs the admin role."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class ResearcherReadAdminWrite(BasePermission):
    """Researchers read; only admins write."""

    message = "Reading needs the researcher role; changing needs the admin role."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return is_researcher(request.user)
        return is_admin(request.user)


def roles(request) -> dict:
    """Template context processor: ``is_researcher`` / ``is_admin`` for the current user."""
    user = getattr(request, "user", None)
    return {"is_researcher": is_researcher(user), "is_admin": is_admin(user)}


# --- keeping the admins group able to do its job ------------------------------------------
# Apps whose models admins manage in the Django admin site.
ADMIN_MANAGED_APPS = (
    "survey",
    "benchmark",
    "evaluation",
    "dashboards",
    "auth",
    "authtoken",
    "django_celery_results",
)


def grant_admin_group_permissions(**kwargs) -> None:
    """Give the ``admins`` group every permission of the managed apps (post_migrate).

    Except ``survey.view_raw_participant_ids``: raw panel ids (PROLIFIC_PID) stay hidden from
    every role until a superuser grants that permission to a named person explicitly.
    """
    group, _ = Group.objects.get_or_create(name=ADMINS_GROUP)
    Group.objects.get_or_create(name=RESEARCHERS_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMIN_MANAGED_APPS).exclude(
            codename="view_raw_participant_ids"
        )
    )


def sync_staff_flag(sender, instance, action, pk_set=None, reverse=False, **kwargs) -> None:
    """Members of ``admins`` are staff (the Django admin site checks ``is_staff`` itself)."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    User = get_user_model()
    users = (
        User.objects.filter(pk__in=pk_set or []) if reverse else User.objects.filter(pk=instance.pk)
    )
    for user in users:
        should_be_staff = user.is_superuser or user.groups.filter(name=ADMINS_GROUP).exists()
        if user.is_staff != should_be_staff and (should_be_staff or not user.is_superuser):
            User.objects.filter(pk=user.pk).update(is_staff=should_be_staff)
            if not reverse:
                instance.is_staff = should_be_staff
