"""The one definition of "a run with the same parameters" (pure, no Django).

Two runs have the same parameters when they ask the same model configuration, with the same
generation parameters, the same item set, template set and version, the same variants and
personas (order ignored), repetitions and scoring rules. The label, the cache switch and the
batch size change nothing in the answers asked for and are left out.
"""

from __future__ import annotations

import hashlib
import json


def parameters_fingerprint(
    *,
    model_config_id: int,
    generation_params: dict,
    item_set_id: int,
    template_set: str,
    template_set_version: int,
    variants: list[str],
    personas: list[dict],
    repetitions: int,
    scoring: str,
    invalid_retries: int,
    reask_follow_up: bool,
    min_valid_probability: float,
    language: str = "en",
) -> str:
    """A SHA-256 hex digest of the parameters that decide a run's answers. The language
    enters only when it is not English, so runs from before runs had a language keep their
    fingerprints."""
    canonical = {
        "model_config": model_config_id,
        "generation": {k: v for k, v in sorted(generation_params.items()) if v is not None},
        "item_set": item_set_id,
        "template_set": [template_set, int(template_set_version)],
        "variants": sorted(set(variants)),
        "personas": sorted(json.dumps(p, sort_keys=True) for p in personas),
        "repetitions": int(repetitions),
        "scoring": scoring,
        "invalid_retries": int(invalid_retries),
        "reask_follow_up": bool(reask_follow_up),
        "min_valid_probability": float(min_valid_probability),
    }
    if language != "en":
        canonical["language"] = language
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
