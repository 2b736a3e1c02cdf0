"""Simulated participants (asyncio + httpx) that take the study the way a browser does.

Each participant has its own cookie jar, reads every page to decide what to do (the
attention checks' instructed answer comes from the page text), posts the page's own form
with its CSRF token and follows the redirects. Every request is timed; an answer counts as
*acknowledged* only when the server answered it with the redirect (or JSON ``ok``) that
means "stored". Failed requests are retried like a person would press the button again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape

import httpx

from perf.load_survey.server import SERVER_KEEPALIVE_SECONDS
from survey import scale

PAGE = re.compile(r'data-page="([a-z-]+)"')
POSITION = re.compile(r'data-page="item" data-position="(\d+)"')
ATTENTION = re.compile(r'class="attention-text">(.*?)</p>', re.S)
INSTRUMENT = re.compile(r'data-page="questionnaire" data-instrument="([a-z0-9_]+)"')
QUESTION = re.compile(r'name="q(\d+)" value="(\d+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
ARRIVAL = re.compile(r'name="arrival" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE = re.compile(r'id="completion-code">([^<]+)<')
# One log line per request would cost the load generator more than the requests.
logging.getLogger("httpx").setLevel(logging.WARNING)
ATTEMPTS = 4  # a person presses the button again a few times before giving up
KEEPALIVE_SECONDS = SERVER_KEEPALIVE_SECONDS / 2  # below gunicorn's --keep-alive


@dataclass
class Sample:
    kind: str  # "answer" (item POST), "questionnaire" (page POST), "page" (GET), ...
    started: float
    seconds: float
    status: int  # HTTP status, or 0 for a transport error
    active: int  # participants active when the request started
    error: str = ""  # the transport error's class name (status 0), e.g. ReadTimeout


@dataclass
class Recorder:
    """Shared by all participants of a run (single event loop: no locks needed)."""

    samples: list[Sample] = field(default_factory=list)
    # (external id, "item", position) -> value; (external id, instrument, number) -> value
    acknowledged: dict[tuple, int] = field(default_factory=dict)
    completed: dict[str, str] = field(default_factory=dict)  # external id -> code shown
    failures: dict[str, str] = field(default_factory=dict)  # external id -> what went wrong
    active: int = 0
    peak_active: int = 0

    def enter(self) -> None:
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)

    def leave(self) -> None:
        self.active -= 1

    def by_kind(self) -> dict[str, list[Sample]]:
        groups: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            groups[sample.kind].append(sample)
        return groups


class ParticipantFailed(Exception):
    pass


class SimulatedParticipant:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        slug: str,
        external_id: str,
        recorder: Recorder,
        think: tuple[float, float],
        rng: random.Random,
    ):
        self.client, self.slug, self.external_id = client, slug, external_id
        self.recorder, self.think, self.rng = recorder, think, rng
        self.html = ""
        self.url = ""

    # --- HTTP ---------------------------------------------------------------------------

    async def request(self, kind: str, method: str, url: str, **kwargs) -> httpx.Response:
        """One request, timed; retried on transport errors and 5xx/429 answers."""
        last_error = ""
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            active = self.recorder.active
            error_name = ""
            try:
                response = await self.client.request(method, url, **kwargs)
                status = response.status_code
            except httpx.HTTPError as error:
                response, status, last_error = None, 0, repr(error)
                error_name = type(error).__name__
            self.recorder.samples.append(
                Sample(kind, started, time.perf_counter() - started, status, active, error_name)
            )
            if response is not None and status < 500 and status != 429:
                return response
            last_error = last_error or f"HTTP {status} on {method} {url}"
            await asyncio.sleep(0.5 * (attempt + 1))
        raise ParticipantFailed(last_error)

    async def open(self, url: str, **params) -> None:
        """GET a page and follow redirects (each hop timed as a page load)."""
        for _ in range(10):
            response = await self.request("page", "GET", url, params=params or None)
            params = {}
            if response.is_redirect:
                url = response.headers["location"]
                if not url.startswith("/"):
                    self.html, self.url = "", url  # left the site (e.g. Prolific)
                    return
                continue
            if response.status_code != 200:
                raise ParticipantFailed(f"HTTP {response.status_code} on GET {url}")
            self.html, self.url = response.text, url
            return
        raise ParticipantFailed(f"redirect loop at {url}")

    async def submit(self, kind: str, url: str, data: dict) -> str:
        """POST the page's form (with its CSRF token); returns the redirect target."""
        data = {"csrfmiddlewaretoken": self.csrf(), **data}
        response = await self.request(kind, "POST", url, data=data)
        if not response.is_redirect:
            raise ParticipantFailed(f"HTTP {response.status_code} on POST {url}")
        return response.headers["location"]

    # --- page reading -------------------------------------------------------------------

    @property
    def page(self) -> str:
        match = PAGE.search(self.html)
        return match.group(1) if match else ""

    def csrf(self) -> str:
        return unescape(CSRF.search(self.html).group(1))

    def token(self) -> str:
        return unescape(TOKEN.search(self.html).group(1))

    async def pause(self) -> None:
        low, high = self.think
        if high > 0:
            await asyncio.sleep(self.rng.uniform(low, high))

    # --- the flow -----------------------------------------------------------------------

    async def arrive(self) -> None:
        await self.open(
            f"/s/{self.slug}/",
            PROLIFIC_PID=self.external_id,
            STUDY_ID="LOADSTUDY",
            SESSION_ID=f"S{self.external_id}",
        )
        if self.page != "consent":
            raise ParticipantFailed(f"entry did not show the consent page ({self.url})")

    async def consent(self) -> None:
        arrival = unescape(ARRIVAL.search(self.html).group(1))
        target = await self.submit(
            "consent", f"/s/{self.slug}/consent/", {"arrival": arrival, "choice": "agree"}
        )
        await self.open(target)

    async def demographics(self) -> None:
        data = {
            "token": self.token(),
            "age": self.rng.randint(18, 80),
            "gender": self.rng.choice(["female", "male", "non_binary"]),
            "country": "United Kingdom",
            "education": "undergraduate",
            "first_language": "English",
        }
        await self.open(await self.submit("demographics", self.url, data))

    async def answer_item(self) -> None:
        position = int(POSITION.search(self.html).group(1))
        check = ATTENTION.search(self.html)
        if check:
            label = re.search(r"\u201c(.+?)\u201d", unescape(check.group(1))).group(1)
            value = scale.value_of(label)
        else:
            value = self.rng.randint(scale.MIN, scale.MAX)
        await self.pause()
        target = await self.submit(
            "answer",
            f"/s/{self.slug}/item/{position}/",
            {"token": self.token(), "value": value, "elapsed_ms": 2000},
        )
        self.recorder.acknowledged[(self.external_id, "item", position)] = value
        await self.open(target)

    async def answer_questionnaire(self) -> None:
        instrument = INSTRUMENT.search(self.html).group(1)
        pairs = QUESTION.findall(self.html)
        numbers = sorted({int(n) for n, _ in pairs})
        values = sorted({int(v) for _, v in pairs})
        answers = {number: self.rng.choice(values) for number in numbers}
        await self.pause()
        data = {"token": self.token(), "elapsed_ms": 6000}
        data.update({f"q{n}": v for n, v in answers.items()})
        target = await self.submit("questionnaire", self.url, data)
        for number, value in answers.items():
            self.recorder.acknowledged[(self.external_id, instrument, number)] = value
        await self.open(target)

    async def run_study(self, max_steps: int = 400) -> None:
        """The whole flow: entry, consent, demographics, items, questionnaires, completion."""
        await self.arrive()
        for _ in range(max_steps):
            page = self.page
            if page == "consent":
                await self.consent()
            elif page == "demographics":
                await self.demographics()
            elif page == "item":
                await self.answer_item()
            elif page == "questionnaire":
                await self.answer_questionnaire()
            elif page == "done":
                code = CODE.search(self.html)
                self.recorder.completed[self.external_id] = code.group(1) if code else ""
                return
            else:
                raise ParticipantFailed(f"unexpected page {page!r} at {self.url}")
        raise ParticipantFailed("did not reach the end of the study")

    async def prepare_answers(self) -> None:
        """Throughput probe, untimed part: entry and consent (keeps the token and CSRF)."""
        await self.arrive()
        await self.consent()
        self.probe_form = {"csrfmiddlewaretoken": self.csrf(), "token": self.token()}

    async def answer_back_to_back(self, n_items: int) -> None:
        """Throughput probe, timed part: post every item answer to the JSON endpoint at once.

        Used on the study without attention checks or demographics, so the positions 1..n
        are known without reading each page: this measures the answer endpoint alone.
        """
        for position in range(1, n_items + 1):
            value = self.rng.randint(1, 6)
            response = await self.request(
                "answer_json",
                "POST",
                f"/s/{self.slug}/answer/",
                data={**self.probe_form, "position": position, "value": value},
                headers={"Accept": "application/json"},
            )
            if response.status_code != 200 or not response.json().get("ok"):
                raise ParticipantFailed(f"answer {position}: HTTP {response.status_code}")
            self.recorder.acknowledged[(self.external_id, "item", position)] = value


