"""The dashboards' API serves the numbers the pages show."""

import json
import re

import pytest
from django.urls import reverse

from dashboards import selectors
from dashboards.models import ModelCard
from tests.dashboards.helpers import client_as

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _page_spec(response, chart_id):
    match = re.search(
        rf'<script id="{chart_id}-spec" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


def test_human_distributions(client, dashboard_data):
    client_as(client, "researcher")
    rows = client.get("/api/v1/human-distributions/", {"study": "humans"}).json()
    humans = selectors.human_scores(study=dashboard_data.study, family="schwartz")
    by_dim = {r["dimension"]: r for r in rows}
    assert by_dim["Power"]["n"] == 40
    assert by_dim["Power"]["median"] == pytest.approx(humans["Power"].median())
    # Declared parameters: an unknown study or family is a 400 naming the values it takes.
    unknown = client.get("/api/v1/human-distributions/", {"study": "nope"})
    assert unknown.status_code == 400
    assert unknown.json() == {
        "study": ["Unknown study with participant scores 'nope': choose one of humans."]
    }
    bad = client.get("/api/v1/human-distributions/", {"family": "zodiac"})
    assert bad.status_code == 400
    assert bad.json()["family"] == [
        "Unknown family 'zodiac': choose one of schwartz, higher_order, big_five."
    ]
    assert client.get("/api/v1/human-distributions/", {"study": "humans\x00"}).status_code == 400
    assert client.get("/api/v1/human-distributions/", {"family": ""}).status_code == 200


def test_humans_vs_models_matches_the_page(client, dashboard_data):
    client_as(client, "researcher")
    rows = client.get("/api/v1/humans-vs-models/", {"study": "humans"}).json()
    page = _page_spec(
        client.get(reverse("dashboards:humans"), {"study": "humans"}), "humans-portrait"
    )
    traces = {t["name"]: t for t in page["figure"]["data"]}
    human = traces["Humans' portrait (95% bootstrap CI)"]
    models = [t for t in page["figure"]["data"] if t.get("marker", {}).get("symbol") == "diamond"]
    assert sorted(t["name"] for t in models) == ["alpha", "beta", "gamma"]
    for trace in models:
        api = {r["dimension"].replace("_", "-"): r for r in rows if r["model"] == trace["name"]}
        for label, y, gap, human_y in zip(
            trace["text"], trace["y"], trace["customdata"], human["y"], strict=True
        ):
            row = api[label.replace(" ", "-")]
            assert row["centred"] == pytest.approx(y, abs=1e-3)
            assert row["human_centred"] == pytest.approx(human_y, abs=1e-3)
            assert row["difference"] == pytest.approx(gap, abs=1e-3)
            assert row["item_set"] == dashboard_data.item_set.pk
            # 40 people with a score on every value: enough for a percentile (minimum 20).
            assert (
                row["humans_with_a_score"] == 40 and row["percentile_among_humans_reason"] is None
            )
            assert 0 <= row["percentile_among_humans"] <= 100
    only_beta = client.get("/api/v1/humans-vs-models/", {"study": "humans", "model": "beta"})
    assert {r["model"] for r in only_beta.json()} == {"beta"}
    bad = client.get("/api/v1/humans-vs-models/", {"size_min": "big"})
    assert bad.status_code == 400
    assert bad.json() == {"size_min": ["Not a number: give one such as 7 or 2.5."]}
    unknown = client.get("/api/v1/humans-vs-models/", {"study": "nope"})
    assert unknown.status_code == 400
    assert "Unknown study with a validated item set 'nope'" in unknown.json()["study"][0]


def test_humans_vs_models_withholds_percentiles_among_too_few_people(client, dashboard_data):
    from benchmark.models import StudyAnalysisSettings

    StudyAnalysisSettings.objects.filter(study=dashboard_data.study).update(
        min_percentile_humans=41
    )
    client_as(client, "researcher")
    rows = client.get("/api/v1/humans-vs-models/", {"study": "humans"}).json()
    assert rows and all(r["percentile_among_humans"] is None for r in rows)
    assert rows[0]["percentile_among_humans_reason"].startswith(
        "too few humans: n = 40, at least 41 needed"
    )
    assert all(r["human_centred"] is not None for r in rows)  # the portrait itself stays


def test_persona_comparisons(client, dashboard_data):
    client_as(client, "researcher")
    run = dashboard_data.persona_run
    body = client.get(
        "/api/v1/persona-comparisons/", {"run": run.pk, "study": "humans", "field": "gender"}
    ).json()
    assert body["model"] == "alpha" and body["groups"] == {"man": 8, "woman": 16}
    # 8 men are fewer than the minimum of 10 per group: compared nowhere, and said why.
    assert body["groups_too_few"]["man"].startswith("too few participants: n = 8, at least 10")
    assert {(r["group"], r["reason"][:9]) for r in body["not_compared"]} == {("man", "too few p")}
    assert len(body["not_compared"]) == 10
    assert len(body["rows"]) == 10 and {r["group"] for r in body["rows"]} == {"woman"}
    top = body["departures"][0]
    assert top["group"] == "woman" and top["n_model"] == 3 and top["n_human"] == 16
    assert top["ci_low"] < top["difference"] < top["ci_high"]
    assert client.get("/api/v1/persona-comparisons/").status_code == 400
    plain = dashboard_data.runs["beta"].pk
    not_persona = client.get("/api/v1/persona-comparisons/", {"run": plain})
    assert not_persona.status_code == 400
    assert not_persona.json()["run"] == [f"Unknown persona run '{plain}': choose one of {run.pk}."]
    bad_field = client.get("/api/v1/persona-comparisons/", {"run": run.pk, "field": "x"})
    assert bad_field.status_code == 400


def test_model_cards_read_by_researchers_written_by_admins(client, dashboard_data):
    client_as(client, "researcher")
    cards = client.get("/api/v1/model-cards/").json()["results"]
    assert {c["model"] for c in cards} == {"alpha", "beta"}
    payload = {"model": "gamma", "family": "Gamma", "open_weights": True}
    assert client.post("/api/v1/model-cards/", payload).status_code == 403
    client.logout()
    client_as(client, "admin")
    created = client.post("/api/v1/model-cards/", payload, content_type="application/json")
    assert created.status_code == 201, created.content
    assert ModelCard.objects.get(model_config__name="gamma").family == "Gamma"
    assert client.get("/api/v1/model-cards/", {"family": "gamma"}).json()["count"] == 1


def test_api_needs_a_login(client, dashboard_data):
    for url in ("/api/v1/human-distributions/", "/api/v1/persona-comparisons/?run=1"):
        assert client.get(url).status_code == 403
