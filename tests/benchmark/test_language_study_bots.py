"""End to end: a study in English and German taken by bot participants through the real
pages, then correlation runs per language and the comparison page, checked against scipy."""

from __future__ import annotations

import random

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from scipy import stats

from benchmark.models import CorrelationRun, StudyAnalysisSettings
from core.roles import RESEARCHERS_GROUP
from survey.models import ItemRating, ItemTranslation, Participant, ParticipantScore
from survey.services.instruments import ensure_instrument
from tests.survey.bots import SurveyBot
from tests.survey.study_setup import make_study

pytestmark = pytest.mark.django_db
BOTS_PER_LANGUAGE = 12


def two_language_study():
    """English (its own) and German; 5 items, the fifth with only a German machine draft
    (never shown to German participants); PVQ-21 and BFI-10 in both languages."""
    study = make_study(
        n_items=5,
        items_per_participant=5,
        target_ratings_per_item=100,
        attention_check_count=0,
        language="en",
        languages=["de"],
    )
    study.instruments.add(ensure_instrument("pvq21", "de"), ensure_instrument("bfi10", "de"))
    items = list(study.item_pool.order_by("pk"))
    for k, item in enumerate(items):
        draft = k == 4
        ItemTranslation.objects.create(
            item=item,
            language="de",
            scenario_title=f"Titel {k}",
            scenario_text=f"Szenario {k} auf Deutsch",
            response=f"Antwort {k} auf Deutsch",
            status="machine_draft" if draft else "reviewed",
            reviewed_at=None if draft else timezone.now(),
        )
    # A small study: correlations from 10 raters are reported (the default minimum is 20).
    StudyAnalysisSettings.objects.create(study=study, min_raters_per_pair=10)
    return study, items


def spearman(study, item, language, dimension="Power"):
    people = Participant.objects.filter(study=study, status="completed").in_language(language)
    rated = dict(
        ItemRating.objects.filter(item=item, participant__in=people).values_list(
            "participant_id", "rating"
        )
    )
    score = dict(
        ParticipantScore.objects.filter(participant_id__in=rated, dimension=dimension).values_list(
            "participant_id", "score"
        )
    )
    ids = sorted(rated)
    if len(ids) < 3:
        return float("nan"), len(ids)
    return stats.spearmanr([rated[i] for i in ids], [score[i] for i in ids]).statistic, len(ids)


def test_bots_in_two_languages_give_per_language_runs_and_the_comparison_page(client):
    study, items = two_language_study()
    for language in ("en", "de"):
        for k in range(BOTS_PER_LANGUAGE):
            bot = SurveyBot(study.slug, rng=random.Random(f"{language}{k}"))
            bot.arrive(
                PROLIFIC_PID=f"PID-{language}-{k}", STUDY_ID="S", SESSION_ID="A", lang=language
            )
            bot.consent()
            bot.demographics()
            if language == "de" and bot.page == "item":
                assert bot.context["item_text"].endswith("auf Deutsch")
            assert bot.run_to_end() == "done"
    completed = Participant.objects.filter(study=study, status="completed")
    assert completed.filter(language="de").count() == BOTS_PER_LANGUAGE
    assert completed.filter(language="en").count() == BOTS_PER_LANGUAGE
    # German participants never saw the untranslated fifth item
    assert not ItemRating.objects.filter(item=items[4], participant__language="de").exists()

    call_command("recompute_correlations", "--study", study.slug, "--per-language")
    runs = {r.language: r for r in CorrelationRun.objects.filter(study=study, status="done")}
    assert set(runs) == {"en", "de", ""}
    assert runs["en"].n_participants == runs["de"].n_participants == BOTS_PER_LANGUAGE
    assert runs[""].n_participants == 2 * BOTS_PER_LANGUAGE
    for item in items:
        for language in ("en", "de"):
            expected, n = spearman(study, item, language)
            row = runs[language].rows.get(item=item, dimension="Power")
            assert row.n == n
            if n >= 3:
                assert row.r == pytest.approx(expected, abs=1e-12)
    assert runs["de"].rows.get(item=items[4], dimension="Power").n == 0

    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    page = client.get(
        reverse("benchmark:languages", args=[study.slug]),
        {"a": "en", "b": "de", "dimension": "Power", "threshold": "0.3", "mode": "abs"},
    )
    assert page.status_code == 200
    rows = {row["code"]: row for row in page.context["rows"]}
    assert len(rows) == 5
    html = page.content.decode()
    for item in items[:4]:
        row = rows[f"{item.scenario.external_id}/{item.option_id}"]
        r_en, n_en = spearman(study, item, "en")
        r_de, n_de = spearman(study, item, "de")
        assert [c["n"] for c in row["cells"]] == [n_en, n_de] == [12, 12]
        assert row["cells"][0]["r"] == pytest.approx(r_en, abs=1e-12)
        assert row["cells"][1]["r"] == pytest.approx(r_de, abs=1e-12)
        z = (np.arctanh(r_en) - np.arctanh(r_de)) / np.sqrt(2 * 1.06 / (12 - 3))
        assert row["z"] == pytest.approx(z, rel=1e-9)
        assert row["p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        assert f"{r_en:.3f}" in html and f"{z:.2f}" in html
        selected = [abs(r_en) > 0.3, abs(r_de) > 0.3]
        assert [c["selection"] == "selected" for c in row["cells"]] == selected
        assert row["selection_differs"] == (selected[0] != selected[1])
    untranslated = rows[f"{items[4].scenario.external_id}/{items[4].option_id}"]
    assert str(untranslated["cells"][1]["r"]) == "too few: n = 0 of 10"
    assert str(untranslated["z"]) == "too few: n = 0 of 10"
    assert "too few: n = 0 of 10" in html
