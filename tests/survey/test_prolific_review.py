"""The review page: Prolific settings without the admin, filters, refusals shown to the
researcher (nothing sent)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from survey.models import Participant, ProlificStudy
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
