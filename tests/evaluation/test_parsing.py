import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.parsing import (
    EXACT,
    INVALID,
    TOLERANT,
    option_probabilities,
    parse_digit,
    parse_phrase,
    strip_reasoning,
)
from evaluation.prompts import DESCENDING, SCALE_LABELS


@pytest.mark.parametrize(
    "text, rating, method",
    [
        ("very much like me", 6, EXACT),
        ("  Not like me at all\n", 1, EXACT),
        ("like me", 5, EXACT),
        ("Like me.", 5, TOLERANT),
        ('"Somewhat like me"', 4, TOLERANT),
        ("My answer: a little like me!", 3, TOLERANT),
        ("Not like me at all.", 1, TOLERANT),  # "not like me" and "like me" are inside it
        ("This is very much like me", 6, TOLERANT),
        ("<think>is it like me? not like me?</think>\nnot like me", 2, EXACT),
        ("I am somewhat like you.", None, INVALID),
        ("a little like me, or somewhat like me", None, INVALID),  # ambiguous, same length
        ("", None, INVALID),
        (None, None, INVALID),
        ("<think>very much like me, but the answer was cut", None, INVALID),
        ("unlike me", None, INVALID),  # whole words only
    ],
)
def test_parse_phrase(text, rating, method):
    parsed = parse_phrase(text)
    assert (parsed.rating, parsed.method) == (rating, method)
    assert parsed.valid is (rating is not None)


def test_longest_phrase_wins_over_shorter_different_phrase():
    # "not like me at all" (18 chars) beats "like me" elsewhere in the text.
    assert parse_phrase("like me? No: not like me at all").rating == 1


def test_reasoning_is_returned_separately():
    answer, reasoning = strip_reasoning("<think>weighing</think> like me")
    assert answer == "like me" and "weighing" in reasoning
    parsed = parse_phrase("<thinking>hmm</thinking>like me")
    assert parsed.rating == 5 and "hmm" in parsed.reasoning


def test_parse_digit_maps_position_to_listed_option():
    assert parse_digit("1", DESCENDING).rating == 6  # first listed: very much like me
    assert parse_digit("1", SCALE_LABELS).rating == 1
    assert parse_digit("Answer: 5.", SCALE_LABELS).method == TOLERANT
    assert parse_digit("3 or 4", SCALE_LABELS).rating is None
    assert parse_digit("7", SCALE_LABELS).rating is None
    assert parse_digit("<think>2?</think>2", SCALE_LABELS).rating == 2


def test_option_probabilities_sum_variants_and_renormalise():
    logprobs = [
        ("2", math.log(0.5)),
        (" 2", math.log(0.1)),
        ("\u25812", math.log(0.1)),
        ("5", math.log(0.2)),
        ("The", math.log(0.1)),
    ]
    result = option_probabilities(logprobs, SCALE_LABELS)
    assert result.valid_mass == pytest.approx(0.9)
    assert result.probabilities[1] == pytest.approx(0.7 / 0.9)
    assert result.probabilities[4] == pytest.approx(0.2 / 0.9)
    assert result.expected_rating == pytest.approx((2 * 0.7 + 5 * 0.2) / 0.9)
    # Reversed listing: digit 2 means the second listed option, "like me" (rating 5).
    reversed_result = option_probabilities(logprobs, DESCENDING)
    assert reversed_result.probabilities[4] == pytest.approx(0.7 / 0.9)
    assert option_probabilities([("The", 0.0)], SCALE_LABELS) is None


@given(
    label=st.sampled_from(SCALE_LABELS),
    before=st.sampled_from(["", "Answer: ", '"', "I'd say ", "**", "\n"]),
    after=st.sampled_from(["", ".", '"', "!", " - that is my answer.", "**\n"]),
    upper=st.booleans(),
    think=st.booleans(),
)
def test_any_phrase_in_any_dressing_parses_to_its_rating(label, before, after, upper, think):
    text = before + (label.upper() if upper else label) + after
    if think:
        text = "<think>very much like me? not like me at all?</think>" + text
    parsed = parse_phrase(text)
    assert parsed.rating == SCALE_LABELS.index(label) + 1
