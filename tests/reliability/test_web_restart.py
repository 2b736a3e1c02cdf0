"""The web process dies mid-study (SIGKILL of gunicorn) and a new one starts.

Participants part-way through a study on a real gunicorn against the test database keep
going after the restart: with the same browser (session cookie and forms still valid, the
signing key being the same) and by reopening their Prolific link in a fresh browser. At
the end the database holds exactly the answers they were acknowledged, once each.
"""

from __future__ import annotations

import os
import re
import signal
from html import unescape
from pathlib import Path

import httpx
import pytest
from django.db import connection

from perf.load_survey.participant import ARRIVAL, CSRF, POSITION, TOKEN
from perf.load_survey.server import Gunicorn, server_environment
from survey.models import Assignment, ItemRating, Participant
from tests.survey.study_setup import make_study

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def url_of_test_database() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Browser:
    """A minimal participant browser: follows redirects, posts the page's own forms."""

    def __init__(self, base_url: str):
        self.client = httpx.Client(base_url=base_url, follow_redirects=True, timeout=30)
        self.html = ""

    def rebase(self, base_url: str) -> None:
        self.client.base_url = base_url  # cookies are per host, not per port

    def get(self, url: str, **params) -> httpx.Response:
        response = self.client.get(url, params=params or None)
        self.html = response.text
        return response

    def post(self, url: str, data: dict) -> httpx.Response:
        data = {"csrfmiddlewaretoken": unescape(CSRF.search(self.html).group(1)), **data}
        response = self.client.post(url, data=data)
        self.html = response.text
        return response

    @property
    def page(self) -> str:
        match = re.search(r'data-page="([a-z-]+)"', self.html)
        return match.group(1) if match else ""

    def token(self) -> str:
        return unescape(TOKEN.search(self.html).group(1))

    def position(self) -> int:
        return int(POSITION.search(self.html).group(1))

    def answer(self, slug: str, value: int) -> int:
        position = self.position()
        response = self.post(f"/s/{slug}/item/{position}/", {"token": self.token(), "value": value})
        assert response.status_code == 200, response.text[:500]
        return position


def start_server(tmp_path: Path) -> Gunicorn:
    env = server_environment(url_of_test_database(), str(tmp_path / "celery"), entry_rate="1000/m")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    for attempt in range(2):  # a free port can be taken by another process before the bind
        server = Gunicorn(env, workers=2, threads=1, log=tmp_path / "gunicorn.log")
        try:
            return server.start(timeout=120)  # a busy shared machine boots Django slowly
        except RuntimeError:
            if attempt:
                raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None


def crash(server: Gunicorn) -> None:
    """SIGKILL the master and its workers at once: no graceful shutdown, like an OOM kill."""
    os.killpg(server.process.pid, signal.SIGKILL)  # gunicorn runs in its own session
    server.process.wait()
    server.stop()


def test_participants_resume_after_the_web_process_is_killed_and_restarted(tmp_path):
    study = make_study(n_items=12, items_per_participant=5, attention_check_count=0)
    slug = study.slug
    server = start_server(tmp_path)
    same_browser, new_browser = Browser(server.base_url), Browser(server.base_url)
    given: dict[tuple[str, int], int] = {}
    try:
        for browser, pid in ((same_browser, "RESTART1"), (new_browser, "RESTART2")):
            browser.get(f"/s/{slug}/", PROLIFIC_PID=pid, STUDY_ID="S", SESSION_ID="A1")
            arrival = unescape(ARRIVAL.search(browser.html).group(1))
            browser.post(f"/s/{slug}/consent/", {"arrival": arrival, "choice": "agree"})
            browser.post(
                f"/s/{slug}/about-you/",
                {
                    "token": browser.token(),
                    "age": 30,
                    "gender": "male",
                    "country": "France",
                    "education": "graduate",
                    "first_language": "French",
                },
            )
            for value in (2, 5):
                given[(pid, browser.answer(slug, value))] = value
        crash(server)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base_url}/healthz", timeout=2)

        server = start_server(tmp_path)
        # 1. Same browser, page still open: its form (token, CSRF, session) still works.
        same_browser.rebase(server.base_url)
        given[("RESTART1", same_browser.answer(slug, 6))] = 6
        assert same_browser.position() == 4
        # 2. Fresh browser, same Prolific link: resumes at the first unanswered question.
        reopened = Browser(server.base_url)
        reopened.get(f"/s/{slug}/", PROLIFIC_PID="RESTART2", STUDY_ID="S", SESSION_ID="A2")
        assert reopened.page == "item" and reopened.position() == 3
        for browser, pid in ((same_browser, "RESTART1"), (reopened, "RESTART2")):
            while browser.page == "item":
                given[(pid, browser.answer(slug, 3))] = 3
            assert browser.page == "questionnaire"
    finally:
        server.stop()

    assert Participant.objects.filter(study=study).count() == 2
    positions = {
        (a.participant.external_id, a.item_id): a.position
        for a in Assignment.objects.filter(participant__study=study).select_related("participant")
    }
    stored = {
        (r.participant.external_id, positions[(r.participant.external_id, r.item_id)]): r.rating
        for r in ItemRating.objects.filter(participant__study=study).select_related("participant")
    }
    assert stored == given
    assert len(given) == 10
