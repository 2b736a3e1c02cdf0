"""Chance estimates of item sets valid in all languages: per language run, the bound on
the pairs kept in all of them, and the pages that show them (or say why not)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import escape

from benchmark.estimates import estimate_chance, store_run_chance
from benchmark.selection import SelectionRule
from benchmark.services import create_item_set, recompute_now
from core.roles import RESEARCHERS_GROUP
from survey.instruments import dimensions as dims
from tests.benchmark.test_languages import build_two_language_study

pytestmark = pytest.mark.django_db
RULE = SelectionRule(threshold=0.3, families=(dims.SCHWARTZ,))


@pytest.fixture
def frozen():
    study, items = build_two_language_study()
    runs = {language: recompute_now(study=study, language=language) for language in ("en", "de")}
    pooled = recompute_now(study=study)
    item_set = create_item_set(
        run=pooled, rule=RULE, name="in-all", languages=["en", "de"], chance_permutations=40
    )
    return study, runs, pooled, item_set


def test_each_language_run_gets_its_own_estimate_and_the_set_a_bound(frozen):
    _, runs, pooled, item_set = frozen
    stored = item_set.chance["languages"]
    assert set(stored["per_language"]) == {"en", "de"}
    means = {}
    for language, run in runs.items():
        entry = stored["per_language"][language]
        assert entry["run"] == run.pk
        # the same estimate as made directly on that language's run with the set's rule
        direct = estimate_chance(run=run, rule=RULE, n_permutations=40)
        assert entry["expected_chance_selections"] == direct["expected_chance_selections"]
        assert entry["selected"] == direct["selected"] > 0
        means[language] = entry["expected_chance_selections"]["mean"]
    in_all = stored["in_all_languages"]
    kept = item_set.entries.count()
    assert in_all["kept"] == kept and 0 < kept < item_set.chance["selected"]
    assert in_all["expected_chance_at_most"] == min(means.values())
    assert in_all["share_at_most"] == pytest.approx(min(means.values()) / kept, abs=1e-3)
    # the base run's estimate stays what it was: the pooled run's own selection
    assert item_set.chance["expected_chance_selections"]["permutations"] == 40
    base = estimate_chance(run=pooled, rule=RULE, n_permutations=40)
    assert item_set.chance["expected_chance_selections"] == base["expected_chance_selections"]


def test_a_set_of_one_run_has_no_language_estimates(frozen):
    _, runs, _, _ = frozen
    alone = create_item_set(run=runs["en"], rule=RULE, name="en-only", chance_permutations=10)
    assert "languages" not in alone.chance


@pytest.fixture
def researcher(client):
    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    return client


def test_the_item_set_page_shows_the_estimate_per_language(frozen, researcher):
    study, runs, pooled, item_set = frozen
    page = researcher.get(reverse("benchmark:item_set", args=[study.slug, item_set.pk]))
    html = page.content.decode()
    lines = page.context["language_chance"]["per_language"]
    assert [(line["language"], line["run"]) for line in lines] == [
        ("de", runs["de"].pk),
        ("en", runs["en"].pk),
    ]
    for line in lines:
        assert (
            escape(line["text"]) in html and "permutations of whole value profiles" in line["text"]
        )
    bound = item_set.chance["languages"]["in_all_languages"]["expected_chance_at_most"]
    assert f"pairs kept in all languages; at most {bound:.1f} of them expected by chance" in html
    assert f"On run #{pooled.pk} alone (before keeping only the pairs valid in all" in html


def test_the_languages_page_shows_each_runs_stored_estimate_and_says_why_not_the_rule(
    frozen, researcher
):
    study, runs, _, _ = frozen
    store_run_chance(run=runs["de"], n_permutations=10, n_splits=2)
    page = researcher.get(
        reverse("benchmark:languages", args=[study.slug]), {"threshold": "0.25", "mode": "abs"}
    )
    html = page.content.decode()
    chance = {language: line["text"] for language, _, line in page.context["run_chance"]}
    assert "expected by chance over 10 permutations" in chance["de"]
    assert chance["en"] == "Chance estimate: not made yet."
    assert escape(chance["de"]) in html and escape(chance["en"]) in html
    assert "It is not an estimate for the rule chosen above (r abs 0.25)" in html
    assert "this page computes none" in html
