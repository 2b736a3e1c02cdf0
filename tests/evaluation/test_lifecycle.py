"""The run lifecycle in one module: the "active" rule, start vs resume decided in one place,
refusals as plain errors mapped by each adapter, and rules that live on the models."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from evaluation import lifecycle
from evaluation.errors import InvalidRunSettings, RunNotFound, RunStateConflict
from evaluation.exports import newest_runs_by_model
from evaluation.models import EvaluationRun, ModelConfiguration
from evaluation.selectors import progress, run_units, runs_with_counts
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

pytestmark = pytest.mark.django_db
Status = EvaluationRun.Status
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def published(monkeypatch):
    """Publishing succeeds without a broker; the run ids published are recorded."""
    calls = []
    monkeypatch.setattr(lifecycle, "_publish", calls.append)
    return calls


def _run(status=Status.DRAFT, **fields):
    run = lifecycle.create_run(
        model_config=fields.pop("model_config", None) or ModelConfigurationFactory(),
        item_set=fields.pop("item_set", None) or make_item_set(n_items=2),
        variants=["v1"],
    )
    EvaluationRun.objects.filter(pk=run.pk).update(status=status, **fields)
    run.refresh_from_db()
    return run


def test_active_and_answering_are_one_rule_in_the_queryset_and_on_the_row():
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    runs = {status: _run(status, item_set=item_set, model_config=config) for status in Status}
    active = set(EvaluationRun.objects.active().values_list("status", flat=True))
    answering = set(EvaluationRun.objects.answering().values_list("status", flat=True))
    assert active == {Status.QUEUED, Status.RUNNING, Status.SCORING}
    assert answering == {Status.QUEUED, Status.RUNNING}
    for status, run in runs.items():
        assert run.is_active == (status in active)
        assert run.is_answering == (status in answering)


def test_resume_decides_between_starting_and_re_queueing(published):
    draft = _run()
    assert lifecycle.resume_run(run_id=draft.pk).status == Status.QUEUED  # a draft is started
    assert published == [draft.pk]

    done = _run(Status.DONE)
    done.responses.create(item_id=run_units(run=done)[0][0], variant="v1", state="failed")
    assert lifecycle.resume_run(run_id=done.pk).status == Status.QUEUED
    assert not done.responses.exists()  # the failed unit will be asked again

    with pytest.raises(RunStateConflict, match="being scored"):
        lifecycle.resume_run(run_id=_run(Status.SCORING).pk)
    progressing = _run(Status.RUNNING, started_at=timezone.now())
    with pytest.raises(RunStateConflict, match="progressing"):
        lifecycle.resume_run(run_id=progressing.pk)
    stalled = _run(Status.RUNNING, started_at=timezone.now() - timedelta(minutes=10))
    assert lifecycle.resume_run(run_id=stalled.pk).status == Status.RUNNING
    assert published[-1] == stalled.pk
    reference = _run(Status.DONE, kind=EvaluationRun.Kind.REFERENCE)
    with pytest.raises(RunStateConflict, match="nothing to ask"):
        lifecycle.resume_run(run_id=reference.pk)
    with pytest.raises(RunNotFound):
        lifecycle.resume_run(run_id=10**9)
    with pytest.raises(RunStateConflict, match="already queued"):
        lifecycle.start_run(run_id=draft.pk)


def test_cancel_refuses_with_the_reason_and_each_adapter_maps_it(client, published):
    user = User.objects.create_user("res", password="x")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    running = _run(Status.RUNNING)
    assert lifecycle.cancel_run(run_id=running.pk).status == Status.CANCELLED
    with pytest.raises(RunStateConflict, match="not active"):
        lifecycle.cancel_run(run_id=running.pk)
    with pytest.raises(RunNotFound):
        lifecycle.cancel_run(run_id=10**9)
    # The API answers each refusal with its status code, the pages with a message or a 404.
    api = "/api/v1/evaluation-runs"
    assert client.post(f"{api}/{running.pk}/cancel/").status_code == 409
    assert client.post(f"{api}/{10**9}/cancel/").status_code == 404
    assert client.post(f"{api}/{10**9}/resume/").status_code == 404
    reference = _run(Status.DONE, kind=EvaluationRun.Kind.REFERENCE)
    refused = client.post(f"{api}/{reference.pk}/resume/")
    assert refused.status_code == 409 and "nothing to ask" in refused.json()["detail"]
    assert client.post(f"/evaluation/runs/{10**9}/cancel/").status_code == 404
    page = client.post(f"/evaluation/runs/{reference.pk}/resume/", follow=True)
    assert "nothing to ask" in page.content.decode()


def test_invalid_settings_are_refused_before_anything_is_stored():
    config = ModelConfiguration.objects.create(
        name="paper", provider=ModelConfiguration.Provider.REFERENCE, model_id="paper"
    )
    with pytest.raises(InvalidRunSettings, match="cannot be run"):
        lifecycle.create_run(model_config=config, item_set=make_item_set(n_items=2))
    assert not EvaluationRun.objects.exists()


def test_expected_units_is_one_rule_for_progress_the_index_and_the_units():
    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(),
        item_set=make_item_set(n_items=5),
        variants=["v1", "v2"],
        repetitions=2,
        personas=[{"gender": "woman"}, {"gender": "man"}],
    )
    units = run_units(run=run)
    assert len(units) == 5 * 2 * 2 * 2 == run.expected_units()
    assert progress(run=run)["expected"] == len(units)
    (listed,) = runs_with_counts()
    assert listed.expected == len(units)


def test_newest_per_model_takes_each_models_newest_finished_run():
    item_set = make_item_set(n_items=2)
    first, second = ModelConfigurationFactory(), ModelConfigurationFactory()
    now = timezone.now()
    old = _run(Status.DONE, model_config=first, item_set=item_set, finished_at=now - timedelta(1))
    new = _run(Status.DONE, model_config=first, item_set=item_set, finished_at=now)
    other = _run(Status.DONE, model_config=second, item_set=item_set, finished_at=now)
    _run(Status.RUNNING, model_config=second, item_set=item_set)  # not done: not counted
    newest = EvaluationRun.objects.done().newest_per_model()
    assert set(newest) == {new, other} and old not in newest
    assert newest_runs_by_model() == {first.name: new, second.name: other}


def test_a_configurations_cost_is_its_prices_per_million():
    config = ModelConfigurationFactory(input_cost_per_million=2.5, output_cost_per_million=10)
    assert float(config.cost_of(input_tokens=1_000_000, output_tokens=500_000)) == 7.5


def _imports(path: Path) -> set[str]:
    """Every module (and name) a file imports, anywhere in it; relative ones made absolute."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = (f"{path.parent.name}." if node.level else "") + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_reads_never_import_writes_and_dashboards_read_evaluation_through_its_selectors():
    writes = {"evaluation.lifecycle", "evaluation.services", "evaluation.execution",
              "evaluation.tasks"}  # fmt: skip
    for module in ("selectors", "exports", "portraits", "sensitivity", "parsing"):
        assert not _imports(PROJECT / "evaluation" / f"{module}.py") & writes, module
    for path in sorted((PROJECT / "dashboards").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        imported = _imports(path)
        assert not {name for name in imported if name.startswith("evaluation.models")}, path
