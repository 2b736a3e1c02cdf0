"""The review page: Prolific settings without the admin, filters, refusals shown to the
researcher (nothing sent)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from survey.models import Participant, ProlificAction, ProlificStudy
from tests.factories import ParticipantFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    user = User.objects.create_user("rev", password="pw")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client = Client()
    client.force_login(user)
    return client


def post(client, study, **data):
    response = client.post(reverse("studies:review_action", args=[study.slug]), data, follow=True)
    return [str(m) for m in response.context["messages"]]


SETTINGS = dict(
    api_token_env="LAB_PROLIFIC_TOKEN", reward_cents=250, places=40, estimated_minutes=20
)


def test_settings_are_saved_by_name_never_a_token(staff, fake_prolific):
    study = StudyFactory(completion_code="C1")
    assert post(staff, study, action="settings", **SETTINGS) == ["Prolific settings saved."]
    prolific = ProlificStudy.objects.get(study=study)
    assert (prolific.api_token_env, prolific.reward_cents, prolific.places) == (
        "LAB_PROLIFIC_TOKEN", 250, 40,
    )  # fmt: skip
    refused = post(
        staff, study, action="settings", **{**SETTINGS, "api_token_env": "a1b2c3-secret"}
    )
    assert "never the token itself" in refused[0]
    assert ProlificStudy.objects.get(study=study).api_token_env == "LAB_PROLIFIC_TOKEN"
    assert "at least 1" in post(staff, study, action="settings", **{**SETTINGS, "places": 0})[0]


def test_reward_and_places_are_fixed_once_the_study_is_on_prolific(staff, fake_prolific):
    study = StudyFactory(completion_code="C1")
    post(staff, study, action="settings", **{**SETTINGS, "api_token_env": "PROLIFIC_API_TOKEN"})
    assert post(staff, study, action="create_draft")[0].startswith("Draft study")
    refused = post(staff, study, action="settings", **{**SETTINGS, "reward_cents": 999,
                                                       "api_token_env": "PROLIFIC_API_TOKEN"})  # fmt: skip
    assert "change reward cents there" in refused[0]
    assert ProlificStudy.objects.get(study=study).reward_cents == 250


def test_a_draft_without_settings_or_token_says_why_and_sends_nothing(staff, fake_prolific):
    study = StudyFactory(completion_code="C1")
    assert "no Prolific settings" in post(staff, study, action="create_draft")[0]
    post(staff, study, action="settings", **SETTINGS)  # LAB_PROLIFIC_TOKEN is not set
    assert "LAB_PROLIFIC_TOKEN" in post(staff, study, action="create_draft")[0]
    assert fake_prolific.requests == []


def test_filters_narrow_the_table(staff):
    study = StudyFactory()
    S = Participant.Status
    ParticipantFactory(study=study, status=S.COMPLETED, quality_flags={"flags": []})
    ParticipantFactory(study=study, status=S.COMPLETED, quality_flags={"flags": ["too_fast"]})
    ParticipantFactory(study=study, status=S.SCREENED_OUT,
                       quality_flags={"flags": ["attention_check_failed"]})  # fmt: skip
    ParticipantFactory(study=study, status=S.NO_CONSENT)

    def shown(**query):
        page = staff.get(reverse("studies:review", args=[study.slug]), query)
        return sorted((r["status"], tuple(r["flags"])) for r in page.context["rows"])

    assert len(shown()) == 3  # declined consent: nothing to review
    assert shown(flagged="yes") == [
        ("completed", ("too_fast",)),
        ("screened_out", ("attention_check_failed",)),
    ]
    assert shown(flagged="no") == [("completed", ())]
    assert shown(status="screened_out", flagged="yes") == [
        ("screened_out", ("attention_check_failed",))
    ]
    assert len(shown(status="", prolific_status="", flagged="")) == 3  # empty: any
    assert shown(prolific_status="AWAITING REVIEW") == []  # known, none has it
    # Declared filters: an unknown value is a 400 saying what each takes, not an empty or
    # unfiltered table.
    url = reverse("studies:review", args=[study.slug])
    refused = staff.get(url, {"status": "finished", "flagged": "maybe", "prolific_status": "X"})
    assert refused.status_code == 400
    errors = refused.context["query_errors"]
    assert [e.split(":")[0] for e in errors] == ["status", "prolific_status", "flagged"]
    assert errors[2] == "flagged: Unknown flagged 'maybe': choose one of yes, no."
    assert "choose one of ACTIVE, APPROVED, AWAITING REVIEW" in errors[1]


def test_a_batch_whose_payment_is_unknown_is_shown_checked_and_confirmed_from_the_page(
    staff, fake_prolific
):
    from .test_prolific_services import batch_for, live_study

    study, sids = live_study(fake_prolific)
    batch = batch_for(study, sids)
    fake_prolific.fail("POST", "/pay/", status=500)  # refused before paying
    said = post(staff, study, action="pay_batch", batch=batch.pk)[0]
    assert "outcome unknown — check on Prolific" in said and "not paid again" in said
    page = staff.get(reverse("studies:review", args=[study.slug])).content.decode()
    row = page[page.index(f'data-batch="{batch.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Outcome unknown — check on Prolific" in row
    assert 'value="check_batch"' in row and 'value="confirm_paid"' in row
    said = post(staff, study, action="check_batch", batch=batch.pk)
    assert "lists none of the batch's bonuses yet" in said[0]
    assert not fake_prolific.payments  # too early to call it unpaid: nothing sent
    page = staff.get(reverse("studies:review", args=[study.slug])).content.decode()
    assert "data-check-note" in page and "checked again once 60 minutes" in page
    # the researcher looked on Prolific: not paid; the batch is paid once, and both logged
    assert post(staff, study, action="confirm_unpaid", batch=batch.pk)[0].endswith(
        "set up on prolific, not paid."
    )
    assert post(staff, study, action="pay_batch", batch=batch.pk)[0].endswith("paid.")
    assert sum(fake_prolific.payments.values()) == 1
    kinds = set(ProlificAction.objects.values_list("kind", flat=True))
    assert {"bonus_check", "bonus_reconcile", "bonus_pay"} <= kinds
