"""The six-point similarity scale that participants and models rate items on (pure Python).

The one definition of the scale: the survey's item pages, its attention checks, the
``ItemRating`` constraint, the evaluation prompts and parser, the fake provider of the tests
and the load test all read it from here. Rating ``k`` (1-based) is ``LABELS[k - 1]``; the
labels are the English source text, which the participant pages translate (gettext).
No Django imports, so that ``evaluation.prompts`` (pure) and the load test's client can use it.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Marks a label for the message catalogues (``makemessages`` extracts the calls) without
    importing Django: the labels stay English here, the pages translate them when shown."""
    return message


LABELS: tuple[str, ...] = (
    gettext_noop("not like me at all"),
    gettext_noop("not like me"),
    gettext_noop("a little like me"),
    gettext_noop("somewhat like me"),
    gettext_noop("like me"),
    gettext_noop("very much like me"),
)
MIN = 1
MAX = len(LABELS)
VALUES: tuple[int, ...] = tuple(range(MIN, MAX + 1))
# Highest first: the order most prompts list the options in.
DESCENDING: tuple[str, ...] = tuple(reversed(LABELS))
# (value, label) pairs in ascending order, as the item page lists them.
CHOICES: tuple[tuple[int, str], ...] = tuple(zip(VALUES, LABELS, strict=True))
RATING_OF_LABEL: dict[str, int] = {label: value for value, label in CHOICES}


def label_of(value: int) -> str:
    """The label of rating ``value``; ``ValueError`` outside the scale."""
    if not MIN <= value <= MAX:
        raise ValueError(f"{value} is not on the {MIN}-{MAX} scale")
    return LABELS[value - MIN]


def value_of(label: str) -> int:
    """The rating whose label is ``label`` exactly; ``KeyError`` for any other text."""
    return RATING_OF_LABEL[label]
