"""The local transformers backend on a tiny randomly initialised model built here (no download)."""

import math
import os

import pytest

from evaluation.parsing import option_probabilities
from evaluation.prompts import SCALE_LABELS
from evaluation.prompts.builtin import builtin_templates
from evaluation.providers import GenerationRequest
from evaluation.providers.local import LocalTransformersClient
from evaluation.units import build_prompt

if os.environ.get("CI"):
    # CI installs the [local] extra (Makefile): there a missing torch/transformers fails.
    import torch
    import transformers  # noqa: F401
else:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-model")
    words = set()
    for spec in builtin_templates():
        words.update(spec.digit_text.split())
        words.update(spec.text.split())
    words.update("1 2 3 4 5 6 = : . , ? ! a scenario response reply message post title".split())
    specials = ["[UNK]", "[PAD]", "<|eos|>", "<|user|>", "<|assistant|>"]
    vocab = {token: i for i, token in enumerate(specials + sorted(words - set(specials)))}
    tokenizer_model = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer_model.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer_model,
        unk_token="[UNK]",
        pad_token="[PAD]",
        eos_token="<|eos|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=512, n_embd=32, n_layer=2, n_head=2,
        eos_token_id=vocab["<|eos|>"], pad_token_id=vocab["[PAD]"],
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(directory)
    return str(directory)


def _prompt(digits: bool) -> str:
    spec = next(s for s in builtin_templates() if s.variant == "v1_reversed" and s.style == "chat")
    return build_prompt(
        spec.digit_text if digits else spec.text,
        title="",
        scenario="Should I call my sister",
        response="Yes call her",
        persona=None,
    )


def test_local_model_generates_and_scores_all_six_options(tiny_model_dir):
    client = LocalTransformersClient(model_id=tiny_model_dir)
    request = GenerationRequest(prompt=_prompt(digits=True), max_tokens=3, temperature=None, seed=1)
    answer = client.generate(request)
    assert answer.input_tokens > 20 and 1 <= answer.output_tokens <= 3
    assert answer.sent_params == {
        "max_new_tokens": 3, "do_sample": False, "seed": 1, "first_token_digit_probabilities": True,
    }  # fmt: skip
    digits = {token for token, _ in answer.first_token_logprobs if token in "123456"}
    assert digits == set("123456")  # every option's probability, not a top-k sample
    # A random model puts little mass on the digits: no floor here, the distribution is tested.
    distribution = option_probabilities(
        answer.first_token_logprobs, SCALE_LABELS, min_valid_probability=0.0
    )
    assert 0 < distribution.valid_mass < 1
    assert math.isclose(sum(distribution.probabilities), 1.0)
    assert 1 <= distribution.expected_rating <= 6
    # Greedy decoding is deterministic.
    assert client.generate(request).text == answer.text


def test_sampling_with_a_seed_is_reproducible(tiny_model_dir):
    client = LocalTransformersClient(model_id=tiny_model_dir)
    request = GenerationRequest(prompt=_prompt(digits=False), max_tokens=5, temperature=1.0, seed=7)
    first = client.generate(request)
    assert first.sent_params["do_sample"] is True and first.sent_params["temperature"] == 1.0
    assert client.generate(request).text == first.text


def test_missing_directory_is_a_clear_error(tmp_path):
    from evaluation.providers import ConfigurationError

    client = LocalTransformersClient(model_id=str(tmp_path / "nope"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        client.generate(GenerationRequest(prompt="x"))


@pytest.mark.django_db
def test_a_probability_run_on_the_local_model(tiny_model_dir):
    from evaluation import lifecycle
    from evaluation.models import EvaluationRun
    from evaluation.selectors import missing_units
    from tests.evaluation.factories import ModelConfigurationFactory, make_item_set

    item_set = make_item_set(n_items=2)
    config = ModelConfigurationFactory(
        provider="local", model_id=tiny_model_dir, base_url="", max_tokens=2, temperature=None
    )

    def run_with(floor):
        run = lifecycle.create_run(
            model_config=config,
            item_set=item_set,
            variants=["v1", "v1_reversed"],
            scoring="probability",
            min_valid_probability=floor,
            invalid_retries=0,
        )
        EvaluationRun.objects.filter(pk=run.pk).update(
            status="running", params=config.generation_params()
        )
        assert lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run)) == 4
        run.refresh_from_db()
        assert run.status == "done"
        return run

    # Without a floor the distribution of a random model gives expected ratings ...
    run = run_with(0.0)
    for row in run.responses.all():
        assert row.expected_rating is not None and 0 < row.valid_mass < 1
        assert set(row.option_probabilities["probabilities"]) == set("123456")
    assert run.scores.filter(basis="probability", n__gt=0).exists()
    # ... which the default floor refuses: a model that puts almost nothing on the digits
    # ends as counted invalid answers, never as a portrait.
    run = run_with(0.5)
    assert run.responses.filter(state="invalid", expected_rating__isnull=True).count() == 4
    assert run.summary["personas"][""]["valid_mass"]["below_floor"] == 4
    assert not run.scores.exists()
