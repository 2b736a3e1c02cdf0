"""Compare two correlation tables pair by pair (pure pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["item_id", "family", "dimension"]
TOLERANCE = 1e-12


def _summary_values(
    *, pairs, identical, within_tolerance, max_abs_delta_r, max_abs_delta_p
) -> dict:
    """Pairs compared, identical, within tolerance, different, max |Δr| and |Δp| (0 when no
    pair has a defined difference)."""
    return {
        "pairs": int(pairs),
        "identical": int(identical),
        "within_tolerance": int(within_tolerance),
        "different": int(pairs) - int(within_tolerance),
        "max_abs_delta_r": 0.0 if pd.isna(max_abs_delta_r) else float(max_abs_delta_r),
        "max_abs_delta_p": 0.0 if pd.isna(max_abs_delta_p) else float(max_abs_delta_p),
    }


def compare_frames(reference: pd.DataFrame, other: pd.DataFrame) -> dict:
    """Join on (item, family, dimension); summarise the differences of r and p.

    Pairs whose r is undefined in both count as equal. ``worst`` lists the pairs with the
    largest |Δr| (up to 20).
    """
    merged = reference.merge(other, on=KEY, suffixes=("_ref", "_new"), how="inner")
    for name in ("scenario_external_id", "option_id", "release_group"):
        if f"{name}_ref" in merged:
            merged[name] = merged.pop(f"{name}_ref")
            merged = merged.drop(columns=[f"{name}_new"], errors="ignore")
    merged["delta_r"] = merged["r_new"] - merged["r_ref"]
    merged["delta_p"] = merged["p_new"] - merged["p_ref"]
    both_nan = merged["r_new"].isna() & merged["r_ref"].isna()
    identical = (merged["r_new"] == merged["r_ref"]) | both_nan
    close = (merged["delta_r"].abs() <= TOLERANCE) | both_nan
    merged["identical"], merged["within_tolerance"] = identical, close

    merged["abs_delta_r"] = merged["delta_r"].abs()
    merged["abs_delta_p"] = merged["delta_p"].abs()
    by_group = []
    if "release_group" in merged and merged["release_group"].notna().any():
        # One grouped aggregation, not a summary per group (a large study has hundreds).
        grouped = merged.groupby("release_group", dropna=True, sort=True)
        table = grouped.agg(
            pairs=("identical", "size"),
            identical=("identical", "sum"),
            within_tolerance=("within_tolerance", "sum"),
            max_abs_delta_r=("abs_delta_r", "max"),
            max_abs_delta_p=("abs_delta_p", "max"),
        )
        by_group = [
            {"release_group": int(group), **_summary_values(**row)}
            for group, row in table.to_dict("index").items()
        ]
    worst = merged.nlargest(20, "abs_delta_r")  # NaN never among the largest
    worst = worst[~worst["within_tolerance"]]
    return {
        "frame": merged,
        "summary": _summary_values(
            pairs=len(merged),
            identical=merged["identical"].sum(),
            within_tolerance=merged["within_tolerance"].sum(),
            max_abs_delta_r=merged["abs_delta_r"].max(),
            max_abs_delta_p=merged["abs_delta_p"].max(),
        ),
        "tolerance": TOLERANCE,
        "by_group": by_group,
        "worst": [
            {
                "portrait_id": row.scenario_external_id,
                "option_id": int(row.option_id),
                "dimension": row.dimension,
                "r_published": None if np.isnan(row.r_ref) else float(row.r_ref),
                "r_recomputed": None if np.isnan(row.r_new) else float(row.r_new),
                "delta_r": None if np.isnan(row.delta_r) else float(row.delta_r),
                "n": None if pd.isna(row.n_new) else int(row.n_new),
            }
            for row in worst.itertuples()
        ],
    }
