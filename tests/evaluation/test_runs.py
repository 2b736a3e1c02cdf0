"""Runs executed in-process against the fake provider (the Celery worker tests are in
test_worker.py): rows, idempotency, invalid answers, cache, params recorded, portraits."""

import pytest

from benchmark.selectors import item_set_entries
from evaluation import lifecycle, portraits
from evaluation.errors import InvalidRunSettings, QueueUnavailable
from evaluation.models import CachedResponse, EvaluationRun, PortraitScore, Response
from evaluation.prompts import SCALE_LABELS
from evaluation.selectors import answers_frame, missing_units, progress, run_units
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, rating_for

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def server():
    with FakeProvider(retry_after=0.1, hang_seconds=2.0) as fake:
        yield fake


def _start_in_process(run):
    """What start_run + dispatch_run do, without a broker."""
    params = run.model_config.generation_params()
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=params
    )
    run.refresh_from_db()
    return run


def _run_all(run):
    written = lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    return written


def test_a_run_answers_every_unit_once_and_scores_a_portrait(server):
    item_set = make_item_set(n_items=8)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    run = lifecycle.create_run(
        model_config=config, item_set=item_set, variants=["v1", "v1_reversed"], repetitions=1
    )
    _start_in_process(run)
    server.script("429", "500", "think")
    assert _run_all(run) == 16
    assert run.status == EvaluationRun.Status.DONE
    rows = Response.objects.filter(run=run)
    assert rows.count() == 16 and rows.filter(state="valid").count() == 16
    for row in rows.select_related("item"):
        assert row.rating == rating_for(row.item.text)
        assert row.request_params == {"temperature": 0.0, "max_tokens": 16, "seed": 42}
    # Same answer in both option orders: no order effect, and the portrait exists.
    scores = PortraitScore.objects.filter(run=run, basis="answer")
    assert {s.dimension for s in scores} == {"Power", "Hedonism", "Universalism", "Openness"}
    assert run.summary["personas"][""]["invalid"] == 0
    # Running the same units again writes nothing (idempotent) and asks nothing.
    requests = server.request_count()
    EvaluationRun.objects.filter(pk=run.pk).update(status=EvaluationRun.Status.RUNNING)
    assert lifecycle.execute_batch(run_id=run.pk, units=run_units(run=run)) == 0
    assert server.request_count() == requests
    prog = progress(run=run)
    assert (prog["expected"], prog["answered"], prog["remaining"]) == (16, 16, 0)
    assert prog["input_tokens"] == 16 * 100 and prog["cost_estimate_usd"] > 0


def test_invalid_answers_are_retried_then_stored_and_counted(server):
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    run = lifecycle.create_run(
        model_config=config,
        item_set=item_set,
        variants=["v2"],
        invalid_retries=2,
        reask_follow_up=False,
    )
    _start_in_process(run)
    target = item_set.entries.order_by("item_id").first().item
    server.invalid_for = (target.text,)
    _run_all(run)
    bad = Response.objects.get(run=run, item=target)
    assert bad.state == "invalid" and bad.rating is None and bad.attempts == 3
    assert bad.raw_text == "I would rather not say." and len(bad.invalid_answers) == 2
    assert run.summary["personas"][""]["invalid"] == 1
    assert run.status == EvaluationRun.Status.DONE
    # Without the follow-up every re-ask was the identical call.
    asked = [r["payload"]["messages"] for r in server.requests if target.text in str(r)]
    assert len(asked) == 3 and asked[0] == asked[1] == asked[2]


def test_a_reask_is_a_follow_up_naming_the_allowed_phrases(server):
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    run = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v2_reversed"])
    )
    target = item_set.entries.order_by("item_id").first().item
    server.invalid_for = (target.text,)  # the item's own prompt gets an unreadable answer
    _run_all(run)
    row = Response.objects.get(run=run, item=target)
    assert (row.state, row.rating, row.attempts) == ("valid", rating_for(target.text), 2)
    assert row.invalid_answers == ["I would rather not say."]
    first, second = [r["payload"]["messages"] for r in server.requests if target.text in str(r)]
    assert len(first) == 1 and [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == "I would rather not say."
    follow_up = second[2]["content"]
    assert "could not be read" in follow_up
    assert follow_up.endswith("\n".join(SCALE_LABELS))  # in the order the prompt listed them


def test_cache_makes_a_second_run_free_and_can_be_switched_off(server):
    item_set = make_item_set(n_items=6)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    first = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v3"])
    )
    _run_all(first)
    asked = server.request_count()
    assert CachedResponse.objects.count() == 6
    second = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v3"])
    )
    _run_all(second)
    assert server.request_count() == asked  # free
    assert second.responses.filter(cached=True).count() == 6
    assert progress(run=second)["cached"] == 6
    uncached = _start_in_process(
        lifecycle.create_run(
            model_config=config, item_set=item_set, variants=["v3"], use_cache=False
        )
    )
    _run_all(uncached)
    assert server.request_count() == asked + 6


