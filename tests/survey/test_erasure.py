"""Participants' right to erasure: by Prolific id or participant code, through the service,
the admin (action and request form) and the command; answers gone, audit kept, runs stale."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import CommandError, call_command
from django.urls import reverse

from benchmark.models import CorrelationRun
from benchmark.services import recompute_now
from survey import quality
from survey.errors import NobodyToErase
from survey.models import (
    Assignment,
    ErasureRecord,
    InstrumentResponse,
    ItemRating,
    Participant,
    ParticipantScore,
)
from survey.selectors import exports
from survey.services.ending import recompute_quality
from survey.services.erasure import erase_by_identifier, erase_participants
from survey.signals import participant_erased

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def complete(study, pid: str) -> SurveyBot:
    bot = SurveyBot(study.slug)
    bot.arrive(PROLIFIC_PID=pid, STUDY_ID="S1", SESSION_ID=f"SESS-{pid}")
    assert bot.run_to_end() == "done"
    return bot


@pytest.fixture
def study_with_run():
    study = make_study(n_items=6, items_per_participant=6, target_ratings_per_item=10)
    bots = {pid: complete(study, pid) for pid in ("PID-ANNA", "PID-BEN", "PID-CARA", "PID-DAN")}
    run = recompute_now(study=study)
    assert run.status == CorrelationRun.Status.DONE and run.n_participants == 4
    return study, run, bots


def test_erasure_by_prolific_id_deletes_answers_keeps_an_audit_and_marks_runs_stale(
    study_with_run, client
):
    study, run, _ = study_with_run
    anna = Participant.objects.get(external_id="PID-ANNA")
    ratings = ItemRating.objects.filter(participant=anna).count()
    assert ratings == 6

    (record,) = erase_by_identifier(identifier=" PID-ANNA ", note="ticket 42")

    assert not Participant.objects.filter(pk=anna.pk).exists()
    for model in (ItemRating, InstrumentResponse, ParticipantScore, Assignment):
        assert not model.objects.filter(participant_id=anna.pk).exists()
    assert Participant.objects.filter(study=study).count() == 3  # the others are untouched
    assert record.identified_by == ErasureRecord.IdentifiedBy.PANEL_ID
    assert record.participant_status == "completed" and record.study_slug == study.slug
    assert record.deleted["item_ratings"] == 6
    assert record.deleted["questionnaire_answers"] == 21 + 10
    # the audit holds no personal data: neither the panel id nor the pseudonym
    dumped = serializers.serialize("json", ErasureRecord.objects.all())
    assert "PID-ANNA" not in dumped and anna.pseudonym not in dumped

    run.refresh_from_db()
    assert run.is_stale and f"erasure #{record.pk}" in run.stale_reason
    assert CorrelationRun.objects.stale().get() == run
    # exports no longer hold the participant
    assert anna.pseudonym not in json.dumps(exports.participant_rows(study=study))

    # the run page says it is stale; the next recomputation leaves the participant out
    researcher = get_user_model().objects.create_superuser("erasure-admin", password="x")
    client.force_login(researcher)
    page = client.get(reverse("benchmark:run", args=[study.slug, run.pk])).content.decode()
    assert 'id="stale-run"' in page and "Stale since" in page
    fresh = recompute_now(study=study)
    assert fresh.n_participants == 3 and not fresh.is_stale


def test_a_run_started_before_the_participant_arrived_is_not_stale(study_with_run):
    study, run, _ = study_with_run
    late = complete(study, "PID-LATE")  # arrives after the run was computed
    assert late.page == "done"
    erase_by_identifier(identifier="PID-LATE")
    run.refresh_from_db()
    assert not run.is_stale


def test_erasure_by_participant_code_shown_on_the_completion_page(study_with_run):
    study, _, bots = study_with_run
    bot = bots["PID-BEN"]
    code = bot.context["participant_code"]
    assert code in bot.html and code.startswith("P-")
    (record,) = erase_by_identifier(identifier=code.lower(), study=study)
    assert record.identified_by == ErasureRecord.IdentifiedBy.PARTICIPANT_CODE
    assert not Participant.objects.filter(external_id="PID-BEN").exists()


def test_the_left_out_list_names_pseudonyms_and_forgets_the_erased(study_with_run):
    study, _, _ = study_with_run
    study.exclude_flagged_participants = True
    study.save()
    cara = Participant.objects.get(external_id="PID-CARA")
    cara.quality_flags = {**cara.quality_flags, "flags": ["speeder"]}
    cara.save()
    run = recompute_now(study=study)
    # a live participant left out is named by their pseudonym, never the panel id
    assert cara.pseudonym in json.dumps(run.exclusions)
    assert "PID-" not in json.dumps(run.exclusions)
    erase_by_identifier(identifier="PID-CARA")
    run.refresh_from_db()
    assert cara.pseudonym not in json.dumps(run.exclusions)
    assert "(erased)" in json.dumps(run.exclusions)


def test_nobody_named_erases_nothing(study_with_run):
    with pytest.raises(NobodyToErase):
        erase_by_identifier(identifier="PID-NOBODY")
    with pytest.raises(NobodyToErase):
        erase_by_identifier(identifier="   ")
    assert Participant.objects.count() == 4 and not ErasureRecord.objects.exists()


def test_an_error_while_marking_runs_rolls_the_erasure_back(study_with_run):
    def broken(**kwargs):
        raise RuntimeError("benchmark database trouble")

    participant_erased.connect(broken, dispatch_uid="test-broken")
    try:
        with pytest.raises(RuntimeError):
            erase_by_identifier(identifier="PID-DAN")
    finally:
        participant_erased.disconnect(dispatch_uid="test-broken")
    assert Participant.objects.filter(external_id="PID-DAN").exists()
    assert not ErasureRecord.objects.exists()


def test_command_and_admin_request_form_and_action(study_with_run, client):
    study, run, _ = study_with_run
    call_command("erase_participant", "PID-ANNA", "--study", study.slug, "--note", "t-1")
    with pytest.raises(CommandError, match="No participant"):
        call_command("erase_participant", "PID-ANNA")

    admin = get_user_model().objects.create_superuser("erasure-admin", password="x")
    client.force_login(admin)
    url = reverse("admin:survey_erasurerecord_erase")
    assert "Prolific id or participant code" in client.get(url).content.decode()
    refused = client.post(url, {"identifier": "PID-NOBODY"})
    assert refused.status_code == 200 and "No participant" in refused.content.decode()
    done = client.post(url, {"identifier": "PID-BEN", "study": study.pk})
    assert done.status_code == 302
    dan = Participant.objects.get(external_id="PID-DAN")
    client.post(
        reverse("admin:survey_participant_changelist"),
        {"action": "erase_selected", "_selected_action": [dan.pk]},
    )
    assert list(Participant.objects.values_list("external_id", flat=True)) == ["PID-CARA"]
    records = ErasureRecord.objects.order_by("pk")
    assert [r.identified_by for r in records] == ["panel_id", "panel_id", "admin_selection"]
    assert records[2].performed_by == admin
    listing = client.get(reverse("admin:survey_erasurerecord_changelist")).content.decode()
    assert "Erase a participant" in listing

    researcher = get_user_model().objects.create_user("plain-researcher", password="x")
    client.force_login(researcher)
    assert client.get(url).status_code in (302, 403)


def test_erasure_recomputes_the_others_relative_speeder_flags(django_capture_on_commit_callbacks):
    """The speeder rule compares each total time with the median of the others': erasing a
    slow participant lowers that median, so the quick ones are no longer speeders."""
    study = make_study(
        n_items=6, items_per_participant=6, target_ratings_per_item=10, speeder_fraction=0.4
    )
    seconds = {"PID-S": 220, "PID-A": 200, "PID-B": 200, "PID-C": 200}
    seconds.update({"PID-D": 1000, "PID-E": 1000, "PID-F": 1000})
    for pid in seconds:
        complete(study, pid)
    for pid, total in seconds.items():
        participant = Participant.objects.get(external_id=pid)
        Participant.objects.filter(pk=participant.pk).update(
            completed_at=participant.consented_at + timedelta(seconds=total)
        )
    recompute_quality(study=study)

    def speeders() -> set[str]:
        return {
            p.external_id
            for p in Participant.objects.filter(study=study)
            if quality.SPEEDER in p.flags
        }

    # Others' median with everyone: 610 s (or 1000 s for a slow one); 0.4 of it is 244 s.
    assert speeders() == {"PID-S", "PID-A", "PID-B", "PID-C"}
    with django_capture_on_commit_callbacks(execute=True):
        erase_by_identifier(identifier="PID-F")
    # Without F the quick ones' others have a median of 200-220 s: nobody is 0.4 of it.
    assert speeders() == set()
    medians = {
        p.external_id: p.quality_flags["median_total_seconds"]
        for p in Participant.objects.filter(study=study)
    }
    assert medians["PID-S"] == 200 and medians["PID-A"] == 220 and medians["PID-D"] == 200


def test_erasing_several_recomputes_each_study_once(django_capture_on_commit_callbacks):
    study = make_study(n_items=6, items_per_participant=6)
    for pid in ("PID-1", "PID-2", "PID-3"):
        complete(study, pid)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        erase_participants(
            participants=list(Participant.objects.filter(external_id__in=["PID-1", "PID-2"])),
            identified_by=ErasureRecord.IdentifiedBy.ADMIN_SELECTION,
        )
    recomputes = [c for c in callbacks if c.__qualname__.startswith("recompute_flags_after")]
    assert len(recomputes) == 1
