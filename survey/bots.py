"""Scripted participants (in the spirit of oTree's bots) driving the real pages.

A ``SurveyBot`` uses Django's test client: it follows redirects the way a browser does,
reads each page to decide what to answer (including the attention checks' instructed
answers, taken from the page text) and records what it did, so tests can check the
database against the bot's own log. ``manage.py survey_bots STUDY`` runs them against a
study before it opens (in a transaction that is rolled back).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from html import unescape

from django.test import Client

from survey import scale

POSITION = re.compile(r'data-page="item" data-position="(\d+)"')
ATTENTION = re.compile(r'class="attention-text">(.*?)</p>', re.S)
QUESTIONNAIRE = re.compile(r'data-page="questionnaire" data-instrument="([a-z0-9_]+)"')
QUESTION = re.compile(r'name="q(\d+)" value="(\d+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
ARRIVAL = re.compile(r'name="arrival" value="([^"]+)"')


def bot_client(*, host: str = "localhost", https: bool = False) -> Client:
    """A test client that looks like one participant's browser.

    Each bot comes from its own (private) address, as real participants do: survey entry is
    rate-limited per client address.
    """
    environ = {
        "HTTP_HOST": host,
        "REMOTE_ADDR": "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3)),
    }
    if https:
        environ.update({"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https"})
    return Client(**environ)


@dataclass
class SurveyBot:
    slug: str
    client: Client = field(default_factory=lambda: bot_client())
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    fail_checks: int = 0  # how many attention checks to answer wrongly
    log: list[tuple] = field(default_factory=list)
    last: object = None
    arrival: str = ""

    # --- navigation -------------------------------------------------------------------

    def get(self, url: str, **params):
        self.last = self.client.get(url, params, follow=True)
        return self.last

    def post(self, url: str, data: dict, **kwargs):
        self.last = self.client.post(url, data, follow=True, **kwargs)
        return self.last

    @property
    def html(self) -> str:
        return self.last.content.decode()

    @property
    def page(self) -> str:
        match = re.search(r'data-page="([a-z-]+)"', self.html)
        return match.group(1) if match else ""

    @property
    def path(self) -> str:
        return self.last.request["PATH_INFO"]

    def token(self) -> str:
        return unescape(TOKEN.search(self.html).group(1))

    # --- steps ------------------------------------------------------------------------

    def arrive(self, **params):
        return self.get(f"/s/{self.slug}/", **params)

    def consent(self, agree: bool = True, *, resend: bool = False):
        """Answer the consent page (``resend``: post the previous form again, a double click)."""
        if not resend:
            self.arrival = unescape(ARRIVAL.search(self.html).group(1))
        return self.post(
            f"/s/{self.slug}/consent/",
            {"arrival": self.arrival, "choice": "agree" if agree else "decline"},
        )

    def demographics(self, **answers):
        data = {
            "age": 34,
            "gender": "female",
            "country": "United Kingdom",
            "education": "undergraduate",
            "first_language": "English",
        }
        data.update(answers)
        data["token"] = self.token()
        return self.post(self.path, data)

    def answer_current_item(self, value: int | None = None):
        position = int(POSITION.search(self.html).group(1))
        check = ATTENTION.search(self.html)
        if check:
            text = unescape(check.group(1))
            label = re.search(r"\u201c(.+?)\u201d", text).group(1)
            value = scale.value_of(label)
            if self.fail_checks > 0:
                self.fail_checks -= 1
                value = value % 6 + 1
            self.log.append(("check", position, value))
        else:
            value = value or self.rng.randint(1, 6)
            self.log.append(("item", position, value))
        return self.post(
            f"/s/{self.slug}/item/{position}/",
            {"token": self.token(), "value": value, "elapsed_ms": 1500},
        )

    def answer_questionnaire_page(self, skip: int = 0):
        numbers = sorted({int(n) for n, _ in QUESTION.findall(self.html)})
        values = sorted({int(v) for _, v in QUESTION.findall(self.html)})
        data = {"token": self.token(), "elapsed_ms": 5000}
        for number in numbers[skip:]:
            data[f"q{number}"] = self.rng.choice(values)
            self.log.append(("q", QUESTIONNAIRE.search(self.html).group(1), number))
        return self.post(self.path, data)

    def run_to_end(self, max_steps: int = 500):
        """Answer whatever page comes until the study ends."""
        for _ in range(max_steps):
            page = self.page
            if page == "item":
                self.answer_current_item()
            elif page == "questionnaire":
                self.answer_questionnaire_page()
            elif page == "demographics":
                self.demographics()
            elif page == "consent":
                self.consent()
            else:
                return page
        raise AssertionError("the bot did not reach the end of the study")
