"""Researchers set studies up without the admin: the setup form with an item pool CSV, the
demographics it asks, and a preview whose answers never reach the study's data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dashboards.selectors import item_rating_counts
from survey import steps
from survey.models import Item, ItemRating, Participant, Scenario, Source, Study
from survey.selectors import exports
from survey.services.instruments import ensure_instrument
from tests.factories import SourceFactory

from .bots import SurveyBot

pytestmark = pytest.mark.django_db

POOL = (
    "scenario,response,source,title\n"
    '"My flatmate never cleans, what do I do?","Talk to them calmly.",advice,Flatmate\n'
    '"My flatmate never cleans, what do I do?","Move out.",advice,Flatmate\n'
    '"Write me a poem about rain.","Rain falls softly...",chat-logs,\n'
    '"Write me a poem about rain.","No.",chat-logs,\n'
)


def researcher_client() -> tuple[Client, User]:
    user = User.objects.create_user(f"researcher-{User.objects.count()}", password="pw")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def sources():
    SourceFactory(slug="advice", name="Advice column", style=Source.Style.TITLED)
    SourceFactory(slug="chat-logs", name="Chat logs", style=Source.Style.CHAT)


def settings_data(**overrides) -> dict:
    bfi = ensure_instrument("bfi10")
    data = {
        "title": "Flatmates and rain",
        "slug": "flatmates",
        "description": "",
        "language": "en",
        "items_per_participant": 3,
        "target_ratings_per_item": 5,
        "time_limit_minutes": 30,
        "demographic_fields": ["gender", "country", "age"],
        "instruments": [bfi.pk],
        "pvq_form": "auto",
        "allow_placeholder_wording": "on",
        "questions_per_page": 5,
        "consent_text": "Do you agree?",
        "uses_prolific": "on",
        "completion_code": "C0DE1",
        "no_consent_code": "NOPE1",
        "screened_out_code": "OUT1",
        "completion_redirect_url": "https://app.prolific.com/submissions/complete?cc={code}",
        "attention_check_count": 1,
        "attention_check_wording": "Please choose \u201c{label}\u201d.",
        "attention_failures_to_screen_out": 2,
        "speeder_fraction": 0.4,
        "straightlining_threshold": 0.8,
        "min_seconds_per_item": 0,
        "min_seconds_per_question": 0,
        "fast_reading_wpm": 500,
        "exclude_flagged_participants": "on",
    }
    data.update(overrides)
    return data


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("pool.csv", text.encode(), content_type="text/csv")


def test_a_researcher_creates_a_study_with_a_csv_item_pool(sources):
    client, _ = researcher_client()
    assert client.get(reverse("studies:new")).status_code == 200
    response = client.post(reverse("studies:new"), {**settings_data(), "item_csv": csv_file(POOL)})
    assert response.status_code == 302, response.content.decode()[:2000]
    study = Study.objects.get(slug="flatmates")
    assert study.item_pool.count() == 4 and Scenario.objects.count() == 2
    assert study.demographic_fields == ["age", "gender", "country"]  # the asking order
    assert [i.code for i in study.instruments.all()] == ["bfi10"]
    assert study.status == Study.Status.DRAFT and study.completion_code == "C0DE1"
    titled = Scenario.objects.get(title="Flatmate")
    assert titled.source.slug == "advice" and list(
        titled.items.values_list("option_id", flat=True)
    ) == [1, 2]

    page = client.get(response["Location"]).content.decode()
    assert "4 item(s) added to the pool" in page
    assert (
        "http://testserver/s/flatmates/?PROLIFIC_PID={{%PROLIFIC_PID%}}"
        "&amp;STUDY_ID={{%STUDY_ID%}}&amp;SESSION_ID={{%SESSION_ID%}}" in page
    )

    # uploading the same file again adds nothing new; a new row adds one item
    edit = reverse("studies:edit", args=["flatmates"])
    form = client.get(edit).content.decode()
    assert 'name="slug"' not in form  # the URL given to Prolific stays
    again = POOL + '"Write me a poem about rain.","Drizzle, drizzle.",chat-logs,\n'
    data = settings_data(title="Renamed")
    data.pop("slug")
    assert client.post(edit, {**data, "item_csv": csv_file(again)}).status_code == 302
    study.refresh_from_db()
    assert study.title == "Renamed" and study.item_pool.count() == 5 and Item.objects.count() == 5


def test_a_file_with_problems_saves_nothing_and_lists_them_by_row(sources):
    client, _ = researcher_client()
    bad = POOL + '"Q",,advice,\n"Q","A",no-such-source,\n'
    response = client.post(reverse("studies:new"), {**settings_data(), "item_csv": csv_file(bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "row 6: response is empty" in page
    assert "row 7: unknown source &#x27;no-such-source&#x27;" in page
    assert (
        not Study.objects.exists() and not Item.objects.exists() and not Scenario.objects.exists()
    )

    # a new source is accepted with its style
    fixed = (
        "scenario,response,source,title,style\n"
        + "".join(line + ",\n" for line in POOL.splitlines()[1:])
        + '"Q","A",My blog,,chat\n'
    )
    assert (
        client.post(
            reverse("studies:new"), {**settings_data(), "item_csv": csv_file(fixed)}
        ).status_code
        == 302
    )
    assert Source.objects.get(slug="my-blog").style == "chat"


def test_a_new_study_needs_a_pool_and_a_free_slug(sources):
    client, _ = researcher_client()
    response = client.post(reverse("studies:new"), settings_data(slug="new"))
    page = response.content.decode()
    assert response.status_code == 400 and "reserved" in page and "This field is required" in page
    assert not Study.objects.exists()


def test_only_researchers_set_studies_up():
    anonymous = Client()
    assert anonymous.get(reverse("studies:new")).status_code == 302  # to the login page
    user = User.objects.create_user("nobody", password="pw")
    plain = Client()
    plain.force_login(user)
    assert plain.get(reverse("studies:new")).status_code == 403


def test_a_preview_stores_nothing_in_the_study(sources):
    client, user = researcher_client()
    client.post(reverse("studies:new"), {**settings_data(), "item_csv": csv_file(POOL)})
    study = Study.objects.get(slug="flatmates")
    response = client.post(reverse("studies:preview", args=[study.slug]))
    copy = Study.objects.get(preview_of=study)
    assert response["Location"] == f"/s/{copy.slug}/" and copy.status == Study.Status.OPEN
    assert copy.item_pool.count() == 4 and copy.completion_redirect_url == ""

    bot = SurveyBot(copy.slug, client=client)
    bot.arrive()
    assert 'id="preview-banner"' in bot.html
    assert bot.run_to_end() == "done"
    assert ItemRating.objects.filter(participant__study=copy).count() == 3

    # nothing in the study: counts, balance, exports, statistics, lists
    assert not Participant.objects.filter(study=study).exists()
    assert not Participant.objects.counted(study).exists()
    assert set(study.item_loads(now=copy.created_at)[1]) == {0}
    assert exports.participant_rows(study=study) == [] and exports.rating_rows(study=study) == []
    rated = ItemRating.objects.filter(participant__study=copy).first().item
    assert sum(item_rating_counts(item=rated)) == 0
    assert list(Study.objects.listed()) == [study]
    assert copy.slug not in client.get(reverse("studies:list")).content.decode()

    # ending the preview deletes it and its answers
    detail = client.get(reverse("studies:detail", args=[study.slug])).content.decode()
    assert 'id="end-preview"' in detail
    client.post(reverse("studies:preview_end", args=[study.slug]))
    assert not Study.objects.filter(preview_of=study).exists()
    assert not ItemRating.objects.exists() and not Participant.objects.exists()


def test_demographics_offer_lists_and_a_text_for_describing_oneself(sources):
    client, _ = researcher_client()
    client.post(
        reverse("studies:new"),
        {
            **settings_data(
                demographic_fields=["gender", "country", "first_language"], status="open"
            ),
            "item_csv": csv_file(POOL),
        },
    )
    study = Study.objects.get(slug="flatmates")
    Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN)
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID="PID-D1", STUDY_ID="S", SESSION_ID="X")
    bot.consent()
    assert '<select name="country"' in bot.html and '<select name="first_language"' in bot.html
    assert bot.submit(
        steps.DEMOGRAPHICS,
        {"gender": "self_described", "country": "Germany", "first_language": "German"},
        must_fail=True,
    )
    assert "Please say how you describe yourself." in bot.html
    bot.submit(
        steps.DEMOGRAPHICS,
        {"gender": "male", "country": "Narnia", "first_language": "German"},
        must_fail=True,
    )
    assert "Select a valid choice" in bot.html
    bot.submit(
        steps.DEMOGRAPHICS,
        {
            "gender": "self_described",
            "gender_self_described": "  genderfluid ",
            "country": "Germany",
            "first_language": "German",
        },
    )
    participant = Participant.objects.get()
    assert participant.demographics == {
        "gender": "self_described",
        "gender_self_described": "genderfluid",
        "country": "Germany",
        "first_language": "German",
    }
    (row,) = exports.participant_rows(study=study)
    assert row["gender_self_described"] == "genderfluid"
