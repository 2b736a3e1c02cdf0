"""A local Hugging Face transformers model, run in the worker process (optional extra ``[local]``).

``model_id`` is a model *directory* (loaded with ``local_files_only=True``: never a download).
The prompt goes through the tokenizer's chat template when it has one. Besides the generated
text, the first answer token's log probabilities are computed exactly for every vocabulary
token that reads as a digit 1-6 (plus the top alternatives), so probability scoring sums the
whole mass of each option rather than a top-k sample.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .base import ConfigurationError, GenerationRequest, ProviderAnswer

_MODELS: dict[str, tuple] = {}
_LOAD_LOCK = threading.Lock()
TOP_K = 20


def _load(directory: str):
    with _LOAD_LOCK:
        if directory not in _MODELS:
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise ConfigurationError(
                    "the local backend needs the optional extra: pip install -e '.[local]'"
                ) from exc
            if not Path(directory).is_dir():
                raise ConfigurationError(f"local model directory {directory} does not exist")
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)
            model.eval()
            digit_ids = {
                token_id: text.strip()
                for token_id in range(len(tokenizer))
                if len(text := tokenizer.decode([token_id]).strip()) == 1 and "1" <= text <= "6"
            }
            _MODELS[directory] = (torch, tokenizer, model, digit_ids, threading.Lock())
        return _MODELS[directory]


class LocalTransformersClient:
    provider = "local"

    def __init__(self, *, model_id: str, **_ignored):
        self.model_id = model_id
        self.base_url = ""

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

    def generate(self, request: GenerationRequest) -> ProviderAnswer:
        torch, tokenizer, model, digit_ids, lock = _load(self.model_id)
        if getattr(tokenizer, "chat_template", None):
            input_ids = tokenizer.apply_chat_template(
                [{"role": "user", "content": request.prompt}],
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )["input_ids"]
        else:
            input_ids = tokenizer(request.prompt, return_tensors="pt")["input_ids"]
        params = self.sent_params(request)
        with lock, torch.no_grad():
            logits = model(input_ids=input_ids).logits[0, -1]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            if request.seed is not None:
                torch.manual_seed(request.seed)
            kwargs = {"max_new_tokens": request.max_tokens, "do_sample": params["do_sample"]}
            if params["do_sample"]:
                kwargs["temperature"] = request.temperature
            pad = (
                tokenizer.pad_token_id
                if tokenizer.pad_token_id is not None
                else tokenizer.eos_token_id
            )
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                pad_token_id=pad,
                **kwargs,
            )
        new_tokens = output[0, input_ids.shape[1] :]
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
            model=self.model_id,
        )
