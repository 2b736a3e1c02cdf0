"""Load the shipped instrument keys (``data/<code>.json``) into immutable objects.

A key says how many items an instrument has, its response scale and labels, its forms
(male/female for the PVQs), which items are reverse-keyed, and which items make up each
dimension of each family. Every dimension is a set of item numbers; its score is the mean of
those items, which for composite values (e.g. Universalism = its three PVQ-RR sub-values)
equals the mean of the sub-value means because every sub-value has the same item count.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import dimensions as dims

DATA_DIR = Path(__file__).resolve().parent / "data"
INSTRUMENT_CODES: tuple[str, ...] = ("pvq_rr", "pvq21", "bfi10")


@dataclass(frozen=True)
class InstrumentKey:
    code: str
    name: str
    citation: str
    terms_of_use: str
    n_items: int
    scale_min: int
    scale_max: int
    response_labels: tuple[str, ...]
    forms: tuple[str, ...]
    reverse_items: frozenset[int]
    centring: str  # "mrat" (subtract the person's mean over all items) or "none"
    families: dict[str, dict[str, tuple[int, ...]]] = field(hash=False)
    notes: str = ""

    @property
    def item_numbers(self) -> tuple[int, ...]:
        return tuple(range(1, self.n_items + 1))

    @property
    def is_values_instrument(self) -> bool:
        return self.centring == "mrat"

    def label_for(self, value: int) -> str:
        return self.response_labels[value - self.scale_min]

    def dimensions(self, family: str) -> tuple[str, ...]:
        return tuple(self.families.get(family, {}))


def _families_from_values(values: dict) -> dict[str, dict[str, tuple[int, ...]]]:
    """Build the families of a PVQ key from its per-value entries (basic and higher order)."""
    own: dict[str, tuple[int, ...]] = {}
    basic: dict[str, list[int]] = defaultdict(list)
    higher: dict[str, list[int]] = defaultdict(list)
    for name, entry in values.items():
        items = tuple(entry["items"])
        own[name] = items
        if entry.get("basic"):
            basic[entry["basic"]].extend(items)
        if entry.get("higher_order"):
            higher[entry["higher_order"]].extend(items)
    families: dict[str, dict[str, tuple[int, ...]]] = {}
    if len(own) == len(dims.PVQ_RR19_VALUES):
        families[dims.PVQ_RR19] = {name: own[name] for name in dims.PVQ_RR19_VALUES}
    families[dims.SCHWARTZ] = {name: tuple(sorted(basic[name])) for name in dims.SCHWARTZ_VALUES}
    families[dims.HIGHER_ORDER] = {
        name: tuple(sorted(higher[name])) for name in dims.HIGHER_ORDER_VALUES
    }
    return families


def parse_key(raw: dict) -> InstrumentKey:
    """Build and check a key from its JSON form; raises ``ValueError`` on an inconsistent key."""
    if "values" in raw:
        families = _families_from_values(raw["values"])
    else:
        families = {dims.BIG_FIVE: {name: tuple(items) for name, items in raw["traits"].items()}}
    key = InstrumentKey(
        code=raw["code"],
        name=raw["name"],
        citation=raw.get("citation", ""),
        terms_of_use=raw.get("terms_of_use", ""),
        n_items=int(raw["n_items"]),
        scale_min=int(raw["scale"]["min"]),
        scale_max=int(raw["scale"]["max"]),
        response_labels=tuple(raw["scale"]["labels"]),
        forms=tuple(raw["forms"]),
        reverse_items=frozenset(raw.get("reverse_items", [])),
        centring=raw["centring"],
        families=families,
        notes=raw.get("notes", ""),
    )
    _check(key)
    return key


def _check(key: InstrumentKey) -> None:
    if len(key.response_labels) != key.scale_max - key.scale_min + 1:
        raise ValueError(f"{key.code}: {len(key.response_labels)} labels for the scale")
    numbers = set(key.item_numbers)
    if not key.reverse_items <= numbers:
        raise ValueError(f"{key.code}: reverse items outside 1..{key.n_items}")
    for family, members in key.families.items():
        for name, items in members.items():
            if not items or not set(items) <= numbers:
                raise ValueError(f"{key.code}: {family}/{name} has items outside 1..{key.n_items}")
    # Every item must be scored in at least one family (catches typos in the key).
    used = {n for members in key.families.values() for items in members.values() for n in items}
    if used != numbers:
        raise ValueError(f"{key.code}: items never scored: {sorted(numbers - used)}")


@cache
def load_key(code: str) -> InstrumentKey:
    """Return the shipped key of instrument ``code`` (``pvq_rr``, ``pvq21`` or ``bfi10``)."""
    if code not in INSTRUMENT_CODES:
        raise KeyError(f"unknown instrument {code!r}; known: {', '.join(INSTRUMENT_CODES)}")
    with open(DATA_DIR / f"{code}.json", encoding="utf-8") as handle:
        return parse_key(json.load(handle))


def all_keys() -> dict[str, InstrumentKey]:
    return {code: load_key(code) for code in INSTRUMENT_CODES}
