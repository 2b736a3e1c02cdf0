"""Statistics behind the dashboards (pure: numpy/pandas/scipy, no Django).

Every function works on whole matrices or long frames at once; the selectors load the rows
from the database and hand them here.

Conventions: a *score frame* is a DataFrame with one row per person (or run) and one column
per dimension; a *long frame* has columns ``group``, ``dimension``, ``score``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

CONFIDENCE = 0.95

# Age bands used to group participants (lower bound inclusive); the last band is open.
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (18, 30, "18-29"),
    (30, 45, "30-44"),
    (45, 60, "45-59"),
    (60, None, "60+"),
)


def percentile_among(humans: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Percentile rank (0-100) of each point among the humans, per column.

    ``humans`` is (n_humans, n_dims) and may hold NaN for missing scores; ``points`` is
    (n_points, n_dims). Ties count half ("mean" percentile as in
    ``scipy.stats.percentileofscore(kind="mean")``). A column without humans gives NaN.
    """
    humans = np.asarray(humans, dtype=float)
    points = np.atleast_2d(np.asarray(points, dtype=float))
    if humans.ndim != 2 or points.shape[1] != humans.shape[1]:
        raise ValueError("humans and points must have the same number of columns")
    valid = ~np.isnan(humans)  # (n, d)
    n_valid = valid.sum(axis=0).astype(float)  # (d,)
    h = humans[None, :, :]  # (1, n, d)
    p = points[:, None, :]  # (m, 1, d)
    below = ((h < p) & valid[None]).sum(axis=1)
    equal = ((h == p) & valid[None]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (below + 0.5 * equal) / n_valid[None, :]
    pct[:, n_valid == 0] = np.nan
    pct[np.isnan(points)] = np.nan
    return pct


def centre_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """Subtract each row's mean over its non-missing columns (within-person centring)."""
    return scores.sub(scores.mean(axis=1), axis=0)


def box_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Per column: n, mean, sd, q1, median, q3 and Tukey whiskers (1.5 IQR, clipped to data).

    The result (one row per dimension) is what Plotly's precomputed box traces take, so the
    page ships a dozen numbers per value instead of every participant's score.
    """
    q = scores.quantile([0.25, 0.5, 0.75])
    iqr = q.loc[0.75] - q.loc[0.25]
    low_limit = q.loc[0.25] - 1.5 * iqr
    high_limit = q.loc[0.75] + 1.5 * iqr
    lower_fence = scores.where(scores >= low_limit).min()
    upper_fence = scores.where(scores <= high_limit).max()
    return pd.DataFrame(
        {
            "n": scores.count(),
            "mean": scores.mean(),
            "sd": scores.std(ddof=1),
            "min": scores.min(),
            "q1": q.loc[0.25],
            "median": q.loc[0.5],
            "q3": q.loc[0.75],
            "max": scores.max(),
            "lower_fence": lower_fence,
            "upper_fence": upper_fence,
        }
    )


def mean_ci(
    long: pd.DataFrame, by: Sequence[str], *, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Mean, SD, n, standard error and a t-based confidence interval of ``score`` per ``by``.

    Groups of one have no interval (NaN bounds) but keep their mean.
    """
    grouped = long.groupby(list(by), sort=True)["score"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    out["se"] = out["sd"] / np.sqrt(out["n"])
    t = sps.t.ppf(0.5 + confidence / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] > 1, t * out["se"], np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out


def compare_profiles(
    model: pd.DataFrame, humans: pd.DataFrame, *, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Model persona profile minus the human group's profile, with a Welch interval.

    Both inputs have ``group``, ``dimension``, ``mean``, ``se``, ``n``, ``ci_low`` and
    ``ci_high`` (the shape of :func:`mean_ci`). On the bias page the model's side is its
    persona portrait with the SE over prompt variants × repetitions (``n`` replicates; no
    spread when it was asked once); the humans' side is the group's portrait on the same
    items with its bootstrap SE over participants (``n`` the group's raters, for the Welch
    degrees of freedom). Rows exist for every (group, dimension) present on both sides.
    """
    keys = ["group", "dimension"]
    columns = keys + ["mean", "se", "n", "ci_low", "ci_high"]
    merged = model[columns].merge(humans[columns], on=keys, suffixes=("_model", "_human"))
    merged = merged.rename(
        columns={
            "ci_low_model": "model_ci_low",
            "ci_high_model": "model_ci_high",
            "ci_low_human": "human_ci_low",
            "ci_high_human": "human_ci_high",
        }
    )
    se_model = merged["se_model"].fillna(0.0)
    se_human = merged["se_human"].fillna(0.0)
    diff_se = np.sqrt(se_model**2 + se_human**2)
    # Welch-Satterthwaite degrees of freedom; a side without spread contributes nothing.
    num = diff_se**4
    den = np.where(merged["n_model"] > 1, se_model**4 / (merged["n_model"] - 1), 0.0) + np.where(
        merged["n_human"] > 1, se_human**4 / (merged["n_human"] - 1), 0.0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(den > 0, num / den, np.nan)
    t = sps.t.ppf(0.5 + confidence / 2, df)
    half = np.where(np.isfinite(t) & (diff_se > 0), t * diff_se, np.nan)
    merged["difference"] = merged["mean_model"] - merged["mean_human"]
    merged["ci_low"] = merged["difference"] - half
    merged["ci_high"] = merged["difference"] + half
    merged["excludes_zero"] = (merged["ci_low"] > 0) | (merged["ci_high"] < 0)
    return merged


def largest_departures(comparison: pd.DataFrame, *, top: int = 5) -> pd.DataFrame:
    """The rows of :func:`compare_profiles` with the largest absolute difference.

    Differences whose interval excludes zero come first, then by absolute size.
    """
    if comparison.empty:
        return comparison.copy()
    ranked = comparison.assign(abs_difference=comparison["difference"].abs())
    ranked = ranked.sort_values(["excludes_zero", "abs_difference"], ascending=[False, False])
    return ranked.head(top).reset_index(drop=True)


def spread_by_dimension(long: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over variants per (run, dimension): the radar's error bars.

    ``long`` has ``run``, ``dimension`` and ``score`` (one row per prompt variant or repeat).
    """
    out = long.groupby(["run", "dimension"], sort=False)["score"].agg(
        mean="mean", sd="std", n="count"
    )
    return out.reset_index()


def age_band(ages: pd.Series) -> pd.Series:
    """Map ages (numbers or numeric strings) to the bands of :data:`AGE_BANDS`; else NaN."""
    numeric = pd.to_numeric(ages, errors="coerce")
    edges = [band[0] for band in AGE_BANDS] + [np.inf]
    labels = [band[2] for band in AGE_BANDS]
    return pd.cut(numeric, bins=edges, labels=labels, right=False).astype(object)


def histogram_1_to_6(ratings: pd.DataFrame) -> pd.DataFrame:
    """Counts of each rating 1..6 per item: ``item_id`` × ``rating`` (all six columns present)."""
    table = pd.crosstab(ratings["item_id"], ratings["rating"])
    return table.reindex(columns=range(1, 7), fill_value=0)


def headline(points: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """Per dimension, how the models sit against the humans' portrait, strongest first.

    ``points`` is models × dimensions of centred scores; ``human`` (index = dimension) has
    the humans' ``centred`` score and its interval ``ci_low``/``ci_high`` on the same scale.
    Returns ``dimension``, ``models_above`` / ``models_below`` (share of the models beyond
    the humans' interval on that side), ``mean_gap`` (mean of the models minus the humans)
    and ``direction`` ("above", "below" or "mixed": at least 3/4 of the models beyond the
    interval on one side). Dimensions without a human score or interval are left out.
    """
    columns = ["dimension", "models_above", "models_below", "mean_gap", "direction"]
    human = human.dropna(subset=["centred", "ci_low", "ci_high"])
    points = points.reindex(columns=human.index)
    if points.empty or human.empty:
        return pd.DataFrame(columns=columns)
    defined = points.notna()
    above = points.gt(human["ci_high"], axis=1).where(defined)
    below = points.lt(human["ci_low"], axis=1).where(defined)
    out = pd.DataFrame(
        {
            "models_above": above.mean(),
            "models_below": below.mean(),
            "mean_gap": points.mean() - human["centred"],
        }
    )
    out["direction"] = np.select(
        [out["models_above"] >= 0.75, out["models_below"] >= 0.75], ["above", "below"], "mixed"
    )
    out = out.rename_axis("dimension").reset_index()[columns]
    return out.sort_values("mean_gap", key=np.abs, ascending=False).reset_index(drop=True)


def variant_spread(
    variant_scores: dict[str, dict[str, dict[str, float | None]]], *, family: str
) -> pd.DataFrame:
    """Mean, SD (ddof=1), n and SE of the centred score over prompt variants.

    ``variant_scores`` maps persona -> variant -> ``"family:dimension"`` -> centred score
    (the evaluation app keeps this in ``run.summary``). Returns one row per (persona,
    dimension) of ``family``.
    """
    prefix = f"{family}:"
    records = [
        (persona, variant, key.removeprefix(prefix), value)
        for persona, by_variant in variant_scores.items()
        for variant, by_dimension in by_variant.items()
        for key, value in by_dimension.items()
        if key.startswith(prefix) and value is not None
    ]
    long = pd.DataFrame.from_records(records, columns=["persona", "variant", "dimension", "score"])
    if long.empty:
        return pd.DataFrame(columns=["persona", "dimension", "mean", "sd", "n", "se"])
    out = long.groupby(["persona", "dimension"], sort=True)["score"].agg(
        mean="mean", sd="std", n="count"
    )
    out["se"] = out["sd"] / np.sqrt(out["n"])
    return out.reset_index()
