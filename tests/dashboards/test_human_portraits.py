"""Human portraits on the models' scale: selector, export command and API, on a small
hand-checkable study and on the imported release with the paper preset."""

import csv
import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from benchmark.models import StudyAnalysisSettings
from benchmark.portrait_rule import PortraitLayout
from core.tabular import records
from dashboards import human_selectors as hs
from survey.models import ItemRating, Participant
from tests.api_exports import fetch_every_format, token_headers
from tests.dashboards import builders
from tests.dashboards.helpers import client_as
from tests.factories import StudyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _pandas_portrait(ratings: pd.DataFrame, entries: pd.DataFrame) -> dict[str, float]:
    """The rule written out with pandas groupbys (independent of the matrix code)."""
    item_means = ratings.groupby("item_id")["rating"].mean().rename("rating")
    rated = entries.merge(item_means, left_on="item_id", right_index=True)
    raw = rated.groupby("dimension")["rating"].mean()
    family_of = entries.drop_duplicates("dimension").set_index("dimension")["family"]
    family_mean = rated.drop_duplicates(["family", "item_id"]).groupby("family")["rating"].mean()
    return {d: float(raw[d] - family_mean[family_of[d]]) for d in raw.index}


@pytest.fixture
def rated_study(db):
    """12 women, 6 men, 2 without an answer, and one flagged man, rating a 20-item set."""
    rng = np.random.default_rng(4)
    study = StudyFactory(slug="rated", exclude_flagged_participants=True)
    item_set = builders.small_item_set(study=study)
    genders = ["female"] * 12 + ["male"] * 6 + [""] * 2
    people = builders.participants_with_scores(
        study=study, n=20, rng=rng, demographics=lambda i: {"gender": genders[i]}
    )
    flagged = Participant.objects.create(
        study=study,
        external_id="flagged",
        status=Participant.Status.COMPLETED,
        quality_flags={"flags": ["speeder"]},
        demographics={"gender": "male"},
    )
    builders.participant_ratings(item_set=item_set, people=people, rng=rng, share=0.7)
    builders.participant_ratings(item_set=item_set, people=[flagged], rng=rng, share=1.0)
    return study, item_set, flagged


def _counted_ratings(study, item_set, flagged):
    rows = ItemRating.objects.filter(
        participant__study=study, item__validated_entries__item_set=item_set
    ).exclude(participant=flagged)
    return pd.DataFrame.from_records(
        list(rows.distinct().values_list("participant_id", "item_id", "rating")),
        columns=["participant_id", "item_id", "rating"],
    )


def test_everyone_and_each_group_scored_like_a_model(rated_study):
    study, item_set, flagged = rated_study
    entries = pd.DataFrame.from_records(
        list(item_set.entries.values_list("item_id", "family", "dimension")),
        columns=["item_id", "family", "dimension"],
    )
    ratings = _counted_ratings(study, item_set, flagged)
    portraits = hs.human_portraits(study=study, field="gender")
    assert portraits.item_set == item_set  # the study's newest set by default
    groups = portraits.by_label()
    assert list(groups) == ["all", "man", "woman"]
    assert groups["all"].n_participants == 20  # the flagged participant left out
    expected = _pandas_portrait(ratings, entries)
    assert groups["all"].centred() == pytest.approx(expected, abs=1e-12)
    female = Participant.objects.filter(study=study, demographics__gender="female")
    women = ratings[ratings["participant_id"].isin(list(female.values_list("pk", flat=True)))]
    assert len(women["participant_id"].unique()) == groups["woman"].n_participants == 12
    assert groups["woman"].centred() == pytest.approx(_pandas_portrait(women, entries), abs=1e-12)
    # 6 men: below the default minimum of 10 participants per group, so no scores, a reason.
    assert groups["man"].n_participants == 6
    assert str(groups["man"].too_few) == "too few: n = 6 of 10"
    assert set(groups["man"].centred().values()) == {None}
    assert groups["man"].table["reason"].str.startswith("too few participants: n = ").all()
    # Every shown score has a bootstrap interval around it.
    table = groups["all"].table
    assert (table["ci_low"] <= table["centred"]).all() and (
        table["centred"] <= table["ci_high"]
    ).all()
    assert (table["se"] > 0).all()


def test_the_minimum_per_group_is_the_studys_setting(rated_study):
    study, _, _ = rated_study
    StudyAnalysisSettings.objects.create(study=study, min_group_participants=5)
    men = hs.human_portraits(study=study, field="gender").by_label()["man"]
    assert men.too_few is None
    # A dimension fewer than 5 of the 6 men rated is still withheld, with its reason.
    table = men.table.set_index("dimension")
    shown = {d: v is not None for d, v in men.centred().items()}
    assert shown == (table["n_raters"] >= 5).to_dict()
    assert 0 < sum(shown.values()) < 10  # both cases occur in this data
    assert table.loc[~table["n_raters"].ge(5), "reason"].str.contains("at least 5 needed").all()


