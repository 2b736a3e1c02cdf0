"""Whether Prolific paid a bonus batch, read from what it lists on each submission (pure: no
Django, no HTTP).

Prolific's API has no way to read a bulk bonus payment back (its bonus endpoints are "set
up" and "pay"); what it does return is each submission's ``bonus_payments``: the bonuses
*paid* on it, in cents/pence, without saying which batch paid them. So a batch counts as paid
on a submission when that submission lists its amount more often than our other batches
known to be paid account for, and as unpaid when it lists it exactly as often as those. Any
other count (a batch of ours whose outcome is itself open pays the same amount, or fewer
bonuses are listed than we know were paid) proves nothing either way.

Errors lean one way only: a bonus paid by hand on Prolific's site with the same amount makes
the batch look paid (it is then not paid again), never the reverse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum


class Verdict(StrEnum):
    PAID = "paid"  # every bonus of the batch is listed on its submission
    NOT_PAID = "not_paid"  # none is
    UNCLEAR = "unclear"  # some are, or the counts cannot tell


def cents(amount: str | Decimal) -> int:
    """``"1.25"`` (the batch's amount in the study currency) as Prolific lists it: 125."""
    return int((Decimal(str(amount)) * 100).to_integral_value())


def count_bonuses(batches: Iterable[Sequence[Sequence[str]]]) -> Counter:
    """How many times each (submission id, cents) occurs in ``batches`` (each a batch's
    ``[[submission_id, amount], ...]``)."""
    counts: Counter = Counter()
    for bonuses in batches:
        for sid, amount in bonuses:
            counts[(sid, cents(amount))] += 1
    return counts


def verdict(
    *,
    bonuses: Sequence[Sequence[str]],
    listed: Mapping[str, Sequence[int]],
    known_paid: Counter,
    maybe_paid: Counter,
) -> Verdict:
    """The batch's ``bonuses`` against each submission's ``listed`` bonus payments (cents).

    ``known_paid`` / ``maybe_paid``: (submission id, cents) counts of our *other* batches of
    the study that are paid / whose payment is itself unknown."""
    seen = {sid: Counter(int(c) for c in listed.get(sid, ())) for sid, _ in bonuses}
    outcomes = set()
    for sid, amount in bonuses:
        key = (sid, cents(amount))
        times = seen[sid][key[1]]
        if times == known_paid[key]:
            outcomes.add(Verdict.NOT_PAID)
        elif times > known_paid[key] + maybe_paid[key]:
            outcomes.add(Verdict.PAID)
        else:  # fewer than we know were paid, or another open batch could explain it
            outcomes.add(Verdict.UNCLEAR)
    return outcomes.pop() if len(outcomes) == 1 else Verdict.UNCLEAR
