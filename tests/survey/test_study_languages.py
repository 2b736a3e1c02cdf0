"""A study in another language: only items with a reviewed translation are served, the item
page shows the translation (still one read), questionnaires are worded in the language."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import RESEARCHERS_GROUP
from survey import errors
from survey.instruments.wording import WordingError
from survey.models import Assignment, InstrumentResponse, ItemTranslation, Participant, Study
from survey.services.enrolment import Arrival, consent
from survey.services.instruments import (
    ensure_instrument,
    placeholder_path,
    read_wording_file,
    store_wording,
)

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def translate(items, language: str, *, status: str = "reviewed") -> None:
    reviewer = get_user_model().objects.get_or_create(username="reviewer")[0]
    for item in items:
        ItemTranslation.objects.create(
            item=item,
            language=language,
            scenario_title=f"[{language}] Titel {item.pk}",
            scenario_text=f"[{language}] Szenario {item.pk}",
            response=f"[{language}] Antwort {item.pk}",
            status=status,
            reviewed_by=None if status == "machine_draft" else reviewer,
            reviewed_at=None if status == "machine_draft" else timezone.now(),
        )


def german_study(**fields):
    """A study in German with 8 pool items: 5 reviewed German translations, 2 drafts, 1 none."""
    study = make_study(n_items=8, language="de", **fields)
    study.instruments.set([ensure_instrument(c, "de") for c in ("pvq21", "bfi10")])
    items = list(study.item_pool.order_by("pk"))
    translate(items[:5], "de")
    translate(items[5:7], "de", status="machine_draft")
    return study, items


def test_a_german_study_serves_only_reviewed_translations_and_shows_them():
    study, items = german_study(items_per_participant=8, target_ratings_per_item=1)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-DE", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    participant = Participant.objects.get()
    assert participant.language == "de"
    assigned = set(
        participant.assignments.filter(kind=Assignment.Kind.ITEM).values_list("item_id", flat=True)
    )
    assert assigned == {item.pk for item in items[:5]}  # not the drafts, not the untranslated
    bot.demographics()
    while bot.page == "item":
        if not bot.context["is_attention_check"]:
            assert bot.context["item_text"].startswith("[de] Antwort ")
            assert bot.context["scenario_text"].startswith("[de] Szenario ")
            assert bot.context["scenario_title"].startswith("[de] Titel ")
        bot.answer_current_item()
    assert bot.page == "questionnaire"
    assert bot.context["instrument"].language == "de"
    assert bot.context["questions"][0]["text"].startswith("[Platzhalter-Wortlaut] PVQ-21 1:")
    assert bot.run_to_end() == "done"
    answered = InstrumentResponse.objects.filter(participant=participant)
    assert answered.count() == 31
    assert set(answered.values_list("instrument__language", flat=True)) == {"de"}
    participant.refresh_from_db()
    assert participant.status == "completed" and participant.scores.count() > 0


def test_the_translated_item_page_is_still_one_read():
    study, _ = german_study(items_per_participant=3, attention_check_count=0)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-READ", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    bot.demographics()
    bot.get(f"/s/{study.slug}/item/1/")  # the first showing (a write) is done
    with CaptureQueriesContext(connection) as queries:
        response = bot.client.get(f"/s/{study.slug}/item/1/")
    assert response.status_code == 200
    assert len(queries) == 2, [q["sql"][:80] for q in queries]  # the session, the page
    assert response.context_data["item_text"].startswith("[de] Antwort ")


def test_each_language_has_its_own_load_and_the_other_languages_items():
    study, items = german_study(items_per_participant=4, target_ratings_per_item=1)
    study.languages = ["en"]  # offered: de (its own), en (the items' source language)
    study.instruments.add(ensure_instrument("pvq21"), ensure_instrument("bfi10"))
    study.save()
    rng = np.random.default_rng(1)
    german = consent(
        study=study, arrival=Arrival("G1", "link", language="de"), agreed=True, rng=rng
    )
    english = consent(
        study=study, arrival=Arrival("E1", "link", language="en"), agreed=True, rng=rng
    )

    def assigned(participant):
        rated = participant.assignments.filter(kind=Assignment.Kind.ITEM)
        return set(rated.values_list("item_id", flat=True))

    english_items, german_items = assigned(english), assigned(german)
    assert (german.language, english.language) == ("de", "en")
    assert german_items <= {item.pk for item in items[:5]}
    assert len(english_items) == 4  # the English participant's load ignores German leases
    now = timezone.now()
    ids, loads = study.item_loads(now=now, language="de")
    assert ids == [item.pk for item in items[:5]] and sum(loads) == 4
    ids, loads = study.item_loads(now=now, language="en")
    assert len(ids) == 8 and sum(loads) == 4
    assert [i.language for i in german.instruments()] == ["de", "de"]
    assert [i.language for i in english.instruments()] == ["en", "en"]


def test_a_language_without_reviewed_items_or_wording_is_refused():
    study, items = german_study()
    ItemTranslation.objects.update(status="machine_draft", reviewed_at=None)
    with pytest.raises(errors.StudyClosed, match="no items that can be shown in 'de'"):
        consent(study=study, arrival=Arrival("G2", "link"), agreed=True)
    study.languages = ["ko"]
    study.save()
    study = Study.objects.get(pk=study.pk)  # instruments are read once per instance
    assert study.instrument_gaps() == ["bfi10 in 'ko'", "pvq21 in 'ko'"]
    assert "no wording in one of its languages" in study.refusal_reason()
    study.instruments.add(ensure_instrument("pvq21", "ko"), ensure_instrument("bfi10", "ko"))
    study = Study.objects.get(pk=study.pk)
    assert study.instrument_gaps() == [] and study.refusal_reason() is None
    with pytest.raises(WordingError, match="no pvq21 wording in 'fr'"):
        ensure_instrument("pvq21", "fr")


def test_the_study_page_shows_how_many_items_each_language_can_show(client):
    study, _ = german_study()
    study.languages = ["en"]
    study.save()
    user = get_user_model().objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    page = client.get(reverse("studies:detail", args=[study.slug]))
    assert page.status_code == 200
    assert page.context["coverage"] == {
        "de": {"pool": 8, "servable": 5, "drafts": 2},
        "en": {"pool": 8, "servable": 8, "drafts": 0},
    }
    assert "de: 5 of 8 can be shown (2 with an unreviewed draft)" in page.content.decode()
    # every language's questionnaires are listed (the German ones first: its own language)
    assert [(i.code, i.language) for i in page.context["instruments"]] == [
        ("pvq21", "de"),
        ("bfi10", "de"),
    ]


def test_a_wording_with_its_own_labels_shows_them_on_the_questionnaire():
    study, _ = german_study(items_per_participant=2, attention_check_count=0)
    german = read_wording_file(placeholder_path("bfi10", "de"), language="de")
    labels = ("stimme gar nicht zu", "eher nicht", "weder noch", "eher ja", "stimme voll zu")
    store_wording(wording=dataclasses.replace(german, response_labels=labels))
    study.instruments.set([ensure_instrument("bfi10", "de")])
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-LABELS", STUDY_ID="S", SESSION_ID="A")
    bot.consent()
    bot.demographics()
    while bot.page == "item":
        bot.answer_current_item()
    assert bot.page == "questionnaire"
    assert bot.context["scale"] == list(enumerate(labels, start=1))
