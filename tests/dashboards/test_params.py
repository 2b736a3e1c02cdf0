"""The dashboards' declared query parameters (``dashboards.params``): on every page and
endpoint that reads one, an unknown or malformed value is a 400 naming the parameter and the
values it takes, an empty one takes the default, and a known one picks what it did before."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboards.params import DashboardQuery
from evaluation.models import Sweep
from tests.dashboards.helpers import client_as


@pytest.fixture
def researcher(client, db):
    return client_as(client, "researcher")


# (parameter, a value the page does not take, the start of the 400's message)
MODEL_FILTER_CASES = [
    ("provider", "acme", "provider: Unknown provider 'acme': choose one of "),
    ("model_family", "Zeta", "model_family: Unknown model family 'Zeta': choose one of Alpha, Beta"),
    ("size_min", "big", "size_min: Not a number"),
    ("size_max", "inf", "size_max: Not a number"),
    ("open", "maybe", "open: Unknown weights 'maybe': choose one of open, closed."),
    ("date_from", "yesterday", "date_from: Not a date: use YYYY-MM-DD."),
    ("date_to", "2025-13-01", "date_to: Not a date"),
    ("released_from", "1.1.2025", "released_from: Not a date"),
    ("released_to", "x", "released_to: Not a date"),
    ("item_set", "999999", "item_set: Unknown item set '999999': choose one of "),
    ("kind", "mine", "kind: Unknown kind 'mine': choose one of live, reference."),
    ("sweep", "12345", "sweep: Unknown sweep '12345': choose one of none."),
    ("model", "omega", "model: Unknown model 'omega': choose one of alpha, beta, gamma."),
]  # fmt: skip


def _errors(response) -> list[str]:
    return response.context["query_errors"]


@pytest.mark.parametrize("page", ["dashboards:compare", "dashboards:humans"])
@pytest.mark.parametrize("name,value,message", MODEL_FILTER_CASES)
def test_an_unknown_model_filter_is_a_400_on_the_pages(
    researcher, dashboard_data, page, name, value, message
):
    response = researcher.get(reverse(page), {name: value})
    assert response.status_code == 400
    assert len(_errors(response)) == 1 and _errors(response)[0].startswith(message)


@pytest.mark.parametrize("name,value,message", MODEL_FILTER_CASES)
def test_an_unknown_model_filter_is_a_400_in_the_api(client, dashboard_data, name, value, message):
    client_as(client, "researcher")
    response = client.get("/api/v1/humans-vs-models/", {name: value})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [name] and f"{name}: {body[name][0]}".startswith(message)


def test_known_model_filters_and_empty_ones_pick_as_before(researcher, dashboard_data):
    url = reverse("dashboards:compare")
    every = {name: "" for name, _, _ in MODEL_FILTER_CASES}
    empty = researcher.get(url, every)
    assert empty.status_code == 200 and empty.context["all_models"] == ["alpha", "beta", "gamma"]
    # A model family in any case (the filter ignores case), a set a run used, a sweep.
    sweep = Sweep.objects.create(name="s1", spec={})
    sweep.runs.add(dashboard_data.runs["beta"])
    known = researcher.get(
        url,
        {"model_family": "ALPHA", "item_set": dashboard_data.item_set.pk, "size_max": "1e3",
         "date_from": "2000-01-01", "model": ["alpha", ""]},
    )  # fmt: skip
    assert known.status_code == 200
    assert known.context["all_models"] == ["alpha"] and known.context["chosen"] == ["alpha"]
    swept = researcher.get(url, {"sweep": sweep.pk})
    assert swept.context["all_models"] == ["beta"]
    assert [r.pk for r in swept.context["sweep_runs"]] == [dashboard_data.runs["beta"].pk]
    # Spaces around a value are dropped, as the filters always did.
    api = researcher.get("/api/v1/humans-vs-models/", {"study": "humans", "provider": " anthropic"})
    assert api.status_code == 200 and {r["model"] for r in api.json()} == {"beta"}


def test_the_portrait_page_takes_only_the_runs_personas(researcher, dashboard_data):
    url = reverse("dashboards:model-portrait", args=[dashboard_data.persona_run.pk])
    refused = researcher.get(url, {"persona": "gender=robot"})
    assert refused.status_code == 400
    assert _errors(refused) == [
        "persona: Unknown persona 'gender=robot': choose one of gender=man, gender=woman."
    ]
    assert researcher.get(url, {"persona": "gender=woman"}).context["persona"] == "gender=woman"
    # No persona asked for: the run's first (it has no plain portrait).
    assert researcher.get(url, {"persona": ""}).context["persona"] == "gender=man"
    plain = reverse("dashboards:model-portrait", args=[dashboard_data.runs["alpha"].pk])
    assert researcher.get(plain).context["persona"] == ""


def test_the_humans_page_takes_box_or_violin(researcher, dashboard_data):
    url = reverse("dashboards:humans")
    refused = researcher.get(url, {"shape": "pie"})
    assert refused.status_code == 400
    assert _errors(refused) == ["shape: Unknown shape 'pie': choose one of box, violin."]
    assert researcher.get(url, {"shape": ""}).context["shape"] == "box"
    assert researcher.get(url, {"shape": "violin"}).context["shape"] == "violin"


def test_the_bias_page_takes_a_persona_run_a_field_and_one_of_its_groups(
    researcher, dashboard_data
):
    url = reverse("dashboards:bias")
    run = dashboard_data.persona_run
    plain = dashboard_data.runs["beta"].pk
    not_persona = researcher.get(url, {"run": plain})
    assert not_persona.status_code == 400
    assert _errors(not_persona) == [f"run: Unknown persona run '{plain}': choose one of {run.pk}."]
    field = researcher.get(url, {"field": "shoe_size"})
    assert field.status_code == 400 and _errors(field)[0].startswith(
        "field: Unknown field 'shoe_size': choose one of age, gender, country"
    )
    shown = researcher.get(url, {"run": run.pk, "field": "gender", "study": "humans"})
    assert shown.status_code == 200 and shown.context["run"].pk == run.pk
    groups = shown.context["group_options"]
    # 8 men are too few to compare: the one group compared is the default and a choice.
    assert groups == ["woman"] and shown.context["group"] == "woman"
    chosen = researcher.get(url, {"run": "", "field": "", "group": "woman"})
    assert chosen.context["group"] == "woman" and chosen.context["field"] == "gender"
    assert chosen.context["run"].pk == run.pk
    unknown = researcher.get(url, {"group": "martians"})
    assert unknown.status_code == 400
    assert _errors(unknown) == [
        f"group: Unknown group 'martians': choose one of {', '.join(groups)}."
    ]
    # The group has its own form: changing run, field or study does not carry it along.
    body = shown.content.decode()
    assert body.index('name="group"') > body.index('id="group-form"')


def test_the_items_page_takes_a_known_dimension_and_source(researcher, dashboard_data):
    url = reverse("dashboards:items")
    entry = dashboard_data.item_set.entries.select_related("item__scenario__source").first()
    source, dimension = entry.item.scenario.source, entry.dimension
    refused = researcher.get(url, {"dimension": "Astrology", "source": "nowhere"})
    assert refused.status_code == 400
    assert _errors(refused)[0].startswith(
        "dimension: Unknown dimension 'Astrology': choose one of Self_Direction"
    )
    assert _errors(refused)[1].startswith("source: Unknown source 'nowhere': choose one of ")
    assert source.slug in _errors(refused)[1]
    both = researcher.get(url, {"study": "humans", "dimension": dimension, "source": source.slug})
    assert both.status_code == 200 and both.context["dimension"] == dimension
    assert 1 <= both.context["page"].paginator.count <= 2
    empty = researcher.get(url, {"study": "humans", "dimension": "", "source": ""})
    assert empty.context["page"].paginator.count == 20


def test_persona_comparisons_take_a_persona_run_and_a_field(client, dashboard_data):
    client_as(client, "researcher")
    url = "/api/v1/persona-comparisons/"
    run = dashboard_data.persona_run.pk
    missing = client.get(url)
    assert missing.status_code == 400
    assert missing.json() == {"run": [f"Give the persona run (one of {run})."]}
    field = client.get(url, {"run": run, "field": "shoe_size"})
    assert field.status_code == 400 and list(field.json()) == ["field"]
    default = client.get(url, {"run": run, "field": ""}).json()
    assert default["field"] == "gender" and default["groups"] == {"man": 8, "woman": 16}


def test_human_portraits_take_a_known_item_set_and_group_by(client, dashboard_data):
    client_as(client, "researcher")
    url = reverse("human-portrait-list")
    refused = client.get(url, {"study": "humans", "group_by": "shoe_size"})
    assert refused.status_code == 400
    assert refused.json()["group_by"][0].startswith("Unknown field 'shoe_size': choose one of age")
    plain = client.get(url, {"study": "humans", "group_by": ""}, HTTP_ACCEPT="application/json")
    assert plain.status_code == 200 and plain.json()["group_by"] is None
    # An item set that does not exist is a 400 like any unknown value (it was a 404).
    unknown = client.get(url, {"study": "humans", "item_set": "999999"})
    assert unknown.status_code == 400
    assert unknown.json()["item_set"] == [
        f"Unknown item set '999999': choose one of {dashboard_data.item_set.pk}."
    ]
    chosen = client.get(url, {"study": "humans", "item_set": f" {dashboard_data.item_set.pk} "})
    assert chosen.status_code == 200 and chosen.json()["item_set"] == dashboard_data.item_set.pk


def test_a_database_choice_is_looked_up_only_when_given(db, django_assert_num_queries):
    looked_up = []

    def providers():
        looked_up.append(True)
        return ["openai"]

    with django_assert_num_queries(0):
        query = DashboardQuery({"family": ""}, takes=["provider"], choices={"provider": providers})
        assert query.is_valid() and query.model_filters().provider == ""
    assert looked_up == []
    given = DashboardQuery(
        {"provider": "openai"}, takes=["provider"], choices={"provider": providers}
    )
    assert given.is_valid() and given.model_filters().provider == "openai"
    unknown = DashboardQuery(
        {"provider": "acme"}, takes=["provider"], choices={"provider": providers}
    )
    assert not unknown.is_valid() and unknown.errors["provider"] == [
        "Unknown provider 'acme': choose one of openai."
    ]
    assert len(looked_up) == 2  # once per form, though checked and listed in the message
