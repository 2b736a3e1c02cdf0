"""Per-answer logs: a real run against the fake provider exported as JSON Lines, parquet and
a Hugging Face datasets directory, read back, through the command, the API and the run page."""

import hashlib
import io
import json

import datasets
import pandas as pd
import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from evaluation import lifecycle
from evaluation.answer_logs import ANSWER_LOG_COLUMNS
from evaluation.models import EvaluationRun, Response
from evaluation.selectors import answer_log_frames, missing_units
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, rating_for

pytestmark = [pytest.mark.django_db]

PERSONA = {"gender": "woman", "age": "30-44"}


@pytest.fixture
def server():
    with FakeProvider(retry_after=0.1, hang_seconds=2.0) as fake:
        yield fake


def _answer_everything(run: EvaluationRun) -> EvaluationRun:
    """What start_run and the workers do, in-process (as tests/evaluation/test_runs.py)."""
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=run.model_config.generation_params()
    )
    lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    return run


@pytest.fixture
def mixed_run(server):
    """6 items × 2 variants as a persona: one item answered unreadably (kept as invalid), the
    first request refused by the provider (kept as failed), the rest valid."""
    item_set = make_item_set(n_items=6)
    config = ModelConfigurationFactory(base_url=server.url("openai"), max_retries=1)
    run = lifecycle.create_run(
        model_config=config,
        item_set=item_set,
        variants=["v1", "v1_reversed"],
        personas=[PERSONA],
        invalid_retries=0,
    )
    target = item_set.entries.order_by("item_id").first().item
    server.invalid_for = (target.text,)
    server.script("400")
    run = _answer_everything(run)
    states = set(run.responses.values_list("state", flat=True))
    assert states == {"valid", "invalid", "failed"}, states
    return run


def _stored(run) -> dict[int, Response]:
    return {r.pk: r for r in run.responses.select_related("item__scenario")}


def test_every_stored_answer_is_a_row_with_its_prompt_parse_and_costs(mixed_run, server):
    frame = pd.concat(list(answer_log_frames(run=mixed_run, chunk_size=5)), ignore_index=True)
    stored = _stored(mixed_run)
    assert sorted(frame["response_id"]) == sorted(stored) and len(frame) == 12
    sent_prompts = {r["payload"]["messages"][0]["content"] for r in server.requests}
    config = mixed_run.model_config
    for row in frame.to_dict("records"):
        answer = stored[row["response_id"]]
        assert (row["run_id"], row["model"], row["item_id"]) == (
            mixed_run.pk, config.name, answer.item_id,
        )  # fmt: skip
        assert row["item_code"] == answer.item.code
        assert row["persona"] == "age=30-44;gender=woman" and row["repetition"] == 0
        assert row["state"] == answer.state and row["raw_text"] == answer.raw_text
        assert row["reason"] == answer.error
        assert row["dimensions"] and all(":" in d for d in row["dimensions"])
        # The rebuilt prompt is the one the provider received, byte for byte.
        assert row["prompt_text"] in sent_prompts
        assert hashlib.sha256(row["prompt_text"].encode()).hexdigest() == row["prompt_sha256"]
        assert row["prompt_text_matches"] is True
        assert "Answer the following as a woman aged 30-44" in row["prompt_text"]
        assert row["cost_usd"] == pytest.approx(
            float(
                config.cost_of(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens)
            )
        )
        assert json.loads(row["request_params"]) == answer.request_params
        if row["state"] == "valid":
            assert row["rating"] == rating_for(answer.item.text)
            assert row["model_snapshot"] == "fake-model" and row["input_tokens"] == 100
            assert row["latency_ms"] is not None and row["latency_ms"] >= 0
        else:
            assert pd.isna(row["rating"]) and row["reason"]
    invalid = frame[frame["state"] == "invalid"]
    assert len(invalid) >= 1 and set(invalid["raw_text"]) == {"I would rather not say."}
    failed = frame[frame["state"] == "failed"]
    assert len(failed) == 1 and "model does not exist" in failed["reason"].iloc[0]


def test_probabilities_are_read_out_per_rating(server):
    item_set = make_item_set(n_items=3)
    config = ModelConfigurationFactory(base_url=server.url("openai"), top_logprobs=10)
    run = _answer_everything(
        lifecycle.create_run(
            model_config=config, item_set=item_set, variants=["v2"], scoring="probability"
        )
    )
    frame = pd.concat(list(answer_log_frames(run=run)), ignore_index=True)
    stored = _stored(run)
    assert len(frame) == 3
    for row in frame.to_dict("records"):
        expected = rating_for(stored[row["response_id"]].item.text)
        probabilities = list(row["probabilities"])
        assert len(probabilities) == 6 and sum(probabilities) == pytest.approx(1.0)
        assert probabilities[expected - 1] == pytest.approx(0.7 / 0.96)
        assert row["valid_mass"] == pytest.approx(0.96)
        assert row["prompt_text_matches"] is True  # the digit wording was rebuilt


