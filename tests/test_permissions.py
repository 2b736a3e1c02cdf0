"""Every URL of the project has an explicit permission decision, and it holds.

``PERMISSIONS`` maps each URL pattern (canonical form: ``{name}`` for parameters, format
suffix variants of API routes folded into their route) to who may use it. The tests

1. fail for any pattern of the URL conf missing from the table (a new URL needs a decision)
   and for table rows whose pattern no longer exists;
2. cross-check the decision with what the view declares: ``required_role`` set by the
   ``core.roles`` decorators, or the DRF view's ``permission_classes``;
3. request every URL as anonymous, participant (anonymous with a survey session),
   researcher and admin, and check access is granted or refused as the table says.
   Parameters are filled with ids that do not exist: the role check runs before any lookup,
   so an allowed role gets past it (404, 200, 400, 405 ...) and a refused one does not
   (redirect to the login page, 401 or 403).

The Django admin (``admin/...``) is one decision: Django's own staff check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver

from tests.dashboards.helpers import make_user
from tests.factories import StudyFactory

ROLES = ("anonymous", "participant", "researcher", "admin")


@dataclass(frozen=True)
class Access:
    name: str
    anonymous: bool
    participant: bool
    researcher: bool
    admin: bool

    def allows(self, role: str) -> bool:
        return getattr(self, role)


PUBLIC = Access("public", True, True, True, True)
LOGIN = Access("login", False, False, True, True)  # any account (API root: a list of links)
RESEARCHER = Access("researcher", False, False, True, True)
ADMIN = Access("admin", False, False, False, True)
READ_RESEARCHER_WRITE_ADMIN = Access("researcher-read/admin-write", False, False, True, True)
DJANGO_ADMIN = Access("django-admin (staff)", False, False, False, True)
# Raw panel ids: the admin role *and* the survey.view_raw_participant_ids permission.
RAW_EXPORT = Access("admin+view_raw_participant_ids", False, False, False, True)

PERMISSIONS: dict[str, Access] = {
    # --- project pages
    "": PUBLIC,
    "healthz": PUBLIC,
    "accounts/login/": PUBLIC,
    "accounts/logout/": PUBLIC,
    "admin/": DJANGO_ADMIN,
    # --- API: documentation is public (it holds no data), data needs a role
    "api/schema/": PUBLIC,
    "api/docs/": PUBLIC,
    "api/v1/": LOGIN,
    "api/v1/users/": ADMIN,
    "api/v1/users/{username}/": ADMIN,
    "api/v1/tokens/": ADMIN,
    "api/v1/tokens/{username}/": ADMIN,
    "api/v1/studies/": RESEARCHER,
    "api/v1/studies/{slug}/": RESEARCHER,
    # the study exports by token: pseudonymous, researchers as on the staff pages
    "api/v1/studies/{slug}/ratings/": RESEARCHER,
    "api/v1/studies/{slug}/participant-table/": RESEARCHER,
    "api/v1/studies/{slug}/release-survey/": RESEARCHER,
    "api/v1/studies/{slug}/release-value/": RESEARCHER,
    "api/v1/scenarios/": RESEARCHER,
    "api/v1/scenarios/{pk}/": RESEARCHER,
    "api/v1/items/": RESEARCHER,
    "api/v1/items/{pk}/": RESEARCHER,
    "api/v1/item-translations/": RESEARCHER,
    "api/v1/item-translations/{pk}/": RESEARCHER,
    "api/v1/language-comparisons/{slug}/": RESEARCHER,
    "api/v1/participants/": ADMIN,
    "api/v1/participants/{pseudonym}/": ADMIN,
    "api/v1/human-distributions/": RESEARCHER,
    "api/v1/humans-vs-models/": RESEARCHER,
    "api/v1/persona-comparisons/": RESEARCHER,
    "api/v1/human-portraits/": RESEARCHER,
    "api/v1/model-cards/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/model-cards/{pk}/": READ_RESEARCHER_WRITE_ADMIN,
    # --- dashboards
    "dashboards/": RESEARCHER,
    "dashboards/models/": RESEARCHER,
    "dashboards/runs/{run_id}/": RESEARCHER,
    "dashboards/humans/": RESEARCHER,
    "dashboards/bias/": RESEARCHER,
    "dashboards/items/": RESEARCHER,
    "dashboards/items/{item_id}/": RESEARCHER,
    # --- benchmark: correlations and item sets (recompute, create and downloads: admins)
    "benchmark/": RESEARCHER,
    "benchmark/{slug}/": RESEARCHER,
    "benchmark/{slug}/recompute/": ADMIN,
    "benchmark/{slug}/item-sets/new/": ADMIN,
    "benchmark/{slug}/exclusions/new/": ADMIN,
    "benchmark/{slug}/raters-needed/": RESEARCHER,
    "benchmark/{slug}/languages/": RESEARCHER,
    "benchmark/{slug}/runs/{run_id}/": RESEARCHER,
    "benchmark/{slug}/runs/{run_id}/estimate-chance/": ADMIN,
    "benchmark/{slug}/runs/{run_id}/download.{fmt}": ADMIN,
    "benchmark/{slug}/item-sets/{set_id}/": RESEARCHER,
    "benchmark/{slug}/item-sets/{set_id}/download.{fmt}": ADMIN,
    # --- benchmark API: researchers read; recomputation, new item sets, downloads: admins
    "api/v1/correlation-runs/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/correlation-runs/{pk}/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/correlation-runs/{pk}/rows/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/correlation-runs/{pk}/download/": ADMIN,
    "api/v1/item-sets/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/item-sets/{pk}/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/item-sets/{pk}/entries/": READ_RESEARCHER_WRITE_ADMIN,
    "api/v1/item-sets/{pk}/download/": ADMIN,
    # --- evaluation API: researchers read and start, cancel and resume runs
    "api/v1/model-configurations/": RESEARCHER,
    "api/v1/model-configurations/{pk}/": RESEARCHER,
    "api/v1/evaluation-runs/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/cancel/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/resume/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/portrait/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/responses/": RESEARCHER,
    "api/v1/sweeps/": RESEARCHER,
    "api/v1/sweeps/{pk}/": RESEARCHER,
    "api/v1/evaluation-runs/{pk}/answers/": RESEARCHER,
    "api/v1/portraits/": RESEARCHER,
    "api/v1/sensitivity/": RESEARCHER,
    # --- evaluation pages: researchers run models; model configurations: admins
    "evaluation/": RESEARCHER,
    "evaluation/models/new/": ADMIN,
    "evaluation/models/{pk}/": ADMIN,
    "evaluation/runs/new/": RESEARCHER,
    "evaluation/runs/{pk}/": RESEARCHER,
    "evaluation/runs/{pk}/progress.json": RESEARCHER,
    "evaluation/runs/{pk}/cancel/": RESEARCHER,
    "evaluation/runs/{pk}/resume/": RESEARCHER,
    # --- survey: participants (anonymous; their own session only)
    "s/{slug}/": PUBLIC,
    "s/{slug}/consent/": PUBLIC,
    "s/{slug}/next/": PUBLIC,
    "s/{slug}/about-you/": PUBLIC,
    "s/{slug}/item/{position}/": PUBLIC,
    "s/{slug}/questionnaire/{code}/{page}/": PUBLIC,
    "s/{slug}/answer/": PUBLIC,
    "s/{slug}/stop/": PUBLIC,
    "s/{slug}/done/": PUBLIC,
    "s/{slug}/return/": PUBLIC,
    "s/{slug}/ended/": PUBLIC,
    # --- studies: researchers; status changes and raw exports: admins
    "studies/": RESEARCHER,
    "studies/{slug}/": RESEARCHER,
    "studies/{slug}/status/": ADMIN,
    "studies/new/": RESEARCHER,
    "studies/{slug}/edit/": RESEARCHER,
    "studies/{slug}/preview/": RESEARCHER,
    "studies/{slug}/preview/end/": RESEARCHER,
    "studies/{slug}/monitor/": RESEARCHER,
    "studies/{slug}/monitor.json": RESEARCHER,
    "studies/{slug}/recompute-flags/": RESEARCHER,
    "studies/{slug}/review/": RESEARCHER,
    "studies/{slug}/review/act/": RESEARCHER,
    # Prolific's webhook: no account, but every request must carry Prolific's signature.
    "prolific/webhook/": PUBLIC,
    "studies/{slug}/export/ratings.{fmt}": RESEARCHER,
    "studies/{slug}/export/participants.{fmt}": RESEARCHER,
    "studies/{slug}/export/participants-raw.{fmt}": RAW_EXPORT,
    "studies/{slug}/export/survey.json": RESEARCHER,
    "studies/{slug}/export/value.json": RESEARCHER,
}

# What a view's own declaration must say for each decision.
DECLARED_ROLE = {
    "public": None,
    "login": None,
    "researcher": "researcher",
    "researcher-read/admin-write": "researcher",
    "admin": "admin",
    "admin+view_raw_participant_ids": "admin",
}
DRF_CLASS_ROLE = {
    "AllowAny": "public",
    "IsAuthenticated": "login",
    "IsResearcher": "researcher",
    "IsAdmin": "admin",
    "ResearcherReadAdminWrite": "researcher-read/admin-write",
}


@dataclass(frozen=True)
class Route:
    canonical: str
    raw: str
    name: str  # namespaced, for reverse()
    pattern: URLPattern

    @property
    def is_format_variant(self) -> bool:
        return "format" in self.raw


def canonical(route: str) -> str:
    """``api/v1/^users/(?P<username>[^/.]+)\\.(?P<format>[a-z0-9]+)/?$`` -> ``api/v1/users/{username}/``."""
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    text = text.replace("^", "").replace("$", "")
    folded = re.sub(r"\\\.\{format\}/\?$", "/", text)
    folded = re.sub(r"\{format\}$", "", folded)
    return folded.replace("\\", "")


def all_routes() -> list[Route]:
    routes = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    routes.append(Route("admin/", "admin/", "admin:index", None))
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            else:
                raw = prefix + str(entry.pattern)
                routes.append(Route(canonical(raw), raw, f"{namespace}{entry.name}", entry))

    walk(get_resolver().url_patterns, "", "")
    return routes


ROUTES = all_routes()


def test_every_url_pattern_has_a_permission_decision():
    missing = sorted({r.canonical for r in ROUTES} - set(PERMISSIONS))
    assert not missing, (
        "URL patterns without a permission decision (add them to PERMISSIONS in "
        f"tests/test_permissions.py): {missing}"
    )
    stale = sorted(set(PERMISSIONS) - {r.canonical for r in ROUTES})
    assert not stale, f"PERMISSIONS rows for URLs that no longer exist: {stale}"


def _decision(route: Route) -> Access:
    if route.canonical not in PERMISSIONS:
        pytest.fail(f"{route.raw} has no permission decision in PERMISSIONS")
    return PERMISSIONS[route.canonical]


def _declared(route: Route) -> str | None:
    """What the view itself says: 'decorator:<role>', 'drf:<decision>' or None."""
    callback = route.pattern.callback
    if hasattr(callback, "required_role"):
        return f"decorator:{callback.required_role}"
    view_class = getattr(callback, "cls", None)
    if view_class is not None and hasattr(view_class, "permission_classes"):
        # An @action(permission_classes=...) overrides the viewset's for its own route.
        classes = (getattr(callback, "initkwargs", None) or {}).get(
            "permission_classes", view_class.permission_classes
        )
        names = sorted(DRF_CLASS_ROLE.get(c.__name__, c.__name__) for c in classes)
        return "drf:" + "+".join(names)
    return None


@pytest.mark.parametrize("route", [r for r in ROUTES if r.pattern], ids=lambda r: r.raw)
def test_the_view_declares_what_the_table_decides(route):
    decision = _decision(route)
    declared = _declared(route)
    if declared is None:
        # Plain views (participant pages, login, health) must be public in the table.
        assert decision is PUBLIC, f"{route.raw} declares no role but the table says {decision}"
    elif declared.startswith("decorator:"):
        assert declared == f"decorator:{DECLARED_ROLE[decision.name]}", (route.raw, declared)
    else:
        assert declared == f"drf:{decision.name}", (route.raw, declared, decision.name)


def _kwargs(route: Route) -> dict[str, object]:
    """Values that resolve but name nothing that exists."""
    pattern = route.pattern.pattern
    converters = getattr(pattern, "converters", {})
    names = re.findall(r"\(\?P<(\w+)>", pattern.regex.pattern)
    kwargs: dict[str, object] = {}
    for name in names:
        converter = converters.get(name)
        if converter is not None and converter.regex == "[0-9]+":
            kwargs[name] = 987654
        elif name == "fmt":
            kwargs[name] = "csv"
        else:
            kwargs[name] = "no-such-thing"
    return kwargs


def _url(route: Route) -> str:
    if route.name == "admin:index":
        return "/admin/"
    prefix_kwargs = {}
    # Routes under an include() resolve with every parameter of the full path.
    full = re.findall(r"<(?:(\w+):)?(\w+)>", route.raw)
    for converter, name in full:
        prefix_kwargs[name] = 987654 if converter == "int" else "no-such-thing"
    kwargs = {**prefix_kwargs, **_kwargs(route)}
    if "fmt" in kwargs:
        kwargs["fmt"] = "csv"
    from django.urls import reverse

    return reverse(route.name, kwargs=kwargs)


def _refused(response, role: str) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 302:
        target = response.headers.get("Location", "")
        return "/accounts/login/" in target or "/admin/login/" in target
    return False


@pytest.fixture
def clients(client, django_user_model):
    """One logged-in (or session-holding) client per role."""
    from django.test import Client

    open_study = StudyFactory(slug="perm-open")
    participant = Client()
    participant.get(f"/s/{open_study.slug}/")  # any survey session; staff URLs must ignore it
    researcher = Client()
    researcher.force_login(make_user("researcher"))
    admin_user = make_user("admin")
    admin_user.is_staff = True  # the Django admin site checks is_staff itself
    admin_user.save()
    admin_user.user_permissions.add(
        Permission.objects.get(
            codename="view_raw_participant_ids", content_type__app_label="survey"
        )
    )
    admin = Client()
    admin.force_login(admin_user)
    return {
        "anonymous": client,
        "participant": participant,
        "researcher": researcher,
        "admin": admin,
    }


DYNAMIC = [r for r in ROUTES if not r.is_format_variant]


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize("route", DYNAMIC, ids=lambda r: r.raw)
def test_each_role_gets_what_the_table_says(route, clients):
    decision = _decision(route)
    url = _url(route)
    # Logout is POST-only (and ends the session, so it is the only request of each client).
    method = "post" if route.canonical == "accounts/logout/" else "get"
    for role in ROLES:
        response = getattr(clients[role], method)(url)
        refused = _refused(response, role)
        assert response.status_code < 500, (role, url, response.status_code)
        if decision.allows(role):
            assert not refused, f"{role} refused at {url} ({response.status_code})"
        else:
            assert refused or response.status_code == 405, (
                f"{role} not refused at {url} ({response.status_code})"
            )


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_logged_in_account_without_a_role_gets_no_data(client):
    client.force_login(make_user("nobody"))
    for route in DYNAMIC:
        decision = PERMISSIONS.get(route.canonical)
        if decision is None:
            continue  # reported by test_every_url_pattern_has_a_permission_decision
        if decision in (PUBLIC, LOGIN) or route.canonical == "admin/":
            continue
        response = client.get(_url(route))
        assert response.status_code in (403, 405), (route.raw, response.status_code)


@pytest.mark.django_db
@pytest.mark.postgres
def test_raw_participant_exports_need_the_permission_beyond_the_admin_role(client):
    client.force_login(make_user("admin"))
    raw_routes = [r for r in DYNAMIC if PERMISSIONS.get(r.canonical) is RAW_EXPORT]
    assert raw_routes
    for route in raw_routes:
        assert client.get(_url(route)).status_code == 403


WRITE_METHODS = ("post", "put", "patch", "delete")


def _api_writes(route: Route) -> list[str]:
    actions = getattr(route.pattern.callback, "actions", None) or {}
    return [m for m in WRITE_METHODS if m in actions]


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize(
    "route", [r for r in DYNAMIC if r.pattern and _api_writes(r)], ids=lambda r: r.raw
)
def test_api_writes_follow_the_table(route, clients):
    """Researchers write where the table lets them (start/cancel runs); admins everywhere."""
    decision = _decision(route)
    writers = {"researcher": decision in (RESEARCHER, LOGIN), "admin": True}
    url = _url(route)
    for method in _api_writes(route):
        for role, allowed in writers.items():
            response = getattr(clients[role], method)(url, {}, content_type="application/json")
            assert response.status_code < 500, (role, method, url, response.status_code)
            refused = response.status_code in (401, 403)
            assert refused != allowed, (role, method, url, response.status_code)
        anonymous = getattr(clients["anonymous"], method)(url, {}, content_type="application/json")
        assert anonymous.status_code in (401, 403), (method, url, anonymous.status_code)
