"""The benchmark's exports by token (correlations, item sets) in CSV, JSON and parquet, and
its declared filters (an unknown study, family or dimension is a 400)."""

import pytest

from benchmark.exports import correlation_table, item_set_table
from benchmark.services import freeze_item_set, recompute_now
from core.tabular import records
from tests.api_exports import fetch_every_format, token_headers

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def computed(small_study):
    run = recompute_now(study=small_study)
    item_set = freeze_item_set(run=run, threshold=0.1, mode="abs", name="api-set")
    return small_study, run, item_set


def test_correlations_and_item_set_by_an_admin_token_in_every_format(client, computed):
    study, run, item_set = computed
    headers = token_headers("admin")
    got = fetch_every_format(
        client, f"/api/v1/correlation-runs/{run.pk}/download/", headers, json_is_rows=False
    )
    assert got["rows"] == records(correlation_table(run=run))
    # JSON is the run's document: the same rows, with the run and the item profiles.
    assert got["json"]["correlations"] == got["rows"] and got["json"]["run"]["id"] == run.pk

    pairs = fetch_every_format(
        client, f"/api/v1/item-sets/{item_set.pk}/download/", headers, json_is_rows=False
    )
    assert pairs["rows"] == records(item_set_table(item_set=item_set)) and pairs["rows"]
    assert pairs["json"]["pairs"] == pairs["rows"] and "query-response-tagged" in pairs["json"]


def test_downloads_stay_admin_only(client, computed):
    _, run, item_set = computed
    for role, expected in (("anonymous", 403), ("nobody", 403), ("researcher", 403)):
        headers = token_headers(role, f"{role}-dl")
        for url in (
            f"/api/v1/correlation-runs/{run.pk}/download/?format=parquet",
            f"/api/v1/item-sets/{item_set.pk}/download/?format=csv",
        ):
            refused = client.get(url, **headers)
            assert refused.status_code == expected
            assert refused["Content-Type"].startswith("application/json")


def test_deprecated_filetype_still_chooses_the_format(client, computed):
    _, run, _ = computed
    headers = token_headers("admin")
    url = f"/api/v1/correlation-runs/{run.pk}/download/"
    assert client.get(f"{url}?filetype=csv", **headers).content == (
        client.get(f"{url}?format=csv", **headers).content
    )
    assert client.get(f"{url}?filetype=xml", **headers).status_code == 400


def test_declared_filters_refuse_unknown_values(client, computed):
    study, run, item_set = computed
    headers = token_headers("researcher")
    listed = client.get(f"/api/v1/correlation-runs/?study={study.slug}&method=spearman", **headers)
    assert [row["id"] for row in listed.json()["results"]] == [run.pk]
    unknown = client.get("/api/v1/correlation-runs/?study=no-such-study", **headers)
    assert unknown.status_code == 400 and "no-such-study" in unknown.json()["study"][0]
    assert client.get("/api/v1/item-sets/?study=no-such-study", **headers).status_code == 400
    sets = client.get(f"/api/v1/item-sets/?study={study.slug}&name=api-set", **headers).json()
    assert [row["id"] for row in sets["results"]] == [item_set.pk]

    rows = f"/api/v1/correlation-runs/{run.pk}/rows/"
    power = client.get(f"{rows}?dimension=Power&family=schwartz", **headers).json()
    assert power["count"] > 0 and {r["dimension"] for r in power["results"]} == {"Power"}
    bad = client.get(f"{rows}?dimension=Powr", **headers)
    assert bad.status_code == 400 and "Powr" in bad.json()["dimension"][0]
    assert client.get(f"{rows}?family=astrology", **headers).status_code == 400
    assert client.get("/api/v1/correlation-runs/?status=finished", **headers).status_code == 400
