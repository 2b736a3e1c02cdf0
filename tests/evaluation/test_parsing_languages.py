"""Answers in German and Korean, read against the catalogue's labels and number words."""

from __future__ import annotations

import pytest
from django.utils import translation

from evaluation.parsing import (
    EXACT,
    INVALID,
    TOLERANT,
    LabelScale,
    parse_digit,
    parse_label,
    parse_phrase,
)
from evaluation.prompts import DESCENDING, SCALE_LABELS
from survey.models.studies import scale_labels
from survey.scale import words_in
from survey.selectors.scale_words import scale_words


@pytest.fixture(scope="module")
def german():
    return LabelScale.of(scale_words(language="de"))


@pytest.fixture(scope="module")
def korean():
    return LabelScale.of(scale_words(language="ko"))


@pytest.mark.parametrize("language", ["de", "ko", "ar"])
def test_the_parser_reads_the_labels_the_participant_pages_show(language):
    words = scale_words(language=language)
    with translation.override(language):
        shown = scale_labels(None, language)
    assert list(words.labels) == shown
    assert len(set(words.number_words)) == 6 and words.number_words[0] != "one"


def test_english_words_are_the_source_and_a_language_without_catalogue_is_refused(tmp_path):
    assert scale_words(language="en").labels == SCALE_LABELS
    with pytest.raises(LookupError, match="no compiled message catalogue for 'fr'"):
        words_in("fr", [tmp_path])


@pytest.mark.parametrize(
    "text, rating, method",
    [
        ("sehr wie ich", 6, EXACT),
        ("  Überhaupt nicht wie ich\n", 1, EXACT),  # case and surrounding space
        ("EINIGERMASSEN WIE ICH", 4, EXACT),  # ß case-folds to ss
        ("Wie ich.", 5, TOLERANT),
        ("„Ein wenig wie ich“", 3, TOLERANT),
        ("Meine Antwort: nicht wie ich!", 2, TOLERANT),
        ("**Sehr wie ich**", 6, TOLERANT),
        ("<think>Sehr wie ich? Eher nicht.</think>\nnicht wie ich", 2, EXACT),
        ("Überhaupt nicht wie ich.", 1, TOLERANT),  # the shorter labels inside it don't count
    ],
)
def test_german_answers_naming_one_label(german, text, rating, method):
    parsed = parse_label(text, german)
    assert (parsed.rating, parsed.method) == (rating, method)
    assert parsed.label == SCALE_LABELS[rating - 1]  # recorded as the English option


@pytest.mark.parametrize(
    "text, reason",
    [
        ("sehr wie ich oder wie ich", "ambiguous"),  # two labels
        ("Wie ich – oder nicht wie ich?", "ambiguous"),
        ("nicht sehr wie ich", "inside a sentence"),  # negated: never read as "sehr wie ich"
        ("Das ist wie ich", "inside a sentence"),
        ("5", "no answer label"),  # a phrase prompt gives a digit no meaning
        ("very much like me", "no answer label"),  # English is not German
        ("ziemlich ähnlich", "no answer label"),
        ("", "empty"),
        ("sehr wie ich\nwie ich\neinigermaßen wie ich", "a list of options"),
    ],
)
def test_german_answers_that_are_not_read(german, text, reason):
    parsed = parse_label(text, german)
    assert parsed.method == INVALID and parsed.rating is None
    assert reason in parsed.reason


def test_two_different_labels_are_marked_as_several_options(german):
    assert parse_label("sehr wie ich oder wie ich", german).several_options
    assert not parse_label("nicht sehr wie ich", german).several_options


@pytest.mark.parametrize(
    "text, rating, method",
    [
        ("나와 매우 비슷하다", 6, EXACT),
        ("전혀 나와 비슷하지 않다", 1, EXACT),
        ("나와 비슷하다.", 5, TOLERANT),
        ("답: 나와 어느 정도 비슷하다", 4, TOLERANT),
        ("“나와 조금 비슷하다”", 3, TOLERANT),
        ("나와 비슷하지 않다。", 2, TOLERANT),  # a CJK full stop
    ],
)
def test_korean_answers_naming_one_label(korean, text, rating, method):
    parsed = parse_label(text, korean)
    assert (parsed.rating, parsed.method) == (rating, method)


@pytest.mark.parametrize(
    "text",
    [
        "나와 비슷하다, 나와 매우 비슷하다",  # two labels: ambiguous
        "나와 비슷하다고 생각합니다",  # the label with an ending attached: not a label
        "3",
        "like me",
    ],
)
def test_korean_answers_that_are_not_read(korean, text):
    assert parse_label(text, korean).method == INVALID


@pytest.mark.parametrize(
    "text, digit, method",
    [
        ("3", 3, EXACT),
        ("Drei", 3, EXACT),
        ("drei.", 3, EXACT),
        ("Antwort: 3 (drei)", 3, TOLERANT),  # digit and word agree
        ("Option fünf", 5, TOLERANT),
        ("FÜNF", 5, EXACT),
        ("drei oder vier", None, INVALID),
        ("3 oder vier", None, INVALID),
        ("dreißig", None, INVALID),  # a longer word is not the number word
        ("keine", None, INVALID),
    ],
)
def test_german_digit_answers_with_number_words(german, text, digit, method):
    parsed = parse_digit(text, DESCENDING, german.number_words)
    assert parsed.method == method
    if digit is not None:  # digit k is the k-th listed option: DESCENDING lists 6 first
        assert parsed.rating == 7 - digit


@pytest.mark.parametrize(
    "text, digit, method",
    [
        ("4", 4, EXACT),
        ("4번", 4, TOLERANT),
        ("넷", 4, EXACT),
        ("제 답은 다섯입니다", None, INVALID),  # a particle attached: not the number word
        ("제 답은 다섯", 5, TOLERANT),
        ("둘 또는 셋", None, INVALID),
    ],
)
def test_korean_digit_answers_with_number_words(korean, text, digit, method):
    parsed = parse_digit(text, SCALE_LABELS, korean.number_words)
    assert parsed.method == method
    if digit is not None:  # SCALE_LABELS lists rating 1 first
        assert parsed.rating == digit


def test_english_is_read_as_before():
    # no number words for English: digits only, and the English phrase rules
    assert parse_digit("three", DESCENDING).method == INVALID
    assert parse_digit("Option 3", DESCENDING).rating == 4
    assert parse_phrase("I don't think it is like me").rating == 2
