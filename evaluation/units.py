"""Work units of a run and prompt building (pure: no Django imports).

A *unit* is one question to the model: ``(item_id, variant, repetition, persona_key)``,
exactly the unique key of a stored response, so "what is left to do" is a set difference.
Units travel through Celery as JSON lists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from itertools import product

from evaluation.personas import persona_preamble
from evaluation.prompts import render

Unit = tuple[int, str, int, str]


def all_units(
    item_ids: Iterable[int], variants: Sequence[str], repetitions: int, personas: Sequence[str]
) -> list[Unit]:
    """Every unit of a run, in a stable order (item, persona, repetition, variant)."""
    return [
        (item_id, variant, repetition, persona)
        for item_id, persona, repetition, variant in product(
            sorted(set(item_ids)), personas or [""], range(repetitions), variants
        )
    ]


def as_unit(value: Sequence) -> Unit:
    item_id, variant, repetition, persona = value
    return int(item_id), str(variant), int(repetition), str(persona)


def chunks(units: Sequence[Unit], size: int) -> list[list[Unit]]:
    return [list(units[i : i + size]) for i in range(0, len(units), size)]


def build_prompt(
    template_text: str, *, title: str, scenario: str, response: str, persona: dict | None
) -> str:
    return persona_preamble(persona) + render(
        template_text, title=title, scenario=scenario, response=response
    )


def cache_key(
    *,
    provider: str,
    model_id: str,
    base_url: str,
    params: dict,
    prompt: str,
    attempt: int,
    repetition: int = 0,
    reask: str = "",
) -> str:
    """SHA-256 over everything that determines an answer (never the API key).

    ``attempt`` > 0 is a re-ask after an unparseable answer and ``repetition`` > 0 a repeated
    question: neither may be served the answer cached for another. ``reask`` names how a
    re-ask is put ("follow_up": a turn naming the allowed answers; "": the same prompt again).
    (Repetition 0 and plain re-asks keep the keys of answers cached before these were keyed.)
    """
    fields = {
        "provider": provider,
        "model_id": model_id,
        "base_url": base_url,
        "params": params,
        "prompt": prompt,
        "attempt": attempt,
    }
    if repetition:
        fields["repetition"] = repetition
    if attempt and reask:
        fields["reask"] = reask
    material = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def estimate_tokens(prompt: str, max_tokens: int) -> int:
    """A rough upper bound of a call's tokens for the token-per-minute limit."""
    return len(prompt) // 3 + max_tokens
