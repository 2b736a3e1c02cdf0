"""The shipped scoring keys and the scoring rule, on hand-computed examples."""

import numpy as np
import pandas as pd
import pytest

from survey.instruments import dimensions as dims
from survey.instruments.keys import all_keys, load_key, parse_key
from survey.instruments.scoring import ScoringError, recode_ess, score_answers, score_matrix


def test_pvq_rr_key_matches_published_structure():
    key = load_key("pvq_rr")
    assert key.n_items == 57 and key.forms == ("male", "female")
    assert key.response_labels[3] == "moderately like me"
    rr19 = key.families[dims.PVQ_RR19]
    assert len(rr19) == 19 and rr19["Humility"] == (7, 38, 54) and rr19["Face"] == (9, 24, 49)
    # Every item belongs to exactly one of the 19 values.
    assert sorted(n for items in rr19.values() for n in items) == list(range(1, 58))
    schwartz = key.families[dims.SCHWARTZ]
    assert schwartz["Tradition"] == (7, 18, 33, 38, 40, 54)  # Tradition + Humility (official key)
    assert schwartz["Universalism"] == tuple(sorted((8, 21, 45, 5, 37, 52, 14, 34, 57)))
    assert not any(n in items for items in schwartz.values() for n in (9, 24, 49))  # Face in none
    higher = key.families[dims.HIGHER_ORDER]
    left_out = {7, 38, 54, 9, 24, 49}  # Humility and Face sit on borders
    assert not left_out & {n for items in higher.values() for n in items}
    assert higher["Conservation"] == tuple(
        sorted((13, 26, 53, 2, 35, 50, 18, 33, 40, 15, 31, 42, 4, 22, 51))
    )


def test_pvq21_and_bfi10_keys():
    pvq21 = load_key("pvq21")
    assert pvq21.families[dims.SCHWARTZ]["Universalism"] == (3, 8, 19)
    assert pvq21.families[dims.SCHWARTZ]["Power"] == (2, 17)
    bfi = load_key("bfi10")
    assert bfi.reverse_items == frozenset({1, 3, 4, 5, 7})
    assert bfi.families[dims.BIG_FIVE]["Neuroticism"] == (4, 9)
    assert bfi.centring == "none" and bfi.scale_max == 5
    assert set(all_keys()) == {"pvq_rr", "pvq21", "bfi10"}


def test_pvq21_hand_computed_mrat_centring():
    answers = {n: 3 for n in range(1, 22)}
    answers.update({1: 6, 11: 6, 2: 1, 17: 1})  # Self-Direction high, Power low
    scores = score_answers(load_key("pvq21"), answers)
    mrat = 65 / 21
    assert scores.mrat == pytest.approx(mrat)
    assert scores.raw[dims.SCHWARTZ]["Self_Direction"] == 6
    assert scores.centred[dims.SCHWARTZ]["Self_Direction"] == pytest.approx(61 / 21)
    assert scores.centred[dims.SCHWARTZ]["Power"] == pytest.approx(1 - mrat)
    assert scores.centred[dims.SCHWARTZ]["Universalism"] == pytest.approx(-2 / 21)
    # Higher order = mean of the member values' items, then centred.
    assert scores.raw[dims.HIGHER_ORDER]["Openness_to_Change"] == pytest.approx(4.0)
    assert scores.centred[dims.HIGHER_ORDER]["Self_Enhancement"] == pytest.approx(2 - mrat)
    assert scores.for_analysis() is scores.centred


def test_pvq_rr_hand_computed_with_humility_and_face():
    answers = {n: 4 for n in range(1, 58)}
    answers.update({7: 1, 38: 1, 54: 1, 9: 6, 24: 6, 49: 6})
    scores = score_answers(load_key("pvq_rr"), answers)
    mrat = 225 / 57
    assert scores.mrat == pytest.approx(mrat)
    assert scores.raw[dims.SCHWARTZ]["Tradition"] == pytest.approx(2.5)
    assert scores.centred[dims.SCHWARTZ]["Tradition"] == pytest.approx(2.5 - mrat)
    assert scores.raw[dims.PVQ_RR19]["Humility"] == 1
    assert scores.centred[dims.PVQ_RR19]["Face"] == pytest.approx(6 - mrat)
    assert scores.centred[dims.HIGHER_ORDER]["Conservation"] == pytest.approx(4 - mrat)
    assert "Face" not in scores.raw[dims.SCHWARTZ]


def test_bfi10_reverse_keys_and_no_centring():
    answers = {1: 5, 6: 5, 2: 4, 7: 2, 3: 1, 8: 5, 4: 3, 9: 1, 5: 2, 10: 4}
    scores = score_answers(load_key("bfi10"), answers)
    assert scores.raw[dims.BIG_FIVE] == {
        "Extraversion": 3.0,  # (6-5 + 5) / 2
        "Agreeableness": 4.0,  # (4 + 6-2) / 2
        "Conscientiousness": 5.0,  # (6-1 + 5) / 2
        "Neuroticism": 2.0,  # (6-3 + 1) / 2
        "Openness": 4.0,  # (6-2 + 4) / 2
    }
    assert scores.centred is None and scores.mrat is None
    assert scores.for_analysis() is scores.raw


def test_ess_recoding():
    assert [recode_ess(x) for x in range(1, 7)] == [6, 5, 4, 3, 2, 1]
    with pytest.raises(ScoringError):
        recode_ess(0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({5: None}, "unanswered"),
        ({22: 3}, "no items"),
        ({5: 7}, "outside"),
        ({5: 0}, "outside"),
        ({5: 2.5}, "whole number"),
    ],
)
def test_incomplete_or_invalid_answers_are_refused(change, message):
    answers = {n: 3 for n in range(1, 22)}
    for number, value in change.items():
        if value is None:
            answers.pop(number)
        else:
            answers[number] = value
    with pytest.raises(ScoringError, match=message):
        score_answers(load_key("pvq21"), answers)


def test_matrix_scoring_agrees_with_single_scoring_and_leaves_incomplete_rows_empty():
    key = load_key("pvq_rr")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.integers(1, 7, size=(30, 57)), columns=range(1, 58))
    frame = frame.astype(float)
    frame.iloc[3, 10] = np.nan
    result = score_matrix(key, frame)
    for row in (0, 17, 29):
        single = score_answers(key, {n: int(frame.iloc[row][n]) for n in range(1, 58)})
        for family, values in single.centred.items():
            for dimension, value in values.items():
                assert result["centred"][family].iloc[row][dimension] == pytest.approx(value)
    assert result["centred"][dims.SCHWARTZ].iloc[3].isna().all()


def test_inconsistent_key_is_rejected():
    raw = {
        "code": "bad",
        "name": "bad",
        "n_items": 3,
        "forms": ["neutral"],
        "centring": "none",
        "scale": {"min": 1, "max": 5, "labels": ["a", "b", "c", "d", "e"]},
        "traits": {"Extraversion": [1, 2]},
    }
    with pytest.raises(ValueError, match="never scored"):
        parse_key(raw)
    raw["traits"] = {"Extraversion": [1, 2, 3, 4]}
    with pytest.raises(ValueError, match="outside"):
        parse_key(raw)