def test_client_errors_fail_fast_and_resume_retries_them(server):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory(base_url=server.url("openai"), max_retries=1)
    run = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
    )
    server.script("400", "400")
    _run_all(run)
    assert run.responses.filter(state="failed").count() == 2
    assert "model does not exist" in run.responses.first().error
    assert run.status == EvaluationRun.Status.DONE  # every unit has a row; failures shown
    assert run.summary["personas"][""]["failed"] == 2
    # Resume deletes failed rows and asks again (here in-process, without a broker).
    run.responses.filter(state="failed").delete()
    _start_in_process(run)
    _run_all(run)
    assert run.responses.filter(state="valid").count() == 2


def test_probability_scoring_and_personas(server):
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory(base_url=server.url("openai"), top_logprobs=10)
    run = lifecycle.create_run(
        model_config=config,
        item_set=item_set,
        variants=["v1", "v1_reversed"],
        scoring="probability",
        personas=[{"gender": "woman", "age": "30-44"}],
    )
    _start_in_process(run)
    _run_all(run)
    rows = run.responses.select_related("item")
    assert rows.count() == 8 and {r.persona for r in rows} == {"age=30-44;gender=woman"}
    for row in rows:
        expected = rating_for(row.item.text)
        assert row.rating == expected
        assert row.valid_mass == pytest.approx(0.96)
        assert row.option_probabilities["probabilities"][str(expected)] == pytest.approx(0.7 / 0.96)
    assert (
        "Answer the following as a woman aged 30-44"
        in server.requests[0]["payload"]["messages"][0]["content"]
    )
    bases = set(run.scores.values_list("basis", flat=True))
    assert bases == {"answer", "probability"}


def test_run_validation_messages():
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory()
    with pytest.raises(InvalidRunSettings, match="unknown variant"):
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v9"])
    with pytest.raises(InvalidRunSettings, match="top log-probabilities"):
        lifecycle.create_run(model_config=config, item_set=item_set, scoring="probability")
    with pytest.raises(InvalidRunSettings, match="age must be one of"):
        lifecycle.create_run(model_config=config, item_set=item_set, personas=[{"age": "7"}])


def test_cancelled_run_asks_nothing(server):
    item_set = make_item_set(n_items=3)
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    run = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
    )
    assert lifecycle.cancel_run(run_id=run.pk)
    assert lifecycle.execute_batch(run_id=run.pk, units=run_units(run=run)) == 0
    assert server.request_count() == 0


@pytest.mark.django_db(transaction=True)
def test_starting_without_a_broker_says_the_queue_is_unavailable(monkeypatch):
    from config.celery import app

    item_set = make_item_set(n_items=2)
    run = lifecycle.create_run(model_config=ModelConfigurationFactory(), item_set=item_set)
    # Nothing listens on port 1.
    monkeypatch.setattr(
        lifecycle, "broker_connection", lambda: app.connection_for_write("redis://127.0.0.1:1/0")
    )
    with pytest.raises(QueueUnavailable, match="task queue is unavailable.*Redis"):
        lifecycle.start_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.DRAFT and "unavailable" in run.error


def test_answers_below_the_probability_floor_are_invalid_and_shown(server, client):
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory(base_url=server.url("openai"), top_logprobs=10)
    run = _start_in_process(
        lifecycle.create_run(
            model_config=config,
            item_set=item_set,
            variants=["v1"],
            scoring="probability",
            invalid_retries=0,
            min_valid_probability=0.5,
        )
    )
    server.script("sliver")
    _run_all(run)
    low = run.responses.get(valid_mass__lt=0.5)
    assert low.state == "invalid" and low.rating is None and low.expected_rating is None
    assert low.valid_mass == pytest.approx(0.001)
    assert "below the floor 0.5" in low.error and low.raw_text.startswith("The answer is")
    assert low.option_probabilities["reason"] == low.error
    summary = run.summary["personas"][""]
    assert summary["invalid"] == 1 and summary["valid"] == 3
    assert summary["valid_mass"]["below_floor"] == 1 and summary["valid_mass"]["answers"] == 4
    assert [b["count"] for b in summary["valid_mass"]["bins"]] == [1] + [0] * 8 + [3]
    # The portrait of expected ratings stands on the three answers above the floor only.
    assert run.responses.filter(expected_rating__isnull=False).count() == 3

    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("res", password="x")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    page = client.get(f"/evaluation/runs/{run.pk}/").content.decode()
    assert "Probability on the six digits" in page and "below the floor 0.5" in page


