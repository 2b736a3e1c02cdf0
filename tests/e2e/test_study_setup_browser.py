"""A researcher sets a study up from the staff pages in Chromium: a CSV item pool (first a
file with problems, refused by row), the Prolific URL, and a preview taken as a participant
that leaves nothing in the study."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from survey.models import ItemRating, Participant, Source, Study
from survey.services.instruments import ensure_instrument
from tests.factories import SourceFactory

from .conftest import save_screenshot
from .participant import BrowserParticipant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
GOOD_POOL = "scenario,response,source,title\n" + "".join(
    f'"Question {n}: my neighbour, again?","Answer {n}.{k}",advice,Neighbours {n}\n'
    for n in range(1, 4)
    for k in (1, 2)
)
BAD_POOL = GOOD_POOL + '"Question 9",,advice,\n"Question 9","A",nowhere,\n'


def csv_upload(text: str) -> dict:
    return {"name": "pool.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_researcher_creates_a_study_with_a_csv_pool_and_previews_it(live_server, new_context):
    SourceFactory(slug="advice", name="Advice column", style=Source.Style.TITLED)
    bfi10 = ensure_instrument("bfi10")
    user = User.objects.create_user("resa", password="resa-password")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    base = live_server.url

    page = new_context(**DESKTOP).new_page()
    page.goto(f"{base}/accounts/login/?next=/studies/")
    page.fill("#id_username", "resa")
    page.fill("#id_password", "resa-password")
    with page.expect_navigation():
        page.click("form button[type=submit], form input[type=submit]")
    with page.expect_navigation():
        page.click("#new-study")

    # demographic questions are ticked, not typed as JSON: all five by default, country and
    # first language asked from lists; here education is left out
    assert page.locator("input[name=demographic_fields]:checked").count() == 5
    page.uncheck("input[name=demographic_fields][value=education]")
    page.fill("#id_title", "Neighbours study")
    page.fill("#id_items_per_participant", "3")
    page.fill("#id_target_ratings_per_item", "4")
    page.check(f"input[name=instruments][value='{bfi10.pk}']")
    page.check("#id_allow_placeholder_wording")
    page.fill("#id_consent_text", "You rate short texts. Taking part is voluntary.")
    page.fill("#id_completion_code", "NB-DONE")
    page.fill("#id_attention_check_count", "1")
    page.set_input_files("#id_item_csv", csv_upload(BAD_POOL))
    with page.expect_navigation():
        page.click("#save-study")
    problems = page.locator("#pool-problems").inner_text()
    assert "row 8: response is empty" in problems and "row 9: unknown source 'nowhere'" in problems
    assert not Study.objects.exists()
    save_screenshot(page, "study-setup-problems")

    # the form keeps what was typed; only the file is chosen again
    assert page.input_value("#id_title") == "Neighbours study"
    page.set_input_files("#id_item_csv", csv_upload(GOOD_POOL))
    with page.expect_navigation():
        page.click("#save-study")
    study = Study.objects.get(slug="neighbours-study")
    assert study.item_pool.count() == 6 and list(study.instruments.all()) == [bfi10]
    assert study.demographic_fields == ["age", "gender", "country", "first_language"]
    assert "6 item(s) added to the pool" in page.content()
    assert page.locator("#prolific-url").inner_text() == (
        f"{base}/s/neighbours-study/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )
    save_screenshot(page, "study-setup-done")

    with page.context.expect_page() as opened:
        page.click("#preview-study")
    preview = opened.value
    preview.wait_for_load_state()
    assert "Preview of" in preview.locator("#preview-banner").inner_text()
    participant = BrowserParticipant(preview, mode="click")
    participant.run_until("done")
    assert "NB-DONE" in preview.locator("#completion-code").inner_text()
    copy = Study.objects.get(preview_of=study)
    assert ItemRating.objects.filter(participant__study=copy).count() == 3
    assert not Participant.objects.filter(study=study).exists()

    page.reload()
    with page.expect_navigation():
        page.click("#end-preview")
    assert "Preview ended" in page.content()
    assert not Study.objects.filter(preview_of=study).exists() and not ItemRating.objects.exists()
