"""A GGUF file made into a local model directory, and the local backend's one pass per answer."""

import json
import os

import pytest
from django.core.management import CommandError, call_command

from evaluation.local_models import LocalModelError, prepare_from_gguf
from evaluation.providers import GenerationRequest
from evaluation.providers.local import SOURCE_FILE, LocalTransformersClient
from tests.evaluation.tiny_gguf import write_tiny_gguf

if os.environ.get("CI"):  # CI installs the [local] extra: there a missing package fails
    import gguf  # noqa: F401
    import torch
else:
    pytest.importorskip("gguf")
    torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def gguf_file(tmp_path_factory):
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def model_dir(gguf_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared") / "tiny-model"
    call_command("prepare_local_model", str(gguf_file), "--out", str(out))
    return out


def test_a_gguf_file_becomes_a_model_directory_the_backend_loads(model_dir, gguf_file):
    import hashlib

    source = json.loads((model_dir / SOURCE_FILE).read_text())
    assert source["gguf_file"] == "tiny.gguf" and source["architecture"] == "llama"
    assert source["sha256"] == hashlib.sha256(gguf_file.read_bytes()).hexdigest()
    assert (model_dir / "config.json").is_file() and (model_dir / "tokenizer.json").is_file()
    assert "quantization_config" not in json.loads((model_dir / "config.json").read_text())
    client = LocalTransformersClient(model_id=str(model_dir))
    answer = client.generate(GenerationRequest(prompt="answer: like me", max_tokens=2, seed=1))
    assert answer.input_tokens > 3 and 1 <= answer.output_tokens <= 2
    assert answer.model == f"tiny.gguf sha256:{source['sha256'][:16]}"
    assert {t for t, _ in answer.first_token_logprobs if t in "123456"} == set("123456")


def test_bad_inputs_are_refused_clearly(tmp_path, gguf_file, model_dir):
    with pytest.raises(LocalModelError, match="is not a file"):
        prepare_from_gguf(gguf_file=tmp_path / "missing.gguf", out_dir=tmp_path / "out")
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        prepare_from_gguf(gguf_file=text, out_dir=tmp_path / "out")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("prepare_local_model", str(gguf_file), "--out", str(model_dir))


def test_one_forward_pass_per_answer_over_the_last_position_only(model_dir):
    client = LocalTransformersClient(model_id=str(model_dir))
    client.generate(GenerationRequest(prompt="warm up", max_tokens=1))
    from evaluation.providers.local import _MODELS

    model = _MODELS[str(model_dir)][2]
    shapes = []
    hook = model.register_forward_hook(lambda module, args, out: shapes.append(out.logits.shape))
    try:
        answer = client.generate(
            GenerationRequest(prompt="a longer prompt with several tokens in it", max_tokens=1)
        )
    finally:
        hook.remove()
    # The prompt went through the model once, and logits were computed for one position:
    # not a full forward pass over the prompt and then generate() running it again.
    assert len(shapes) == 1 and shapes[0][1] == 1 and answer.input_tokens > 10


def test_a_reask_turn_reaches_a_base_model_as_plain_text(model_dir):
    client = LocalTransformersClient(model_id=str(model_dir))
    plain = client.generate(GenerationRequest(prompt="like me", max_tokens=1))
    with_turns = client.generate(
        GenerationRequest(
            prompt="like me",
            max_tokens=1,
            history=(
                {"role": "assistant", "content": "what"},
                {"role": "user", "content": "answer: not like me"},
            ),
        )
    )
    assert with_turns.input_tokens > plain.input_tokens
