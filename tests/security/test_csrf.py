"""CSRF protection on every form and every state-changing URL.

* every ``<form method="post">`` in the templates carries ``{% csrf_token %}``;
* every URL of the URL conf refuses a POST without a CSRF token, for a logged-in admin
  (session cookie present: the attack CSRF is about) and for a participant's session, and
  nothing is written;
* with CSRF checks enforced, a participant completes a whole study (the tokens are really
  in every participant form) and a researcher's status form works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from survey.models import Participant, Study
from tests.conftest import PROJECT_DIR
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study
from tests.test_permissions import ROUTES

pytestmark = pytest.mark.django_db

# Exempt from CSRF by design: machine-to-machine endpoints that carry no session and prove
# who sends them by a signature instead. A POST without that signature must still be refused.
SIGNED_INSTEAD = {"prolific/webhook/": "Signature missing, stale or wrong."}

POST_FORM = re.compile(r"<form\b[^>]*method=[\"']post[\"'][^>]*>(.*?)</form>", re.S | re.I)


def fill(route: str) -> str:
    """A concrete path for a canonical route (ids need not exist: CSRF is checked first)."""
    path = re.sub(r"\{(\w+)\}", lambda m: "csv" if m.group(1) == "fmt" else "1", route)
    return "/" + path


def test_every_post_form_in_the_templates_has_a_csrf_token():
    missing = []
    for template in sorted(Path(PROJECT_DIR, "templates").rglob("*.html")):
        for form in POST_FORM.findall(template.read_text()):
            if "csrf_token" not in form:
                missing.append(str(template.relative_to(PROJECT_DIR)))
    assert not missing, f"POST forms without {{% csrf_token %}}: {missing}"


def refused_for_csrf(response, *, who: str, api: bool, route: str) -> bool:
    """Django views: 403 naming CSRF. DRF views check CSRF for session-authenticated users
    (the admin here); a participant has no account, so the API refuses them outright.
    Signed endpoints: 403 for the missing signature."""
    if route in SIGNED_INSTEAD:
        return response.status_code == 403 and SIGNED_INSTEAD[route] in response.content.decode()
    if api:
        if response.status_code == 405:  # read-only documentation views
            return True
        if who == "participant":
            return response.status_code in (401, 403)
        data = getattr(response, "data", None)
        detail = str(data.get("detail", "")) if isinstance(data, dict) else ""
        return response.status_code == 403 and "CSRF" in detail
    return response.status_code == 403 and "CSRF" in response.content.decode(errors="replace")


@pytest.mark.parametrize("who", ["admin", "participant"])
def test_every_url_refuses_a_post_without_csrf_token(who):
    client = Client(enforce_csrf_checks=True)
    if who == "admin":
        client.force_login(User.objects.create_superuser("csrf-admin", "a@example.org", "pw-123"))
    else:
        study = make_study(n_items=4, items_per_participant=2)
        bot = SurveyBot(slug=study.slug)
        bot.arrive(PROLIFIC_PID="CSRFPID0001", STUDY_ID="S", SESSION_ID="A")
        bot.consent()
        client.cookies = bot.client.cookies
    studies, participants = Study.objects.count(), Participant.objects.count()
    accepted = []
    for route in {r.canonical for r in ROUTES}:
        response = client.post(fill(route), {"status": "closed", "choice": "agree", "value": 3})
        if not refused_for_csrf(response, who=who, api=route.startswith("api/"), route=route):
            accepted.append((route, response.status_code))
    assert not accepted, f"POST without a CSRF token not refused: {sorted(accepted)}"
    assert (Study.objects.count(), Participant.objects.count()) == (studies, participants)


def test_participants_complete_a_study_with_csrf_enforced():
    study = make_study(n_items=6, items_per_participant=3)
    bot = SurveyBot(slug=study.slug, client=Client(enforce_csrf_checks=True))
    original_post = bot.post

    def post_with_token(url, data, **kwargs):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', bot.html)
        assert token, f"no CSRF token in the form before {url}"
        return original_post(url, {**data, "csrfmiddlewaretoken": token.group(1)}, **kwargs)

    bot.post = post_with_token
    bot.arrive(PROLIFIC_PID="CSRFPID0002", STUDY_ID="S", SESSION_ID="A")
    assert bot.run_to_end() == "done"
    assert Participant.objects.get(external_id="CSRFPID0002").status == "completed"
