"""Scripted participants (in the spirit of oTree's bots) driving the declared steps.

A ``SurveyBot`` plays a study through the real views with Django's test client, following
redirects as a browser does. It does not read the HTML: each page is a ``TemplateResponse``
whose context names the step (``survey.steps``) and the place the participant is at, and the
bot answers with ``(step, data)`` submissions (``submit``) to that step's URL, as oTree's
``Submission``; ``must_fail=True`` (oTree's ``SubmissionMustFail``) expects the flow to
refuse it and nothing to move. Attention checks are answered from the page's data (the
value the participant was told to pick), so the bot can be told to fail some. The bot logs
what it answered, so that tests can check the database against it. ``manage.py
survey_bots STUDY`` runs bots against a study before it opens (rolled back).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client
from django.urls import reverse

from survey import scale, steps
from survey.selectors.progress import Place

DEMOGRAPHICS = {
    "age": 34,
    "gender": "female",
    "country": "United Kingdom",
    "education": "undergraduate",
    "first_language": "English",
}


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


# A careful reader's pace (the average adult's silent reading, Brysbaert 2019) and the time
# to pick an answer: what bots report taking on a page unless told to speed.
READING_WPM = 238
CHOICE_MS = 3000


def careful_ms(*texts: str, choices: int = 1) -> int:
    """Milliseconds a careful participant spends reading ``texts`` and making ``choices``."""
    words = sum(len(text.split()) for text in texts)
    return round(60000 * words / READING_WPM) + CHOICE_MS * choices


def site_bot_client() -> Client:
    """A bot's browser for this site's own settings: a host ``ALLOWED_HOSTS`` accepts, and
    HTTPS when the site redirects to it (commands run the bots against the real settings)."""
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    return bot_client(host=host, https=bool(getattr(settings, "SECURE_SSL_REDIRECT", False)))


class SubmissionRefused(AssertionError):
    """A submission the bot expected to be stored was refused (or the reverse)."""


@dataclass
class SurveyBot:
    slug: str
    client: Client = field(default_factory=lambda: bot_client())
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    fail_checks: int = 0  # how many attention checks to answer wrongly
    # The time the bot's browser reports per page (``elapsed_ms``): None reads every page at
    # READING_WPM and takes 3 s per choice, a careful participant; a number (e.g. 300) is a
    # speeder answering every page that fast.
    page_ms: int | None = None
    log: list[tuple] = field(default_factory=list)
    last: object = None
    arrival: str = ""
    form: dict = field(default_factory=dict)  # the context of the last step page shown

    # --- what the current page is ------------------------------------------------------

    def get(self, url: str, **params):
        return self.shown(self.client.get(url, params, follow=True))

    def post(self, url: str, data: dict, *, follow: bool = True, **kwargs):
        return self.shown(self.client.post(url, data, follow=follow, **kwargs))

    def shown(self, response):
        """Note the page the participant now sees. A step's page is also remembered as the
        form being answered: after a refusal (an error page) it is still the one to submit."""
        self.last = response
        if "here" in self.context:
            self.form = self.context
        return response

    @property
    def context(self) -> dict:
        """The data the current page was rendered from (empty for a non-template answer)."""
        return getattr(self.last, "context_data", None) or {}

    @property
    def html(self) -> str:
        return self.last.content.decode()

    @property
    def page(self) -> str:
        """The current page's name (its ``data-page``): a step's or an ending's, or "message"."""
        return self.context.get("page_name", "")

    @property
    def place(self) -> Place | None:
        """Where the participant is (the first step not complete, or their ending)."""
        return self.context.get("place")

    @property
    def path(self) -> str:
        return self.last.request["PATH_INFO"]

    def token(self) -> str:
        return self.context.get("token") or self.client.session[f"survey_token:{self.slug}"]

    # --- submissions -------------------------------------------------------------------

    def submit(self, step: steps.Step, data: dict, *, must_fail: bool = False):
        """Post ``data`` to ``step`` at the page shown, following redirects as a browser does;
        check it was stored (a redirect onwards) or, with ``must_fail``, refused (a 4xx)."""
        if step is steps.CONSENT:
            url = reverse(f"survey:{step.post_url_name}", args=[self.slug])
        else:
            url = step.url(self.slug, self.form["here"])
            data = {"token": self.form["token"], **data}
        response = self.post(url, data)
        refused = not response.redirect_chain and response.status_code >= 400
        if refused != must_fail:
            raise SubmissionRefused(
                f"{step.name} {data}: status {response.status_code}, "
                f"expected {'a refusal' if must_fail else 'it stored'}"
            )
        return response

    def arrive(self, **params):
        return self.get(f"/s/{self.slug}/", **params)

    def consent(self, agree: bool = True, *, resend: bool = False):
        """Answer the consent page (``resend``: post the previous form again, a double click)."""
        if not resend:
            self.arrival = self.context["arrival"]
        choice = "agree" if agree else "decline"
        return self.submit(steps.CONSENT, {"arrival": self.arrival, "choice": choice})

    def demographics(self, **answers):
        return self.submit(steps.DEMOGRAPHICS, {**DEMOGRAPHICS, **answers})

    def item_answer(self, value: int | None = None) -> dict:
        """The answer to the item page shown: the instructed value at an attention check
        (a wrong one while ``fail_checks`` lasts), else ``value`` or a random rating."""
        position = self.context["position"]
        if self.context["is_attention_check"]:
            value = self.context["expected_value"]
            if self.fail_checks > 0:
                self.fail_checks -= 1
                value = value % scale.MAX + 1
            self.log.append(("check", position, value))
        else:
            value = value or self.rng.randint(scale.MIN, scale.MAX)
            self.log.append(("item", position, value))
        ctx = self.context
        careful = careful_ms(
            ctx.get("scenario_title", ""), ctx.get("scenario_text", ""), ctx.get("item_text", "")
        )
        return {"value": value, "elapsed_ms": self.page_ms or careful}

    def answer_current_item(self, value: int | None = None):
        return self.submit(steps.ITEMS, self.item_answer(value))

    def questionnaire_answer(self, skip: int = 0) -> dict:
        values = [value for value, _ in self.context["scale"]]
        questions = self.context["questions"]
        careful = careful_ms(*(q["text"] for q in questions), choices=len(questions))
        data: dict = {"elapsed_ms": self.page_ms or careful}
        for question in questions[skip:]:
            data[f"q{question['number']}"] = self.rng.choice(values)
            self.log.append(("q", self.context["instrument"].code, question["number"]))
        return data

    def answer_questionnaire_page(self, skip: int = 0):
        # A page left partly unanswered is refused with a note (and the answers given kept).
        return self.submit(
            steps.QUESTIONNAIRES, self.questionnaire_answer(skip), must_fail=skip > 0
        )

    def run_to_end(self, max_steps: int = 500) -> str:
        """Answer whatever step comes until the study ends; returns the ending's page name."""
        answer = {
            steps.CONSENT.page: self.consent,
            steps.DEMOGRAPHICS.page: self.demographics,
            steps.ITEMS.page: self.answer_current_item,
            steps.QUESTIONNAIRES.page: self.answer_questionnaire_page,
        }
        for _ in range(max_steps):
            if self.page not in answer:
                return self.page
            answer[self.page]()
        raise AssertionError("the bot did not reach the end of the study")
