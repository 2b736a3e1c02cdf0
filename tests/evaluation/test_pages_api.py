"""Staff pages and REST API of the evaluation app."""

import pytest
from django.contrib.auth.models import Group, User

from evaluation import lifecycle
from evaluation.errors import InvalidRunSettings, QueueUnavailable
from evaluation.models import EvaluationRun, ModelConfiguration, Response
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

pytestmark = pytest.mark.django_db


def _user(name, group=None):
    user = User.objects.create_user(name, password="x")
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def researcher(client):
    client.force_login(_user("res", "researchers"))
    return client


@pytest.fixture
def queued(monkeypatch):
    """Publishing succeeds without a broker; the calls are recorded."""
    published = []
    monkeypatch.setattr(lifecycle, "_publish", published.append)
    return published


@pytest.fixture
def no_queue(monkeypatch):
    def fail(run_id):
        raise QueueUnavailable("The task queue is unavailable: cannot reach Redis.")

    monkeypatch.setattr(lifecycle, "_publish", fail)


def test_pages_need_the_researcher_role(client):
    for url in ("/evaluation/", "/evaluation/runs/new/", "/evaluation/models/new/"):
        assert client.get(url).status_code == 302  # login
    client.force_login(_user("nobody"))
    assert client.get("/evaluation/").status_code == 403
    client.force_login(_user("res", "researchers"))
    assert client.get("/evaluation/").status_code == 200
    assert client.get("/evaluation/models/new/").status_code == 403  # admins configure models
    client.force_login(_user("adm", "admins"))
    assert client.get("/evaluation/models/new/").status_code == 200


def test_admin_configures_a_model_with_a_key_variable_name_only(client):
    client.force_login(_user("adm", "admins"))
    form = {
        "name": "gpt-test", "provider": "openai", "model_id": "gpt-4o", "base_url": "",
        "api_key_env": "sk-abc123secret", "temperature": "0", "max_tokens": "16", "seed": "1",
        "reasoning_effort": "", "top_logprobs": "0", "requests_per_minute": "500",
        "tokens_per_minute": "0", "max_concurrency": "8", "timeout_seconds": "30",
        "max_retries": "3", "input_cost_per_million": "2.5", "output_cost_per_million": "10",
        "notes": "",
    }  # fmt: skip
    response = client.post("/evaluation/models/new/", form)
    assert response.status_code == 400 and b"never the key itself" in response.content
    assert not ModelConfiguration.objects.exists()
    response = client.post("/evaluation/models/new/", {**form, "api_key_env": "OPENAI_API_KEY"})
    assert response.status_code == 302
    config = ModelConfiguration.objects.get()
    assert (config.api_key_env, config.temperature, config.seed) == ("OPENAI_API_KEY", 0.0, 1)


def test_researcher_starts_a_run_from_the_page_and_watches_it(researcher, queued):
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory()
    page = researcher.get("/evaluation/runs/new/")
    assert b"csrfmiddlewaretoken" in page.content
    response = researcher.post(
        "/evaluation/runs/new/",
        {
            "model_config": config.pk, "item_set": item_set.pk,
            "template_set": "valueportrait-own:1", "variants": ["v1", "v1_reversed"],
            "personas": "age=30-44;gender=woman", "repetitions": "1", "scoring": "phrase",
            "invalid_retries": "2", "use_cache": "on", "label": "page run",
        },
    )  # fmt: skip
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and response.url == f"/evaluation/runs/{run.pk}/"
    assert queued == [run.pk] and run.status == EvaluationRun.Status.QUEUED
    assert run.personas == [{"age": "30-44", "gender": "woman"}]
    assert run.params["seed"] == 42  # frozen at start
    # An answer with markup is shown escaped on the run page.
    Response.objects.create(
        run=run, item=item_set.entries.first().item, variant="v1", persona="age=30-44;gender=woman",
        state="invalid", raw_text="<script>alert(1)</script>", error="no answer phrase found",
    )  # fmt: skip
    detail = researcher.get(f"/evaluation/runs/{run.pk}/")
    assert detail.status_code == 200
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in detail.content
    assert b"<script>alert(1)</script>" not in detail.content
    progress = researcher.get(f"/evaluation/runs/{run.pk}/progress.json").json()
    assert (progress["expected"], progress["answered"], progress["invalid"]) == (8, 1, 1)
    assert researcher.post(f"/evaluation/runs/{run.pk}/cancel/").status_code == 302
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.CANCELLED
    assert researcher.get(f"/evaluation/runs/{run.pk}/cancel/").status_code == 405


