"""The portrait rule shared by models and humans, on small hand-computed data."""

import numpy as np
import pandas as pd
import pytest

from benchmark.human_portraits import (
    bootstrap_weights,
    group_item_means,
    group_portrait,
    person_scores,
    rating_matrix,
)
from benchmark.portrait_rule import PortraitLayout, portrait_table, score

ENTRIES = pd.DataFrame(
    [
        (10, "schwartz", "Power"),
        (11, "schwartz", "Power"),
        (11, "schwartz", "Hedonism"),  # one item, two dimensions: once in the family mean
        (12, "schwartz", "Hedonism"),
        (13, "big_five", "Openness"),
        (14, "schwartz", "Tradition"),
    ],
    columns=["item_id", "family", "dimension"],
)
LAYOUT = PortraitLayout.from_entries(ENTRIES)
DIMENSIONS = [d for _, d in LAYOUT.dimensions]


def test_layout_masks_follow_the_item_set():
    assert LAYOUT.item_ids.tolist() == [10, 11, 12, 13, 14]
    assert LAYOUT.dimensions == (
        ("big_five", "Openness"),
        ("schwartz", "Hedonism"),
        ("schwartz", "Power"),
        ("schwartz", "Tradition"),
    )
    power = DIMENSIONS.index("Power")
    assert LAYOUT.dimension_mask[:, power].tolist() == [True, True, False, False, False]
    # Every Schwartz dimension's family mean runs over items 10, 11, 12, 14 (not 13).
    assert LAYOUT.family_mask[:, power].tolist() == [True, True, True, False, True]


def test_rule_on_one_rating_vector_by_hand():
    # item:      10   11   12   13   14 (unrated)
    ratings = [[5.0, 3.0, 1.5, 4.0, np.nan]]
    result = score(ratings, LAYOUT, with_sd=True)
    by = dict(zip(DIMENSIONS, range(4), strict=True))
    family_mean = (5 + 3 + 1.5) / 3
    assert result.raw[0, by["Power"]] == 4.0
    assert result.sd[0, by["Power"]] == 1.0
    assert result.raw[0, by["Hedonism"]] == pytest.approx(2.25)
    assert result.family_mean[0, by["Power"]] == pytest.approx(family_mean)
    assert result.centred[0, by["Hedonism"]] == pytest.approx(2.25 - family_mean)
    assert result.centred[0, by["Openness"]] == 0.0  # its own family, one item
    assert result.n[0].tolist() == [1, 2, 2, 0]
    assert np.isnan(result.raw[0, by["Tradition"]]) and np.isnan(result.centred[0, by["Tradition"]])


def test_many_rows_at_once_equal_each_row_alone():
    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 7, size=(50, 5)).astype(float)
    ratings[rng.random(ratings.shape) < 0.3] = np.nan
    together = score(ratings, LAYOUT)
    for k in range(len(ratings)):
        alone = score(ratings[k], LAYOUT)
        np.testing.assert_array_equal(together.centred[k], alone.centred[0])


def test_portrait_table_keeps_unrated_dimensions_and_ignores_other_items():
    ratings = pd.Series({10: 6.0, 11: 2.0, 99: 1.0})
    table = portrait_table(ratings, ENTRIES).set_index("dimension")
    assert table.loc["Power", ["raw", "sd", "n"]].tolist() == [4.0, 2.0, 2]
    assert table.loc["Hedonism", "raw"] == 2.0  # item 12 unrated
    assert table.loc["Power", "family_mean"] == 4.0  # items 10, 11
    assert table.loc["Openness", "n"] == 0 and np.isnan(table.loc["Openness", "family_mean"])


# --- humans ------------------------------------------------------------------------------

RATINGS = pd.DataFrame(
    [
        # participant, item, rating
        (1, 10, 6),
        (1, 11, 4),
        (1, 12, 2),
        (2, 10, 4),
        (2, 12, 1),
        (2, 13, 5),
        (3, 11, 2),
        (3, 99, 6),  # not in the item set
    ],
    columns=["participant_id", "item_id", "rating"],
)


