"""A local Hugging Face transformers model, run in the worker process (optional extra ``[local]``).

``model_id`` is a model *directory* (loaded with ``local_files_only=True``: never a download;
``manage.py prepare_local_model`` makes one from a GGUF file). The prompt goes through the
tokenizer's chat template when it has one (a base model's plain prompt otherwise).

Each answer is **one** ``generate()`` call: the prompt is run once (only the last position's
logits are computed) and the first generated step's raw logits give the first answer token's
log probabilities, computed exactly for every vocabulary token that reads as a digit 1-6 (plus
the top alternatives), so probability scoring sums the whole mass of each option rather than a
top-k sample.

Torch's intra-op threads are set once per process to ``threads`` (settings:
``EVALUATION_LOCAL_THREADS``, default 1): the worker already answers several units at once,
and torch's default of one thread per core made an answer several times slower on a shared
machine (20.8 s against 5.9 s with one thread, measured on a 2-core machine).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .base import ConfigurationError, GenerationRequest, ProviderAnswer

_MODELS: dict[str, tuple] = {}
_LOAD_LOCK = threading.Lock()
TOP_K = 20
# Written by prepare_local_model beside the weights: where they came from.
SOURCE_FILE = "valueportrait-source.json"


def _snapshot(directory: str) -> str:
    """What answered: the GGUF file and its SHA-256 when the directory was prepared from one."""
    source = Path(directory) / SOURCE_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        return f"{data['gguf_file']} sha256:{data['sha256'][:16]}"
    except (OSError, ValueError, KeyError, TypeError):
        return directory


def _load(directory: str, threads: int):
    with _LOAD_LOCK:
        if directory not in _MODELS:
            try:  # inside: torch and transformers are the optional 'local' extra
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise ConfigurationError(
                    "the local backend needs the optional extra: pip install -e '.[local]'"
                ) from exc
            if not Path(directory).is_dir():
                raise ConfigurationError(f"local model directory {directory} does not exist")
            if threads:
                torch.set_num_threads(threads)
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)
            model.eval()
            digit_ids = {
                token_id: text
                for token_id in range(len(tokenizer))
                if len(text := tokenizer.decode([token_id]).strip()) == 1 and "1" <= text <= "6"
            }
            _MODELS[directory] = (
                torch,
                tokenizer,
                model,
                digit_ids,
                threading.Lock(),
                _snapshot(directory),
            )
        return _MODELS[directory]


class LocalTransformersClient:
    provider = "local"

    def __init__(self, *, model_id: str, threads: int = 1, **_ignored):
        self.model_id = model_id
        self.base_url = ""
        self.threads = threads

    def close(self) -> None:
        pass

    def sent_params(self, request: GenerationRequest) -> dict:
        sampling = request.temperature not in (None, 0)
        params = {"max_new_tokens": request.max_tokens, "do_sample": sampling}
        if sampling:
            params["temperature"] = request.temperature
        if request.seed is not None:
            params["seed"] = request.seed
        params["first_token_digit_probabilities"] = True
        return params

    def _input_ids(self, tokenizer, request: GenerationRequest):
        messages = request.messages()
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
        # A base model: the conversation as plain text, the last turn last.
        text = "\n\n".join(m["content"] for m in messages)
        return tokenizer(text, return_tensors="pt")["input_ids"]

    def generate(self, request: GenerationRequest) -> ProviderAnswer:
        torch, tokenizer, model, digit_ids, lock, snapshot = _load(self.model_id, self.threads)
        input_ids = self._input_ids(tokenizer, request)
        params = self.sent_params(request)
        kwargs = {"max_new_tokens": request.max_tokens, "do_sample": params["do_sample"]}
        if params["do_sample"]:
            kwargs["temperature"] = request.temperature
        pad = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        with lock, torch.inference_mode():
            if request.seed is not None:
                torch.manual_seed(request.seed)
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                pad_token_id=pad,
                output_logits=True,
                return_dict_in_generate=True,
                **kwargs,
            )
        # The raw logits of the first generated position: the first answer token's distribution.
        logprobs = torch.log_softmax(output.logits[0][0].float(), dim=-1)
        new_tokens = output.sequences[0, input_ids.shape[1] :]
        chosen = dict.fromkeys(logprobs.topk(min(TOP_K, logprobs.shape[0])).indices.tolist())
        chosen.update(dict.fromkeys(digit_ids))
        alternatives = [
            (digit_ids.get(token_id) or tokenizer.decode([token_id]), float(logprobs[token_id]))
            for token_id in chosen
        ]
        return ProviderAnswer(
            text=tokenizer.decode(new_tokens, skip_special_tokens=True),
            first_token_logprobs=alternatives,
            input_tokens=int(input_ids.shape[1]),
            output_tokens=int(new_tokens.shape[0]),
            finish_reason="length" if new_tokens.shape[0] >= request.max_tokens else "stop",
            sent_params=params,
            model=snapshot,
        )