def test_bad_persona_is_a_form_error(researcher, queued):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    response = researcher.post(
        "/evaluation/runs/new/",
        {
            "model_config": config.pk, "item_set": item_set.pk,
            "template_set": "valueportrait-own:1", "variants": ["v1"], "personas": "age=5",
            "repetitions": "1", "scoring": "phrase", "invalid_retries": "2",
        },
    )  # fmt: skip
    assert response.status_code == 400 and b"age must be one of" in response.content
    assert not EvaluationRun.objects.exists()


def test_page_says_when_the_queue_is_unavailable(researcher, no_queue):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    response = researcher.post(
        "/evaluation/runs/new/",
        {
            "model_config": config.pk, "item_set": item_set.pk,
            "template_set": "valueportrait-own:1", "variants": ["v1"], "repetitions": "1",
            "scoring": "phrase", "invalid_retries": "2",
        },
        follow=True,
    )  # fmt: skip
    assert b"task queue is unavailable" in response.content
    assert EvaluationRun.objects.get().status == EvaluationRun.Status.DRAFT


def test_api_create_progress_responses_portrait(researcher, queued, monkeypatch):
    monkeypatch.setenv("SECRET_TEST_KEY", "sk-never-shown")
    item_set = make_item_set(n_items=3)
    config = ModelConfigurationFactory(api_key_env="SECRET_TEST_KEY")
    listing = researcher.get("/api/v1/model-configurations/").json()
    assert listing["results"][0]["api_key_env"] == "SECRET_TEST_KEY"
    assert "sk-never-shown" not in str(listing)
    response = researcher.post(
        "/api/v1/evaluation-runs/",
        {"model": config.name, "item_set": item_set.pk, "variants": ["v2"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    assert response.json()["progress"]["expected"] == 3
    bad = researcher.post(
        "/api/v1/evaluation-runs/",
        {"model": config.name, "item_set": item_set.pk, "variants": ["v7"]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "unknown variant" in bad.json()["detail"]
    detail = researcher.get(f"/api/v1/evaluation-runs/{run_id}/").json()
    assert detail["status"] == "queued" and detail["progress"]["remaining"] == 3
    assert researcher.get(f"/api/v1/evaluation-runs/{run_id}/responses/").json()["count"] == 0
    portrait = researcher.get(f"/api/v1/evaluation-runs/{run_id}/portrait/").json()
    assert portrait["scores"] == []
    cancel = researcher.post(f"/api/v1/evaluation-runs/{run_id}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert researcher.post(f"/api/v1/evaluation-runs/{run_id}/cancel/").status_code == 409


def test_api_says_503_when_the_queue_is_unavailable(researcher, no_queue):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    response = researcher.post(
        "/api/v1/evaluation-runs/",
        {"model": config.name, "item_set": item_set.pk},
        content_type="application/json",
    )
    assert response.status_code == 503
    assert "task queue is unavailable" in response.json()["detail"]
    assert response.json()["run"]["status"] == "draft"


def test_api_needs_the_researcher_role(client):
    assert client.get("/api/v1/evaluation-runs/").status_code in (401, 403)
    client.force_login(_user("nobody"))
    assert client.get("/api/v1/evaluation-runs/").status_code == 403


def test_demo_is_idempotent_and_offline():
    from evaluation.demo import DEMO_MODEL, load_demo
    from evaluation.models import PromptTemplate

    load_demo()
    load_demo()
    assert ModelConfiguration.objects.filter(name=DEMO_MODEL).count() == 1
    # 12 built-in templates in each of the built-in languages (en, de, ko), stored once
    assert PromptTemplate.objects.filter(set_name="valueportrait-own").count() == 12 * 3
    assert PromptTemplate.objects.filter(set_name="valueportrait-own", language="en").count() == 12


def test_run_evaluation_command(queued):
    from django.core.management import CommandError, call_command

    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    call_command(
        "run_evaluation", "--model", config.name, "--item-set", str(item_set.pk),
        "--variants", "v1,v2", "--persona", "age=60+", "--repetitions", "2",
    )  # fmt: skip
    run = EvaluationRun.objects.get()
    assert queued == [run.pk]
    assert (run.variants, run.personas, run.repetitions) == (["v1", "v2"], [{"age": "60+"}], 2)
    with pytest.raises(CommandError, match="no model configuration"):
        call_command("run_evaluation", "--model", "nope", "--item-set", str(item_set.pk))
    with pytest.raises(CommandError, match="unknown variant"):
        call_command(
            "run_evaluation",
            "--model",
            config.name,
            "--item-set",
            str(item_set.pk),
            "--variants",
            "x",
        )


def test_index_lists_runs_with_counts_in_a_fixed_number_of_queries(
    researcher, django_assert_max_num_queries
):
    item_set = make_item_set(n_items=3)
    config = ModelConfigurationFactory()
    for _ in range(5):
        run = lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1", "v2"])
        Response.objects.create(
            run=run, item=item_set.entries.first().item, variant="v1", state="invalid"
        )
    with django_assert_max_num_queries(12):
        page = researcher.get("/evaluation/")
    assert page.status_code == 200
    assert page.content.count(b"1/6 (16.7%)") == 5


def test_an_active_run_is_re_queued_only_when_stalled(researcher, queued):
    from datetime import timedelta

    from django.utils import timezone

    item_set = make_item_set(n_items=2)
    run = lifecycle.create_run(model_config=ModelConfigurationFactory(), item_set=item_set)
    lifecycle.start_run(run_id=run.pk)
    Response.objects.create(
        run=run, item=item_set.entries.first().item, variant="v1", state="valid", rating=3
    )
    response = researcher.post(f"/api/v1/evaluation-runs/{run.pk}/resume/")
    assert response.status_code == 409 and "progressing" in response.json()["detail"]
    long_ago = timezone.now() - timedelta(minutes=10)
    EvaluationRun.objects.filter(pk=run.pk).update(started_at=long_ago)
    Response.objects.filter(run=run).update(created_at=long_ago)
    response = researcher.post(f"/api/v1/evaluation-runs/{run.pk}/resume/")
    assert response.status_code == 202 and queued == [run.pk, run.pk]
    assert b"Re-queue missing answers" in researcher.get(f"/evaluation/runs/{run.pk}/").content


def test_persona_options_are_configurable(settings):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    with pytest.raises(InvalidRunSettings, match="country must be one of"):
        lifecycle.create_run(
            model_config=config, item_set=item_set, personas=[{"country": "Chile"}]
        )
    settings.EVALUATION_PERSONA_OPTIONS = {"country": ("Chile", "Peru")}
    run = lifecycle.create_run(
        model_config=config, item_set=item_set, personas=[{"country": "Chile"}]
    )
    assert run.personas == [{"country": "Chile"}]


def test_api_refuses_a_model_name_with_a_nul_character(researcher, queued):
    """Found by schemathesis: the name lookup used to reach PostgreSQL and fail with 500."""
    item_set = make_item_set(n_items=1)
    response = researcher.post(
        "/api/v1/evaluation-runs/",
        {"model": "gpt\x00", "item_set": item_set.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "model" in response.json()
    assert not queued


def test_admin_reads_a_base_url_without_scheme_as_https(rf):
    from django.contrib.admin.sites import site

    admin_form = site._registry[ModelConfiguration].get_form(rf.get("/"))
    assert admin_form.base_fields["base_url"].clean("api.example.org/v1") == (
        "https://api.example.org/v1"
    )
