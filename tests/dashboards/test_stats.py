"""The dashboards' statistics, on small arrays with known answers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dashboards import stats


def test_percentile_among_matches_scipy_and_ignores_missing_humans():
    humans = np.array([[1.0, 0.0], [2.0, np.nan], [3.0, 1.0], [4.0, 2.0], [4.0, 3.0]])
    points = np.array([[4.0, 1.5], [0.0, np.nan]])
    pct = stats.percentile_among(humans, points)
    assert pct[0, 0] == pytest.approx(sps.percentileofscore(humans[:, 0], 4.0, kind="mean"))
    assert pct[0, 1] == pytest.approx(sps.percentileofscore([0, 1, 2, 3], 1.5, kind="mean"))
    assert pct[1, 0] == 0.0
    assert np.isnan(pct[1, 1])


def test_percentile_among_rejects_mismatched_columns():
    with pytest.raises(ValueError):
        stats.percentile_among(np.zeros((3, 2)), np.zeros((1, 3)))


def test_box_summary_quartiles_and_whiskers():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4, 100]})
    summary = stats.box_summary(frame).loc["a"]
    assert (summary["q1"], summary["median"], summary["q3"]) == (2.0, 3.0, 4.0)
    # 100 lies beyond q3 + 1.5 IQR = 7, so the upper whisker stops at 4.
    assert summary["upper_fence"] == 4.0 and summary["lower_fence"] == 1.0
    assert summary["n"] == 5


def test_mean_ci_uses_the_t_distribution():
    long = pd.DataFrame(
        {"group": ["x"] * 4 + ["y"], "dimension": ["d"] * 5, "score": [1.0, 2, 3, 4, 7]}
    )
    out = stats.mean_ci(long, ["group", "dimension"]).set_index("group")
    se = np.std([1, 2, 3, 4], ddof=1) / 2
    half = sps.t.ppf(0.975, 3) * se
    assert out.at["x", "ci_low"] == pytest.approx(2.5 - half)
    assert out.at["x", "ci_high"] == pytest.approx(2.5 + half)
    assert np.isnan(out.at["y", "ci_low"]) and out.at["y", "mean"] == 7.0


def test_compare_profiles_welch_interval_and_departures():
    humans = stats.mean_ci(
        pd.DataFrame(
            {
                "group": ["women"] * 6,
                "dimension": ["Power"] * 3 + ["Benevolence"] * 3,
                "score": [-1.0, -0.5, -0.8, 0.5, 0.7, 0.6],
            }
        ),
        ["group", "dimension"],
    )
    model = stats.mean_ci(
        pd.DataFrame(
            {
                "group": ["women"] * 4,
                "dimension": ["Power", "Power", "Benevolence", "Benevolence"],
                "score": [0.9, 1.1, 0.6, 0.62],
            }
        ),
        ["group", "dimension"],
    )
    comparison = stats.compare_profiles(model, humans).set_index("dimension")
    power = comparison.loc["Power"]
    assert power["difference"] == pytest.approx(1.0 - (-2.3 / 3))
    se_h = np.std([-1.0, -0.5, -0.8], ddof=1) / np.sqrt(3)
    se_m = np.std([0.9, 1.1], ddof=1) / np.sqrt(2)
    se = np.sqrt(se_h**2 + se_m**2)
    dof = se**4 / (se_h**4 / 2 + se_m**4 / 1)
    assert power["ci_high"] - power["difference"] == pytest.approx(sps.t.ppf(0.975, dof) * se)
    assert bool(power["excludes_zero"])
    top = stats.largest_departures(comparison.reset_index(), top=1)
    assert top.loc[0, "dimension"] == "Power"


def test_compare_profiles_with_a_single_model_answer_uses_the_human_error_only():
    humans = stats.mean_ci(
        pd.DataFrame({"group": ["g"] * 3, "dimension": ["d"] * 3, "score": [0.0, 1.0, 2.0]}),
        ["group", "dimension"],
    )
    model = stats.mean_ci(
        pd.DataFrame({"group": ["g"], "dimension": ["d"], "score": [3.0]}), ["group", "dimension"]
    )
    row = stats.compare_profiles(model, humans).iloc[0]
    assert row["difference"] == 2.0
    assert row["ci_high"] - 2.0 == pytest.approx(sps.t.ppf(0.975, 2) * 1 / np.sqrt(3))


def test_age_bands():
    bands = stats.age_band(pd.Series([18, "29", 30, 64, None, "n/a", 17]))
    assert bands.tolist()[:4] == ["18-29", "18-29", "30-44", "60+"]
    assert bands.iloc[4:].isna().all()


def test_histogram_has_all_six_ratings():
    ratings = pd.DataFrame({"item_id": [1, 1, 1, 2], "rating": [1, 6, 6, 3]})
    hist = stats.histogram_1_to_6(ratings)
    assert hist.loc[1].tolist() == [1, 0, 0, 0, 0, 2]
    assert hist.loc[2].tolist() == [0, 0, 1, 0, 0, 0]


def test_spread_by_dimension():
    long = pd.DataFrame(
        {"run": [1, 1, 1, 2], "dimension": ["a", "a", "b", "a"], "score": [1.0, 3.0, 2.0, 5.0]}
    )
    out = stats.spread_by_dimension(long).set_index(["run", "dimension"])
    assert out.loc[(1, "a"), "mean"] == 2.0
    assert out.loc[(1, "a"), "sd"] == pytest.approx(np.sqrt(2))
    assert out.loc[(1, "b"), "n"] == 1


def test_headline_counts_models_beyond_the_humans_interval():
    points = pd.DataFrame(
        {
            "Power": [1.0, 2.0, 3.0, 4.0],
            "Tradition": [-1.0, -2.0, -1.0, 0.05],  # the last one inside the interval
            "Hedonism": [0, 1, -1, 1],
            "Security": [9, 9, 9, 9],
        },
        index=list("abcd"),
    )
    human = pd.DataFrame(
        {
            "centred": [0.0, 0.0, 0.0, np.nan],
            "ci_low": [-0.1, -0.1, -0.1, np.nan],
            "ci_high": [0.1, 0.1, 0.1, np.nan],
        },
        index=["Power", "Tradition", "Hedonism", "Security"],
    )
    out = stats.headline(points, human).set_index("dimension")
    assert out.loc["Power", "direction"] == "above" and out.loc["Power", "mean_gap"] == 2.5
    assert out.loc["Tradition", "direction"] == "below"  # 3 of 4 below the interval
    assert out.loc["Tradition", "models_below"] == 0.75
    assert out.loc["Hedonism", "direction"] == "mixed"
    assert "Security" not in out.index  # no human score: nothing to say
    assert list(out.index)[0] == "Power"  # largest absolute gap first


def test_variant_spread_from_stored_variant_scores():
    scores = {
        "": {
            "v1": {"schwartz:Power": 1.0, "schwartz:Hedonism": 0.0, "big_five:Openness": 9.0},
            "v2": {"schwartz:Power": 3.0, "schwartz:Hedonism": None},
        }
    }
    out = stats.variant_spread(scores, family="schwartz").set_index("dimension")
    assert out.loc["Power", "mean"] == 2.0 and out.loc["Power", "n"] == 2
    assert out.loc["Power", "se"] == pytest.approx(np.sqrt(2) / np.sqrt(2))
    assert out.loc["Hedonism", "n"] == 1 and np.isnan(out.loc["Hedonism", "sd"])
    assert "Openness" not in out.index


def test_centre_rows_ignores_missing_cells():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, np.nan], "c": [5.0, 4.0]})
    out = stats.centre_rows(frame)
    assert out.loc[0].tolist() == [-2.0, 0.0, 2.0]
    assert out.loc[1, "a"] == -1.0 and np.isnan(out.loc[1, "b"]) and out.loc[1, "c"] == 1.0
