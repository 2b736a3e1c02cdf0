"""Pure modules: balanced choice, sequence building, quality metrics (no database)."""

import numpy as np
import pytest

from survey.balance import build_sequence, choose_items
from survey.quality import SPEEDER, STRAIGHTLINER, assess, paginate, straightlining_share


def test_choose_items_prefers_lowest_load_and_skips_full_items():
    rng = np.random.default_rng(0)
    ids = [10, 11, 12, 13, 14]
    loads = [3, 0, 1, 0, 5]
    chosen = choose_items(ids, loads, target=5, k=3, rng=rng)
    assert set(chosen[:2]) == {11, 13} and chosen[2] == 12
    assert 14 not in choose_items(ids, loads, target=5, k=5, rng=rng)
    assert choose_items(ids, [5] * 5, target=5, k=3, rng=rng) == []


def test_choose_items_breaks_ties_at_random():
    ids = list(range(10))
    picks = {
        tuple(sorted(choose_items(ids, [0] * 10, target=9, k=3, rng=np.random.default_rng(s))))
        for s in range(20)
    }
    assert len(picks) > 5


def test_repeated_choice_stays_balanced_within_one():
    rng = np.random.default_rng(1)
    ids = np.arange(37)
    loads = np.zeros(37, dtype=int)
    for _ in range(100):
        for item in choose_items(ids, loads, target=1000, k=8, rng=rng):
            loads[item] += 1
        assert loads.max() - loads.min() <= 1


def test_choose_items_rejects_bad_input():
    with pytest.raises(ValueError):
        choose_items([1, 2], [0], target=1, k=1, rng=np.random.default_rng())


def test_build_sequence_spreads_checks_and_keeps_every_item():
    rng = np.random.default_rng(3)
    slots = build_sequence(list(range(40)), attention_checks=3, scale_max=6, rng=rng)
    assert len(slots) == 43
    assert sorted(s.item_id for s in slots if not s.is_attention_check) == list(range(40))
    positions = [i for i, s in enumerate(slots) if s.is_attention_check]
    assert len(positions) == 3 and positions[0] > 0
    assert all(1 <= slots[i].expected_value <= 6 for i in positions)
    assert all(b - a > 1 for a, b in zip(positions, positions[1:], strict=False))
    assert build_sequence([1, 2], attention_checks=0, scale_max=6, rng=rng)[0].item_id in (1, 2)


def test_straightlining_share():
    assert straightlining_share([3, 3, 3, 3]) == 1.0
    assert straightlining_share([1, 2, 1, 2]) == 0.0
    assert straightlining_share([4, 4, 5, 5, 5]) == 0.75
    assert straightlining_share([4]) == 0.0


def test_assess_raises_flags_only_when_warranted():
    base = dict(attention_checks_answered=3, speeder_fraction=0.4, straightlining_threshold=0.8)
    clean = assess(
        attention_failures=0,
        ratings_in_order=[1, 3, 5, 2, 6, 4],
        total_seconds=600,
        other_totals=[500, 600, 700, 650, 620],
        **base,
    )
    assert clean.flags == [] and clean.median_total_seconds == 620
    fast = assess(
        attention_failures=0,
        ratings_in_order=[1, 3, 5, 2, 6, 4],
        total_seconds=200,
        other_totals=[500, 600, 700, 650, 620],
        **base,
    )
    assert fast.flags == [SPEEDER]
    few = assess(
        attention_failures=0,
        ratings_in_order=[1, 3, 5, 2, 6, 4],
        total_seconds=10,
        other_totals=[500, 600],
        **base,
    )
    assert SPEEDER not in few.flags  # too few completions for a median
    flat = assess(
        attention_failures=1, ratings_in_order=[4] * 10, total_seconds=None, other_totals=[], **base
    )
    assert flat.flags == ["attention_check_failed", STRAIGHTLINER]
    assert flat.as_json()["straightlining_share"] == 1.0


def test_paginate():
    assert paginate(range(1, 11), 4) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    with pytest.raises(ValueError):
        paginate([1], 0)
