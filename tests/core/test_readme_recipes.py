"""The README's R recipe (httr2 + arrow), exercised from Python: R is not installed here, so
the requests the snippet makes — read out of the README itself — are sent to a running
server with the same URL, query, token header and curl's default headers, and the bodies are
read as parquet as ``arrow::read_parquet`` reads a raw vector."""

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from evaluation.models import EvaluationRun, PortraitScore
from survey.models import Participant
from tests.api_exports import token_headers
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.factories import ItemFactory, ItemRatingFactory, ParticipantFactory, StudyFactory

README = Path(__file__).resolve().parents[2] / "README.md"
PARQUET = "application/vnd.apache.parquet"


def r_snippet() -> str:
    text = README.read_text()
    match = re.search(r"With R \(httr2 \+ arrow.*?```r\n(.*?)```", text, re.S)
    assert match, "the README's R snippet is gone"
    return match.group(1)


def parse_r_snippet(code: str) -> dict:
    """What the snippet requests: base URL, how a path joins it, query, header, paths."""
    base = re.search(r'^base <- "([^"]+)"$', code, re.M)
    joined = re.search(r'request\(paste0\(base, "/", path\)\)', code)
    query = re.findall(r'req_url_query\((\w+) = "([^"]+)"\)', code)
    header = re.search(r'req_headers\((\w+) = paste\("(\w+)", Sys.getenv\("(\w+)"\)\)\)', code)
    paths = re.findall(r'read_parquet\(fetch\("([^"]+)"\)\)', code)
    assert base and joined and query and header and paths, code
    return {
        "base": base.group(1), "query": dict(query), "header": header.group(1),
        "scheme": header.group(2), "token_env": header.group(3), "paths": paths,
        "performs": "req_perform()" in code and "resp_body_raw()" in code,
    }  # fmt: skip


def test_the_r_snippet_asks_for_parquet_with_a_token_header_on_two_export_paths():
    parsed = parse_r_snippet(r_snippet())
    assert parsed == {
        "base": "http://127.0.0.1:8000/api/v1", "query": {"format": "parquet"},
        "header": "Authorization", "scheme": "Token", "token_env": "VP_TOKEN",
        "paths": ["studies/demo/ratings/", "portraits/"], "performs": True,
    }  # fmt: skip
    assert "req_url_path_append" not in r_snippet()  # deprecated in recent httr2


def _curl_like_get(url: str, query: dict, headers: dict) -> httpx.Response:
    """A GET as httr2 sends it (libcurl's defaults: ``Accept: */*``, its user agent)."""
    sent = {"User-Agent": "httr2/1.0.0 r-curl/5.2.1 libcurl/8.5.0", "Accept": "*/*", **headers}
    return httpx.get(url, params=query, headers=sent, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_the_r_snippets_requests_get_the_ratings_and_the_portraits_as_parquet(live_server):
    parsed = parse_r_snippet(r_snippet())
    items = ItemFactory.create_batch(2)
    study = StudyFactory(slug="demo", items=items)  # the README's study slug
    person = ParticipantFactory(study=study, status=Participant.Status.COMPLETED)
    for item, rating in zip(items, (2, 5), strict=True):
        ItemRatingFactory(participant=person, item=item, rating=rating)
    run = EvaluationRun.objects.create(
        model_config=ModelConfigurationFactory(name="model-r"), item_set=make_item_set(n_items=2),
        variants=["v1"], status=EvaluationRun.Status.DONE, finished_at=timezone.now(),
    )  # fmt: skip
    PortraitScore.objects.create(run=run, family="schwartz", dimension="Power", raw=3.5, sd=1.0,
                                 n=2, family_mean=3.0, centred=0.5)  # fmt: skip
    token = token_headers("researcher")["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    # The snippet's base, on the test server (same path: /api/v1).
    base_path = urlsplit(parsed["base"]).path
    base = f"{live_server.url}{base_path}"
    header = {parsed["header"]: f"{parsed['scheme']} {token}"}  # paste(): one space
    tables = {}
    for path in parsed["paths"]:
        url = f"{base}/{path}"  # paste0(base, "/", path)
        response = _curl_like_get(url, parsed["query"], header)
        assert response.status_code == 200, (url, response.text[:300])
        assert response.headers["Content-Type"].startswith(PARQUET)
        tables[path] = pq.read_table(io.BytesIO(response.content)).to_pylist()
        rows = _curl_like_get(url, {"format": "json"}, header).json()
        assert tables[path] == rows  # the same rows as the JSON export
        # Without the token the server refuses: req_perform() would stop with an R error.
        assert _curl_like_get(url, parsed["query"], {}).status_code in (401, 403)
    ratings = tables["studies/demo/ratings/"]
    assert [r["rating"] for r in ratings] == [2, 5]
    assert {r["participant"] for r in ratings} == {person.pseudonym}
    portraits = tables["portraits/"]
    assert [(r["model"], r["dimension"], r["centred"]) for r in portraits] == [
        ("model-r", "Power", 0.5)
    ]
