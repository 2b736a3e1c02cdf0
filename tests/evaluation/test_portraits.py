import numpy as np
import pandas as pd
import pytest

from evaluation.portraits import (
    consistency,
    constant_variants,
    informative_answers,
    item_ratings,
    model_portrait,
    variant_portraits,
)


def _entries(rows):
    return pd.DataFrame(rows, columns=["item_id", "family", "dimension"])


def _answers(rows):
    return pd.DataFrame(rows, columns=["item_id", "variant", "rating"])


ENTRIES = _entries(
    [
        (1, "schwartz", "Power"),
        (2, "schwartz", "Power"),
        (2, "schwartz", "Hedonism"),  # item 2 counted once in the family mean
        (3, "schwartz", "Hedonism"),
        (4, "big_five", "Openness"),
        (5, "schwartz", "Tradition"),  # never validly answered
    ]
)
ANSWERS = _answers(
    [
        (1, "v1", 6.0),
        (1, "v1_reversed", 4.0),
        (2, "v1", 3.0),
        (2, "v1_reversed", np.nan),  # invalid: left out of the mean
        (3, "v1", 1.0),
        (3, "v1_reversed", 2.0),
        (4, "v1", 5.0),
        (5, "v1", np.nan),
        (9, "v1", 6.0),  # not in the item set
    ]
)


def test_item_rating_is_mean_of_valid_answers():
    ratings = item_ratings(ANSWERS)
    assert ratings.to_dict() == {1: 5.0, 2: 3.0, 3: 1.5, 4: 5.0, 9: 6.0}


def test_portrait_follows_the_paper_rule():
    table = model_portrait(ANSWERS, ENTRIES).set_index("dimension")
    # Power: items 1, 2 -> mean(5, 3) = 4, population SD 1.
    assert table.loc["Power", ["raw", "sd", "n"]].tolist() == [4.0, 1.0, 2]
    # Hedonism: items 2, 3 -> mean(3, 1.5).
    assert table.loc["Hedonism", "raw"] == pytest.approx(2.25)
    # Schwartz family mean over items 1, 2, 3 once each (item 5 has no rating).
    family_mean = (5.0 + 3.0 + 1.5) / 3
    assert table.loc["Power", "family_mean"] == pytest.approx(family_mean)
    assert table.loc["Power", "centred"] == pytest.approx(4.0 - family_mean)
    assert table.loc["Hedonism", "centred"] == pytest.approx(2.25 - family_mean)
    # Big Five has its own family mean.
    assert table.loc["Openness", "centred"] == 0.0
    # A dimension without rated items is kept with n = 0.
    assert table.loc["Tradition", "n"] == 0 and np.isnan(table.loc["Tradition", "raw"])


def test_variant_portraits_and_consistency():
    per_variant = variant_portraits(ANSWERS, ENTRIES)
    assert set(per_variant["variant"]) == {"v1", "v1_reversed"}
    result = consistency(ANSWERS, ENTRIES)
    power = result["dimensions"]["schwartz"]["Power"]
    v1 = per_variant.query("variant == 'v1' and dimension == 'Power'")["centred"].item()
    rev = per_variant.query("variant == 'v1_reversed' and dimension == 'Power'")["centred"].item()
    assert power["order_effect"] == pytest.approx(v1 - rev)
    assert power["variant_range"] == pytest.approx(abs(v1 - rev))
    assert power["variant_sd"] == pytest.approx(abs(v1 - rev) / 2)
    # Items with >= 2 valid answers: 1 (6 vs 4) and 3 (1 vs 2) -> none unanimous.
    assert result["items_unanimous"] == 0.0
    assert set(result["variant_scores"]) == {"v1", "v1_reversed"}


def _answers_by_variant(ratings_by_variant: dict[str, list[float]]) -> pd.DataFrame:
    """Item i's answer under each variant is the variant's i-th rating."""
    return _answers(
        [
            (item_id, variant, rating)
            for variant, ratings in ratings_by_variant.items()
            for item_id, rating in enumerate(ratings, start=1)
        ]
    )


def test_a_variant_answered_with_one_rating_over_ten_items_is_constant():
    varied = [float(i % 6 + 1) for i in range(12)]
    answers = _answers_by_variant(
        {
            "v1": varied,
            "v2": [6.0] * 12,  # one rating throughout: uninformative
            "v2_reversed": [4.0] * 9,  # one rating, but over 9 items: could be the items
            "v3": [3.0] * 10 + [np.nan, np.nan],  # invalid answers do not break constancy
            "v3_reversed": [5.0] * 11 + [4.0],  # one different answer: informative
        }
    )
    constant = constant_variants(answers)
    assert constant.to_dict("records") == [
        {"variant": "v2", "rating": 6.0, "items": 12},
        {"variant": "v3", "rating": 3.0, "items": 10},
    ]
    kept = informative_answers(answers)
    assert set(kept["variant"]) == {"v1", "v2_reversed", "v3_reversed"}
    # The threshold is a parameter: at 9 items v2_reversed is constant too.
    assert set(constant_variants(answers, min_items=9)["variant"]) == {"v2", "v2_reversed", "v3"}


def test_a_constant_variant_does_not_move_the_portrait():
    entries = _entries([(i, "schwartz", "Power" if i <= 6 else "Hedonism") for i in range(1, 13)])
    varied = [float(i % 6 + 1) for i in range(12)]
    answers = _answers_by_variant({"v1": varied, "v2": [6.0] * 12})
    alone = model_portrait(answers[answers["variant"] == "v1"], entries)
    pd.testing.assert_frame_equal(model_portrait(informative_answers(answers), entries), alone)
    # Averaged in, the constant variant would pull every item to 6 by half the distance.
    assert not np.allclose(model_portrait(answers, entries)["raw"], alone["raw"])


def test_no_constant_variant_without_valid_answers():
    answers = _answers_by_variant({"v1": [np.nan] * 12})
    assert constant_variants(answers).empty
    assert informative_answers(answers).equals(answers)


def test_replicate_portraits_score_each_variant_and_repetition_alone():
    from evaluation.portraits import replicate_portraits

    answers = pd.DataFrame(
        [
            # persona, variant, repetition, item, rating
            ("", "v1", 0, 1, 6.0),
            ("", "v1", 0, 3, 2.0),
            ("", "v1", 1, 1, 4.0),
            ("", "v1", 1, 3, 4.0),
            ("", "v2", 0, 1, 5.0),
            ("", "v2", 0, 3, np.nan),  # invalid
        ],
        columns=["persona", "variant", "repetition", "item_id", "rating"],
    )
    table = replicate_portraits(answers, ENTRIES).set_index(["variant", "repetition", "dimension"])
    # v1 rep 0: Power = item 1 = 6, Hedonism = item 3 = 2; family mean (6 + 2) / 2 = 4.
    assert table.loc[("v1", 0, "Power"), "centred"] == 2.0
    assert table.loc[("v1", 0, "Hedonism"), "centred"] == -2.0
    assert table.loc[("v1", 1, "Power"), "centred"] == 0.0
    # v2: only item 1 rated -> Power 5 - 5, Hedonism unrated.
    assert table.loc[("v2", 0, "Power"), "centred"] == 0.0
    assert np.isnan(table.loc[("v2", 0, "Hedonism"), "centred"])
    assert len(table) == 3 * 4  # every replicate × every dimension of the set
