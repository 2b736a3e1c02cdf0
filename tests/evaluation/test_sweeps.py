"""Sweeps: one file starts runs for models × item sets × template sets × personas ×
repetitions, skips runs done with the same parameters, creates nothing when invalid; the
command, the API and the compare page's sweep filter. Runs are answered by the fake provider
in-process, and once by a real Celery worker (the command's ``--wait``)."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from evaluation import lifecycle
from evaluation.errors import InvalidSweep, QueueUnavailable
from evaluation.models import EvaluationRun, Response, Sweep
from evaluation.selectors import missing_units, sweep_progress
from evaluation.sweep_spec import SweepSpecError, parse_sweep
from evaluation.sweeps import start_sweep
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db
Status = EvaluationRun.Status


@pytest.fixture
def server():
    with FakeProvider(retry_after=0.1, hang_seconds=2.0) as fake:
        yield fake


@pytest.fixture
def published(monkeypatch):
    """Publishing succeeds without a broker; the run ids published are recorded."""
    calls = []
    monkeypatch.setattr(lifecycle, "_publish", calls.append)
    return calls


def _answer_all(run_ids):
    """What the workers do with each queued run: claim it, answer every unit, score it."""
    for run_id in run_ids:
        assert EvaluationRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
            status=Status.RUNNING
        )
        run = EvaluationRun.objects.get(pk=run_id)
        lifecycle.execute_batch(run_id=run_id, units=missing_units(run=run))


def _spec(models, item_set, variants=("v1", "v1_reversed"), **extra):
    return {
        "name": "two-by-two",
        "models": [m.name for m in models],
        "item_sets": [item_set.pk],
        "template_sets": [{"name": "valueportrait-own", "version": 1, "variants": list(variants)}],
        **extra,
    }


# --- the file, as plain data --------------------------------------------------------------
def test_a_sweep_expands_into_the_product_of_its_axes():
    spec = parse_sweep(
        {
            "name": " grid ",
            "models": ["a", "b"],
            "item_sets": [1],
            "template_sets": [{"variants": ["v1", ["v2", "v2_reversed"]]}, {"name": "x"}],
            "personas": [{}, {"gender": "woman"}, [{"age": "18-29"}, {"age": "30-44"}]],
            "repetitions": [1, 3],
            "scoring": "phrase",
        }
    )
    assert spec.name == "grid" and spec.options == {"scoring": "phrase"}
    # 2 models × 1 item set × 3 template groups × 3 persona groups × 2 repetitions
    assert len(spec.runs) == 36
    first = spec.runs[0]
    assert (first.model, first.variants, first.personas, first.repetitions) == ("a", ("v1",), (), 1)
    assert {r.variants for r in spec.runs} == {("v1",), ("v2", "v2_reversed"), None}
    # Personas vary before repetitions (the innermost axis).
    assert [r.personas for r in spec.runs[0:6:2]] == [
        (),
        ({"gender": "woman"},),
        ({"age": "18-29"}, {"age": "30-44"}),
    ]
    assert [r.repetitions for r in spec.runs[0:2]] == [1, 3]
    defaults = parse_sweep({"name": "n", "models": ["a"], "item_sets": [2]})
    assert [(r.template_set, r.template_set_version, r.variants, r.personas, r.repetitions)
            for r in defaults.runs] == [("valueportrait-own", 1, None, (), 1)]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "n", "models": ["a"], "item_sets": [1], "modle": 1}, r"^modle: unknown key"),
        ({"models": ["a"], "item_sets": [1]}, r"^name: required"),
        ({"name": "n", "item_sets": [1]}, r"^models: required"),
        ({"name": "n", "models": [], "item_sets": [1]}, r"^models: give a non-empty list"),
        ({"name": "n", "models": ["a"], "item_sets": ["3"]}, r"^item_sets\[0\]: "),
        ({"name": "n", "models": ["a"], "item_sets": [1], "repetitions": [1, 21]},
         r"^repetitions\[1\]: an integer between 1 and 20"),
        ({"name": "n", "models": ["a"], "item_sets": [1],
          "template_sets": [{"variants": ["v1"]}, {"variants": ["v1", 7]}]},
         r"^template_sets\[1\]\.variants\[1\]: "),
        ({"name": "n", "models": ["a"], "item_sets": [1], "template_sets": [{"vers": 2}]},
         r"^template_sets\[0\]\.vers: unknown key"),
        ({"name": "n", "models": ["a"], "item_sets": [1], "personas": [{"age": 30}]},
         r"^personas\[0\]\.age: a text value"),
        ({"name": "n", "models": ["a"], "item_sets": [1], "use_cache": "yes"},
         r"^use_cache: wrong type"),
        ({"name": "n", "models": ["a"], "item_sets": [1], "batch_size": True},
         r"^batch_size: not a true/false value"),
    ],
)  # fmt: skip
def test_an_invalid_file_is_refused_naming_the_key(spec, message):
    with pytest.raises(SweepSpecError, match=message):
        parse_sweep(spec)


# --- the service --------------------------------------------------------------------------
def test_two_models_by_two_variants_start_four_runs_and_a_repeat_skips_the_done_ones(
    server, published
):
    item_set = make_item_set(n_items=4)
    models = [ModelConfigurationFactory(base_url=server.url("openai")) for _ in range(2)]
    user = User.objects.create_user("sweeper")
    first = start_sweep(spec=_spec(models, item_set), created_by=user)
    runs = EvaluationRun.objects.filter(pk__in=first.started)
    assert len(first.started) == 4 and published == first.started
    assert {(r.model_config_id, tuple(r.variants)) for r in runs} == {
        (m.pk, (v,)) for m in models for v in ("v1", "v1_reversed")
    }
    assert set(first.sweep.runs.values_list("id", flat=True)) == set(first.started)
    assert first.sweep.created_by == user and first.sweep.spec["name"] == "two-by-two"
    assert sweep_progress(sweep=first.sweep) == {
        "runs": 4,
        "run_ids": sorted(first.started),
        "status_counts": {"queued": 4},
        "units_answered": 0,
        "units_failed": 0,
        "units_expected": 16,
    }
    # Half answered: a second call now links the active runs instead of starting them twice.
    _answer_all(first.started[:2])
    second = start_sweep(spec=_spec(models, item_set))
    assert second.started == [] and published == first.started
    assert sorted(second.skipped_done) == sorted(first.started[:2])
    assert sorted(second.already_active) == sorted(first.started[2:])
    progress = sweep_progress(sweep=second.sweep)
    assert progress["status_counts"] == {"done": 2, "queued": 2}
    assert (progress["units_answered"], progress["units_expected"]) == (8, 16)

    _answer_all(first.started[2:])
    requests = server.request_count()
    third = start_sweep(spec=_spec(models, item_set))
    assert sorted(third.skipped_done) == sorted(first.started) and third.started == []
    assert EvaluationRun.objects.count() == 4 and server.request_count() == requests
    assert sweep_progress(sweep=third.sweep)["status_counts"] == {"done": 4}
    assert Response.objects.count() == 16

    # Other parameters are other runs: a third variant, or a model whose temperature changed.
    wider = start_sweep(spec=_spec(models, item_set, variants=("v1", "v1_reversed", "v2")))
    assert len(wider.started) == 2 and len(wider.skipped_done) == 4
    models[0].temperature = 0.7
    models[0].save()
    warmer = start_sweep(spec=_spec(models[:1], item_set))
    assert len(warmer.started) == 2 and warmer.skipped_done == []


def test_an_invalid_sweep_creates_nothing(published):
    item_set = make_item_set(n_items=2)
    model = ModelConfigurationFactory()
    with pytest.raises(InvalidSweep, match=r"^models\[1\]: no model configuration 'nope'"):
        start_sweep(spec={**_spec([model], item_set), "models": [model.name, "nope"]})
    with pytest.raises(InvalidSweep, match=r"^item_sets\[0\]: no validated item set"):
        start_sweep(spec={**_spec([model], item_set), "item_sets": [10**6]})
    # The first combination is valid, the second names a variant the set does not have:
    # the first run must not be left behind.
    with pytest.raises(InvalidSweep, match=r"\(v9\).*unknown variant\(s\) v9"):
        start_sweep(spec=_spec([model], item_set, variants=("v1", "v9")))
    with pytest.raises(InvalidSweep, match=r"^repetitions: "):
        start_sweep(spec={**_spec([model], item_set), "repetitions": "3"})
    assert not Sweep.objects.exists() and not EvaluationRun.objects.exists()
    assert published == []


def test_a_queue_outage_leaves_the_runs_as_drafts_and_says_so(monkeypatch):
    def unavailable(run_id):
        raise QueueUnavailable("The task queue is unavailable: cannot reach Redis.")

    monkeypatch.setattr(lifecycle, "_publish", unavailable)
    item_set = make_item_set(n_items=2)
    model = ModelConfigurationFactory()
    outcome = start_sweep(spec=_spec([model], item_set))
    assert outcome.started == [] and len(outcome.not_started) == 2
    assert "queue is unavailable" in outcome.queue_error
    assert sweep_progress(sweep=outcome.sweep)["status_counts"] == {"draft": 2}
    # The queue is back: the same file starts those drafts instead of creating two more.
    published = []
    monkeypatch.setattr(lifecycle, "_publish", published.append)
    again = start_sweep(spec=_spec([model], item_set))
    assert sorted(again.started) == sorted(outcome.not_started) == sorted(published)
    assert EvaluationRun.objects.count() == 2
    assert sweep_progress(sweep=again.sweep)["status_counts"] == {"queued": 2}


# --- the command --------------------------------------------------------------------------
def test_run_sweep_reads_a_toml_file(tmp_path, published, capsys):
    item_set = make_item_set(n_items=2)
    model = ModelConfigurationFactory()
    path = tmp_path / "sweep.toml"
    path.write_text(
        f'name = "from-toml"\nmodels = ["{model.name}"]\nitem_sets = [{item_set.pk}]\n'
        'repetitions = 2\npersonas = [{}, {gender = "woman"}]\n\n'
        '[[template_sets]]\nname = "valueportrait-own"\nversion = 1\nvariants = [["v1", "v2"]]\n'
    )
    call_command("run_sweep", str(path))
    out = capsys.readouterr().out
    assert "2 run(s) started, 0 skipped" in out
    assert "progress: 2 queued; 0 of 16 answers" in out  # 2 items × 2 variants × 2 repetitions
    sweep = Sweep.objects.get(name="from-toml")
    assert sorted(r.persona_keys()[0] for r in sweep.runs.all()) == ["", "gender=woman"]

    path.write_text('name = "broken"\nmodels = ["x"\n')
    with pytest.raises(CommandError, match="not valid TOML"):
        call_command("run_sweep", str(path))
    path.write_text(
        f'name = "bad"\nmodels = ["{model.name}"]\nitem_sets = [{item_set.pk}]\nx = 1\n'
    )
    with pytest.raises(CommandError, match=r"x: unknown key .*nothing was created"):
        call_command("run_sweep", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("run_sweep", str(tmp_path / "missing.toml"))
    assert Sweep.objects.count() == 1


# --- the API ------------------------------------------------------------------------------
def _login(client, name, group=None):
    user = User.objects.create_user(name, password="x")
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client.force_login(user)
    return user


def test_api_starts_and_lists_sweeps_for_researchers(client, published):
    item_set = make_item_set(n_items=3)
    models = [ModelConfigurationFactory() for _ in range(2)]
    assert client.get("/api/v1/sweeps/").status_code in (401, 403)
    _login(client, "nobody")
    refused = client.post(
        "/api/v1/sweeps/", _spec(models, item_set), content_type="application/json"
    )
    assert refused.status_code == 403 and not Sweep.objects.exists()

    _login(client, "res", "researchers")
    created = client.post(
        "/api/v1/sweeps/", _spec(models, item_set), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["outcome"]["started"]) == 4 and body["created_by"] == "res"
    assert body["progress"]["status_counts"] == {"queued": 4}
    assert body["progress"]["units_expected"] == 12

    bad = client.post(
        "/api/v1/sweeps/",
        {**_spec(models, item_set), "template_sets": [{"variants": "v1"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("template_sets[0].variants: ")
    not_an_object = client.post("/api/v1/sweeps/", [1, 2], content_type="application/json")
    assert not_an_object.status_code == 400
    assert Sweep.objects.count() == 1 and EvaluationRun.objects.count() == 4

    listing = client.get("/api/v1/sweeps/").json()
    assert listing["count"] == 1
    assert listing["results"][0]["progress"]["runs"] == 4
    detail = client.get(f"/api/v1/sweeps/{body['id']}/").json()
    assert detail["spec"]["models"] == [m.name for m in models]


# --- the compare page ---------------------------------------------------------------------
def test_the_compare_page_shows_the_runs_of_the_chosen_sweep(client, server, published):
    item_set = make_item_set(n_items=8)
    in_sweep = [ModelConfigurationFactory(base_url=server.url("openai")) for _ in range(2)]
    outside = ModelConfigurationFactory(base_url=server.url("openai"))
    sweep = start_sweep(spec=_spec(in_sweep, item_set, variants=(["v1", "v1_reversed"],)))
    other = start_sweep(spec={**_spec([outside], item_set), "name": "other"})
    _answer_all(sweep.started + other.started)
    _login(client, "res", "researchers")

    everything = client.get("/dashboards/models/", {"item_set": item_set.pk})
    assert {r["model"] for r in everything.context["rows"]} == {
        m.name for m in [*in_sweep, outside]
    }
    assert everything.context["sweep_runs"] is None
    chosen = client.get("/dashboards/models/", {"item_set": item_set.pk, "sweep": sweep.sweep.pk})
    assert chosen.status_code == 200
    assert {r["model"] for r in chosen.context["rows"]} == {m.name for m in in_sweep}
    assert [r.pk for r in chosen.context["sweep_runs"]] == sorted(sweep.started)
    page = chosen.content.decode()
    assert 'id="sweep-runs"' in page and f'<option value="{sweep.sweep.pk}" selected>' in page
    # A sweep id that is no sweep is refused, naming the sweeps there are (a declared filter).
    bad = client.get("/dashboards/models/", {"sweep": "x"})
    assert bad.status_code == 400
    (error,) = bad.context["query_errors"]
    prefix = "sweep: Unknown sweep 'x': choose one of "
    assert error.startswith(prefix) and error.endswith(".")
    assert str(sweep.sweep.pk) in error.removeprefix(prefix).removesuffix(".").split(", ")


# --- with a real worker -------------------------------------------------------------------
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_sweep_is_answered_by_a_celery_worker_and_then_skipped(
    clean_queue, workers, tmp_path, capsys
):
    with FakeProvider(latency=0.01, retry_after=0.1, hang_seconds=2.0) as server:
        item_set = make_item_set(n_items=4)
        models = [ModelConfigurationFactory(base_url=server.url("openai")) for _ in range(2)]
        worker = workers("sweep-w1")
        path = tmp_path / "sweep.toml"
        path.write_text(
            f'name = "by-worker"\nmodels = ["{models[0].name}", "{models[1].name}"]\n'
            f'item_sets = [{item_set.pk}]\n[[template_sets]]\nvariants = ["v1", "v1_reversed"]\n'
        )
        # --wait returns once no run of the sweep is queued, running or being scored.
        call_command("run_sweep", str(path), "--wait", "--poll-seconds", "0.2")
        assert worker.process.poll() is None, "the worker died"
        out = capsys.readouterr().out
        assert "4 run(s) started" in out and "sweep done: 4 done; 16 of 16 answers" in out
        sweep = Sweep.objects.get(name="by-worker")
        state = sweep_progress(sweep=sweep)
        assert state["status_counts"] == {"done": 4}, state
        assert (state["units_answered"], state["units_expected"]) == (16, 16)
        outcome_runs = sorted(state["run_ids"])
        requests = server.request_count()
        again = start_sweep(spec=_spec(models, item_set))
        assert sorted(again.skipped_done) == outcome_runs and again.started == []
        assert server.request_count() == requests