def test_group_item_rating_is_the_mean_of_its_raters_then_the_rule():
    matrix, people = rating_matrix(RATINGS, LAYOUT)
    assert people.tolist() == [1, 2, 3]
    portrait = group_portrait(matrix, LAYOUT, resamples=0)
    by = dict(zip(DIMENSIONS, range(4), strict=True))
    # item means: 10 -> 5, 11 -> 3, 12 -> 1.5, 13 -> 5
    family_mean = (5 + 3 + 1.5) / 3
    assert portrait.raw[by["Power"]] == 4.0
    assert portrait.centred[by["Power"]] == pytest.approx(4.0 - family_mean)
    assert portrait.centred[by["Hedonism"]] == pytest.approx(2.25 - family_mean)
    assert portrait.centred[by["Openness"]] == 0.0
    # raters of at least one selected item: Power 1, 2, 3; Openness only 2; Tradition none
    assert portrait.n_raters.tolist() == [1, 3, 3, 0]
    assert portrait.n_participants == 3 and np.isnan(portrait.ci_low).all()


def test_bootstrap_equals_a_slow_loop_over_resamples():
    rng = np.random.default_rng(11)
    matrix = rng.integers(1, 7, size=(30, 5)).astype(float)
    matrix[rng.random(matrix.shape) < 0.4] = np.nan
    matrix[:, 4] = rng.integers(1, 7, size=30)  # Tradition rated by all: every resample has it
    portrait = group_portrait(matrix, LAYOUT, resamples=300, seed=9)
    weights = bootstrap_weights(30, resamples=300, seed=9)
    slow = []
    for row in weights.astype(int):
        people = np.repeat(np.arange(30), row)  # the resample as a list of drawn participants
        item_means = pd.DataFrame(matrix[people]).mean(axis=0).to_numpy()
        table = portrait_table(pd.Series(item_means, index=LAYOUT.item_ids), ENTRIES)
        slow.append(table["centred"].to_numpy())
    slow = np.array(slow)
    np.testing.assert_allclose(portrait.ci_low, np.percentile(slow, 2.5, axis=0), atol=1e-12)
    np.testing.assert_allclose(portrait.ci_high, np.percentile(slow, 97.5, axis=0), atol=1e-12)
    np.testing.assert_allclose(portrait.se, slow.std(axis=0, ddof=1), atol=1e-12)
    assert (weights.sum(axis=1) == 30).all()
    # Same seed, same interval; another seed, another one.
    again = group_portrait(matrix, LAYOUT, resamples=300, seed=9)
    np.testing.assert_array_equal(again.ci_low, portrait.ci_low)
    other = group_portrait(matrix, LAYOUT, resamples=300, seed=8)
    assert not np.array_equal(other.ci_low, portrait.ci_low)


def test_a_dimension_some_resample_leaves_unrated_has_no_interval():
    matrix, _ = rating_matrix(RATINGS, LAYOUT)
    portrait = group_portrait(matrix, LAYOUT, resamples=200, seed=1)
    openness = DIMENSIONS.index("Openness")  # rated by participant 2 alone
    assert portrait.centred[openness] == 0.0
    assert np.isnan(portrait.ci_low[openness]) and np.isnan(portrait.ci_high[openness])


def test_weighted_item_means():
    matrix = np.array([[1.0, np.nan], [3.0, 4.0]])
    means = group_item_means(matrix, np.array([[2.0, 1.0], [0.0, 0.0], [1.0, 0.0]]))
    np.testing.assert_allclose(means[0], [5 / 3, 4.0])
    assert np.isnan(means[1]).all()
    assert means[2, 0] == 1.0 and np.isnan(means[2, 1])


def test_person_scores_need_the_minimum_of_rated_items():
    matrix, _ = rating_matrix(RATINGS, LAYOUT)
    scores = person_scores(matrix, LAYOUT, min_items=2)
    power = DIMENSIONS.index("Power")
    hedonism = DIMENSIONS.index("Hedonism")
    # Participant 1 rated both Power items (10: 6, 11: 4) and both Hedonism items (11, 12).
    family_mean = (6 + 4 + 2) / 3
    assert scores.centred[0, power] == pytest.approx(5.0 - family_mean)
    assert scores.centred[0, hedonism] == pytest.approx(3.0 - family_mean)
    # Participant 2 rated one Power item, participant 3 one: below the minimum.
    assert np.isnan(scores.centred[1, power]) and np.isnan(scores.centred[2, power])
    assert scores.n[:, power].tolist() == [2, 1, 1]
