"""Selector helpers that work on frames (choice of item set, latest run per model)."""

import pandas as pd

from dashboards import selectors


def _scores(rows):
    frame = pd.DataFrame(
        rows, columns=["run_id", "model_id", "item_set_id", "finished_at", "basis"]
    )
    for column in selectors.PORTRAIT_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame


def test_comparable_portraits_picks_the_item_set_most_models_ran_on():
    scores = _scores(
        [
            (1, 10, 5, 1, "answer"),
            (2, 11, 5, 2, "answer"),
            (3, 12, 6, 3, "answer"),
            (4, 10, 6, 4, "answer"),
        ]
    )
    kept, chosen = selectors.comparable_portraits(scores, item_set=None)
    # Two models on each set: the tie goes to the newer (higher id) set.
    assert chosen == 6 and set(kept["run_id"]) == {3, 4}
    kept, chosen = selectors.comparable_portraits(scores, item_set=5)
    assert chosen == 5 and set(kept["run_id"]) == {1, 2}


def test_latest_portraits_keeps_each_models_newest_run_and_preferred_basis():
    scores = _scores(
        [
            (1, 10, 5, 1, "answer"),
            (2, 10, 5, 2, "answer"),
            (2, 10, 5, 2, "probability"),
            (3, 11, 5, 1, "probability"),
        ]
    )
    latest = selectors.latest_portraits(scores)
    assert sorted(zip(latest["run_id"], latest["basis"], strict=True)) == [
        (2, "answer"),
        (3, "probability"),
    ]
