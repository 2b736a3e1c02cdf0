"""Staff pages and REST endpoints: roles, writes through Celery, downloads, escaping."""

from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from benchmark.models import CorrelationRun, PairExclusion, ValidatedItemSet
from benchmark.services import recompute_now
from core.roles import ADMINS_GROUP, RESEARCHERS_GROUP
from survey.models import ErasureRecord, Participant
from survey.services.erasure import erase_participants


def _user(name, group):
    user = User.objects.create_user(name, password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def researcher(client, db):
    client.force_login(_user("res", RESEARCHERS_GROUP))
    return client


@pytest.fixture
def admin(client, db):
    client.force_login(_user("adm", ADMINS_GROUP))
    return client


@pytest.fixture
def computed(small_study):
    return small_study, recompute_now(study=small_study)


def test_pages_need_the_researcher_role(client, computed):
    study, run = computed
    url = reverse("benchmark:run", args=[study.slug, run.pk])
    assert client.get(url).status_code == 302  # to login
    client.force_login(User.objects.create_user("nobody"))
    assert client.get(url).status_code == 403


def test_researcher_reads_every_page_but_cannot_write_or_download(researcher, computed):
    study, run = computed
    for url in (
        reverse("benchmark:index"),
        reverse("benchmark:study", args=[study.slug]),
        reverse("benchmark:run", args=[study.slug, run.pk]),
        reverse("benchmark:raters_needed", args=[study.slug]),
    ):
        response = researcher.get(url)
        assert response.status_code == 200, url
    page = researcher.get(reverse("benchmark:run", args=[study.slug, run.pk])).content.decode()
    assert 'id="heatmap-data"' in page and "plotly/plotly.min.js" in page
    needed = researcher.get(reverse("benchmark:raters_needed", args=[study.slug]))
    assert needed.context["required"] == 85 and needed.context["rows"][0]["still_needed"] == 72
    assert researcher.post(reverse("benchmark:recompute", args=[study.slug])).status_code == 403
    download = reverse("benchmark:download_run", args=[study.slug, run.pk, "csv"])
    assert researcher.get(download).status_code == 403


def test_admin_recomputes_in_the_background(admin, small_study, django_capture_on_commit_callbacks):
    with mock.patch("benchmark.tasks.recompute_correlations.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(
                reverse("benchmark:recompute", args=[small_study.slug]), {"method": "pearson"}
            )
    assert response.status_code == 302
    run = CorrelationRun.objects.get(study=small_study)
    assert (run.status, run.method) == ("pending", "pearson")
    delay.assert_called_once_with(run.pk)


def test_admin_freezes_an_item_set_excludes_a_pair_and_downloads(admin, computed):
    study, run = computed
    item = study.item_pool.order_by("scenario__external_id", "option_id").first()
    response = admin.post(
        reverse("benchmark:add_exclusion", args=[study.slug]),
        {"item": item.code, "dimension": "Power", "reason": "<b>ambiguous</b> wording"},
    )
    assert response.status_code == 302 and PairExclusion.objects.count() == 1
    response = admin.post(
        reverse("benchmark:create_item_set", args=[study.slug]),
        {"run": run.pk, "threshold": "0.3", "mode": "pos", "name": "live-set"},
    )
    item_set = ValidatedItemSet.objects.get(name="live-set")
    assert response.status_code == 302
    assert not item_set.entries.filter(item=item, dimension="Power").exists()
    assert item_set.excluded_pairs[0]["reason"] == "admin: <b>ambiguous</b> wording"
    page = admin.get(reverse("benchmark:study", args=[study.slug])).content.decode()
    assert "&lt;b&gt;ambiguous&lt;/b&gt;" in page and "<b>ambiguous" not in page
    detail = admin.get(reverse("benchmark:item_set", args=[study.slug, item_set.pk]))
    assert detail.status_code == 200
    csv_file = admin.get(
        reverse("benchmark:download_item_set", args=[study.slug, item_set.pk, "csv"])
    )
    assert csv_file["Content-Type"].startswith("text/csv")
    assert csv_file.content.decode().startswith("portrait_id,option_id,dimension")
    bad = admin.post(reverse("benchmark:add_exclusion", args=[study.slug]), {"item": "nope"})
    assert bad.status_code == 302 and PairExclusion.objects.count() == 1


def test_api_runs_rows_item_sets_and_permissions(researcher, computed):
    study, run = computed
    listed = researcher.get(f"/api/v1/correlation-runs/?study={study.slug}").json()
    assert listed["results"][0]["id"] == run.pk
    rows = researcher.get(f"/api/v1/correlation-runs/{run.pk}/rows/?dimension=Power").json()
    assert rows["count"] == 6 and {"r", "p", "n", "p_bh", "ci_low"} <= set(rows["results"][0])
    assert researcher.post("/api/v1/correlation-runs/", {"study": study.slug}).status_code == 403
    download = f"/api/v1/correlation-runs/{run.pk}/download/?filetype=csv"
    assert researcher.get(download).status_code == 403


def test_api_admin_writes(admin, computed, django_capture_on_commit_callbacks):
    study, run = computed
    with mock.patch("benchmark.tasks.recompute_correlations.delay"):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(
                "/api/v1/correlation-runs/", {"study": study.slug, "method": "kendall"}
            )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    bad = admin.post("/api/v1/item-sets/", {"run": run.pk}, content_type="application/json")
    assert bad.status_code == 400
    created = admin.post(
        "/api/v1/item-sets/",
        {"run": run.pk, "threshold": 0.3, "mode": "pos"},
        content_type="application/json",
    )
    assert created.status_code == 201
    set_id = created.json()["id"]
    entries = admin.get(f"/api/v1/item-sets/{set_id}/entries/").json()
    assert entries["count"] == created.json()["pairs"]
    download = admin.get(f"/api/v1/item-sets/{set_id}/download/?filetype=json")
    assert download.status_code == 200 and "query-response-tagged" in download.content.decode()
    assert admin.get(f"/api/v1/correlation-runs/{run.pk}/download/?filetype=xml").status_code == 400


def test_questionnaire_reliability_recodes_reverse_items(small_study):
    import numpy as np

    from benchmark.services import questionnaire_reliability
    from benchmark.stats.reliability import cronbach_alpha
    from survey.models import InstrumentResponse
    from survey.services.instruments import ensure_instrument

    bfi = ensure_instrument("bfi10")
    rng = np.random.default_rng(1)
    people = list(small_study.participants.filter(status="completed"))
    answers = {}
    for p in people:
        level = int(rng.integers(1, 6))
        # item 1 is reverse-keyed: a consistent extravert answers 6 - level to it
        answers[p.pk] = (6 - level, min(5, max(1, level + int(rng.integers(-1, 2)))))
        InstrumentResponse.objects.bulk_create(
            InstrumentResponse(participant=p, instrument=bfi, item_number=n, value=v)
            for n, v in zip((1, 6), answers[p.pk], strict=True)
        )
    result = questionnaire_reliability(study=small_study)["bfi10"]["big_five:Extraversion"]
    counted = [pk for pk in answers if not small_study.participants.get(pk=pk).is_flagged]
    recoded = np.array([[6 - answers[pk][0], answers[pk][1]] for pk in counted], float)
    assert result["alpha"] == pytest.approx(cronbach_alpha(recoded).alpha, abs=1e-6)
    assert result["alpha"] > 0.7 and result["n"] == len(people) - 1  # flagged one left out


def test_api_says_when_an_erasure_made_a_run_stale(researcher, computed):
    study, run = computed
    url = f"/api/v1/correlation-runs/{run.pk}/"
    current = researcher.get(url).json()
    assert current["stale_since"] is None and current["stale_reason"] == ""
    participant = Participant.objects.filter(study=study, status="completed").first()
    (record,) = erase_participants(
        participants=[participant], identified_by=ErasureRecord.IdentifiedBy.ADMIN_SELECTION
    )
    run.refresh_from_db()
    stale = researcher.get(url).json()
    assert stale["stale_since"] == run.stale_since.isoformat().replace("+00:00", "Z")
    assert f"erasure #{record.pk}" in stale["stale_reason"]
    listed = researcher.get(f"/api/v1/correlation-runs/?study={study.slug}").json()["results"]
    assert listed[0]["stale_since"] == stale["stale_since"]


def test_the_schema_documents_the_runs_staleness():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    run = schema["components"]["schemas"]["CorrelationRun"]["properties"]
    assert run["stale_since"]["format"] == "date-time" and run["stale_since"]["readOnly"]
    assert (
        run["stale_since"].get("nullable") is True and "erased" in run["stale_since"]["description"]
    )
    assert run["stale_reason"]["readOnly"] and "erasure" in run["stale_reason"]["description"]