def test_a_field_the_study_did_not_ask_about_or_no_item_set_is_refused(rated_study):
    study, item_set, _ = rated_study
    study.demographic_fields = ["age"]
    study.save()
    with pytest.raises(hs.HumanPortraitError, match="did not ask about 'gender'"):
        hs.human_portraits(study=study, field="gender")
    other = StudyFactory()
    with pytest.raises(hs.HumanPortraitError, match="no validated item set"):
        hs.human_portraits(study=other)
    # Another study's participants on this set: none of them rated its items.
    nobody = hs.human_portraits(study=other, item_set=item_set).by_label()["all"]
    assert nobody.n_participants == 0 and str(nobody.too_few) == "too few: n = 0 of 10"
    assert set(nobody.table["withheld"]) == {"no rating"}


def test_export_command_json_and_csv(rated_study, tmp_path):
    study, item_set, _ = rated_study
    out = tmp_path / "humans.json"
    call_command(
        "export_human_portraits", "--study", "rated", "--group-by", "gender", "--out", str(out)
    )
    data = json.loads(out.read_text())
    expected = hs.as_json(hs.human_portraits(study=study, field="gender"))
    assert data == expected
    assert set(data) == {"all", "man", "woman"} and len(data["all"]) == 10
    assert data["man"]["Power"] is None

    table = tmp_path / "humans.csv"
    call_command(
        "export_human_portraits", "--study", "rated", "--item-set", str(item_set.pk),
        "--out", str(table),
    )  # fmt: skip
    rows = list(csv.DictReader(table.open()))
    assert {r["group"] for r in rows} == {"all"} and len(rows) == 10
    power = next(r for r in rows if r["dimension"] == "Power")
    assert float(power["centred"]) == pytest.approx(data["all"]["Power"])
    assert float(power["ci_low"]) <= float(power["centred"]) <= float(power["ci_high"])
    assert power["n_participants"] == "20" and int(power["n_raters"]) <= 20

    with pytest.raises(CommandError, match="no study 'nope'"):
        call_command("export_human_portraits", "--study", "nope", "--out", str(out))
    with pytest.raises(CommandError, match="no validated item set 999999"):
        call_command(
            "export_human_portraits", "--study", "rated", "--item-set", "999999", "--out", str(out)
        )


def test_api_gives_the_same_portraits_with_reasons(rated_study, client):
    study, item_set, _ = rated_study
    client_as(client, "researcher")
    url = reverse("human-portrait-list")
    response = client.get(url, {"study": "rated", "group_by": "gender"})
    assert response.status_code == 200
    body = response.json()
    assert body["portraits"] == hs.as_json(hs.human_portraits(study=study, field="gender"))
    assert body["item_set"] == item_set.pk and body["min_participants_per_group"] == 10
    man = next(g for g in body["groups"] if g["label"] == "man")
    assert man["reason"].startswith("too few participants: n = 6, at least 10 needed")
    power = next(d for d in man["dimensions"] if d["dimension"] == "Power")
    assert power["centred"] is None and power["centred_reason"].startswith("too few")
    assert client.get(url, {"study": "rated", "group_by": "shoe"}).status_code == 400
    unknown = client.get(url, {"study": "nope"})
    assert unknown.status_code == 400 and "Unknown study 'nope'" in unknown.json()["study"][0]
    assert client.get(url, {"study": "rated", "item_set": "x"}).status_code == 400
    missing = client.get(url)
    assert missing.status_code == 400 and "Give the study's slug" in missing.json()["study"][0]
    # Text that is no slug or no number is refused, never sent to the database.
    assert client.get(url, {"study": "rated\x00"}).status_code == 400
    assert client.get(url, {"study": "rated", "item_set": "²"}).status_code == 400
    persona = reverse("persona-comparison-list")
    assert client.get(persona, {"run": "²"}).status_code == 400
    # The model filters' item set is declared too: not one a run used is a 400, not ignored.
    odd_set = client.get(reverse("humans-vs-models-list"), {"item_set": "²"})
    assert odd_set.status_code == 400 and "Unknown item set '²'" in odd_set.json()["item_set"][0]
    client.logout()
    client_as(client, "nobody")
    assert client.get(url, {"study": "rated"}).status_code == 403


def test_api_gives_the_portrait_table_by_token_in_csv_and_parquet(rated_study, client):
    study, _, _ = rated_study
    got = fetch_every_format(
        client,
        "/api/v1/human-portraits/?study=rated&group_by=gender",
        token_headers("researcher"),
        json_is_rows=False,
    )
    expected = hs.as_rows(hs.human_portraits(study=study, field="gender"))
    assert got["rows"] == records(expected)
    assert {row["group"] for row in got["rows"]} == {"all", "woman", "man"}
    assert "portraits" in got["json"]  # JSON keeps the nested shape
    refused = client.get("/api/v1/human-portraits/?format=csv", **token_headers("researcher", "r2"))
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/json")


