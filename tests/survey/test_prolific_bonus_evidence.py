"""Reading a bonus batch's fate from the bonuses Prolific lists on each submission (pure)."""

from __future__ import annotations

from collections import Counter

from survey.prolific.bonus_evidence import Verdict, cents, count_bonuses, verdict

BATCH = [["S1", "1.25"], ["S2", "0.50"]]
NONE = Counter()


def test_amounts_in_cents_as_prolific_lists_them():
    assert cents("1.25") == 125 and cents("0.5") == 50 and cents("30") == 3000
    assert count_bonuses([BATCH, [["S1", "1.25"]]]) == Counter({("S1", 125): 2, ("S2", 50): 1})


def test_listed_on_every_submission_is_paid_on_none_not_paid_on_some_unclear():
    assert verdict(bonuses=BATCH, listed={"S1": [125], "S2": [50]}, known_paid=NONE,
                   maybe_paid=NONE) == Verdict.PAID  # fmt: skip
    assert verdict(bonuses=BATCH, listed={"S1": [], "S2": []}, known_paid=NONE,
                   maybe_paid=NONE) == Verdict.NOT_PAID  # fmt: skip
    assert verdict(bonuses=BATCH, listed={"S1": [125], "S2": []}, known_paid=NONE,
                   maybe_paid=NONE) == Verdict.UNCLEAR  # fmt: skip
    # another amount on the submission is another bonus, not this one
    assert verdict(bonuses=BATCH, listed={"S1": [100], "S2": [75]}, known_paid=NONE,
                   maybe_paid=NONE) == Verdict.NOT_PAID  # fmt: skip


def test_bonuses_our_paid_batches_account_for_are_not_counted_as_this_one():
    paid_before = count_bonuses([BATCH])
    listed_once = {"S1": [125], "S2": [50]}
    assert verdict(bonuses=BATCH, listed=listed_once, known_paid=paid_before,
                   maybe_paid=NONE) == Verdict.NOT_PAID  # fmt: skip
    listed_twice = {"S1": [125, 125], "S2": [50, 50]}
    assert verdict(bonuses=BATCH, listed=listed_twice, known_paid=paid_before,
                   maybe_paid=NONE) == Verdict.PAID  # fmt: skip


def test_another_open_batch_of_the_same_amounts_makes_one_listing_unclear():
    other_open = count_bonuses([BATCH])
    once = {"S1": [125], "S2": [50]}
    assert verdict(bonuses=BATCH, listed=once, known_paid=NONE,
                   maybe_paid=other_open) == Verdict.UNCLEAR  # fmt: skip
    twice = {"S1": [125, 125], "S2": [50, 50]}
    assert verdict(bonuses=BATCH, listed=twice, known_paid=NONE,
                   maybe_paid=other_open) == Verdict.PAID  # fmt: skip
    # fewer listed than we know were paid (Prolific still processing): proves nothing
    assert verdict(bonuses=BATCH, listed={"S1": [], "S2": []}, known_paid=count_bonuses([BATCH]),
                   maybe_paid=NONE) == Verdict.UNCLEAR  # fmt: skip