def test_a_lower_floor_keeps_more_answers(server):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory(base_url=server.url("openai"), top_logprobs=10)
    run = _start_in_process(
        lifecycle.create_run(
            model_config=config, item_set=item_set, variants=["v1"], scoring="probability",
            min_valid_probability=0.0001, invalid_retries=0,
        )
    )  # fmt: skip
    server.script("sliver")
    _run_all(run)
    assert run.responses.filter(state="valid").count() == 2


def test_repetitions_are_cached_apart_and_resume_from_the_cache(server):
    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory(base_url=server.url("openai"), temperature=0.8)
    first = _start_in_process(
        lifecycle.create_run(
            model_config=config, item_set=item_set, variants=["v1"], repetitions=2, batch_size=1
        )
    )
    for unit in missing_units(run=first):  # batches one after another, as workers take them
        lifecycle.execute_batch(run_id=first.pk, units=[unit])
    assert server.request_count() == 4 and CachedResponse.objects.count() == 4
    # A run with one more repetition pays only for the new one.
    second = _start_in_process(
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"], repetitions=3)
    )
    _run_all(second)
    assert server.request_count() == 6
    assert second.responses.filter(cached=True).count() == 4


def test_cache_entries_expire_when_the_setting_says_so(server, settings):
    from datetime import timedelta

    from django.utils import timezone

    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory(base_url=server.url("openai"))

    def run_once():
        run = _start_in_process(
            lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
        )
        _run_all(run)
        return run

    run_once()
    CachedResponse.objects.update(created_at=timezone.now() - timedelta(days=40))
    assert run_once().responses.filter(cached=True).count() == 2  # off by default
    settings.EVALUATION_CACHE_MAX_AGE_DAYS = 30
    assert run_once().responses.filter(cached=True).count() == 0
    assert server.request_count() == 4
    # The expired entries were replaced by the new answers, which are served again.
    assert (
        CachedResponse.objects.filter(created_at__gte=timezone.now() - timedelta(days=1)).count()
        == 2
    )
    assert run_once().responses.filter(cached=True).count() == 2


def test_each_answer_records_the_snapshot_and_a_run_with_two_says_so(client):
    import hashlib

    item_set = make_item_set(n_items=4)
    with FakeProvider(snapshots=("fake-2025-01-01", "fake-2025-03-01")) as fake:
        config = ModelConfigurationFactory(base_url=fake.url("openai"))
        run = _start_in_process(
            lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"])
        )
        _run_all(run)
        prompts = {r["payload"]["messages"][-1]["content"] for r in fake.requests}
    assert set(run.responses.values_list("model_snapshot", flat=True)) == {
        "fake-2025-01-01", "fake-2025-03-01",
    }  # fmt: skip
    assert set(run.responses.values_list("prompt_sha256", flat=True)) == {
        hashlib.sha256(p.encode()).hexdigest() for p in prompts
    }
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("res", password="x")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    page = client.get(f"/evaluation/runs/{run.pk}/").content.decode()
    assert "Answered by 2 model snapshots" in page and "fake-2025-03-01" in page


def test_a_template_answered_with_one_rating_is_left_out_and_shown(client):
    """A model that answers every item "very much like me" under one wording: that wording's
    answers say nothing about its values, so the portrait is the other wording's alone."""
    item_set = make_item_set(n_items=12)
    with FakeProvider(fixed_answer={"word for word": 6}) as fake:  # v2's instruction
        config = ModelConfigurationFactory(base_url=fake.url("openai"))
        run = _start_in_process(
            lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1", "v2"])
        )
        _run_all(run)
    assert run.status == EvaluationRun.Status.DONE
    assert set(run.responses.filter(variant="v2").values_list("rating", flat=True)) == {6.0}
    summary = run.summary["personas"][""]
    assert summary["constant_variants"] == [
        {"basis": "answer", "variant": "v2", "rating": 6.0, "items": 12}
    ]
    # Still counted as valid answers; the portrait is v1's answers alone.
    assert summary["valid"] == 24
    answers = answers_frame(run=run)
    v1_alone = portraits.model_portrait(
        answers[answers["variant"] == "v1"], item_set_entries(item_set=item_set)
    )
    stored = {s.dimension: s.centred for s in PortraitScore.objects.filter(run=run, basis="answer")}
    assert stored == pytest.approx(
        dict(zip(v1_alone["dimension"], v1_alone["centred"], strict=True))
    )
    assert summary["consistency"]["variants"] == ["v1"]

    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("res", password="x")
    user.groups.add(Group.objects.get_or_create(name="researchers")[0])
    client.force_login(user)
    page = client.get(f"/evaluation/runs/{run.pk}/").content.decode()
    assert "Left out of the portrait: 1 template variant" in page
    assert "v2 — 6 on all 12 items" in page
