"""No statistic from too few (issue 13): the demo study with two participants.

Before the minimums, this study's pages showed Cronbach's α from two respondents, reported
hundreds of pairs with r = ±1 (two raters), froze an item set from them and printed
"Power now: nan". Every page and endpoint now shows "too few: n = 2 of 20" with the reason,
the API gives null with a reason, and freezing is refused.
"""

import csv
import json
from io import StringIO

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from benchmark.minimums import TooFewToSelect
from benchmark.models import StudyAnalysisSettings, ValidatedItemSet
from benchmark.selection import SelectionRule
from benchmark.services import create_item_set, recompute_now
from core.roles import ADMINS_GROUP
from survey.instruments import dimensions as dims
from survey.models import InstrumentResponse, ItemRating, Participant, ParticipantScore
from survey.services.instruments import ensure_instrument
from tests.factories import ItemFactory, ParticipantFactory, StudyFactory

# Two respondents' BFI-10 Extraversion answers (item 1 reverse-keyed): α is a number
# (0.889 after recoding) that two people cannot support.
BFI_EXTRAVERSION = {1: (2, 4), 6: (5, 1)}


@pytest.fixture
def two_person_study(db):
    """12 items rated by two completed participants with scores on every dimension."""
    rng = np.random.default_rng(13)
    items = [ItemFactory() for _ in range(12)]
    study = StudyFactory(items=items)
    people = [
        ParticipantFactory(study=study, status=Participant.Status.COMPLETED) for _ in range(2)
    ]
    ParticipantScore.objects.bulk_create(
        ParticipantScore(participant=p, family=family, dimension=name, score=rng.normal())
        for p in people
        for family, names in dims.FAMILIES.items()
        if family != dims.PVQ_RR19
        for name in names
    )
    ItemRating.objects.bulk_create(
        ItemRating(participant=p, item=item, rating=rating)
        for item in items
        for p, rating in zip(
            people, rng.choice(np.arange(1, 7), size=2, replace=False), strict=True
        )
    )
    bfi = ensure_instrument("bfi10")
    InstrumentResponse.objects.bulk_create(
        InstrumentResponse(participant=p, instrument=bfi, item_number=number, value=values[k])
        for k, p in enumerate(people)
        for number, values in BFI_EXTRAVERSION.items()
    )
    return study


@pytest.fixture
def admin(client, db):
    user = User.objects.create_user("adm", password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])
    client.force_login(user)
    return client


def test_study_page_shows_too_few_instead_of_alpha(admin, two_person_study):
    page = admin.get(reverse("benchmark:study", args=[two_person_study.slug])).content.decode()
    assert "too few: n = 2 of 20" in page
    assert "0.889" not in page
    assert "too few respondents: n = 2, at least 20 needed" in page  # the reason, on hover


def test_run_reports_no_pair_from_two_raters(admin, two_person_study):
    run = recompute_now(study=two_person_study)
    assert run.rows.filter(r__gt=0.3).exists()  # stored: the computation itself is kept
    response = admin.get(reverse("benchmark:run", args=[two_person_study.slug, run.pk]))
    page = response.content.decode()
    assert response.context["selected_pairs"] == 0
    assert response.context["withheld_pairs"] == run.rows.count()
    assert "0 reported pairs with r &gt; 0.3" in page
    assert "fewest n = 2, the study's minimum is 20" in page
    heatmap = json.loads(page.split('id="heatmap-data" type="application/json">')[1].split("<")[0])
    assert all(v is None for row in heatmap["z"] for v in row)


def test_freezing_from_two_raters_is_refused_with_the_reason(admin, two_person_study):
    run = recompute_now(study=two_person_study)
    with pytest.raises(TooFewToSelect, match=r"fewer than 20 raters \(fewest: n = 2\)"):
        create_item_set(run=run, rule=SelectionRule(threshold=0.3), name="demo-set")
    response = admin.post(
        reverse("benchmark:create_item_set", args=[two_person_study.slug]),
        {"run": run.pk, "threshold": 0.3, "mode": "pos", "families": ["schwartz"]},
        follow=True,
    )
    assert "refused: the rule would select" in response.content.decode()
    api = admin.post(
        "/api/v1/item-sets/",
        {"run": run.pk, "threshold": 0.3, "mode": "pos"},
        content_type="application/json",
    )
    assert api.status_code == 400 and "fewer than 20 raters" in api.json()["detail"]
    assert not ValidatedItemSet.objects.exists()