def test_the_three_formats_round_trip_and_agree(mixed_run, tmp_path, monkeypatch):
    jsonl, parquet, hf = tmp_path / "a.jsonl", tmp_path / "a.parquet", tmp_path / "hf"
    call_command("export_answers", run=mixed_run.pk, output=str(jsonl), stdout=io.StringIO())
    call_command(
        "export_answers", run=mixed_run.pk, output=str(parquet), chunk_size=5,
        stdout=io.StringIO(),
    )  # fmt: skip
    call_command(
        "export_answers", run=mixed_run.pk, output=str(hf), format="hf", stdout=io.StringIO()
    )
    piped = io.StringIO()
    call_command("export_answers", run=mixed_run.pk, output="-", stdout=piped, stderr=io.StringIO())

    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert piped.getvalue() == jsonl.read_text(encoding="utf-8")
    assert len(lines) == 12 and list(lines[0]) == ANSWER_LOG_COLUMNS
    from_parquet = pd.read_parquet(parquet)
    assert list(from_parquet.columns) == ANSWER_LOG_COLUMNS
    assert pq.ParquetFile(parquet).num_row_groups == 3  # written chunk by chunk (5 + 5 + 2)
    by_id = {row["response_id"]: row for row in lines}
    for row in from_parquet.to_dict("records"):
        line = by_id[row["response_id"]]
        for column in ("state", "raw_text", "reason", "prompt_text", "item_code", "cost_usd"):
            assert row[column] == line[column], column
        assert pd.Timestamp(line["answered_at"]) == row["answered_at"]
        assert (line["rating"] is None) == pd.isna(row["rating"])

    # The datasets library loads the directory, by its data files and by its card.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    card = (hf / "README.md").read_text(encoding="utf-8")
    assert "| `prompt_text` | `string` |" in card and "12 rows" in card
    by_files = datasets.load_dataset(
        "parquet", data_dir=str(hf / "data"), cache_dir=str(tmp_path / "cache")
    )["train"]
    by_card = datasets.load_dataset(str(hf), cache_dir=str(tmp_path / "cache2"))["train"]
    for loaded in (by_files, by_card):
        assert loaded.num_rows == 12 and loaded.column_names == ANSWER_LOG_COLUMNS
        assert sorted(loaded["response_id"]) == sorted(by_id)
        invalid = loaded.filter(lambda row: row["state"] == "invalid")
        assert invalid.num_rows >= 1 and all(invalid["reason"])


def test_a_run_without_answers_gives_an_empty_file_with_the_columns(tmp_path):
    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(), item_set=make_item_set(n_items=2)
    )
    target = tmp_path / "empty.parquet"
    call_command("export_answers", run=run.pk, output=str(target), stdout=io.StringIO())
    empty = pd.read_parquet(target)
    assert empty.empty and list(empty.columns) == ANSWER_LOG_COLUMNS


def test_command_refusals(tmp_path):
    with pytest.raises(CommandError, match="no evaluation run #999"):
        call_command("export_answers", run=999, output=str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="hf is a directory"):
        call_command("export_answers", run=1, output="-", format="hf")
    with pytest.raises(CommandError, match="no evaluation run #999"):
        call_command("export_answers", "--run", "999", "--output", "-", "--format", "parquet")


def _user(name, group=None):
    user = User.objects.create_user(name, password="x")
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def test_api_streams_the_log_to_a_researchers_token_only(mixed_run, client):
    url = f"/api/v1/evaluation-runs/{mixed_run.pk}/answers/"
    assert client.get(url).status_code in (401, 403)
    nobody = Token.objects.create(user=_user("nobody"))
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {nobody.key}").status_code == 403
    token = Token.objects.create(user=_user("res", "researchers"))
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    streamed = client.get(url, **auth)
    assert streamed.status_code == 200 and streamed.streaming
    assert streamed["Content-Type"].startswith("application/jsonl")
    lines = b"".join(streamed.streaming_content).decode().splitlines()
    assert sorted(json.loads(line)["response_id"] for line in lines) == sorted(_stored(mixed_run))

    as_parquet = client.get(url + "?as=parquet", **auth)
    assert as_parquet.status_code == 200
    frame = pd.read_parquet(io.BytesIO(b"".join(as_parquet.streaming_content)))
    assert len(frame) == 12 and set(frame["state"]) == {"valid", "invalid", "failed"}

    # ``as`` is the deprecated spelling of ``format``: same files, its own two values.
    by_format = client.get(url + "?format=parquet", **auth)
    assert b"".join(by_format.streaming_content) == b"".join(
        client.get(url + "?as=parquet", **auth).streaming_content
    )
    refused = client.get(url + "?as=csv", **auth)
    assert refused.status_code == 400 and "jsonl, parquet" in refused.json()["as"][0]
    as_csv = client.get(url + "?format=csv", **auth)
    assert as_csv["Content-Type"].startswith("text/csv")
    read_back = pd.read_csv(io.StringIO(b"".join(as_csv.streaming_content).decode()))
    assert sorted(read_back["response_id"]) == sorted(_stored(mixed_run))
    assert list(read_back.columns) == list(frame.columns)
    assert client.get("/api/v1/evaluation-runs/999999/answers/", **auth).status_code == 404


def test_run_page_links_the_logs(mixed_run, client):
    client.force_login(_user("res", "researchers"))
    page = client.get(f"/evaluation/runs/{mixed_run.pk}/").content.decode()
    for fmt in ("jsonl", "csv", "parquet"):
        assert f'href="/api/v1/evaluation-runs/{mixed_run.pk}/answers/?format={fmt}"' in page
    # The link works with the page's session.
    assert (
        client.get(f"/api/v1/evaluation-runs/{mixed_run.pk}/answers/?as=parquet").status_code == 200
    )