def new_client(base_url: str, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        follow_redirects=False,
        # A browser drops an idle connection before the server does; gunicorn closes idle
        # keep-alive connections after 2 s, so a client that kept them for httpx's default
        # 5 s would sometimes send on a socket being closed (a spurious transport error).
        limits=httpx.Limits(
            max_connections=2, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_SECONDS
        ),
        headers={"User-Agent": "value-portrait-load-test"},
    )


async def run_participant(
    *,
    base_url: str,
    slug: str,
    external_id: str,
    recorder: Recorder,
    think: tuple[float, float],
    seed: int,
    timeout: float,
) -> None:
    """Run one participant through the whole study; failures are recorded, never raised."""
    recorder.enter()
    try:
        async with new_client(base_url, timeout) as client:
            participant = SimulatedParticipant(
                client=client,
                slug=slug,
                external_id=external_id,
                recorder=recorder,
                think=think,
                rng=random.Random(seed),
            )
            await participant.run_study()
    except (ParticipantFailed, AttributeError, httpx.HTTPError) as error:
        recorder.failures[external_id] = repr(error)
    finally:
        recorder.leave()


class AnswerProbe:
    """Phase 2: participants who consented first (untimed), then post their answers back to
    back, ``concurrency`` at a time (timed by the caller around ``run``)."""

    def __init__(
        self,
        *,
        base_url: str,
        slug: str,
        n: int,
        id_prefix: str,
        recorder: Recorder,
        seed: int,
        timeout: float,
    ):
        self.recorder = recorder
        self.clients = [new_client(base_url, timeout) for _ in range(n)]
        self.participants = [
            SimulatedParticipant(
                client=client,
                slug=slug,
                external_id=f"{id_prefix}{k:05d}",
                recorder=recorder,
                think=(0, 0),
                rng=random.Random(seed + k),
            )
            for k, client in enumerate(self.clients)
        ]
        self.ready: list[SimulatedParticipant] = []

    async def each(self, step, concurrency: int) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(participant: SimulatedParticipant) -> None:
            async with gate:
                try:
                    await step(participant)
                except (ParticipantFailed, AttributeError, httpx.HTTPError) as error:
                    self.recorder.failures[participant.external_id] = repr(error)

        await asyncio.gather(*(one(p) for p in self.participants))

    async def prepare(self, concurrency: int) -> None:
        await self.each(lambda p: p.prepare_answers(), concurrency)

    async def run(self, n_items: int, concurrency: int) -> None:
        await self.each(lambda p: p.answer_back_to_back(n_items), concurrency)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def hammer(
    *, base_url: str, path: str, concurrency: int, seconds: float, timeout: float
) -> tuple[int, int, float]:
    """Closed-loop GETs of ``path`` by ``concurrency`` clients: (ok, errors, elapsed)."""
    deadline = time.perf_counter() + seconds
    counts = {"ok": 0, "errors": 0}

    async def worker() -> None:
        async with new_client(base_url, timeout) as client:
            while time.perf_counter() < deadline:
                try:
                    response = await client.get(path)
                    counts["ok" if response.status_code == 200 else "errors"] += 1
                except httpx.HTTPError:
                    counts["errors"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts["ok"], counts["errors"], time.perf_counter() - started
