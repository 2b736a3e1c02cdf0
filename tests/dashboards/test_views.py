"""Dashboard pages with the test client on PostgreSQL: numbers, filters, escaping, no 500s."""

import json
import re

import numpy as np
import pytest
from django.urls import reverse

from dashboards import human_selectors, selectors, stats
from survey.models import Item, ItemRating
from tests.dashboards.helpers import client_as
from tests.factories import ParticipantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _spec(response, chart_id: str) -> dict:
    """The figure JSON a page embeds for one chart."""
    match = re.search(
        rf'<script id="{chart_id}-spec" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"chart {chart_id} missing"
    return json.loads(match.group(1))


@pytest.fixture
def researcher(client):
    return client_as(client, "researcher")


def test_compare_shows_every_model_and_filters_by_card_and_provider(researcher, dashboard_data):
    response = researcher.get(reverse("dashboards:compare"))
    assert response.status_code == 200
    heat = _spec(response, "compare-heatmap")["figure"]["data"][0]
    assert sorted(heat["y"]) == ["alpha", "beta", "gamma"]
    # The persona run is not a portrait: alpha's row comes from its plain run.
    alpha = dashboard_data.runs["alpha"].scores.get(
        persona="", basis="answer", dimension="Benevolence"
    )
    column = heat["x"].index("Benevolence")
    assert heat["z"][heat["y"].index("alpha")][column] == pytest.approx(alpha.centred, abs=1e-3)
    radar = _spec(response, "compare-radar")["figure"]["data"]
    assert [t["name"] for t in radar] == ["alpha", "beta", "gamma"]

    open_only = researcher.get(reverse("dashboards:compare"), {"open": "open"})
    assert _spec(open_only, "compare-heatmap")["figure"]["data"][0]["y"] == ["alpha"]
    big = researcher.get(reverse("dashboards:compare"), {"size_min": "10", "provider": "anthropic"})
    assert _spec(big, "compare-heatmap")["figure"]["data"][0]["y"] == ["beta"]
    recent = researcher.get(reverse("dashboards:compare"), {"released_from": "2025-01-01"})
    assert _spec(recent, "compare-heatmap")["figure"]["data"][0]["y"] == ["beta"]
    family = researcher.get(reverse("dashboards:compare"), {"model_family": "alpha"})
    assert _spec(family, "compare-heatmap")["figure"]["data"][0]["y"] == ["alpha"]
    published = researcher.get(reverse("dashboards:compare"), {"kind": "reference"})
    assert _spec(published, "compare-heatmap")["figure"]["data"][0]["y"] == ["gamma"]
    chosen = researcher.get(reverse("dashboards:compare"), {"model": ["beta", "gamma"]})
    assert [t["name"] for t in _spec(chosen, "compare-radar")["figure"]["data"]] == [
        "beta",
        "gamma",
    ]


def test_compare_csv_table_matches_the_heatmap(researcher, dashboard_data):
    spec = _spec(researcher.get(reverse("dashboards:compare")), "compare-heatmap")
    table = spec["table"]
    assert table["columns"][0] == "model"
    rows = {row[0]: row[1:] for row in table["rows"]}
    heat = spec["figure"]["data"][0]
    for name, z in zip(heat["y"], heat["z"], strict=True):
        assert rows[name] == pytest.approx(z, abs=1e-3)
    assert spec["sort_columns"] == heat["x"]


def test_model_portrait_has_error_bars_from_variants_and_run_parameters(researcher, dashboard_data):
    run = dashboard_data.runs["beta"]
    response = researcher.get(reverse("dashboards:model-portrait", args=[run.pk]))
    assert response.status_code == 200
    traces = _spec(response, "portrait-radar")["figure"]["data"]
    assert [t["name"] for t in traces] == ["beta", "beta ± SD"]
    # The whisker of each value spans mean ± SD over the three variants' portraits.
    variant_scores = run.summary["personas"][""]["consistency"]["variant_scores"]
    power = [v["schwartz:Power"] for v in variant_scores.values()]
    centred = run.scores.get(persona="", basis="answer", dimension="Power").centred
    theta = traces[1]["theta"]
    low, high = traces[1]["r"][theta.index("Power") : theta.index("Power") + 2]
    assert high - centred == pytest.approx(np.std(power, ddof=1), abs=1e-3)
    assert centred - low == pytest.approx(np.std(power, ddof=1), abs=1e-3)
    body = response.content.decode()
    assert "set-humans" in body and "v1_reversed" in body and "temperature=0.0" in body
    assert researcher.get(reverse("dashboards:model-portrait", args=[999999])).status_code == 404


def test_humans_vs_models_puts_models_on_the_humans_portrait_of_the_same_items(
    researcher, dashboard_data
):
    flagged = ParticipantFactory(
        study=dashboard_data.study, status="completed", quality_flags={"flags": ["speeding"]}
    )
    ItemRating.objects.bulk_create(
        ItemRating(participant=flagged, item_id=pk, rating=6)
        for pk in dashboard_data.item_set.entries.values_list("item_id", flat=True).distinct()
    )
    response = researcher.get(reverse("dashboards:humans"), {"study": "humans"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Compared:</strong> each model's portrait with the participants' portrait" in body
    spec = _spec(response, "humans-portrait")
    traces = {t["name"]: t for t in spec["figure"]["data"]}
    portrait = traces["Humans' portrait (95% bootstrap CI)"]
    # The flagged participant's ratings are left out of everyone's portrait.
    everyone = human_selectors.human_portraits(study=dashboard_data.study).by_label()["all"]
    assert everyone.n_participants == 40
    expected = everyone.centred()
    labels = spec["figure"]["layout"]["xaxis"]["ticktext"]
    power = labels.index("Power")
    assert portrait["y"][power] == pytest.approx(expected["Power"], abs=1e-4)
    low = everyone.table.set_index("dimension").at["Power", "ci_low"]
    assert portrait["error_y"]["arrayminus"][power] == pytest.approx(
        expected["Power"] - low, abs=1e-4
    )
    # Per-person scores behind (boxes): 40 people, each from their 2 rated Power items.
    box = traces["Participants one by one (≥ 2 rated items)"]
    data = human_selectors.human_ratings(
        study=dashboard_data.study, item_set=dashboard_data.item_set
    )
    persons = human_selectors.person_portraits(data, family="schwartz")
    assert persons["Power"].count() == 40
    assert box["median"][power] == pytest.approx(persons["Power"].median(), abs=1e-4)
    # Each model: its centred score, and its difference from the humans on hover.
    gamma = traces["gamma"]
    stored = dashboard_data.runs["gamma"].scores.get(persona="", basis="answer", dimension="Power")
    assert gamma["y"][power] == pytest.approx(stored.centred, abs=1e-4)
    assert gamma["customdata"][power] == pytest.approx(stored.centred - expected["Power"], abs=1e-3)
    # The percentile among the people's own scores, in the table.
    gap_rows = {row["model"]: row["cells"] for row in response.context["gap_rows"]}
    columns = response.context["dimensions"]
    score, gap, pct, beyond = gap_rows["gamma"][columns.index("Power")]
    power_row = everyone.table.set_index("dimension").loc["Power"]
    assert beyond == (not power_row["ci_low"] <= score <= power_row["ci_high"])
    assert gap == pytest.approx(score - power_row["centred"])
    assert pct == pytest.approx(
        stats.percentile_among(persons[["Power"]].to_numpy(), np.array([[score]]))[0, 0]
    )
    assert "gap-table" in body
    # alpha and beta answer Benevolence items high and Power items low, beyond the humans.
    two = researcher.get(
        reverse("dashboards:humans"), {"study": "humans", "model": ["alpha", "beta"]}
    )
    headline = two.context["headline"]
    above = {h["dimension"] for h in headline["above"]}
    below = {h["dimension"] for h in headline["below"]}
    assert "Benevolence" in above and "Power" in below and not above & below
    assert "In one glance" in two.content.decode()
    # The questionnaire scores stay a panel of their own, without any model on it.
    questionnaire = _spec(response, "humans-questionnaire")["figure"]["data"]
    assert [t["name"] for t in questionnaire] == ["Questionnaire scores"]
    assert "no model score is placed on or subtracted from them" in body


def test_humans_page_says_too_few_instead_of_a_percentile(researcher, dashboard_data):
    from benchmark.models import StudyAnalysisSettings

    StudyAnalysisSettings.objects.filter(study=dashboard_data.study).update(
        min_percentile_humans=50
    )
    body = researcher.get(reverse("dashboards:humans"), {"study": "humans"}).content.decode()
    assert "too few: n = 40 of 50" in body and "too few humans: n = 40, at least 50" in body


def test_bias_compares_personas_with_the_portrait_of_matching_participants(
    researcher, dashboard_data
):
    from benchmark.models import StudyAnalysisSettings

    run = dashboard_data.persona_run
    params = {"run": run.pk, "study": "humans", "field": "gender"}
    response = researcher.get(reverse("dashboards:bias"), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Compared:</strong> the model prompted as a member of a group" in body
    # 8 men: below the default minimum of 10 per group, so only the women are compared.
    assert "man 8 (<span" in body and "too few: n = 8 of 10" in body
    differences = _spec(response, "bias-differences")
    assert [t["name"] for t in differences["figure"]["data"]] == ["woman"]

    StudyAnalysisSettings.objects.filter(study=dashboard_data.study).update(
        min_group_participants=5
    )
    response = researcher.get(reverse("dashboards:bias"), params)
    differences = _spec(response, "bias-differences")
    assert sorted(t["name"] for t in differences["figure"]["data"]) == ["man", "woman"]
    table = differences["table"]
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    women = [r for r in rows if r["group"] == "woman"]
    assert {r["n_human"] for r in women} == {16}  # "female" answers, 2 of every 5 participants
    # The humans' side is the women's portrait on the run's items.
    female = human_selectors.human_portraits(
        study=dashboard_data.study, item_set=run.item_set, field="gender"
    ).by_label()["woman"]
    power = next(r for r in women if r["dimension"] == "Power")
    assert power["mean_human"] == pytest.approx(female.centred()["Power"], abs=1e-4)
    stored = run.scores.get(persona="gender=woman", basis="answer", dimension="Power")
    assert power["mean_model"] == pytest.approx(stored.centred, abs=1e-4)
    assert power["n_model"] == 3  # three prompt variants, one repetition each
    # The man persona answered Power items 3 points higher: the largest departure.
    departures = response.context["departures"]
    assert departures[0]["group"] == "man" and departures[0]["dimension"] == "Power"
    assert departures[0]["excludes_zero"]
    assert [(g, n) for g, n, _ in response.context["groups"]] == [("man", 8), ("woman", 16)]
    profile = _spec(response, "bias-profile")["figure"]["data"]
    assert [t["name"] for t in profile] == ["Humans: man", "Model as man"]


def test_bias_without_persona_runs_or_demographics_says_so(researcher, dashboard_data):
    response = researcher.get(reverse("dashboards:bias"), {"field": "country", "study": "humans"})
    assert response.status_code == 200
    assert "no single-field persona" in response.content.decode()
    dashboard_data.persona_run.delete()
    empty = researcher.get(reverse("dashboards:bias"))
    assert "No finished run with personas yet" in empty.content.decode()


def test_items_explorer_and_item_detail(researcher, dashboard_data):
    entry = dashboard_data.item_set.entries.select_related("item").first()
    item = entry.item
    item.text = "<script>alert('x')</script> reply"
    item.save()
    before = [ItemRating.objects.filter(item=item, rating=r).count() for r in range(1, 7)]
    people = ParticipantFactory.create_batch(3, study=dashboard_data.study)
    for person, rating in zip(people, (2, 6, 6), strict=True):
        ItemRating.objects.create(participant=person, item=item, rating=rating)
    listing = researcher.get(reverse("dashboards:items"), {"study": "humans"})
    assert listing.status_code == 200
    assert listing.context["page"].paginator.count == 20
    filtered = researcher.get(
        reverse("dashboards:items"), {"study": "humans", "dimension": entry.dimension}
    )
    assert filtered.context["page"].paginator.count == 2

    detail = researcher.get(reverse("dashboards:item", args=[item.pk]))
    body = detail.content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    bars = _spec(detail, "item-ratings")["figure"]["data"]
    assert bars[0]["y"] == [b + a for b, a in zip(before, [0, 1, 0, 0, 0, 2], strict=True)]
    answered = {a["model"] for a in detail.context["answers"]}
    assert answered == {"alpha", "beta", "gamma"}
    plain_runs = {a["run_id"] for a in detail.context["answers"] if a["persona"] == ""}
    assert len(plain_runs) == 3 and len(bars) == 1 + 3
    assert researcher.get(reverse("dashboards:item", args=[10**9])).status_code == 404
    assert Item.objects.count() == 20


@pytest.mark.parametrize(
    "name,params",
    [
        ("dashboards:compare", {"size_min": "abc", "date_from": "yesterday"}),
        ("dashboards:humans", {"item_set": "x", "open": "maybe"}),
        ("dashboards:bias", {"run": "abc", "field": "shoe size"}),
        ("dashboards:items", {"page": "999", "dimension": "nonsense", "source": "?"}),
    ],
)
def test_bad_query_parameters_are_a_400_never_a_500(researcher, dashboard_data, name, params):
    response = researcher.get(reverse(name), params)
    assert response.status_code == 400
    assert set(params) - {"page"} == {
        line.split(":")[0] for line in response.context["query_errors"]
    }


@pytest.mark.parametrize(
    "name,params,message",
    [
        ("dashboards:compare", {"family": "bogus"},
         "family: Unknown family &#x27;bogus&#x27;: choose one of schwartz, higher_order, big_five."),
        ("dashboards:humans", {"study": "nope"},
         "study: Unknown study with a validated item set &#x27;nope&#x27;: choose one of humans."),
        ("dashboards:humans", {"family": "zodiac", "study": "humans"}, "Unknown family"),
        ("dashboards:bias", {"study": "nope"}, "study: Unknown study with ratings"),
        ("dashboards:bias", {"family": "x"}, "Unknown family"),
        ("dashboards:items", {"study": "nope"}, "study: Unknown study with scores"),
        ("dashboards:items", {"study": "humans\x00"}, "Unknown study with scores"),
    ],
)  # fmt: skip
def test_an_unknown_study_or_family_is_a_400_saying_what_the_page_takes(
    researcher, dashboard_data, name, params, message
):
    response = researcher.get(reverse(name), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["query_errors"]  # the declared form's messages


def test_the_portrait_page_refuses_an_unknown_family(researcher, dashboard_data):
    url = reverse("dashboards:model-portrait", args=[next(iter(dashboard_data.runs.values())).pk])
    assert researcher.get(url, {"family": "higher_order"}).status_code == 200
    refused = researcher.get(url, {"family": "astrology"})
    assert refused.status_code == 400 and "Unknown family" in refused.content.decode()


def test_known_values_and_empty_ones_still_pick_the_page(researcher, dashboard_data):
    chosen = researcher.get(reverse("dashboards:items"), {"study": "humans", "family": ""})
    assert chosen.status_code == 200 and chosen.context["study"].slug == "humans"
    default = researcher.get(reverse("dashboards:bias"), {"study": "", "family": "big_five"})
    assert default.status_code == 200 and default.context["family"] == "big_five"


def test_unparseable_filters_are_a_400_saying_why(researcher, dashboard_data):
    response = researcher.get(reverse("dashboards:compare"), {"size_min": "abc"})
    assert response.status_code == 400
    assert "size_min: Not a number: give one such as 7 or 2.5." in response.content.decode()


@pytest.mark.parametrize(
    "name",
    ["dashboards:index", "dashboards:compare", "dashboards:humans", "dashboards:bias"],
)
def test_pages_use_a_bounded_number_of_queries(
    researcher, dashboard_data, django_assert_max_num_queries, name
):
    # 15: the filter bar's sweep choices are one query more than before sweeps existed.
    with django_assert_max_num_queries(15):
        assert researcher.get(reverse(name)).status_code == 200


def test_dashboards_need_the_researcher_role(client, dashboard_data):
    assert client.get(reverse("dashboards:compare")).status_code == 302
    client_as(client, "nobody")
    assert client.get(reverse("dashboards:compare")).status_code == 403


def test_questionnaire_big_five_is_centred_within_person(researcher, dashboard_data):
    from survey.models import ParticipantScore

    traits = ["Extraversion", "Agreeableness", "Conscientiousness", "Neuroticism", "Openness"]
    people = list(dashboard_data.study.participants.all()[:5])
    raw = np.arange(25, dtype=float).reshape(5, 5) % 4 + 1
    ParticipantScore.objects.bulk_create(
        ParticipantScore(participant=p, family="big_five", dimension=t, score=raw[i, j])
        for i, p in enumerate(people)
        for j, t in enumerate(traits)
    )
    response = researcher.get(
        reverse("dashboards:humans"), {"study": "humans", "family": "big_five"}
    )
    box = _spec(response, "humans-questionnaire")["figure"]["data"][0]
    centred = raw - raw.mean(axis=1, keepdims=True)
    assert box["median"] == pytest.approx(np.median(centred, axis=0).tolist(), abs=1e-4)
    body = response.content.decode()
    assert "centred on their own mean" in body
    # The small item set selects Schwartz values only: no portrait of traits, said so.
    assert "No humans' portrait for this family on set-humans v1" in body


def test_humans_as_violins_carry_every_counted_score(researcher, dashboard_data):
    response = researcher.get(reverse("dashboards:humans"), {"study": "humans", "shape": "violin"})
    spec = _spec(response, "humans-portrait")
    violin = spec["figure"]["data"][0]
    assert violin["type"] == "violin" and len(violin["y"]) == 40 * 10
    labels = spec["figure"]["layout"]["xaxis"]["ticktext"]
    power = [y for x, y in zip(violin["x"], violin["y"], strict=True) if x == labels.index("Power")]
    data = human_selectors.human_ratings(
        study=dashboard_data.study, item_set=dashboard_data.item_set
    )
    persons = human_selectors.person_portraits(data, family="schwartz")
    assert sorted(power) == pytest.approx(sorted(persons["Power"].round(4)))
    questionnaire = _spec(response, "humans-questionnaire")["figure"]["data"][0]
    humans = selectors.human_scores(study=dashboard_data.study, family="schwartz")
    assert questionnaire["type"] == "violin" and len(questionnaire["y"]) == humans.count().sum()


@pytest.mark.parametrize(
    "name",
    [
        "dashboards:index",
        "dashboards:compare",
        "dashboards:humans",
        "dashboards:bias",
        "dashboards:items",
    ],
)
def test_pages_work_on_an_empty_database(researcher, name):
    response = researcher.get(reverse(name))
    assert response.status_code == 200
    assert b"data-chart" not in response.content  # nothing to draw, said in words instead


def test_a_persona_runs_portraits_are_shown_per_persona(researcher, dashboard_data):
    run = dashboard_data.persona_run
    url = reverse("dashboards:model-portrait", args=[run.pk])
    first = researcher.get(url)
    assert first.context["personas"] == ["gender=man", "gender=woman"]
    assert first.context["persona"] == "gender=man"
    woman = researcher.get(url, {"persona": "gender=woman"})
    power = next(r for r in woman.context["rows"] if r["dimension"] == "Power")
    stored = run.scores.get(persona="gender=woman", basis="answer", dimension="Power")
    assert power["centred"] == pytest.approx(stored.centred)
    traces = _spec(woman, "portrait-radar")["figure"]["data"]
    assert traces[0]["name"] == "alpha as gender=woman" and len(traces) == 2
