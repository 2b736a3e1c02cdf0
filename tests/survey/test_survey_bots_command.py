"""``manage.py survey_bots``: bots take a (draft) study end to end; nothing is kept."""

import io

import pytest
from django.core.management import CommandError, call_command

from survey.models import Participant, Study

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
