"""A tiny random llama model written as a GGUF file with the ``gguf`` package (no download).

Its vocabulary is sentencepiece-style pieces (single characters, digits, a few words), its
weights float32 random numbers: enough for transformers to read it as it reads a real GGUF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = "like me very much not at all a little somewhat answer the one 1 2 3 4 5 6".split()


def write_tiny_gguf(path: Path, *, hidden: int = 16, layers: int = 1, heads: int = 2) -> Path:
    import gguf

    rng = np.random.default_rng(0)
    pieces = ["\u2581", *"abcdefghijklmnopqrstuvwxyz0123456789.,:;!?'\"-=()"]
    pieces += ["\u2581" + word for word in WORDS]
    tokens = ["<unk>", "<s>", "</s>", *dict.fromkeys(pieces)]
    feed_forward = 2 * hidden
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-test-llama")
    writer.add_context_length(512)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(feed_forward)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(hidden // heads)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 3 + [-float(i) for i in range(len(tokens) - 3)])
    writer.add_token_types([2, 3, 3] + [1] * (len(tokens) - 3))  # unknown, control, normal
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)

    def random(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.2).astype(np.float32))

    random("token_embd.weight", len(tokens), hidden)
    for block in range(layers):
        for norm in ("attn_norm", "ffn_norm"):
            writer.add_tensor(f"blk.{block}.{norm}.weight", np.ones(hidden, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            random(f"blk.{block}.{name}.weight", hidden, hidden)
        random(f"blk.{block}.ffn_gate.weight", feed_forward, hidden)
        random(f"blk.{block}.ffn_up.weight", feed_forward, hidden)
        random(f"blk.{block}.ffn_down.weight", hidden, feed_forward)
    writer.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    random("output.weight", len(tokens), hidden)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
