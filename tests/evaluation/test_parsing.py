import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.parsing import (
    EXACT,
    INVALID,
    NEGATION,
    PAPER_VARIANTS,
    TOLERANT,
    PhraseScale,
    option_probabilities,
    paper_rating,
    parse_digit,
    parse_phrase,
    strip_reasoning,
    valid_mass_distribution,
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
        # The paper's other wordings of the same options.
        ("Not at all like me", 1, EXACT),
        ("Like me very much", 6, EXACT),
        ("He likes me very much.", 6, TOLERANT),
        ("Very little like me", 3, TOLERANT),
        ("very little like me.", 3, TOLERANT),
        ("It doesn\u2019t like me", 2, TOLERANT),  # curly apostrophe
        ("This is not like me", 2, TOLERANT),
        ("You're likely not like me, but I'm used to it", 2, TOLERANT),
        ("you're not like me at all.", 1, TOLERANT),
        ("some what like me", 4, EXACT),
        # Negations: the negative option where the scale has one, else nothing.
        ("not really like me", 2, NEGATION),
        ("It isn't like me", 2, NEGATION),
        ("I don't think this response is like me.", 2, NEGATION),
        ("I don't think it is really like me at all", 1, NEGATION),
        ("I don't think this response is very much like me.", None, INVALID),
        ("Not somewhat like me", None, INVALID),
        ("hardly like me", None, INVALID),
        ("Never like me", None, INVALID),
        ("nothing like me", None, INVALID),
        ("Far from like me", None, INVALID),
        ("I wouldn't say very much like me; somewhat like me", 4, TOLERANT),
        ("Not sure, but somewhat like me", 4, TOLERANT),  # the clause ended
        ("No. Like me.", 5, TOLERANT),
        # Other scales' labels are not this scale's answers.
        ("Moderately like me", None, INVALID),
        ("Quite like me.", None, INVALID),
        ("kind of like me", None, INVALID),
        ("You're likely somewhat like me", 4, TOLERANT),
        # A base model continuing the prompt's option list is not answering.
        ("\nnot like me at all\nnot like me at all", None, INVALID),
        ("Very much like me\nlike me\nsomewhat like me", None, INVALID),
        ("\nsomewhat like me\nsomewhat like me\nsomewhat", None, INVALID),  # cut by the limit
        ("somewhat like me\n\nThe reply is kind.", 4, TOLERANT),
        # Two different options: the longest phrase, as the paper; equal lengths: ambiguous.
        ("Like me. Or rather very much like me", 6, TOLERANT),
    ],
)
def test_parse_phrase(text, rating, method):
    parsed = parse_phrase(text)
    assert (parsed.rating, parsed.method) == (rating, method), parsed
    assert parsed.valid is (rating is not None)
    assert bool(parsed.reason) is (rating is None)


def test_answers_naming_several_options_are_marked():
    assert parse_phrase("Like me. Or rather very much like me").several_options
    assert parse_phrase("a little like me, or somewhat like me").several_options
    assert not parse_phrase("Like me; yes, like me.").several_options
    assert parse_phrase("Not like me at all. Like me").rating == 1


def test_only_the_scales_own_labels_count():
    scale = PhraseScale(labels=("disagree", "neutral", "agree"))
    assert parse_phrase("I agree", scale).rating == 3
    assert parse_phrase("somewhat like me", scale).rating is None
    assert parse_phrase("I don't agree", scale).rating is None  # no "not agree" on this scale
    pvq_rr = PhraseScale(labels=(*SCALE_LABELS[:3], "moderately like me", *SCALE_LABELS[4:]))
    assert parse_phrase("Moderately like me.", pvq_rr).rating == 4


@pytest.mark.parametrize(
    "text, paper",
    [
        ("Not at all like me", 1),
        ("Like me very much", 6),
        ("Very little like me", 3),
        ("Moderately like me", 5),
        ("not really like me", 5),
        ("I don't think this response is very much like me.", 6),
        ("I'd like meeting her", 5),  # a plain substring
        ("I am somewhat like you.", None),
    ],
)
def test_the_papers_rule_for_comparison(text, paper):
    assert paper_rating(text) == paper


def test_we_agree_with_the_paper_on_every_plain_phrase():
    for label, variants in PAPER_VARIANTS.items():
        for phrase in (label, *variants):
            for text in (phrase, phrase.upper() + ".", f"I'd say {phrase}", f"**{phrase}**"):
                assert parse_phrase(text).rating == paper_rating(text), text


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


def test_the_floor_on_the_valid_mass():
    logprobs = [("The", math.log(0.7)), ("3", math.log(0.3))]
    below = option_probabilities(logprobs, SCALE_LABELS)  # default floor 0.5
    assert below.expected_rating is None and below.valid_mass == pytest.approx(0.3)
    assert below.reason == "valid probability mass 0.3 below the floor 0.5"
    assert below.probabilities[2] == pytest.approx(1.0)  # the distribution is still recorded
    kept = option_probabilities(logprobs, SCALE_LABELS, min_valid_probability=0.25)
    assert kept.expected_rating == pytest.approx(3.0) and kept.reason == ""


def test_valid_mass_distribution():
    result = valid_mass_distribution([0.05, 0.5, 0.55, 1.0, None, float("nan")], floor=0.5)
    assert (result["answers"], result["below_floor"], result["median"]) == (4, 1, 0.525)
    assert [b["count"] for b in result["bins"]] == [1, 0, 0, 0, 0, 2, 0, 0, 0, 1]
    assert valid_mass_distribution([], floor=0.5)["median"] is None


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


NEGATIONS = [
    "not", "Not", "not really", "NOT quite", "I don't think this is", "It isn\u2019t",
    "it's not", "It doesn't seem", "hardly", "never", "nothing", "I wouldn't call it",
    "no way is it", "can't say it's", "far from", "I do not find it", "without being",
    "neither", "It cannot be called",
]  # fmt: skip
POSITIVE = [
    phrase
    for label in ("like me", "very much like me", "somewhat like me")
    for phrase in (label, *PAPER_VARIANTS[label])
]


@given(
    negation=st.sampled_from(NEGATIONS),
    filler=st.lists(
        st.sampled_from(["really", "that", "this", "is", "entirely", "so"]), max_size=3
    ),
    phrase=st.sampled_from(POSITIVE),
    after=st.sampled_from(["", ".", " at all", "!", " to me", ", I think"]),
    upper=st.booleans(),
)
def test_a_negated_positive_phrase_never_reads_as_agreement(negation, filler, phrase, after, upper):
    text = " ".join([negation, *filler, phrase.upper() if upper else phrase]) + after
    parsed = parse_phrase(text)
    assert parsed.rating is None or parsed.rating <= 2, (text, parsed)
