"""The evaluation exports by token (portraits, sensitivity) in CSV, JSON and parquet, and the
declared filters of runs, model configurations and responses."""

import pytest
from django.utils import timezone

from evaluation.exports import portrait_rows, sensitivity_by_model, sensitivity_rows
from evaluation.models import EvaluationRun, PortraitScore, Response, Sweep
from tests.api_exports import fetch_every_format, token_headers
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def finished_runs():
    """Two models' finished runs with portraits and answers in two variants (one invalid)."""
    item_set = make_item_set(n_items=4)
    items = [entry.item for entry in item_set.entries.select_related("item").order_by("item_id")]
    runs = []
    for index, name in enumerate(("model-a", "model-b")):
        run = EvaluationRun.objects.create(
            model_config=ModelConfigurationFactory(name=name, provider="anthropic"),
            item_set=item_set,
            variants=["v1", "v1_reversed"],
            status=EvaluationRun.Status.DONE,
            finished_at=timezone.now(),
        )
        for dimension, centred in (("Power", 0.5 - index), ("Hedonism", -0.25)):
            PortraitScore.objects.create(
                run=run, family="schwartz", dimension=dimension, raw=3.0, sd=1.0, n=2,
                family_mean=3.0 - centred, centred=centred,
            )  # fmt: skip
        for item_index, item in enumerate(dict.fromkeys(items)):
            for variant in run.variants:
                valid = not (index == 1 and item_index == 0 and variant == "v1")
                Response.objects.create(
                    run=run, item=item, variant=variant, state="valid" if valid else "invalid",
                    rating=(2 + item_index + (variant == "v1_reversed")) if valid else None,
                )  # fmt: skip
        runs.append(run)
    return runs


def test_portraits_by_token_in_every_format(client, finished_runs):
    headers = token_headers("researcher")
    got = fetch_every_format(client, "/api/v1/portraits/", headers)
    assert got["rows"] == portrait_rows(basis="answer") and len(got["rows"]) == 4
    assert {(r["model"], r["dimension"], r["centred"]) for r in got["rows"]} >= {
        ("model-a", "Power", 0.5),
        ("model-b", "Power", -0.5),
    }
    assert client.get("/api/v1/portraits/?basis=probability", **headers).json() == []
    refused = client.get("/api/v1/portraits/?basis=vibes&format=parquet", **headers)
    assert refused.status_code == 400 and "basis" in refused.json()


def test_sensitivity_by_token_json_in_the_release_shape_rows_in_tables(client, finished_runs):
    headers = token_headers("researcher")
    got = fetch_every_format(client, "/api/v1/sensitivity/", headers, json_is_rows=False)
    assert got["json"] == sensitivity_by_model() and set(got["json"]) == {"model-a", "model-b"}
    assert got["rows"] == sensitivity_rows()
    metrics = {(r["model"], r["metric"]): r["value"] for r in got["rows"]}
    assert (
        metrics[("model-a", "details.total_items")]
        == got["json"]["model-a"]["details"]["total_items"]
    )
    one = client.get(f"/api/v1/sensitivity/?run={finished_runs[1].pk}", **headers).json()
    assert set(one) == {"model-b"}
    missing = client.get("/api/v1/sensitivity/?run=999999&format=csv", **headers)
    assert missing.status_code == 400 and "run" in missing.json()


@pytest.mark.parametrize("role", ["anonymous", "nobody"])
def test_evaluation_exports_need_the_researcher_role(client, finished_runs, role):
    headers = token_headers(role)
    for url in ("/api/v1/portraits/?format=csv", "/api/v1/sensitivity/?format=parquet"):
        assert client.get(url, **headers).status_code == 403


def test_runs_configurations_and_responses_have_declared_filters(client, finished_runs):
    headers = token_headers("researcher")
    first, second = finished_runs
    sweep = Sweep.objects.create(name="s", spec={})
    sweep.runs.add(second)

    def ids(url):
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("/api/v1/evaluation-runs/?model=model-a") == [first.pk]
    assert ids(f"/api/v1/evaluation-runs/?sweep={sweep.pk}") == [second.pk]
    assert set(ids("/api/v1/evaluation-runs/?status=done&kind=live")) == {first.pk, second.pk}
    assert ids("/api/v1/evaluation-runs/?status=queued") == []
    for bad in ("model=nobody", "status=finished", "item_set=999999", "sweep=999999"):
        refused = client.get(f"/api/v1/evaluation-runs/?{bad}", **headers)
        assert refused.status_code == 400 and bad.split("=")[0] in refused.json(), bad
    assert len(ids("/api/v1/model-configurations/?provider=anthropic")) == 2
    assert ids("/api/v1/model-configurations/?name=model-b") == [second.model_config_id]
    assert client.get("/api/v1/model-configurations/?provider=x", **headers).status_code == 400

    responses = f"/api/v1/evaluation-runs/{second.pk}/responses/"
    invalid = client.get(f"{responses}?state=invalid", **headers).json()
    assert invalid["count"] == 1 and invalid["results"][0]["state"] == "invalid"
    assert client.get(f"{responses}?state=v1&variant=v1", **headers).status_code == 400
    assert client.get(f"{responses}?variant=v1", **headers).json()["count"] == 4