# --- the release --------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.slow
def test_release_humans_on_the_paper_preset(imported_release, release_dir, tmp_path):
    from benchmark.selectors import item_set_entries, published_run
    from benchmark.services import create_preset_item_set
    from survey.models import Study

    study = Study.objects.get(slug="valueportrait-2025")
    item_set = create_preset_item_set(run=published_run(study=study))
    data = hs.human_ratings(study=study, item_set=item_set)
    # Every rating of the release counts (imported, none flagged), P186's in both groups.
    counted = ItemRating.objects.filter(participant__in=Participant.objects.counted(study))
    assert counted.count() == 24320
    assert (
        int((~np.isnan(data.matrix)).sum())
        == counted.filter(item_id__in=data.layout.item_ids.tolist()).count()
    )
    p186 = Participant.objects.get(study=study, external_id="P186")
    assert p186.ratings.count() == 80

    # Independently: item means straight from the release's survey.json, then the rule.
    survey = json.loads((release_dir / "data/prolific/survey/main/survey.json").read_text())
    by_item = defaultdict(list)
    p186_groups = set()
    for group_index, group in enumerate(survey):
        for portrait_id, options in group.items():
            for option in options:
                for rating, participant in option["data"]:
                    by_item[(str(portrait_id), int(option["option_id"]))].append(float(rating))
                    if str(participant) == "P186":
                        p186_groups.add(group_index)
    assert len(p186_groups) == 2 and sum(len(v) for v in by_item.values()) == 24320
    entries = item_set_entries(item_set=item_set)
    means = entries.assign(
        rating=[
            np.mean(by_item[(str(p), int(o))])
            for p, o in zip(entries["scenario_external_id"], entries["option_id"], strict=True)
        ]
    )
    ratings = means.drop_duplicates("item_id")[["item_id", "rating"]]
    expected = _pandas_portrait(ratings, entries[["item_id", "family", "dimension"]])

    portraits = hs.human_portraits(study=study, item_set=item_set)
    everyone = portraits.by_label()["all"]
    assert everyone.n_participants == 559
    assert len(everyone.table) == 19 and everyone.table["reason"].isna().all()
    assert everyone.centred() == pytest.approx(expected, abs=1e-12)
    assert (everyone.table["ci_low"] < everyone.table["centred"]).all()
    assert (everyone.table["centred"] < everyone.table["ci_high"]).all()
    layout = PortraitLayout.from_entries(entries)
    assert len(layout.item_ids) == 317

    # The command writes the same numbers; the release asked no demographic question that
    # was answered, so grouping by gender adds no group.
    out = tmp_path / "release-humans.json"
    call_command(
        "export_human_portraits", "--study", "valueportrait-2025", "--item-set",
        str(item_set.pk), "--group-by", "gender", "--out", str(out),
    )  # fmt: skip
    exported = json.loads(out.read_text())
    assert list(exported) == ["all"]
    assert exported["all"] == pytest.approx(expected, abs=1e-12)


def test_model_uncertainty_on_the_bias_page_is_over_variants_and_repetitions(dashboard_data):
    """Each (variant, repetition) of a persona is scored alone; the spread is over them."""
    from dashboards import selectors
    from evaluation.models import Response

    run = dashboard_data.persona_run
    answers = list(Response.objects.filter(run=run, persona="gender=woman"))
    Response.objects.bulk_create(
        Response(
            run=run,
            item_id=a.item_id,
            variant=a.variant,
            persona=a.persona,
            repetition=1,
            state=a.state,
            rating=min(6.0, a.rating + (1 if a.item_id % 2 else 0)),
            raw_text=a.raw_text,
        )
        for a in answers
    )
    spread = selectors.replicate_spread(
        run=run, family="schwartz", personas=["gender=woman"]
    ).set_index("dimension")
    entries = pd.DataFrame.from_records(
        list(run.item_set.entries.values_list("item_id", "family", "dimension")),
        columns=["item_id", "family", "dimension"],
    )
    frame = pd.DataFrame.from_records(
        list(
            Response.objects.filter(run=run, persona="gender=woman").values_list(
                "variant", "repetition", "item_id", "rating"
            )
        ),
        columns=["variant", "repetition", "item_id", "rating"],
    )
    replicates = pd.DataFrame(
        [
            _pandas_portrait(part[["item_id", "rating"]], entries)
            for _, part in frame.groupby(["variant", "repetition"])
        ]
    )
    assert len(replicates) == 6  # three variants × two repetitions
    power = spread.loc["Power"]
    assert power["n"] == 6
    assert power["mean"] == pytest.approx(replicates["Power"].mean(), abs=1e-12)
    assert power["sd"] == pytest.approx(replicates["Power"].std(ddof=1), abs=1e-12)
    assert power["se"] == pytest.approx(power["sd"] / np.sqrt(6), abs=1e-12)