def test_lowering_the_minimum_allows_freezing(two_person_study):
    """The minimum is the study's to set: at 2 raters the same rule freezes."""
    run = recompute_now(study=two_person_study)
    StudyAnalysisSettings.objects.create(study=two_person_study, min_raters_per_pair=2)
    item_set = create_item_set(run=run, rule=SelectionRule(threshold=0.3), name="demo-set")
    assert item_set.entries.exists()


def test_raters_needed_never_prints_nan(admin, two_person_study):
    recompute_now(study=two_person_study)
    page = admin.get(reverse("benchmark:raters_needed", args=[two_person_study.slug]))
    text = page.content.decode()
    assert "nan" not in text.lower().replace("nanoseconds", "")
    assert "too few: n = 2 of 4" in text and "Fisher z needs more than 3 raters" in text


def test_api_rows_give_null_with_a_reason(admin, two_person_study):
    run = recompute_now(study=two_person_study)
    rows = admin.get(f"/api/v1/correlation-runs/{run.pk}/rows/").json()["results"]
    assert rows and all(row["r"] is None and row["p"] is None for row in rows)
    assert rows[0]["n"] == 2
    assert rows[0]["r_reason"].startswith("too few raters: n = 2, at least 20 needed")


def test_exports_leave_r_empty_and_say_why(admin, two_person_study):
    run = recompute_now(study=two_person_study)
    csv = admin.get(
        reverse("benchmark:download_run", args=[two_person_study.slug, run.pk, "csv"])
    ).content.decode()
    header, first = csv.splitlines()[:2]
    assert header.endswith(",family,r_reason")
    assert ",,,2," in first and "too few raters: n = 2" in first
    data = json.loads(
        admin.get(
            reverse("benchmark:download_run", args=[two_person_study.slug, run.pk, "json"])
        ).content
    )
    assert all(c["r"] is None for c in data["correlations"])
    assert all(item["best_value"] is None for item in data["items"])


def test_item_set_reliability_below_the_minimum_is_too_few(admin, small_study):
    """13 counted raters: enough for the fixture's pair minimum (10), not for α at 20."""
    StudyAnalysisSettings.objects.filter(study=small_study).update(min_reliability_respondents=20)
    run = recompute_now(study=small_study)
    item_set = create_item_set(run=run, rule=SelectionRule(threshold=0.0), name="small")
    reliability = next(iter(item_set.reliability.values()))
    block = reliability["blocks"][0]
    n = block["n"]
    assert 10 <= n < 20 and block["alpha"]["too_few"] and block["ci_low"] is None
    assert all(v["too_few"] for v in reliability["corrected_item_total"].values())
    assert reliability["standardised_alpha"]["too_few"]
    page = admin.get(reverse("benchmark:item_set", args=[small_study.slug, item_set.pk]))
    assert f"too few: n = {n} of 20" in page.content.decode()
    api = admin.get(f"/api/v1/item-sets/{item_set.pk}/").json()
    api_block = next(iter(api["reliability"].values()))["blocks"][0]
    assert api_block["alpha"] is None
    assert api_block["alpha_reason"].startswith(f"too few respondents: n = {n}")


def test_commands_export_too_few_and_refuse_to_freeze(two_person_study, tmp_path):
    recompute_now(study=two_person_study)
    target = tmp_path / "corr.csv"
    call_command(
        "export_correlations", "--study", two_person_study.slug, "--format", "csv",
        "--out", str(target), stdout=StringIO(),
    )  # fmt: skip
    rows = list(csv.DictReader(target.open()))
    assert rows and all(row["r"] == "" and row["n"] == "2" for row in rows)
    assert all(row["r_reason"].startswith("too few raters: n = 2") for row in rows)
    with pytest.raises(CommandError, match="fewer than 20 raters"):
        call_command(
            "export_items", "--study", two_person_study.slug, "--threshold", "0.3",
            "--mode", "pos", "--format", "csv", "--out", str(tmp_path / "items.csv"),
            stdout=StringIO(),
        )  # fmt: skip
    assert not ValidatedItemSet.objects.exists()
