"""The participant pages in the study's language: the link's ``?lang=``, the language kept
from consent to the end, the study's own texts per language, errors, ``lang`` and ``dir``."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from survey.models import ItemTranslation, Participant, Scenario
from survey.services.instruments import ensure_instrument

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def html_lang(bot: SurveyBot) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', bot.html)
    return match.group(1), match.group(2)


def offered_in(study, languages: list[str], codes: tuple[str, ...]):
    """``study`` servable in ``languages``: its instruments worded in each (the project's
    placeholders) and a reviewed translation of each pool item into each but English."""
    study.instruments.set([ensure_instrument(c, lang) for c in codes for lang in languages])
    for language in languages:
        if language != "en":
            ItemTranslation.objects.bulk_create(
                ItemTranslation(
                    item=item,
                    language=language,
                    scenario_text=f"Szenario {item.pk} ({language})",
                    response=f"Antwort {item.pk} ({language})",
                    status=ItemTranslation.Status.REVIEWED,
                    reviewed_at=timezone.now(),
                )
                for item in study.item_pool.all()
            )
    return study


def german_study(instruments: tuple[str, ...] = ("pvq21", "bfi10"), **fields):
    study = make_study(
        language="en",
        languages=["de", "ko"],
        consent_text="Taking part is voluntary.",
        translations={
            "de": {"title": "Werte-Studie", "consent_text": "Die Teilnahme ist freiwillig."}
        },
        instruments=(),
        **fields,
    )
    return offered_in(study, ["en", "de", "ko"], instruments)


def test_a_link_with_lang_shows_the_consent_page_in_that_language_and_records_it():
    study = german_study()
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-DE", STUDY_ID="S", SESSION_ID="A", lang="de")
    assert html_lang(bot) == ("de", "ltr")
    assert "Ich stimme der Teilnahme zu" in bot.html and "I agree to take part" not in bot.html
    assert "Werte-Studie" in bot.html and "Die Teilnahme ist freiwillig." in bot.html
    assert bot.last["Content-Language"] == "de"
    # the language choice keeps Prolific's parameters
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"', bot.html)
    assert {code for _, code in links} == {"en", "ko"}
    assert all("PROLIFIC_PID=PID-DE" in url and "SESSION_ID=A" in url for url, _ in links)
    bot.consent()
    assert Participant.objects.get().language == "de"
    assert html_lang(bot) == ("de", "ltr") and "Über Sie" in bot.html


def test_the_language_stays_the_participants_from_consent_to_the_end():
    study = german_study(attention_check_count=1, instruments=("bfi10",))
    assert study.refusal_reason() is None
    bot = SurveyBot(study.slug)
    bot.arrive(participant_id="panel-1", lang="de")
    bot.consent()
    bot.demographics()
    # a browser asking for English (and a link asking for Korean) changes nothing now
    bot.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    bot.arrive(participant_id="panel-1", lang="ko")
    seen_check = False
    while bot.page == "item":
        assert html_lang(bot) == ("de", "ltr")
        assert "sehr wie ich" in bot.html and "very much like me" not in bot.html
        if bot.context["is_attention_check"]:
            seen_check = True
            assert "Dies ist eine Aufmerksamkeitsprüfung" in bot.context["check_text"]
            assert "„überhaupt nicht wie ich“" in bot.context["check_text"] or "„" in bot.html
        else:
            assert "Wie ähnlich ist diese Antwort Ihren eigenen Gedanken?" in bot.html
        bot.answer_current_item()
    assert seen_check
    assert bot.page == "questionnaire" and html_lang(bot) == ("de", "ltr")
    assert "stimme voll und ganz zu" in bot.html and "Seite 1 von" in bot.html
    assert bot.run_to_end() == "done"
    assert "Vielen Dank!" in bot.html and "Weiter zu Prolific" in bot.html
    assert Participant.objects.get().language == "de"


def test_the_item_page_stays_one_read_in_another_language():
    study = german_study()
    bot = SurveyBot(study.slug)
    bot.arrive(participant_id="panel-2", lang="de")
    bot.consent()
    bot.demographics()
    url = bot.path
    with CaptureQueriesContext(connection) as queries:
        response = bot.client.get(url)
    assert response.status_code == 200 and 'lang="de"' in response.content.decode()
    statements = [q["sql"] for q in queries.captured_queries if "django_session" not in q["sql"]]
    # the page's one read (its first showing was noted when the bot was sent there)
    assert len(statements) == 1, statements


def test_a_language_the_study_does_not_offer_falls_back_to_the_study_language():
    study = german_study()
    bot = SurveyBot(study.slug)
    bot.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    bot.arrive(participant_id="panel-3", lang="fr")
    assert html_lang(bot) == ("en", "ltr") and "I agree to take part" in bot.html
    bot.consent()
    assert Participant.objects.get().language == "en"


def test_refusals_speak_the_participants_language():
    study = german_study()
    bot = SurveyBot(study.slug)
    bot.arrive(participant_id="panel-4", lang="de")
    bot.consent()
    bot.demographics()
    here = bot.form["here"]
    response = bot.client.post(
        f"/s/{study.slug}/item/{here.position}/", {"token": bot.token(), "value": "9"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Das hat leider nicht geklappt" in page and 'lang="de"' in page
    response = bot.client.post(
        f"/s/{study.slug}/answer/",
        {"token": bot.token(), "position": here.position, "value": "9"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Die Antwort muss zwischen 1 und 6 liegen")


def test_a_right_to_left_study_is_mirrored():
    study = make_study(language="ar", attention_check_count=0, instruments=())
    Scenario.objects.update(language="ar")  # the items are written in Arabic
    bot = SurveyBot(study.slug)
    bot.arrive(participant_id="panel-5")
    assert html_lang(bot) == ("ar", "rtl") and "أوافق على المشاركة" in bot.html
    assert bot.run_to_end() == "done"
    assert html_lang(bot) == ("ar", "rtl") and "شكرًا لك!" in bot.html


def test_the_shipped_attention_check_wording_is_translated_and_a_studys_own_is_used():
    study = make_study(
        language="en",
        languages=["de"],
        attention_check_wording="Pick {label} now.",
        translations={"de": {"attention_check_wording": "Wählen Sie jetzt {label}."}},
    )
    assert study.attention_check_text(6, "de") == "Wählen Sie jetzt sehr wie ich."
    assert study.attention_check_text(6, "en") == "Pick very much like me now."
    default = make_study(language="ko")
    assert "“나와 매우 비슷하다”" in default.attention_check_text(6)


def test_a_study_may_word_the_scale_itself_per_language():
    own = ["nie", "selten", "manchmal", "oft", "meist", "immer"]
    study = make_study(
        language="de",
        attention_check_count=1,
        instruments=(),
        translations={"de": {"scale_labels": own}},
    )
    Scenario.objects.update(language="de")
    assert study.attention_check_text(6) == study.attention_check_text(6, "de")
    assert "„immer“" in study.attention_check_text(6)
    bot = SurveyBot(study.slug)
    bot.arrive(participant_id="panel-6")
    bot.consent()
    bot.demographics()
    assert [label for _, label in bot.context["scale"]] == own
    assert "sehr wie ich" not in bot.html
