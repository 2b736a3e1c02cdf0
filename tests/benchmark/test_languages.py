"""Validation per language: runs restricted to a language, the comparison and its page,
and item sets valid in all of several languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from scipy import stats

from benchmark.estimates import _study_inputs, estimate_chance
from benchmark.language_comparison import NOT_SELECTED, SELECTED, TOO_FEW, compare_languages
from benchmark.models import CorrelationRun, StudyAnalysisSettings
from benchmark.selection import SelectionRule
from benchmark.selectors import full_correlation_frame, language_comparison, latest_computed_run
from benchmark.services import (
    freeze_item_set,
    recompute_now,
    request_recomputation,
    selected_items_reliability,
)
from core.roles import RESEARCHERS_GROUP
from survey.instruments import dimensions as dims
from survey.models import ItemRating, Participant, ParticipantScore
from tests.factories import ItemFactory, ParticipantFactory, StudyFactory

pytestmark = pytest.mark.django_db
POWER = dims.SCHWARTZ_VALUES.index("Power")


def build_two_language_study():
    """English (the study's language) and German, 30 raters each; item 0 follows Power in
    both languages, item 1 only in English, item 5 has 8 German raters (too few)."""
    rng = np.random.default_rng(11)
    items = [ItemFactory() for _ in range(6)]
    study = StudyFactory(items=items, language="en", languages=["de"])
    for language in ("en", "de"):
        # English participants recorded with no language: they count as the study's own.
        people = [
            ParticipantFactory(
                study=study, status="completed", language="" if language == "en" else "de"
            )
            for _ in range(30)
        ]
        scores = rng.normal(size=(30, 10))
        ParticipantScore.objects.bulk_create(
            ParticipantScore(participant=p, family=dims.SCHWARTZ, dimension=d, score=scores[i, j])
            for i, p in enumerate(people)
            for j, d in enumerate(dims.SCHWARTZ_VALUES)
        )
        ratings = []
        for i, p in enumerate(people):
            for j, item in enumerate(items):
                if language == "de" and j == 5 and i >= 8:
                    continue
                follows = j == 0 or (j == 1 and language == "en")
                signal = 1.6 * scores[i, POWER] if follows else 0
                value = int(np.clip(np.round(3.5 + signal + rng.normal()), 1, 6))
                ratings.append(ItemRating(participant=p, item=item, rating=value))
        ItemRating.objects.bulk_create(ratings)
    return study, items


def scipy_r(study, item, language):
    people = Participant.objects.filter(study=study).in_language(language)
    rated = dict(
        ItemRating.objects.filter(item=item, participant__in=people).values_list(
            "participant_id", "rating"
        )
    )
    power = dict(
        ParticipantScore.objects.filter(participant_id__in=rated, dimension="Power").values_list(
            "participant_id", "score"
        )
    )
    ids = sorted(rated)
    return stats.spearmanr([rated[i] for i in ids], [power[i] for i in ids]).statistic, len(ids)


def r_of(run, item, dimension="Power"):
    row = run.rows.get(item=item, dimension=dimension)
    return row.r, row.n


def test_a_run_restricted_to_a_language_uses_only_its_participants():
    study, items = build_two_language_study()
    german = recompute_now(study=study, language="de")
    english = recompute_now(study=study, language="en")
    pooled = recompute_now(study=study)
    assert (german.language, english.language, pooled.language) == ("de", "en", "")
    assert (german.n_participants, english.n_participants, pooled.n_participants) == (30, 30, 60)
    for run, language in ((german, "de"), (english, "en")):
        for item in items:
            expected, n = scipy_r(study, item, language)
            r, stored_n = r_of(run, item)
            assert stored_n == n and r == pytest.approx(expected, abs=1e-12)
    assert r_of(german, items[5])[1] == 8 and r_of(pooled, items[5])[1] == 38
    assert r_of(english, items[0])[0] > 0.4 and r_of(german, items[0])[0] > 0.4
    assert r_of(english, items[1])[0] > 0.4 and abs(r_of(german, items[1])[0]) < 0.3
    # "latest" means the pooled run unless a language is named
    assert latest_computed_run(study=study) == pooled
    assert latest_computed_run(study=study, language="de") == german
    with pytest.raises(ValueError, match="not offered in 'ko'"):
        request_recomputation(study=study, language="ko", enqueue=False)


def test_comparison_states_test_and_page(client):
    study, items = build_two_language_study()
    recompute_now(study=study, language="en")
    recompute_now(study=study, language="de")
    rule = SelectionRule(threshold=0.3, families=(dims.SCHWARTZ,))
    compared = language_comparison(
        study=study, languages=["en", "de"], rule=rule, pair=("en", "de")
    )
    table = compared["table"].set_index(["item_id", "dimension"])
    assert compared["required"] == 20
    first, second, thin = (table.loc[(items[k].pk, "Power")] for k in (0, 1, 5))
    assert (first["state_en"], first["state_de"]) == (SELECTED, SELECTED)
    assert not first["selection_differs"]
    assert (second["state_en"], second["state_de"]) == (SELECTED, NOT_SELECTED)
    assert second["selection_differs"]
    assert thin["state_de"] == TOO_FEW and np.isnan(thin["r_de"]) and np.isnan(thin["z"])
    # the z test by hand on the stored r and n
    r_en, n_en = scipy_r(study, items[1], "en")
    r_de, n_de = scipy_r(study, items[1], "de")
    z = (np.arctanh(r_en) - np.arctanh(r_de)) / np.sqrt(1.06 / (n_en - 3) + 1.06 / (n_de - 3))
    assert second["z"] == pytest.approx(z, rel=1e-10)
    assert second["p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert second["p"] < 0.05

    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    page = client.get(
        reverse("benchmark:languages", args=[study.slug]),
        {"dimension": "Power", "a": "en", "b": "de"},
    )
    assert page.status_code == 200
    rows = {row["code"]: row for row in page.context["rows"]}
    code = lambda item: f"{item.scenario.external_id}/{item.option_id}"  # noqa: E731
    assert [c["selection"] for c in rows[code(items[1])]["cells"]] == ["selected", "not selected"]
    assert rows[code(items[1])]["z"] == pytest.approx(z, rel=1e-10)
    withheld = rows[code(items[5])]
    assert str(withheld["cells"][1]["r"]) == "too few: n = 8 of 20"
    assert str(withheld["z"]) == "too few: n = 8 of 20"
    html = page.content.decode()
    assert "too few: n = 8 of 20" in html
    assert code(items[1]) in [row["code"] for row in page.context["differing"]]
    assert f"{z:.2f}" in html
    # A language, dimension or rule the form does not take: the form with its error, a 400.
    for bad in ({"a": "fr"}, {"dimension": "Astrology"}, {"threshold": "high"}, {"a": "de"}):
        refused = client.get(reverse("benchmark:languages", args=[study.slug]), bad)
        assert refused.status_code == 400 and refused.context["form"].errors


def test_comparison_page_says_what_is_missing(client):
    study, _ = build_two_language_study()
    recompute_now(study=study, language="de")
    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    page = client.get(reverse("benchmark:languages", args=[study.slug]))
    assert page.status_code == 200
    assert "only de has one" in page.content.decode()
    assert page.context.get("rows") is None
    # The method is declared by the form: an unknown one is a 400, an empty one Spearman.
    url = reverse("benchmark:languages", args=[study.slug])
    refused = client.get(url, {"method": "kendal"})
    assert refused.status_code == 400
    assert "Unknown method &#x27;kendal&#x27;: choose one of spearman, pearson." in (
        refused.content.decode()
    )
    assert client.get(url, {"method": ""}).context["method"] == "spearman"


def test_item_set_valid_in_all_languages_keeps_only_pairs_selected_in_each():
    study, items = build_two_language_study()
    german = recompute_now(study=study, language="de")
    english = recompute_now(study=study, language="en")
    pooled = recompute_now(study=study)
    both = freeze_item_set(
        run=pooled, threshold=0.3, families=[dims.SCHWARTZ], languages=["en", "de"]
    )
    alone = freeze_item_set(run=english, threshold=0.3, families=[dims.SCHWARTZ])
    power_items = lambda s: set(  # noqa: E731
        s.entries.filter(dimension="Power").values_list("item_id", flat=True)
    )
    assert items[1].pk in power_items(alone) and items[0].pk in power_items(alone)
    assert items[0].pk in power_items(both) and items[1].pk not in power_items(both)
    assert both.rule["valid_in_languages"] == {"en": english.pk, "de": german.pk}
    assert both.name.endswith("-en-de")
    # every kept pair is selected in each language's own run
    for entry in both.entries.all():
        for run in (english, german):
            assert run.rows.get(item=entry.item, dimension=entry.dimension).r > 0.3
    CorrelationRun.objects.filter(language="de").delete()
    with pytest.raises(ValueError, match="no finished spearman run restricted to de"):
        freeze_item_set(run=pooled, threshold=0.3, languages=["de"])


def test_recompute_command_per_language(capsys):
    study, _ = build_two_language_study()
    call_command("recompute_correlations", "--study", study.slug, "--per-language")
    out = capsys.readouterr().out
    assert "language en:" in out and "language de:" in out
    languages = sorted(study.correlation_runs.values_list("language", flat=True))
    assert languages == ["", "de", "en"]


def test_compare_languages_on_a_small_frame():
    def frame(r, n):
        return pd.DataFrame(
            {
                "item_id": [1, 2],
                "scenario_external_id": ["1", "2"],
                "option_id": [1, 1],
                "family": ["schwartz", "schwartz"],
                "dimension": ["Power", "Power"],
                "r": r,
                "n": n,
            }
        )

    table = compare_languages(
        {"en": frame([0.5, 0.4], [50, 50]), "ko": frame([0.1, 0.9], [50, 5])},
        rule=SelectionRule(threshold=0.3),
        required=20,
        pair=("en", "ko"),
    )
    assert table["state_ko"].tolist() == [NOT_SELECTED, TOO_FEW]
    assert table["selection_differs"].tolist() == [True, False]
    assert np.isnan(table["r_ko"][1]) and np.isnan(table["p"][1])
    assert table["p_bh"][0] == table["p"][0]  # one test: nothing to adjust


def test_reliability_and_chance_of_a_language_run_use_its_raters_only():
    study, items = build_two_language_study()
    StudyAnalysisSettings.objects.create(
        study=study, min_raters_per_pair=10, min_reliability_respondents=10
    )
    german = recompute_now(study=study, language="de")
    frame = full_correlation_frame(run=german)
    power = frame[
        (frame["dimension"] == "Power") & frame["item_id"].isin([i.pk for i in items[:4]])
    ]
    by_language = {
        language: selected_items_reliability(study=study, selected=power, language=language)
        for language in ("de", "")
    }
    assert [b["n"] for b in by_language["de"]["Power"]["blocks"]] == [30]
    assert [b["n"] for b in by_language[""]["Power"]["blocks"]] == [60]
    # the chance estimate permutes the German raters' profiles only
    assert len(_study_inputs(german).participant_ids) == 30
    chance = estimate_chance(run=german, rule=SelectionRule(threshold=0.3), n_permutations=5)
    assert chance["expected_chance_selections"]["permutations"] == 5
