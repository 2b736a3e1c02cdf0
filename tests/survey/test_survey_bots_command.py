"""``manage.py survey_bots``: bots take a (draft) study end to end; nothing is kept."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from survey.models import ItemTranslation, Participant, Study
from survey.services.instruments import ensure_instrument

from .study_setup import make_study

pytestmark = pytest.mark.django_db


def test_bots_complete_a_draft_study_and_leave_nothing_behind():
    study = make_study(status=Study.Status.DRAFT)
    out = io.StringIO()
    call_command("survey_bots", study.slug, "--participants", "2", stdout=out)
    text = out.getvalue()
    assert text.count(": done; status completed; 5 ratings stored") == 2
    assert "Rolled back" in text and "All bots finished as expected" in text
    assert not Participant.objects.exists()
    assert Study.objects.get(pk=study.pk).status == Study.Status.DRAFT


def test_bots_failing_checks_are_screened_out_and_keep_is_honoured():
    study = make_study(attention_check_count=3)
    out = io.StringIO()
    call_command("survey_bots", study.slug, "--fail-checks", "2", "--keep", stdout=out)
    assert "screened-out; status screened_out" in out.getvalue()
    assert Participant.objects.filter(status="screened_out").count() == 3


def test_bots_report_a_study_that_cannot_open():
    study = make_study(allow_placeholder_wording=False, status=Study.Status.DRAFT)
    with pytest.raises(CommandError, match="placeholder wording"):
        call_command("survey_bots", study.slug, stdout=io.StringIO())
    with pytest.raises(CommandError, match="no study"):
        call_command("survey_bots", "nope", stdout=io.StringIO())


def test_bots_take_a_study_in_each_of_its_languages():
    study = make_study(language="en", languages=["ko"])
    study.instruments.add(ensure_instrument("pvq21", "ko"), ensure_instrument("bfi10", "ko"))
    out = io.StringIO()
    # No item has a Korean translation yet: the Korean bot is refused, and the run says so.
    with pytest.raises(CommandError, match=r"bot 1 \(ko\) was refused \(status 409\): .*'ko'"):
        call_command("survey_bots", study.slug, "--languages", "en,ko", stdout=out)
    assert "bot 0 (en): done" in out.getvalue()
    for item in study.item_pool.all():
        ItemTranslation.objects.create(
            item=item, language="ko", scenario_title="제목", scenario_text="시나리오",
            response="답변", status="reviewed", reviewed_at=timezone.now(),
        )  # fmt: skip
    out = io.StringIO()
    call_command("survey_bots", study.slug, "--languages", "en,ko", stdout=out)
    text = out.getvalue()
    assert "bot 0 (en): done" in text and "bot 1 (ko): done" in text
    assert not Participant.objects.exists()
