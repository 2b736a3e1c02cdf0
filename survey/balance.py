"""Balanced item assignment and sequence building (pure: no Django imports).

``choose_items`` gives a new participant the items with the fewest ratings so far
(completed plus actively leased), ties broken at random, never exceeding the target;
``build_sequence`` shuffles them and interleaves attention checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def choose_items(
    item_ids: np.ndarray | list[int],
    loads: np.ndarray | list[int],
    *,
    target: int,
    k: int,
    rng: np.random.Generator,
) -> list[int]:
    """Return up to ``k`` item ids with the lowest load, ties at random, all under ``target``.

    ``loads[i]`` is the number of completed plus actively leased ratings of ``item_ids[i]``.
    Items already at or above the target are never chosen, so the result is shorter than
    ``k`` (possibly empty) when fewer items still need ratings.
    """
    ids = np.asarray(item_ids, dtype=np.int64)
    load = np.asarray(loads, dtype=np.int64)
    if ids.shape != load.shape:
        raise ValueError("item_ids and loads must have the same length")
    if k < 0 or target < 0:
        raise ValueError("k and target must be non-negative")
    open_mask = load < target
    ids, load = ids[open_mask], load[open_mask]
    tie_break = rng.random(ids.size)
    order = np.lexsort((tie_break, load))  # by load, then at random
    return [int(i) for i in ids[order[:k]]]


@dataclass(frozen=True)
class Slot:
    """One place in a participant's sequence: an item id, or an attention check's value."""

    item_id: int | None = None
    expected_value: int | None = None

    @property
    def is_attention_check(self) -> bool:
        return self.item_id is None


def build_sequence(
    item_ids: list[int],
    *,
    attention_checks: int,
    scale_max: int,
    rng: np.random.Generator,
) -> list[Slot]:
    """Shuffle the items and spread ``attention_checks`` checks through them.

    Checks are placed one per equal segment of the sequence (never first, never two in a
    row when there are enough items), each with a random value to pick on 1..``scale_max``.
    """
    order = [int(i) for i in rng.permutation(np.asarray(item_ids, dtype=np.int64))]
    slots = [Slot(item_id=i) for i in order]
    n_checks = max(0, attention_checks)
    if not slots or n_checks == 0:
        return slots
    # Insertion points: one random gap inside each of n_checks equal segments of the items.
    edges = np.linspace(0, len(slots), n_checks + 1)
    points = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        low = max(1, int(np.ceil(lo)))
        high = max(low, int(np.floor(hi)))
        points.append(int(rng.integers(low, high + 1)))
    values = rng.integers(1, scale_max + 1, size=n_checks)
    for offset, (point, value) in enumerate(zip(sorted(points), values, strict=True)):
        slots.insert(point + offset, Slot(expected_value=int(value)))
    return slots
