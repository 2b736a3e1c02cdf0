"""Researcher pages: roles, monitor, exports (CSV/JSON for pandas, the release's JSON shape)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from release import reader as release
from survey.models import Participant, Study
from survey.services import ending

from .bots import SurveyBot
from .study_setup import make_study

pytestmark = pytest.mark.django_db


def login(role: str | None, *, raw_ids: bool = False) -> Client:
    user = User.objects.create_user(f"user-{User.objects.count()}", password="pw")
    if role:
        user.groups.add(Group.objects.get_or_create(name=f"{role}s")[0])
    if raw_ids:
        user.user_permissions.add(Permission.objects.get(codename="view_raw_participant_ids"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def finished_study():
    study = make_study(items_per_participant=4, target_ratings_per_item=10)
    for n, scenario in enumerate({i.scenario for i in study.item_pool.all()}):
        scenario.external_id = f"{1001 + n}"
        scenario.save()
    for i in range(3):
        bot = SurveyBot(study.slug, fail_checks=1 if i == 2 else 0)
        bot.arrive(PROLIFIC_PID=f"RAWPID{i}", STUDY_ID="X", SESSION_ID=f"S{i}")
        assert bot.run_to_end() == "done"
    walker = SurveyBot(study.slug)
    walker.arrive(PROLIFIC_PID="RAWPID-LIVE")
    walker.consent()
    return study


def staff_urls(slug: str) -> list[str]:
    return [
        reverse("studies:list"),
        reverse("studies:detail", args=[slug]),
        reverse("studies:monitor", args=[slug]),
        reverse("studies:monitor_json", args=[slug]),
        reverse("studies:export_ratings", args=[slug, "csv"]),
        reverse("studies:export_participants", args=[slug, "json"]),
        reverse("studies:export_survey", args=[slug]),
        reverse("studies:export_value", args=[slug]),
    ]


def test_researcher_pages_need_the_researcher_role(finished_study):
    anonymous, nobody, researcher = Client(), login(None), login("researcher")
    for url in staff_urls(finished_study.slug):
        assert anonymous.get(url).status_code == 302, url  # to the login page
        assert nobody.get(url).status_code == 403, url
        assert researcher.get(url).status_code == 200, url


def test_every_staff_view_declares_its_role():
    from survey import staff_urls

    for pattern in staff_urls.urlpatterns:
        assert getattr(pattern.callback, "required_role", None) in ("researcher", "admin"), pattern


def test_raw_ids_only_for_admins_with_permission(finished_study):
    url = reverse("studies:export_participants_raw", args=[finished_study.slug, "csv"])
    assert login("researcher").get(url).status_code == 403
    assert login("admin").get(url).status_code == 403  # admin without the permission
    response = login("admin", raw_ids=True).get(url)
    assert response.status_code == 200 and b"RAWPID0" in response.content
    researcher = login("researcher")
    for export in staff_urls(finished_study.slug)[2:]:
        assert b"RAWPID" not in researcher.get(export).content, export


def test_monitor_counts_statuses_items_and_flags(finished_study):
    data = (
        login("researcher").get(reverse("studies:monitor_json", args=[finished_study.slug])).json()
    )
    assert data["participants"]["by_status"]["completed"] == 3
    assert data["participants"]["by_status"]["in_progress"] == 1
    assert data["flags"]["participants_flagged"] == 1
    assert data["flags"]["by_flag"] == {"attention_check_failed": 1}
    assert data["median_completion_seconds"] is not None
    assert sum(i["completed"] for i in data["items"]) == 12
    assert sum(i["leased"] for i in data["items"]) == 4
    page = login("researcher").get(reverse("studies:monitor", args=[finished_study.slug]))
    assert b"item-strip" in page.content and b"monitor.json" in page.content


def test_exports_read_directly_with_pandas(finished_study):
    client = login("researcher")
    slug = finished_study.slug
    ratings = pd.read_csv(
        io.BytesIO(client.get(reverse("studies:export_ratings", args=[slug, "csv"])).content)
    )
    assert len(ratings) == 12
    assert set(ratings.columns) >= {
        "participant",
        "item",
        "portrait_id",
        "option_id",
        "rating",
        "flagged",
    }
    assert ratings["participant"].str.startswith("P-").all()
    assert ratings["rating"].between(1, 6).all()
    as_json = pd.DataFrame(
        client.get(reverse("studies:export_ratings", args=[slug, "json"])).json()
    )
    assert len(as_json) == 12
    people = pd.read_csv(
        io.BytesIO(client.get(reverse("studies:export_participants", args=[slug, "csv"])).content)
    )
    assert len(people) == 4
    done = people[people["status"] == "completed"]
    assert done["schwartz.Benevolence"].notna().all() and done["big_five.Openness"].notna().all()
    assert set(done["gender"]) == {"female"} and done["age"].eq(34).all()
    assert done["flagged"].sum() == 1 and done["excluded"].sum() == 1


def test_release_shape_round_trips_through_the_release_reader(finished_study, tmp_path):
    client = login("researcher")
    slug = finished_study.slug
    survey = client.get(reverse("studies:export_survey", args=[slug])).json()
    values = client.get(reverse("studies:export_value", args=[slug])).json()
    assert len(values) == 2  # the flagged participant is excluded by default
    both = client.get(reverse("studies:export_value", args=[slug]) + "?include_flagged=1").json()
    assert len(both) == 3
    # Declared as in the API: empty is the study's default, an unknown value a 400.
    url = reverse("studies:export_value", args=[slug])
    assert len(client.get(url, {"include_flagged": ""}).json()) == 2
    assert len(client.get(url, {"include_flagged": "no"}).json()) == 2
    refused = client.get(
        reverse("studies:export_survey", args=[slug]), {"include_flagged": "perhaps"}
    )
    assert refused.status_code == 400 and list(refused.json()) == ["include_flagged"]
    (tmp_path / "data/prolific/survey/main").mkdir(parents=True)
    (tmp_path / "data/prolific/value/main").mkdir(parents=True)
    (tmp_path / release.SURVEY_FILE).write_text(json.dumps(survey))
    (tmp_path / release.VALUES_FILE).write_text(json.dumps(values))
    known = {}
    for item in finished_study.item_pool.select_related("scenario"):
        known.setdefault(item.scenario.external_id, set()).add(item.option_id)
    records, _ = release.read_ratings(tmp_path, known)
    assert len(records) == 8 and {r.participant_id for r in records} == set(values)
    scores = release.read_scores(tmp_path)
    assert set(scores) == set(values)
    p = Participant.objects.get(pseudonym=next(iter(values)))
    assert scores[p.pseudonym]["schwartz"]["Power"] == pytest.approx(
        p.scores.get(family="schwartz", dimension="Power").score
    )


def test_status_changes_need_admin_and_respect_readiness(finished_study):
    url = reverse("studies:status", args=[finished_study.slug])
    assert login("researcher").post(url, {"status": "paused"}).status_code == 403
    admin = login("admin")
    assert admin.post(url, {"status": "paused"}).status_code == 302
    assert Study.objects.get(pk=finished_study.pk).status == "paused"
    assert admin.post(url, {"status": "nonsense"}).status_code == 400
    Study.objects.filter(pk=finished_study.pk).update(allow_placeholder_wording=False)
    admin.post(url, {"status": "open"})
    assert Study.objects.get(pk=finished_study.pk).status == "paused"  # placeholder wording


def test_recompute_flags_marks_stale_sessions(finished_study):
    from django.utils import timezone

    Participant.objects.filter(status="in_progress").update(expires_at=timezone.now())
    response = login("researcher").post(
        reverse("studies:recompute_flags", args=[finished_study.slug])
    )
    assert response.status_code == 302
    assert Participant.objects.filter(status="timed_out").count() == 1
    assert ending.expire_stale(study=finished_study) == 0


def test_csv_exports_neutralise_formulas_typed_by_participants(finished_study):
    Participant.objects.filter(status="completed").update(
        demographics={"country": '=HYPERLINK("http://x")', "age": 40}
    )
    content = (
        login("researcher")
        .get(reverse("studies:export_participants", args=[finished_study.slug, "csv"]))
        .content.decode()
    )
    people = pd.read_csv(io.StringIO(content))
    assert set(people["country"].dropna()) == {'\'=HYPERLINK("http://x")'}
    scores = people[[c for c in people.columns if c.startswith("schwartz.")]].dropna()
    assert all(kind == "f" for kind in scores.dtypes.map(lambda d: d.kind))
    assert (scores.to_numpy() < 0).any()  # centred scores: negative ones stay numbers
