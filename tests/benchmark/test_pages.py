"""Page data built from a correlation frame (pure pandas/numpy)."""

import numpy as np
import pandas as pd

from benchmark.pages import heatmap_data, item_profiles, raters_needed_table
from survey.instruments import dimensions as dims


def _frame():
    distance = np.array([0, 1, 2, 3, 4, 5, 4, 3, 2, 1])
    r = np.roll(np.cos(2 * np.pi * distance / 10) * 0.4, 4)  # peaked at Power
    rows = [(1, "1001", 2, "schwartz", d, r[k], 40) for k, d in enumerate(dims.SCHWARTZ_CIRCLE)]
    rows += [(1, "1001", 2, "big_five", "Openness", 0.1, 30)]
    rows += [(2, "1001", 10, "big_five", "Openness", np.nan, 90)]
    return pd.DataFrame(
        rows,
        columns=["item_id", "scenario_external_id", "option_id", "family", "dimension", "r", "n"],
    )


def test_item_profiles_name_the_best_value_and_the_circle():
    profile = item_profiles(_frame())[0]
    assert profile["best_value"] == "Power" and profile["best_r"] == 0.4
    assert profile["circle_holds"] and profile["circle_fit"] == 1.0 and profile["n"] == 30


def test_heatmap_orders_dimensions_by_family_and_items_numerically():
    data = heatmap_data(_frame())
    assert data["x"][0] == "Self-Direction" and data["x"][-1] == "Openness (B5)"
    assert data["y"] == ["1001/2", "1001/10"]  # option 10 after option 2
    assert data["z"][1][-1] is None  # undefined r is a gap, not 0


def test_raters_needed_counts_the_fewest_raters_of_an_item():
    required, rows = raters_needed_table(_frame(), target_r=0.3, alpha=0.05, power=0.8)
    assert required == 85
    assert [(r["option_id"], r["n"], r["still_needed"]) for r in rows] == [(2, 30, 55), (10, 90, 0)]


def test_heatmap_with_a_reference_shows_it_and_the_difference_on_the_same_grid():
    frame = _frame()
    reference = frame.assign(r=frame["r"] - 0.05).iloc[::-1]  # other row order, same pairs
    data = heatmap_data(frame, reference)
    assert len(data["z_reference"]) == 2 and len(data["z_reference"][0]) == len(data["x"])
    assert data["z_delta"][0][0] == 0.05
    assert data["z_delta"][1][-1] is None
